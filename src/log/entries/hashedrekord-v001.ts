import { decodeBase64, decodeHex, encodeBase64 } from '../../core/index.ts';
import { LogError } from '../errors.ts';
import { assertAlgorithmPermitted, digestLength } from './algorithm-policy.ts';
import { verifyDigestSignature } from './digest-signature.ts';
import { hashedRekordV001Schema } from './entry-schemas.ts';
import type { HashedRekordV001Body, HashedRekordV001Entry } from './entry.types.ts';
import { deepFreeze } from './internal/freeze.ts';
import { compileAssertion } from './schema-validation.ts';
import { parseBase64PemVerifier, type VerifierKey } from './verifier-key.ts';

/**
 * hashedrekord 0.0.1 (sigstore/rekor `pkg/types/hashedrekord/v0.0.1/entry.go`): a signature over an
 * artifact digest, with the PEM key or certificate that made it. The log checks the digest length
 * against its algorithm (validate), the key/digest pairing (checkEntryAlgorithms), verifies the
 * signature over the digest, and stores the entry with the key re-encoded as canonical PEM
 * (Canonicalize: keyObj.CanonicalValue()); the digest is stored exactly as given.
 */

const assertProposal = compileAssertion<HashedRekordV001Body>(hashedRekordV001Schema(false));
const assertLeaf = compileAssertion<HashedRekordV001Body>(hashedRekordV001Schema(true));

const FIELD = {
  hash: 'spec.data.hash.value',
  signature: 'spec.signature.content',
  publicKey: 'spec.signature.publicKey.content',
} as const;

/** Validates, checks and verifies a proposed hashedrekord 0.0.1 entry. */
export function parseHashedRekordV001(proposal: unknown): HashedRekordV001Entry {
  const { spec } = assertProposal(proposal);
  const { algorithm, value } = spec.data.hash;
  const expectedLength = 2 * digestLength(algorithm);
  if (value.length !== expectedLength) {
    throw new LogError(
      'LOG_ENTRY_INVALID',
      `${FIELD.hash}: expected ${expectedLength} hex characters for ${algorithm}, received ${value.length}`,
    );
  }
  const key = parseBase64PemVerifier(spec.signature.publicKey.content, FIELD.publicKey);
  assertAlgorithmPermitted('v1', key.algorithm, algorithm, FIELD.publicKey);
  const signature = decodeBase64(spec.signature.content, FIELD.signature);
  if (!verifyDigestSignature(key.spki, decodeHex(value, FIELD.hash), signature, algorithm)) {
    throw new LogError(
      'LOG_SIGNATURE_INVALID',
      `${FIELD.signature}: expected a signature over ${FIELD.hash} by the key in ${FIELD.publicKey}, received one that does not verify`,
    );
  }
  return freezeEntry({
    apiVersion: '0.0.1',
    kind: 'hashedrekord',
    spec: {
      data: { hash: { algorithm, value } },
      signature: {
        content: encodeBase64(signature),
        publicKey: { content: key.canonicalPemBase64 },
      },
    },
  });
}

/** Reads a stored hashedrekord 0.0.1 leaf as it is, without verifying it again. */
export function readHashedRekordV001Leaf(leaf: unknown): HashedRekordV001Entry {
  return freezeEntry(assertLeaf(leaf));
}

/** The key or certificate of an entry, as the upstream `x509.NewPublicKey` reads it. */
export function hashedRekordV001Verifier(body: HashedRekordV001Body): VerifierKey {
  return parseBase64PemVerifier(body.spec.signature.publicKey.content, FIELD.publicKey);
}

function freezeEntry(body: HashedRekordV001Body): HashedRekordV001Entry {
  return Object.freeze({ type: 'hashedrekord/0.0.1', body: deepFreeze(body) });
}
