import type { EntrySearchKeys } from './entries/index.ts';

/**
 * How entries are filed in the log's search index: one prefixed string per key, lower-cased as Rekor's
 * index is, so `/api/v1/index/retrieve` finds them by artifact hash, key or certificate subject.
 */
export function searchKeysOf(keys: EntrySearchKeys): string[] {
  return [
    ...keys.artifactHashes.map(artifactKey),
    ...keys.publicKeyHashes.map((hash) => `key:${hash.toLowerCase()}`),
    ...keys.subjects.map(subjectKey),
  ];
}

/** `sha256:<hex>` (or bare hex, taken as SHA-256) → its index key. */
export function artifactKey(hash: string): string {
  const lower = hash.toLowerCase();
  return `artifact:${lower.includes(':') ? lower : `sha256:${lower}`}`;
}

export function publicKeyKey(sha256Hex: string): string {
  return `key:${sha256Hex.toLowerCase()}`;
}

export function subjectKey(subject: string): string {
  return `subject:${subject.toLowerCase()}`;
}
