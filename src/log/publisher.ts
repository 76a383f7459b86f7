import { signCheckpoint, type NoteSigner } from '../merkle/index.ts';
import { LogError } from './errors.ts';
import type { LogStorage, StoredCheckpoint, TreeState } from './storage/storage.types.ts';

export interface PublisherOptions {
  /** The checkpoint origin line (C2SP tlog-checkpoint), e.g. `log.example.com` or `host - 123`. */
  origin: string;
  /** The log's key(s); every checkpoint carries one signature line per signer. */
  signers: readonly NoteSigner[];
  /** Extension lines for a checkpoint of `state` (e.g. Rekor v1's `Timestamp:`). Default none. */
  extensions?: (state: TreeState) => string[];
}

interface Waiter {
  size: number;
  resolve: (checkpoint: StoredCheckpoint) => void;
  reject: (error: unknown) => void;
  timer: NodeJS.Timeout;
}

/**
 * The third step of the append path: signs a checkpoint for each newly integrated tree state, stores
 * it, and releases everyone waiting for a checkpoint that covers their entry.
 */
export class Publisher {
  readonly #storage: LogStorage;
  readonly #options: Readonly<Required<PublisherOptions>>;
  #latest: StoredCheckpoint | undefined;
  #waiters: Waiter[] = [];

  constructor(storage: LogStorage, options: PublisherOptions) {
    if (options.signers.length === 0) throw new TypeError('signers: expected at least one checkpoint signer');
    if (options.origin === '' || options.origin.includes('\n')) {
      throw new TypeError(`origin: expected one non-empty line, received ${JSON.stringify(options.origin)}`);
    }
    this.#storage = storage;
    this.#options = Object.freeze({ extensions: () => [], ...options });
  }

  get latest(): StoredCheckpoint | undefined {
    return this.#latest;
  }

  async open(): Promise<void> {
    this.#latest = await this.#storage.latestCheckpoint();
  }

  /** Signs and stores a checkpoint for `state` unless the latest already has that size. */
  async publish(state: TreeState): Promise<StoredCheckpoint> {
    const latest = this.#latest;
    if (latest && latest.size >= state.size) return latest;
    const note = signCheckpoint(
      {
        origin: this.#options.origin,
        size: state.size,
        rootHash: state.rootHash,
        extensions: this.#options.extensions(state),
      },
      this.#options.signers,
    );
    const checkpoint: StoredCheckpoint = { size: state.size, rootHash: state.rootHash, note };
    await this.#storage.writeCheckpoint(checkpoint);
    this.#latest = checkpoint;
    this.#release(checkpoint);
    return checkpoint;
  }

  /**
   * Resolves with the first checkpoint of at least `size` leaves, i.e. one that includes entry
   * `size - 1`. Fails with LOG_INCLUSION_UNAVAILABLE after `timeoutMs`.
   */
  waitFor(size: number, timeoutMs: number): Promise<StoredCheckpoint> {
    const latest = this.#latest;
    if (latest && latest.size >= size) return Promise.resolve(latest);
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        size,
        resolve,
        reject,
        timer: setTimeout(() => {
          this.#waiters = this.#waiters.filter((other) => other !== waiter);
          reject(
            new LogError(
              'LOG_INCLUSION_UNAVAILABLE',
              `no checkpoint covered tree size ${size} within ${timeoutMs} ms; the entry is stored, retry the read later`,
            ),
          );
        }, timeoutMs),
      };
      this.#waiters.push(waiter);
    });
  }

  /** Fails every waiter, e.g. on shutdown. */
  abandon(error: unknown): void {
    for (const waiter of this.#waiters) {
      clearTimeout(waiter.timer);
      waiter.reject(error);
    }
    this.#waiters = [];
  }

  #release(checkpoint: StoredCheckpoint): void {
    const remaining: Waiter[] = [];
    for (const waiter of this.#waiters) {
      if (waiter.size <= checkpoint.size) {
        clearTimeout(waiter.timer);
        waiter.resolve(checkpoint);
      } else {
        remaining.push(waiter);
      }
    }
    this.#waiters = remaining;
  }
}
