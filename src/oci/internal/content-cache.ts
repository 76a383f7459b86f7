/**
 * Content fetched by digest, kept for reuse: a digest names its bytes forever, and these bytes were
 * checked against it when fetched, so a second read of the same signature layer or manifest needs no
 * request. Keyed by registry, repository and digest (a registry grants access per repository, so a
 * blob read from one is not handed out for another). Bounded by total bytes, least recently used
 * dropped first; items larger than an eighth of the budget are not kept.
 */
export class ContentCache<T extends { readonly byteLength: number }> {
  readonly #maxBytes: number;
  readonly #entries = new Map<string, T>();
  #bytes = 0;

  constructor(maxBytes: number) {
    this.#maxBytes = maxBytes;
  }

  get(registry: string, repository: string, digest: string): T | undefined {
    const key = `${registry}/${repository}@${digest}`;
    const value = this.#entries.get(key);
    if (value !== undefined) {
      this.#entries.delete(key);
      this.#entries.set(key, value);
    }
    return value;
  }

  set(registry: string, repository: string, digest: string, value: T): void {
    if (value.byteLength * 8 > this.#maxBytes) return;
    const key = `${registry}/${repository}@${digest}`;
    const previous = this.#entries.get(key);
    if (previous !== undefined) {
      this.#bytes -= previous.byteLength;
      this.#entries.delete(key);
    }
    this.#entries.set(key, value);
    this.#bytes += value.byteLength;
    for (const [oldest, entry] of this.#entries) {
      if (this.#bytes <= this.#maxBytes) break;
      this.#entries.delete(oldest);
      this.#bytes -= entry.byteLength;
    }
  }
}
