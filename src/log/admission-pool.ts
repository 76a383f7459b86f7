import { availableParallelism } from 'node:os';
import { performance } from 'node:perf_hooks';
import { MessageChannel, type MessagePort, type Worker } from 'node:worker_threads';
import type { AdmittedEntry, EntryAdmitter } from './admission.ts';
import type {
  AdmissionBatch,
  AdmissionOutcome,
  AdmissionWorkerData,
  RenderBatch,
  WorkerMessage,
  WorkerResult,
} from './admission-worker.ts';
import type { EntryApi, ParseEntryOptions } from './entries/index.ts';
import { LogError } from './errors.ts';
import { startModuleWorker } from './module-worker.ts';
import type { RekorV1EntryParts, RekorV1Identity } from './rekor-v1-entry.ts';

export interface AdmissionPoolOptions {
  /** Worker threads. Default: os.availableParallelism(). */
  size?: number;
  /**
   * Most request bodies accepted and not yet answered (waiting or at a worker); beyond it `admit`
   * rejects with LOG_OVERLOADED. Default 4096.
   */
  maxQueue?: number;
  /**
   * Most bodies sent to a worker in one message. Default 8: a worker answers a batch at once, so small
   * batches let the first entries go on to sequencing while the rest are verified (measured with
   * bench/log-http: dsse 1,680/s at 8 against 1,220/s at 64).
   */
  batchSize?: number;
  /** Field limits every worker applies (as admitRequestBody's options). */
  entryOptions?: ParseEntryOptions;
  /** The Rekor v1 log whose LogEntries `renderRekorV1` renders (its key goes to the workers). */
  rekorV1?: RekorV1Identity;
  /** Starts a worker running admission-worker, e.g. to wrap startAdmissionWorker. */
  startWorker?: (data: AdmissionWorkerData) => Worker;
}

export interface AdmissionWorkerStats {
  /** The thread running in this slot now. */
  readonly threadId: number;
  /** Bodies this slot's workers answered. */
  readonly jobs: number;
  readonly batches: number;
  /** Seconds this slot's workers spent admitting, by their own clocks. */
  readonly busySeconds: number;
  /** The part of busySeconds spent verifying signatures. */
  readonly verifySeconds: number;
  /** Times this slot's worker exited unexpectedly and was started again. */
  readonly replacements: number;
}

export interface AdmissionPoolStats {
  /** Bodies waiting for a worker. */
  readonly queued: number;
  /** Bodies at a worker, not yet answered. */
  readonly inFlight: number;
  /** Bodies settled since the pool started: answered, or failed with their worker. */
  readonly completed: number;
  /** Calls refused with LOG_OVERLOADED. */
  readonly overloaded: number;
  /** Seconds since the pool started. */
  readonly uptimeSeconds: number;
  readonly workers: readonly AdmissionWorkerStats[];
}

/**
 * An EntryAdmitter on worker threads: admitRequestBody (admission.ts) for each body, with the same
 * entry or the same error code and message. Rejects with LOG_OVERLOADED when `maxQueue` bodies are
 * pending, with LOG_WORKER_UNAVAILABLE when the worker admitting it exited (a new one takes its place),
 * and with LOG_CLOSED after close(). The body is copied before `admit` returns; the caller keeps it.
 */
export interface AdmissionPool extends EntryAdmitter {
  /**
   * The LogEntry of `parts` as UTF-8 JSON, its SignedEntryTimestamp signed on a worker
   * (renderRekorV1LogEntry): the event loop only writes the bytes. Needs the `rekorV1` option; fails
   * with LOG_WORKER_UNAVAILABLE when the worker exits first and LOG_CLOSED after close().
   */
  renderRekorV1(parts: RekorV1EntryParts): Promise<Uint8Array>;
  stats(): AdmissionPoolStats;
  /** Refuses new bodies, answers every accepted one, then stops the workers. */
  close(): Promise<void>;
}

interface Job {
  readonly api: EntryApi;
  readonly body: Uint8Array;
  readonly resolve: (entry: AdmittedEntry) => void;
  readonly reject: (error: unknown) => void;
}

interface RenderJob {
  readonly parts: RekorV1EntryParts;
  readonly resolve: (json: Uint8Array) => void;
  readonly reject: (error: unknown) => void;
}

