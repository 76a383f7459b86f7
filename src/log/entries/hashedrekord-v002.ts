import { encodeBase64 } from '../../core/index.ts';
import { LogError } from '../errors.ts';
import { digestLength, protoHashAlgorithm } from './algorithm-policy.ts';
import { verifyDigestSignature } from './digest-signature.ts';
import { hashedRekordV002LeafSchema } from './entry-schemas.ts';
import type { HashedRekordV002Body, HashedRekordV002Entry } from './entry.types.ts';
import { deepFreeze } from './internal/freeze.ts';
import { decodeProtoBytes } from './proto-bytes.ts';
import { compileAssertion } from './schema-validation.ts';
import {
  assertStoredVerifierV002,
  parseVerifierV002,
  storedVerifierKey,
  type VerifierJson,
} from './verifier-v002.ts';
import type { VerifierKey } from './verifier-key.ts';

/**
 * hashedrekord 0.0.2 (sigstore/rekor-tiles `pkg/types/hashedrekord/hashedrekord.go` ToLogEntry): a
 * `HashedRekordRequestV002` — digest, signature, verifier — becomes the leaf
 * `{"apiVersion":"0.0.2","kind":"hashedrekord","spec":{"hashedRekordV002":{"data":{"algorithm",
 * "digest"},"signature":<the request's signature>}}}`, the RFC 8785 form of its protojson. The digest
 * length must match the hash keyDetails names, and the signature must verify over the digest.
 */

export interface HashedRekordRequestJson {
  digest: string;
  signature: { content: string; verifier: VerifierJson };
}

const assertLeaf = compileAssertion<HashedRekordV002Body>(hashedRekordV002LeafSchema);

export function parseHashedRekordV002(
  request: HashedRekordRequestJson,
  prefix: string,
): HashedRekordV002Entry {
  const field = {
    digest: `${prefix}.digest`,
    content: `${prefix}.signature.content`,
    verifier: `${prefix}.signature.verifier`,
  };
  const verifier = parseVerifierV002(request.signature.verifier, field.verifier);
  const digest = decodeProtoBytes(request.digest, field.digest);
  const content = decodeProtoBytes(request.signature.content, field.content);
  if (digest.length !== digestLength(verifier.hash)) {
    throw new LogError(
      'LOG_ENTRY_INVALID',
      `${field.digest}: expected ${digestLength(verifier.hash)} bytes for ${verifier.hash} (${verifier.keyDetails}), received ${digest.length}`,
    );
  }
  if (!verifyDigestSignature(verifier.key.spki, digest, content, verifier.hash)) {
    throw new LogError(
      'LOG_SIGNATURE_INVALID',
      `${field.content}: expected a signature over ${field.digest} by the key in ${field.verifier}, received one that does not verify`,
    );
  }
  const body: HashedRekordV002Body = {
    apiVersion: '0.0.2',
    kind: 'hashedrekord',
    spec: {
      hashedRekordV002: {
        data: { algorithm: protoHashAlgorithm(verifier.hash), digest: encodeBase64(digest) },
        signature: { content: encodeBase64(content), verifier: verifier.proto },
      },
    },
  };
  return Object.freeze({ type: 'hashedrekord/0.0.2', body: deepFreeze(body) });
}

/** Reads a stored hashedrekord 0.0.2 leaf as it is, without verifying it again. */
export function readHashedRekordV002Leaf(leaf: unknown): HashedRekordV002Entry {
  const body = assertLeaf(leaf);
  assertStoredVerifierV002(
    body.spec.hashedRekordV002.signature.verifier,
    'spec.hashedRekordV002.signature.verifier',
  );
  return Object.freeze({ type: 'hashedrekord/0.0.2', body: deepFreeze(body) });
}

export function hashedRekordV002Verifier(body: HashedRekordV002Body): VerifierKey {
  return storedVerifierKey(
    body.spec.hashedRekordV002.signature.verifier,
    'spec.hashedRekordV002.signature.verifier',
  );
}
