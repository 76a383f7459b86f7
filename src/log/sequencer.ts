import { LogError } from './errors.ts';
import type { LeafToSequence, LogStorage, SequenceOutcome } from './storage/storage.types.ts';

export interface SequencerOptions {
  /** Most leaves written in one transaction. Default 8192. */
  maxBatchSize?: number;
  /** Longest a leaf waits for its batch to fill before the batch is written anyway, in ms. Default 5. */
  maxBatchAgeMs?: number;
  /** Most leaves waiting or being written; beyond it `add` fails with LOG_OVERLOADED. Default 32768. */
  maxPending?: number;
  /** Seconds since the epoch, stamped on each batch as its integrated time. Default: the system clock. */
  now?: () => number;
  /** Called after each durable batch with the sequenced size, so integration can follow. */
  onSequenced?: (size: number) => void;
}

/** Where `add` put a leaf: its index, and for a new leaf the integrated time stamped on its batch. */
export type SequencedLeaf =
  { kind: 'added'; index: number; integratedTime: number } | Extract<SequenceOutcome, { kind: 'duplicate' }>;

interface Pending {
  leaf: LeafToSequence;
  resolve: (outcome: SequencedLeaf) => void;
  reject: (error: unknown) => void;
}

/**
 * The first step of the append path (sequence → integrate → publish). Collects leaves into batches by
 * size and age, writes each batch in one storage transaction, and resolves every `add` with its index
 * only after that transaction is durable. One batch is written at a time, so indices follow arrival.
 */
export class Sequencer {
  readonly #storage: LogStorage;
  readonly #options: Readonly<Required<Omit<SequencerOptions, 'onSequenced'>>>;
  readonly #onSequenced: (size: number) => void;
  #queue: Pending[] = [];
  #inFlight = 0;
  #timer: NodeJS.Timeout | undefined;
  #writing: Promise<void> | undefined;
  #closed = false;

  constructor(storage: LogStorage, options: SequencerOptions = {}) {
    const resolved = {
      maxBatchSize: options.maxBatchSize ?? 8192,
      maxBatchAgeMs: options.maxBatchAgeMs ?? 5,
      maxPending: options.maxPending ?? 32_768,
      now: options.now ?? (() => Math.floor(Date.now() / 1000)),
    };
    for (const name of ['maxBatchSize', 'maxPending'] as const) {
      if (!Number.isSafeInteger(resolved[name]) || resolved[name] < 1) {
        throw new TypeError(`${name}: expected a positive integer, received ${resolved[name]}`);
      }
    }
    if (!(resolved.maxBatchAgeMs >= 0)) {
      throw new TypeError(
        `maxBatchAgeMs: expected a non-negative number, received ${resolved.maxBatchAgeMs}`,
      );
    }
    if (resolved.maxPending < resolved.maxBatchSize) {
      throw new TypeError(
        `maxPending (${resolved.maxPending}) must be at least maxBatchSize (${resolved.maxBatchSize})`,
      );
    }
    this.#storage = storage;
    this.#options = Object.freeze(resolved);
    this.#onSequenced = options.onSequenced ?? (() => undefined);
  }

  /** Leaves accepted but not yet durable. */
  get pending(): number {
    return this.#queue.length + this.#inFlight;
  }

  /** Resolves with the leaf's index once durable; LOG_OVERLOADED when the queue is full. */
  add(leaf: LeafToSequence): Promise<SequencedLeaf> {
    if (this.#closed) return Promise.reject(new LogError('LOG_CLOSED', 'the log is shutting down'));
    if (this.pending >= this.#options.maxPending) {
      return Promise.reject(
        new LogError('LOG_OVERLOADED', `append queue is full (${this.#options.maxPending} entries pending)`),
      );
    }
    return new Promise((resolve, reject) => {
      this.#queue.push({ leaf, resolve, reject });
      this.#schedule();
    });
  }

  /** Stops accepting leaves and resolves once every accepted leaf is written (or failed). */
  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    while (this.#queue.length > 0 || this.#writing) {
      if (!this.#writing) this.#startWrite();
      await this.#writing;
    }
  }

  #schedule(): void {
    if (this.#writing) return; // the running write starts the next batch when it ends
    if (this.#queue.length >= this.#options.maxBatchSize) {
      this.#startWrite();
    } else if (!this.#timer) {
      this.#timer = setTimeout(() => {
        this.#timer = undefined;
        if (!this.#writing && this.#queue.length > 0) this.#startWrite();
      }, this.#options.maxBatchAgeMs);
    }
  }

  #startWrite(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const batch = this.#queue.splice(0, this.#options.maxBatchSize);
    this.#inFlight = batch.length;
    this.#writing = this.#write(batch).finally(() => {
      this.#inFlight = 0;
      this.#writing = undefined;
      // Leaves that arrived during the write have waited long enough: write them now (group commit).
      if (this.#queue.length > 0) this.#startWrite();
    });
  }

  async #write(batch: Pending[]): Promise<void> {
    let outcomes: SequenceOutcome[];
    const integratedTime = this.#options.now();
    try {
      outcomes = await this.#storage.sequence(
        batch.map((pending) => pending.leaf),
        integratedTime,
      );
    } catch (error) {
      for (const pending of batch) pending.reject(error);
      return;
    }
    batch.forEach((pending, position) => {
      const outcome = outcomes[position]!;
      pending.resolve(outcome.kind === 'added' ? { ...outcome, integratedTime } : outcome);
    });
    const size = outcomes.reduce((max, outcome) => Math.max(max, outcome.index + 1), 0);
    this.#onSequenced(size);
  }
}