interface Slot {
  worker: Worker;
  /** The worker's port for renders, which it reads ahead of admissions (admission-worker.ts). */
  renderPort: MessagePort;
  /** The worker's thread id, kept: Worker.threadId turns -1 once the thread has exited. */
  threadId: number;
  readonly batches: Map<number, Job[]>;
  readonly renders: Map<number, RenderJob[]>;
  /** The uncaught error the worker reported before exiting, if any. */
  lastError?: unknown;
  /** Exits in a row without an answered batch, for the restart backoff. */
  failures: number;
  restartTimer?: NodeJS.Timeout;
  jobs: number;
  batchCount: number;
  busySeconds: number;
  verifySeconds: number;
  replacements: number;
}

/** Batches a worker holds at once: one being admitted, one waiting behind it so it never idles. */
const BATCHES_PER_WORKER = 2;
const MAX_RESTART_DELAY_MS = 5000;

export function createAdmissionPool(options: AdmissionPoolOptions = {}): AdmissionPool {
  return new WorkerAdmissionPool(options);
}

/** Starts admission-worker.ts (or .js once compiled) next to this module. */
export function startAdmissionWorker(data: AdmissionWorkerData = { entryOptions: {} }): Worker {
  return startModuleWorker(import.meta.url, 'admission-worker', data);
}

class WorkerAdmissionPool implements AdmissionPool {
  readonly #options: Readonly<Required<Omit<AdmissionPoolOptions, 'rekorV1'>>>;
  readonly #workerData: AdmissionWorkerData;
  readonly #slots: Slot[] = [];
  readonly #started = performance.now();
  #queue: Job[] = [];
  #renderQueue: RenderJob[] = [];
  #renderScheduled = false;
  #inFlight = 0;
  #completed = 0;
  #overloaded = 0;
  #nextBatchId = 0;
  #flushScheduled = false;
  #closed = false;
  #drained: (() => void) | undefined;

