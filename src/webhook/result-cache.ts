import { systemClock, type Clock } from '../core/index.ts';

/**
 * A bounded cache of asynchronous results with merging of concurrent work (singleflight): the first
 * caller of a key starts the work, every caller until it settles gets the same promise, and the
 * settled value is kept for as long as `ttlFor` says (a short time for failures, longer for
 * successes). A rejected computation is never kept: the next caller starts again. Least recently used
 * entries go first when `maxEntries` is exceeded.
 */

export type CacheLookup = 'hit' | 'miss' | 'merged';

export interface ResultCacheOptions<V> {
  /** Most settled entries kept. */
  readonly maxEntries: number;
  /** How long a settled value stays fresh, in ms; 0 keeps it only while it is being computed. */
  readonly ttlFor: (value: V) => number;
  readonly clock?: Clock;
}

interface Entry<V> {
  readonly value: Promise<V>;
  /** Undefined while in flight; then the time it goes stale, in ms since the epoch. */
  expiresAt?: number;
}

export class ResultCache<V> {
  readonly #entries = new Map<string, Entry<V>>();
  readonly #options: ResultCacheOptions<V>;
  readonly #clock: Clock;

  constructor(options: ResultCacheOptions<V>) {
    if (!Number.isSafeInteger(options.maxEntries) || options.maxEntries < 1) {
      throw new TypeError(`maxEntries: expected a positive integer, received ${options.maxEntries}`);
    }
    this.#options = options;
    this.#clock = options.clock ?? systemClock;
  }

  /** The value for `key`: fresh from the cache, joined to work in flight, or computed now. */
  get(key: string, compute: () => Promise<V>): { value: Promise<V>; lookup: CacheLookup } {
    const entry = this.#entries.get(key);
    if (entry !== undefined) {
      if (entry.expiresAt === undefined) return { value: entry.value, lookup: 'merged' };
      if (entry.expiresAt > this.#clock.now().getTime()) {
        this.#entries.delete(key);
        this.#entries.set(key, entry);
        return { value: entry.value, lookup: 'hit' };
      }
      this.#entries.delete(key);
    }
    const started: Entry<V> = { value: compute() };
    this.#entries.set(key, started);
    started.value.then(
      (value) => {
        if (this.#entries.get(key) !== started) return;
        const ttl = this.#options.ttlFor(value);
        if (ttl <= 0) this.#entries.delete(key);
        else started.expiresAt = this.#clock.now().getTime() + ttl;
      },
      () => {
        if (this.#entries.get(key) === started) this.#entries.delete(key);
      },
    );
    this.#evict();
    return { value: started.value, lookup: 'miss' };
  }

  /** When the settled value of `key` goes stale (ms since the epoch); undefined when none is kept. */
  expiresAt(key: string): number | undefined {
    return this.#entries.get(key)?.expiresAt;
  }

  /** Drops every settled entry (a policy or trust root changed); work in flight finishes uncached. */
  clear(): void {
    this.#entries.clear();
  }

  get size(): number {
    return this.#entries.size;
  }

  #evict(): void {
    if (this.#entries.size <= this.#options.maxEntries) return;
    for (const [key, entry] of this.#entries) {
      if (this.#entries.size <= this.#options.maxEntries) return;
      // Work in flight stays: dropping it would start the same work again for the next caller.
      if (entry.expiresAt !== undefined) this.#entries.delete(key);
    }
  }
}
