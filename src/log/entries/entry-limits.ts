/**
 * Bounds on individual fields of a proposed entry. The HTTP layer bounds the whole body; these bound
 * what a body of that size could still make expensive (long regex runs, big key parses, many
 * signature verifications). Counts follow sigstore/rekor-tiles `pkg/types/dsse/dsse.go`
 * (maxVerifiers = maxSignatures = 10); sizes leave room for RSA-4096 and long Fulcio certificates.
 */

/** Options for {@link parseProposedEntry}. */
export interface ParseEntryOptions {
  /**
   * Longest DSSE envelope field accepted, in UTF-16 code units of the JSON string that carries it
   * (the v1 dsse `proposedContent.envelope`, the intoto `envelope.payload`, the v2 `envelope.payload`).
   * Default 1 MiB (1,048,576).
   */
  maxEnvelopeLength?: number;
}

export interface ResolvedEntryLimits {
  readonly maxEnvelopeLength: number;
}

import { LogError } from '../errors.ts';

/** Base64 of a signature; RSA-4096 needs 684 characters. */
export const MAX_SIGNATURE_LENGTH = 4096;
/** Base64 of a PEM (v1) or DER (v2) certificate or public key. */
export const MAX_VERIFIER_LENGTH = 32_768;
export const MAX_PAYLOAD_TYPE_LENGTH = 256;
export const MAX_KEYID_LENGTH = 256;
export const MAX_SIGNATURES = 10;
export const MAX_VERIFIERS = 10;
/** Hex digest of a client-supplied hash (SHA-512 needs 128 characters). */
export const MAX_HEX_DIGEST_LENGTH = 128;
/** Base64 of a v2 digest (SHA-512 needs 88 characters). */
export const MAX_DIGEST_LENGTH = 128;

/**
 * Refuses an envelope field longer than the limit before any schema runs a pattern over it. `path`
 * leads from the request body to the field; a missing or non-string field is left to the schema.
 */
export function assertEnvelopeLength(
  body: unknown,
  path: readonly string[],
  limits: ResolvedEntryLimits,
): void {
  let value: unknown = body;
  for (const key of path) {
    if (typeof value !== 'object' || value === null) return;
    value = (value as Record<string, unknown>)[key];
  }
  if (typeof value === 'string' && value.length > limits.maxEnvelopeLength) {
    throw new LogError(
      'LOG_ENTRY_TOO_LARGE',
      `${path.join('.')}: expected at most ${limits.maxEnvelopeLength} characters, received ${value.length}`,
    );
  }
}

const DEFAULT_MAX_ENVELOPE_LENGTH = 1024 * 1024;

/**
 * Resolves and validates options once. Misuse is a programming error, so it throws TypeError rather
 * than a LogError.
 */
export function resolveEntryLimits(options: ParseEntryOptions = {}): ResolvedEntryLimits {
  const maxEnvelopeLength = options.maxEnvelopeLength ?? DEFAULT_MAX_ENVELOPE_LENGTH;
  if (!Number.isSafeInteger(maxEnvelopeLength) || maxEnvelopeLength < 1) {
    throw new TypeError(
      `maxEnvelopeLength: expected a positive integer, received ${String(options.maxEnvelopeLength)}`,
    );
  }
  return Object.freeze({ maxEnvelopeLength });
}