  constructor(options: AdmissionPoolOptions) {
    const resolved = {
      size: options.size ?? availableParallelism(),
      maxQueue: options.maxQueue ?? 4096,
      batchSize: options.batchSize ?? 8,
      entryOptions: options.entryOptions ?? {},
      startWorker: options.startWorker ?? startAdmissionWorker,
    };
    for (const name of ['size', 'maxQueue', 'batchSize'] as const) {
      if (!Number.isSafeInteger(resolved[name]) || resolved[name] < 1) {
        throw new TypeError(`${name}: expected a positive integer, received ${resolved[name]}`);
      }
    }
    this.#options = Object.freeze(resolved);
    this.#workerData = {
      entryOptions: resolved.entryOptions,
      ...(options.rekorV1 ? { rekorV1: options.rekorV1 } : {}),
    };
    for (let i = 0; i < resolved.size; i++) {
      const [worker, renderPort] = this.#start(() => slot);
      const slot: Slot = {
        worker,
        renderPort,
        threadId: worker.threadId,
        batches: new Map(),
        renders: new Map(),
        failures: 0,
        jobs: 0,
        batchCount: 0,
        busySeconds: 0,
        verifySeconds: 0,
        replacements: 0,
      };
      this.#slots.push(slot);
    }
  }

  admit(api: EntryApi, body: Uint8Array): Promise<AdmittedEntry> {
    if (this.#closed) return Promise.reject(new LogError('LOG_CLOSED', 'admission pool: closed'));
    if (this.#queue.length + this.#inFlight >= this.#options.maxQueue) {
      this.#overloaded++;
      return Promise.reject(
        new LogError(
          'LOG_OVERLOADED',
          `admission pool: queue is full (${this.#options.maxQueue} entries pending); retry shortly`,
        ),
      );
    }
    return new Promise((resolve, reject) => {
      // a copy: the caller may reuse its array at once, and the batch buffer is transferred away
      this.#queue.push({ api, body: new Uint8Array(body), resolve, reject });
      this.#scheduleFlush();
    });
  }

  renderRekorV1(parts: RekorV1EntryParts): Promise<Uint8Array> {
    if (this.#closed) return Promise.reject(new LogError('LOG_CLOSED', 'admission pool: closed'));
    if (!this.#workerData.rekorV1) {
      return Promise.reject(new TypeError('renderRekorV1: the pool was created without the rekorV1 option'));
    }
    return new Promise((resolve, reject) => {
      this.#renderQueue.push({ parts, resolve, reject });
      this.#inFlight += 1;
      if (this.#renderScheduled) return;
      this.#renderScheduled = true;
      // Every response a checkpoint releases asks within one turn of the event loop: one message.
      setImmediate(() => {
        this.#renderScheduled = false;
        this.#flushRenders();
      });
    });
  }

  stats(): AdmissionPoolStats {
    return {
      queued: this.#queue.length,
      inFlight: this.#inFlight,
      completed: this.#completed,
      overloaded: this.#overloaded,
      uptimeSeconds: (performance.now() - this.#started) / 1000,
      workers: this.#slots.map((slot) => ({
        threadId: slot.threadId,
        jobs: slot.jobs,
        batches: slot.batchCount,
        busySeconds: slot.busySeconds,
        verifySeconds: slot.verifySeconds,
        replacements: slot.replacements,
      })),
    };
  }

  async close(): Promise<void> {
    this.#closed = true;
    if (this.#queue.length + this.#inFlight > 0) {
      await new Promise<void>((resolve) => (this.#drained = resolve));
    }
    await Promise.all(
      this.#slots.map((slot) => {
        clearTimeout(slot.restartTimer);
        slot.worker.removeAllListeners();
        slot.renderPort.close();
        return slot.worker.terminate();
      }),
    );
  }

  /** Collects what arrives within one turn of the event loop into as few messages as possible. */
  #scheduleFlush(): void {
    if (this.#flushScheduled) return;
    this.#flushScheduled = true;
    queueMicrotask(() => {
      this.#flushScheduled = false;
      this.#flush();
    });
  }

  #flush(): void {
    for (;;) {
      const open = this.#slots.filter(
        (slot) => slot.restartTimer === undefined && slot.batches.size < BATCHES_PER_WORKER,
      );
      if (this.#queue.length === 0) return;
      if (open.length === 0) {
        // Bodies wait for a worker being restarted: its timer keeps the process alive until then.
        for (const slot of this.#slots) slot.restartTimer?.ref();
        return;
      }
      // Spread a short queue over the open workers rather than handing it all to the first.
      const size = Math.min(this.#options.batchSize, Math.ceil(this.#queue.length / open.length));
      for (const slot of open) {
        if (this.#queue.length === 0) return;
        this.#post(slot, this.#queue.splice(0, size));
      }
    }
  }

  /** Sends the waiting renders to the open worker with the least work, in one message. */
  #flushRenders(): void {
    if (this.#renderQueue.length === 0) return;
    const open = this.#slots.filter((slot) => slot.restartTimer === undefined);
    if (open.length === 0) {
      for (const slot of this.#slots) slot.restartTimer?.ref();
      return; // #flush sends them once a worker is back
    }
    const pending = (slot: Slot) => slot.batches.size + slot.renders.size;
    const slot = open.reduce((best, next) => (pending(next) < pending(best) ? next : best));
    const jobs = this.#renderQueue;
    this.#renderQueue = [];
    const batch: RenderBatch = {
      kind: 'render-v1',
      id: this.#nextBatchId++,
      items: jobs.map((job) => job.parts),
    };
    slot.renders.set(batch.id, jobs);
    slot.worker.ref();
    slot.renderPort.postMessage(batch);
  }

  #post(slot: Slot, jobs: Job[]): void {
    const lengths = new Uint32Array(jobs.map((job) => job.body.length));
    const bytes = new Uint8Array(lengths.reduce((sum, length) => sum + length, 0));
    let offset = 0;
    for (const job of jobs) {
      bytes.set(job.body, offset);
      offset += job.body.length;
    }
    const batch: AdmissionBatch = {
      kind: 'admit',
      id: this.#nextBatchId++,
      apis: jobs.map((job) => job.api),
      lengths,
      bytes,
    };
    slot.batches.set(batch.id, jobs);
    this.#inFlight += jobs.length;
    slot.worker.ref();
    slot.worker.postMessage(batch, [lengths.buffer, bytes.buffer]);
  }

  #start(slotOf: () => Slot): [Worker, MessagePort] {
    const worker = this.#options.startWorker(this.#workerData);
    // Renders travel on a port of their own: the worker takes them between two admissions, so an
    // answer waiting for its LogEntry does not wait behind the batches queued for admission.
    const { port1, port2 } = new MessageChannel();
    worker.postMessage({ kind: 'render-port', port: port2 } satisfies WorkerMessage, [port2]);
    port1.on('message', (result: WorkerResult) => this.#answer(slotOf(), result));
    port1.unref(); // the worker's ref/unref keeps the process alive while renders are pending
    worker.on('message', (result: WorkerResult) => this.#answer(slotOf(), result));
    worker.on('error', (error) => (slotOf().lastError = error));
    worker.on('messageerror', (error) => {
      slotOf().lastError = error;
      void worker.terminate();
    });
    worker.on('exit', (code) => {
      port1.close();
      this.#replace(slotOf(), worker, code);
    });
    // An idle pool does not keep the process alive; #post refs the worker while it works. After the
    // listeners: adding a 'message' listener refs the worker again.
    worker.unref();
    return [worker, port1];
  }

  #answer(slot: Slot, result: WorkerResult): void {
    if (result.kind !== 'admitted') {
      this.#rendered(slot, result);
      return;
    }
    const jobs = slot.batches.get(result.id);
    if (jobs === undefined) return;
    slot.batches.delete(result.id);
    slot.failures = 0;
    slot.jobs += jobs.length;
    slot.batchCount++;
    slot.busySeconds += result.seconds;
    slot.verifySeconds += result.verifySeconds;
    for (const [i, job] of jobs.entries()) settle(job, result.outcomes[i]);
    this.#settled(slot, jobs.length);
  }

  #rendered(slot: Slot, result: Exclude<WorkerResult, { kind: 'admitted' }>): void {
    const jobs = slot.renders.get(result.id);
    if (jobs === undefined) return;
    slot.renders.delete(result.id);
    slot.failures = 0;
    if (result.kind === 'render-failed') {
      const error = new LogError('LOG_STORAGE_FAILED', `rendering the log entry failed: ${result.message}`);
      for (const job of jobs) job.reject(error);
    } else {
      let offset = 0;
      for (const [i, job] of jobs.entries()) {
        job.resolve(result.bytes.subarray(offset, (offset += result.lengths[i]!)));
      }
    }
    this.#settled(slot, jobs.length);
  }

  /** A worker exited on its own: its bodies fail, and a new worker takes the slot. */
  #replace(slot: Slot, worker: Worker, code: number): void {
    if (slot.worker !== worker) return;
    const admitting = [...slot.batches.values()].flat();
    const rendering = [...slot.renders.values()].flat();
    const lost: { reject: (error: unknown) => void }[] = [...admitting, ...rendering];
    slot.batches.clear();
    slot.renders.clear();
    const work = [
      ...(admitting.length > 0 || rendering.length === 0 ? [`admitting ${admitting.length} entries`] : []),
      ...(rendering.length > 0 ? [`rendering ${rendering.length} log entries`] : []),
    ].join(' and ');
    const error = new LogError(
      'LOG_WORKER_UNAVAILABLE',
      `admission pool: worker ${slot.threadId} exited with code ${code} while ${work}; retry the request`,
      { cause: slot.lastError },
    );
    for (const job of lost) job.reject(error);
    slot.lastError = undefined;
    slot.failures++;
    slot.replacements++;
    const delay = Math.min(MAX_RESTART_DELAY_MS, slot.failures > 1 ? 100 * 2 ** (slot.failures - 2) : 0);
    slot.restartTimer = setTimeout(() => {
      slot.restartTimer = undefined;
      [slot.worker, slot.renderPort] = this.#start(() => slot);
      slot.threadId = slot.worker.threadId;
      this.#flush();
      this.#flushRenders();
    }, delay);
    // An idle pool does not keep the process alive; #flush refs the timer when bodies wait for it.
    slot.restartTimer.unref();
    this.#settled(slot, lost.length);
  }

  #settled(slot: Slot, count: number): void {
    this.#inFlight -= count;
    this.#completed += count;
    if (slot.batches.size === 0 && slot.renders.size === 0) slot.worker.unref();
    this.#flush();
    this.#flushRenders();
    if (this.#queue.length + this.#inFlight === 0) {
      this.#drained?.();
      this.#drained = undefined;
    }
  }
}

function settle(job: Job, outcome: AdmissionOutcome | undefined): void {
  switch (outcome?.kind) {
    case 'admitted':
      return job.resolve(outcome.entry);
    case 'log-error':
      return job.reject(new LogError(outcome.code, outcome.message));
    case 'error':
      return job.reject(
        Object.assign(new Error(outcome.message), { name: outcome.name, code: outcome.code }),
      );
    case undefined:
      return job.reject(
        new LogError('LOG_WORKER_UNAVAILABLE', 'admission pool: the worker answered without this entry'),
      );
  }
}
