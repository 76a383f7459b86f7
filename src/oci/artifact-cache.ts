import { systemClock, type Clock } from '../core/index.ts';
import type { ImageReference } from './oci.types.ts';
import type { RegistryClient } from './registry-client.types.ts';
import { discoverSignatures, type DiscoveryOptions, type SignatureArtifacts } from './signature-discovery.ts';

export interface ArtifactCacheOptions {
  /** How long found artifacts are reused, in ms. Default 60 000 (a new signature shows up within a minute). */
  ttlMs?: number;
  /** How long a failed lookup is remembered, in ms. Default 5 000 (a short negative TTL). */
  failureTtlMs?: number;
  /** Most images kept, least recently used dropped first. Default 1 000. */
  maxEntries?: number;
  clock?: Clock;
}

/**
 * Signature artifacts per image digest, fetched once and shared by every key, authority and policy
 * that checks the image (discovery is the slow part; verification reuses the bytes). Concurrent
 * lookups of the same image and options merge into one. Entries expire after `ttlMs`, failures after
 * `failureTtlMs`.
 */
export class ArtifactCache {
  readonly #options: Readonly<Required<Omit<ArtifactCacheOptions, 'clock'>>>;
  readonly #clock: Clock;
  readonly #entries = new Map<string, { at: number; ttl: number; value: Promise<SignatureArtifacts> }>();

  constructor(options: ArtifactCacheOptions = {}) {
    const resolved = {
      ttlMs: options.ttlMs ?? 60_000,
      failureTtlMs: options.failureTtlMs ?? 5_000,
      maxEntries: options.maxEntries ?? 1_000,
    };
    for (const [name, value] of Object.entries(resolved)) {
      if (!Number.isSafeInteger(value) || value < 0) {
        throw new TypeError(`${name}: expected a non-negative integer, received ${value}`);
      }
    }
    this.#options = Object.freeze(resolved);
    this.#clock = options.clock ?? systemClock;
  }

  /** The artifacts of `image` (by digest), from the cache or `client`. */
  get(
    client: RegistryClient,
    image: ImageReference,
    options: DiscoveryOptions = {},
  ): Promise<SignatureArtifacts> {
    const key = JSON.stringify([
      image.registry,
      image.repository,
      image.digest,
      options.signatureRepository?.canonical,
      options.tagPrefix,
      options.referrers,
    ]);
    const now = this.#clock.now().getTime();
    const cached = this.#entries.get(key);
    if (cached && now - cached.at < cached.ttl) {
      this.#entries.delete(key);
      this.#entries.set(key, cached);
      return cached.value;
    }
    const entry = { at: now, ttl: this.#options.ttlMs, value: discoverSignatures(client, image, options) };
    entry.value.catch(() => {
      entry.ttl = this.#options.failureTtlMs;
    });
    this.#entries.delete(key);
    this.#entries.set(key, entry);
    while (this.#entries.size > this.#options.maxEntries) {
      this.#entries.delete(this.#entries.keys().next().value!);
    }
    return entry.value;
  }
}
