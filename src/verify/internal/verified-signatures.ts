import { createHash } from 'node:crypto';

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
  const hasher = createHash('sha256');
  const length = Buffer.alloc(4);
  for (const part of parts) {
    const bytes = typeof part === 'string' ? Buffer.from(part) : part;
    length.writeUInt32BE(bytes.length);
    hasher.update(length).update(bytes);
  }
  const key = hasher.digest('base64');
  if (verified.delete(key)) {
    verified.set(key, true);
    return true;
  }
  if (!check()) return false;
  verified.set(key, true);
  if (verified.size > MAX_ENTRIES) verified.delete(verified.keys().next().value!);
  return true;
}

/** Forgets every remembered check (benchmarks measuring the first verification of each bundle). */
export function forgetVerifiedSignatures(): void {
  verified.clear();
}
