import { availableParallelism } from 'node:os';
import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import type { HashAlgorithm } from './entries/entry.types.ts';
import { LogError } from './errors.ts';
import type { VerifyBatch, VerifyBatchResult, VerifyOutcome } from './verify-worker.ts';

export interface VerifyPoolOptions {
  /** Worker threads. Default: os.availableParallelism(). */
  size?: number;
  /**
   * Most signatures accepted and not yet answered (waiting or at a worker); beyond it
   * verifyDigestSignature rejects with LOG_OVERLOADED. Default 4096.
   */
  maxQueue?: number;
  /** Most signatures sent to a worker in one message. Default 64. */
  batchSize?: number;
  /** Starts a worker running verify-worker, e.g. to wrap startVerifyWorker. Default: startVerifyWorker. */
  startWorker?: () => Worker;
}

export interface VerifyWorkerStats {
  /** The thread running in this slot now. */
  readonly threadId: number;
  /** Signatures this slot's workers answered. */
  readonly jobs: number;
  readonly batches: number;
  /** Seconds this slot's workers spent verifying, by their own clocks. */
  readonly verifySeconds: number;
  /** Times this slot's worker exited unexpectedly and was started again. */
  readonly replacements: number;
}

export interface VerifyPoolStats {
  /** Signatures waiting for a worker. */
  readonly queued: number;
  /** Signatures at a worker, not yet answered. */
  readonly inFlight: number;
  /** Signatures settled since the pool started: answered, or failed with their worker. */
  readonly completed: number;
  /** Calls refused with LOG_OVERLOADED. */
  readonly overloaded: number;
  /** Seconds since the pool started: with verifySeconds, the share of the workers' time spent verifying. */
  readonly uptimeSeconds: number;
  readonly workers: readonly VerifyWorkerStats[];
}

export interface VerifyPool {
  /**
   * verifyDigestSignature (entries/digest-signature.ts) on a worker thread: resolves with the same
   * boolean and rejects with the same error code and message. Rejects with LOG_OVERLOADED when
   * `maxQueue` signatures are pending or when the worker verifying it exited, and with LOG_CLOSED
   * after close(). The byte arrays are copied before this returns; the caller keeps them.
   */
  verifyDigestSignature(
    spki: Uint8Array,
    digest: Uint8Array,
    signature: Uint8Array,
    hashAlgorithm: HashAlgorithm,
  ): Promise<boolean>;
  stats(): VerifyPoolStats;
  /** Refuses new signatures, answers every accepted one, then stops the workers. */
  close(): Promise<void>;
}

interface Job {
  readonly spki: Uint8Array;
  readonly digest: Uint8Array;
  readonly signature: Uint8Array;
  readonly hash: HashAlgorithm;
  readonly resolve: (valid: boolean) => void;
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
  verifySeconds: number;
  replacements: number;
}

/** Batches a worker holds at once: one being verified, one waiting behind it so it never idles. */
const BATCHES_PER_WORKER = 2;
const MAX_RESTART_DELAY_MS = 5000;

export function createVerifyPool(options: VerifyPoolOptions = {}): VerifyPool {
  return new WorkerVerifyPool(options);
}

/** Starts verify-worker.ts under tsx, verify-worker.js once compiled, next to this module. */
export function startVerifyWorker(): Worker {
  const here = new URL(import.meta.url);
  if (!here.pathname.endsWith('.ts')) return new Worker(new URL('./verify-worker.js', here));
  // Node 20 workers do not get the loader hooks that `--import tsx` registered, so the worker
  // registers tsx itself before importing the TypeScript module.
  const tsx = JSON.stringify(import.meta.resolve('tsx/esm/api'));
  const entry = JSON.stringify(new URL('./verify-worker.ts', here).href);
  return new Worker(`import(${tsx}).then((tsx) => { tsx.register(); return import(${entry}); });`, {
    eval: true,
  });
}

class WorkerVerifyPool implements VerifyPool {
  readonly #options: Readonly<Required<VerifyPoolOptions>>;
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

