import { availableParallelism } from 'node:os';
import { performance } from 'node:perf_hooks';
import type { Worker } from 'node:worker_threads';
import type { AdmittedEntry, EntryAdmitter } from './admission.ts';
import type { AdmissionBatch, AdmissionBatchResult, AdmissionOutcome } from './admission-worker.ts';
import type { EntryApi, ParseEntryOptions } from './entries/index.ts';
import { LogError } from './errors.ts';
import { startModuleWorker } from './module-worker.ts';

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
  /** Starts a worker running admission-worker, e.g. to wrap startAdmissionWorker. */
  startWorker?: (entryOptions: ParseEntryOptions) => Worker;
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

interface Slot {
  worker: Worker;
  /** The worker's thread id, kept: Worker.threadId turns -1 once the thread has exited. */
  threadId: number;
  readonly batches: Map<number, Job[]>;
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
export function startAdmissionWorker(entryOptions: ParseEntryOptions = {}): Worker {
  return startModuleWorker(import.meta.url, 'admission-worker', entryOptions);
}

class WorkerAdmissionPool implements AdmissionPool {
  readonly #options: Readonly<Required<AdmissionPoolOptions>>;
  readonly #slots: Slot[] = [];
  readonly #started = performance.now();
  #queue: Job[] = [];
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
    for (let i = 0; i < resolved.size; i++) {
      const worker = this.#start(() => slot);
      const slot: Slot = {
        worker,
        threadId: worker.threadId,
        batches: new Map(),
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

  #post(slot: Slot, jobs: Job[]): void {
    const lengths = new Uint32Array(jobs.map((job) => job.body.length));
    const bytes = new Uint8Array(lengths.reduce((sum, length) => sum + length, 0));
    let offset = 0;
    for (const job of jobs) {
      bytes.set(job.body, offset);
      offset += job.body.length;
    }
    const batch: AdmissionBatch = {
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

  #start(slotOf: () => Slot): Worker {
    const worker = this.#options.startWorker(this.#options.entryOptions);
    worker.on('message', (result: AdmissionBatchResult) => this.#answer(slotOf(), result));
    worker.on('error', (error) => (slotOf().lastError = error));
    worker.on('messageerror', (error) => {
      slotOf().lastError = error;
      void worker.terminate();
    });
    worker.on('exit', (code) => this.#replace(slotOf(), worker, code));
    // An idle pool does not keep the process alive; #post refs the worker while it works. After the
    // listeners: adding a 'message' listener refs the worker again.
    worker.unref();
    return worker;
  }

  #answer(slot: Slot, result: AdmissionBatchResult): void {
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

  /** A worker exited on its own: its bodies fail, and a new worker takes the slot. */
  #replace(slot: Slot, worker: Worker, code: number): void {
    if (slot.worker !== worker) return;
    const lost = [...slot.batches.values()].flat();
    slot.batches.clear();
    const error = new LogError(
      'LOG_WORKER_UNAVAILABLE',
      `admission pool: worker ${slot.threadId} exited with code ${code} while admitting ${lost.length} entries; retry the request`,
      { cause: slot.lastError },
    );
    for (const job of lost) job.reject(error);
    slot.lastError = undefined;
    slot.failures++;
    slot.replacements++;
    const delay = Math.min(MAX_RESTART_DELAY_MS, slot.failures > 1 ? 100 * 2 ** (slot.failures - 2) : 0);
    slot.restartTimer = setTimeout(() => {
      slot.restartTimer = undefined;
      slot.worker = this.#start(() => slot);
      slot.threadId = slot.worker.threadId;
      this.#flush();
    }, delay);
    // An idle pool does not keep the process alive; #flush refs the timer when bodies wait for it.
    slot.restartTimer.unref();
    this.#settled(slot, lost.length);
  }

  #settled(slot: Slot, count: number): void {
    this.#inFlight -= count;
    this.#completed += count;
    if (slot.batches.size === 0) slot.worker.unref();
    this.#flush();
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
