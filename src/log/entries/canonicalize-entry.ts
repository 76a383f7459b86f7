import { canonicalizeJsonBytes } from '../../core/index.ts';
import type { RekorEntry } from './entry.types.ts';

/**
 * The exact leaf bytes the log stores for an entry: RFC 8785 JCS of its canonical struct, as
 * sigstore/rekor `pkg/types/entries.go` CanonicalizeEntry (jsoncanonicalizer.Transform of the
 * Canonicalize output) and sigstore/rekor-tiles (jsoncanonicalizer.Transform of protojson.Marshal of
 * the Entry) produce them. The struct was built when the entry was parsed, so this is serialization only.
 */
export function canonicalizeEntry(entry: RekorEntry): Uint8Array {
  return canonicalizeJsonBytes(entry.body);
}

/** The `kind` and `version` of an entry, as a Rekor v2 response's `kindVersion` carries them. */
export function entryKindVersion(entry: RekorEntry): { kind: string; version: string } {
  return { kind: entry.body.kind, version: entry.body.apiVersion };
}
