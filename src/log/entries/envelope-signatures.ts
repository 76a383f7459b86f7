import { constants, verify } from 'node:crypto';
import { LogError } from '../errors.ts';
import type { HashAlgorithm } from './entry.types.ts';
import type { VerifierKey } from './verifier-key.ts';
import { timeVerification } from './verify-clock.ts';

/**
 * DSSE envelope signatures: the message is at hand, so node:crypto verifies them (DESIGN.md: keep
 * @noble/curves off that path).
 */

/**
 * Verifies a signature over a whole message the way sigstore/sigstore `signature.LoadVerifier(key,
 * hash)` does: ECDSA (ASN.1 DER) and RSA PKCS #1 v1.5 over `hash` of the message, Ed25519 pure (the
 * hash is ignored, as LoadVerifier ignores it for Ed25519 keys).
 */
export function verifyMessageSignature(
  key: VerifierKey,
  message: Uint8Array,
  signature: Uint8Array,
  hash: HashAlgorithm | undefined,
): boolean {
  return timeVerification(() => verifyMessage(key, message, signature, hash));
}

function verifyMessage(
  key: VerifierKey,
  message: Uint8Array,
  signature: Uint8Array,
  hash: HashAlgorithm | undefined,
): boolean {
  try {
    switch (key.algorithm.type) {
      case 'ed25519':
        return verify(null, message, key.key, signature);
      case 'ecdsa':
        return verify(hash ?? 'sha256', message, { key: key.key, dsaEncoding: 'der' }, signature);
      case 'rsa':
        return verify(
          hash ?? 'sha256',
          message,
          { key: key.key, padding: constants.RSA_PKCS1_PADDING },
          signature,
        );
    }
  } catch {
    return false;
  }
}

export interface EnvelopeSignature {
  /** What upstream keys the signature by: the base64 text (v1) or the raw bytes as a binary string (v2). */
  readonly id: string;
  readonly bytes: Uint8Array;
}

/** How errors name the envelope's signatures and the verifiers. */
export interface SignatureFields {
  signature: (index: number) => string;
  verifier: (index: number) => string;
  /** All verifiers together, e.g. `spec.proposedContent.verifiers`. */
  verifiers: string;
}

export interface SignatureMatch<V> {
  readonly signature: EnvelopeSignature;
  readonly verifier: V;
}

/**
 * Pairs envelope signatures with the verifiers that verify them, reproducing go-securesystemslib
 * `dsse/verify.go` EnvelopeVerifier.Verify as Rekor calls it, one verifier at a time
 * (sigstore/rekor `pkg/types/dsse/v0.0.1/entry.go` and `intoto/v0.0.2/entry.go` verifyEnvelope,
 * sigstore/rekor-tiles `pkg/types/dsse/dsse.go` verifyEnvelopeAndSupportedAlgs):
 * - verifiers are tried in order until every signature is accounted for;
 * - a tried verifier accepts the first signature, in envelope order, that it verifies — one signature
 *   per verifier, and the same one again for a repeated key, so an envelope with two signatures by one
 *   key is refused however often that key is listed;
 * - a tried verifier that verifies no signature fails the entry;
 * - a signature no verifier accepted fails the entry.
 * Signatures with the same id are one signature. The result maps each id to its verifier; when a
 * later verifier accepts an already-accepted signature it replaces the earlier one, as upstream's map does.
 */
export function matchSignatures<V>(
  signatures: readonly EnvelopeSignature[],
  verifiers: readonly V[],
  verifies: (verifier: V, signature: EnvelopeSignature) => boolean,
  fields: SignatureFields,
): Map<string, SignatureMatch<V>> {
  const remaining = new Set(signatures.map((signature) => signature.id));
  const matches = new Map<string, SignatureMatch<V>>();
  verifiers.forEach((verifier, index) => {
    if (remaining.size === 0) return;
    const accepted = signatures.find((signature) => verifies(verifier, signature));
    if (accepted === undefined) {
      throw new LogError(
        'LOG_SIGNATURE_INVALID',
        `${fields.verifier(index)}: expected a key that verifies a signature of the envelope, received one that verifies none`,
      );
    }
    remaining.delete(accepted.id);
    matches.set(accepted.id, { signature: accepted, verifier });
  });
  if (remaining.size > 0) {
    const unverified = signatures.findIndex((signature) => remaining.has(signature.id));
    throw new LogError(
      'LOG_SIGNATURE_INVALID',
      `${fields.signature(unverified)}: expected a signature verified by one of ${fields.verifiers}, received one that none verifies`,
    );
  }
  return matches;
}