  constructor(options: VerifyPoolOptions) {
    const resolved = {
      size: options.size ?? availableParallelism(),
      maxQueue: options.maxQueue ?? 4096,
      batchSize: options.batchSize ?? 64,
      startWorker: options.startWorker ?? startVerifyWorker,
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
        verifySeconds: 0,
        replacements: 0,
      };
      this.#slots.push(slot);
    }
  }

  verifyDigestSignature(
    spki: Uint8Array,
    digest: Uint8Array,
    signature: Uint8Array,
    hash: HashAlgorithm,
  ): Promise<boolean> {
    if (this.#closed) return Promise.reject(new LogError('LOG_CLOSED', 'verify pool: closed'));
    if (this.#queue.length + this.#inFlight >= this.#options.maxQueue) {
      this.#overloaded++;
      return Promise.reject(
        new LogError(
          'LOG_OVERLOADED',
          `verify pool: queue is full (${this.#options.maxQueue} signatures pending)`,
        ),
      );
    }
    return new Promise((resolve, reject) => {
      // copies: the caller may reuse its arrays at once, and the batch buffer is transferred away
      this.#queue.push({
        spki: new Uint8Array(spki),
        digest: new Uint8Array(digest),
        signature: new Uint8Array(signature),
        hash,
        resolve,
        reject,
      });
      this.#scheduleFlush();
    });
  }

  stats(): VerifyPoolStats {
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
      if (this.#queue.length === 0 || open.length === 0) return;
      // Spread a short queue over the open workers rather than handing it all to the first.
      const size = Math.min(this.#options.batchSize, Math.ceil(this.#queue.length / open.length));
      for (const slot of open) {
        if (this.#queue.length === 0) return;
        this.#post(slot, this.#queue.splice(0, size));
      }
    }
  }

  #post(slot: Slot, jobs: Job[]): void {
    const lengths = new Uint32Array(jobs.length * 3);
    let total = 0;
    for (const [i, job] of jobs.entries()) {
      lengths.set([job.spki.length, job.digest.length, job.signature.length], 3 * i);
      total += job.spki.length + job.digest.length + job.signature.length;
    }
    const bytes = new Uint8Array(total);
    let offset = 0;
    for (const part of jobs.flatMap((job) => [job.spki, job.digest, job.signature])) {
      bytes.set(part, offset);
      offset += part.length;
    }
    const batch: VerifyBatch = {
      id: this.#nextBatchId++,
      hashes: jobs.map((job) => job.hash),
      lengths,
      bytes,
    };
    slot.batches.set(batch.id, jobs);
    this.#inFlight += jobs.length;
    slot.worker.ref();
    slot.worker.postMessage(batch, [lengths.buffer, bytes.buffer]);
  }

  #start(slotOf: () => Slot): Worker {
    const worker = this.#options.startWorker();
    worker.on('message', (result: VerifyBatchResult) => this.#answer(slotOf(), result));
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

  #answer(slot: Slot, result: VerifyBatchResult): void {
    const jobs = slot.batches.get(result.id);
    if (jobs === undefined) return;
    slot.batches.delete(result.id);
    slot.failures = 0;
    slot.jobs += jobs.length;
    slot.batchCount++;
    slot.verifySeconds += result.seconds;
    for (const [i, job] of jobs.entries()) settle(job, result.outcomes[i]);
    this.#settled(slot, jobs.length);
  }

  /** A worker exited on its own: its signatures fail, and a new worker takes the slot. */
  #replace(slot: Slot, worker: Worker, code: number): void {
    if (slot.worker !== worker) return;
    const lost = [...slot.batches.values()].flat();
    slot.batches.clear();
    const error = new LogError(
      'LOG_OVERLOADED',
      `verify pool: worker ${slot.threadId} exited with code ${code} while verifying ${lost.length} signatures`,
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

function settle(job: Job, outcome: VerifyOutcome | undefined): void {
  switch (outcome?.kind) {
    case 'verified':
      return job.resolve(outcome.valid);
    case 'log-error':
      return job.reject(new LogError(outcome.code, outcome.message));
    case 'error':
      return job.reject(
        Object.assign(new Error(outcome.message), { name: outcome.name, code: outcome.code }),
      );
    case undefined:
      return job.reject(
        new LogError('LOG_OVERLOADED', 'verify pool: the worker answered without this signature'),
      );
  }
}
