import { createHash, hash } from 'node:crypto';

/**
 * Signature checks that succeeded, remembered by the exact bytes they covered: the key, the algorithm,
 * the signed message and the signature. A signature that verified once over the same bytes with the
 * same key verifies again, so a repeated check (the webhook sees the same image signatures on every
 * admission of a Pod) costs one SHA-256 instead of an ECDSA verification — a P-384 one is ~1 ms here.
 * Only successes are kept, so a failure is always decided afresh; the cache is bounded (least
 * recently used dropped first) and process-wide, since its keys carry everything a result depends on.
 */

/** Most remembered checks: at ~100 bytes each, ~2 MB. */
const MAX_ENTRIES = 16_384;
const verified = new Map<string, true>();

/**
 * `check()`'s result, skipping it when the same `parts` verified before. `parts` MUST name every input
 * the check depends on (key, algorithm, message, signature), each as bytes or a string.
 */
export function verifyOnce(parts: readonly (Uint8Array | string)[], check: () => boolean): boolean {
  const key = cacheKey(parts.map((part) => (typeof part === 'string' ? Buffer.from(part) : part)));
  if (verified.delete(key)) {
    verified.set(key, true);
    return true;
  }
  if (!check()) return false;
  verified.set(key, true);
  if (verified.size > MAX_ENTRIES) verified.delete(verified.keys().next().value!);
  return true;
}

/** Most bytes joined for one-shot hashing; larger inputs (a big signed artifact) are hashed in pieces. */
const MAX_JOINED = 64 * 1024;

/** SHA-256 over each part behind its 4-byte length, base64. */
function cacheKey(parts: readonly Uint8Array[]): string {
  const total = parts.reduce((sum, bytes) => sum + 4 + bytes.byteLength, 0);
  if (total > MAX_JOINED) {
    const hasher = createHash('sha256');
    const length = Buffer.alloc(4);
    for (const bytes of parts) {
      length.writeUInt32BE(bytes.byteLength);
      hasher.update(length).update(bytes);
    }
    return hasher.digest('base64');
  }
  // One buffer, one call: a Hash object and its updates cost about three one-shot hashes of this size.
  const joined = Buffer.allocUnsafe(total);
  let offset = 0;
  for (const bytes of parts) {
    offset = joined.writeUInt32BE(bytes.byteLength, offset);
    joined.set(bytes, offset);
    offset += bytes.byteLength;
  }
  return hash('sha256', joined, 'base64');
}

/** Forgets every remembered check (benchmarks measuring the first verification of each bundle). */
export function forgetVerifiedSignatures(): void {
  verified.clear();
}
