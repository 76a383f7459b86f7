import { encodeBase64 } from '../../core/index.ts';
import { dsseV002LeafSchema } from './entry-schemas.ts';
import type { DsseV002Body, DsseV002Entry } from './entry.types.ts';
import { preAuthenticationEncoding } from '../../core/index.ts';
import { matchSignatures, verifyMessageSignature } from './envelope-signatures.ts';
import { sha256 } from './internal/digest.ts';
import { deepFreeze } from './internal/freeze.ts';
import { decodeProtoBytes } from './proto-bytes.ts';
import { compileAssertion } from './schema-validation.ts';
import type { VerifierKey } from './verifier-key.ts';
import {
  assertStoredVerifierV002,
  parseVerifierV002,
  storedVerifierKey,
  type ParsedVerifierV002,
  type VerifierJson,
} from './verifier-v002.ts';

/**
 * dsse 0.0.2 (sigstore/rekor-tiles `pkg/types/dsse/dsse.go` ToLogEntry, v2.0–v2.2; dropped upstream in
 * v2.3.0 but still sent by sigstore-js `toCreateEntryRequestDSSE`): a `DSSERequestV002` — envelope and
 * verifiers — becomes `{"apiVersion":"0.0.2","kind":"dsse","spec":{"dsseV002":{"payloadHash",
 * "signatures"}}}`. Each verifier's keyDetails hash is the one its signature is checked with
 * (signature.LoadVerifier(key, hash)); signatures are sorted by their raw bytes and the payload hash is
 * always SHA-256.
 */

export interface DsseRequestJson {
  envelope: { payload: string; payloadType: string; signatures: { sig: string; keyid?: string }[] };
  verifiers: VerifierJson[];
}

const assertLeaf = compileAssertion<DsseV002Body>(dsseV002LeafSchema);

/** `request` has passed the CreateEntryRequest schema, and its payload the envelope length check. */
export function parseDsseV002(request: DsseRequestJson, prefix: string): DsseV002Entry {
  const { envelope } = request;
  const verifiers = request.verifiers.map((verifier, index) =>
    parseVerifierV002(verifier, `${prefix}.verifiers[${index}]`),
  );
  const payload = decodeProtoBytes(envelope.payload, `${prefix}.envelope.payload`);
  const signatures = envelope.signatures.map(({ sig }, index) => {
    const bytes = decodeProtoBytes(sig, `${prefix}.envelope.signatures[${index}].sig`);
    return { id: encodeBase64(bytes), bytes };
  });
  const message = preAuthenticationEncoding(envelope.payloadType, payload);
  const matches = matchSignatures(
    signatures,
    verifiers,
    (verifier: ParsedVerifierV002, signature) =>
      verifyMessageSignature(verifier.key, message, signature.bytes, verifier.hash),
    {
      // Methods, not arrow properties: under tsx each named arrow is renamed per call.
      signature(index) {
        return `${prefix}.envelope.signatures[${index}]`;
      },
      verifier(index) {
        return `${prefix}.verifiers[${index}]`;
      },
      verifiers: `${prefix}.verifiers`,
    },
  );
  // slices.Sort over string(rawSignature): byte order.
  const sorted = [...matches.values()].sort((a, b) => Buffer.compare(a.signature.bytes, b.signature.bytes));
  const body: DsseV002Body = {
    apiVersion: '0.0.2',
    kind: 'dsse',
    spec: {
      dsseV002: {
        payloadHash: { algorithm: 'SHA2_256', digest: encodeBase64(sha256(payload)) },
        signatures: sorted.map(({ signature, verifier }) => ({
          content: encodeBase64(signature.bytes),
          verifier: verifier.proto,
        })),
      },
    },
  };
  return Object.freeze({
    type: 'dsse/0.0.2',
    body: deepFreeze(body),
    envelope: Object.freeze({ payloadType: envelope.payloadType, payload }),
  });
}

/** Reads a stored dsse 0.0.2 leaf as it is; the envelope is not in the leaf, so nothing is verified. */
export function readDsseV002Leaf(leaf: unknown): DsseV002Entry {
  const body = assertLeaf(leaf);
  body.spec.dsseV002.signatures.forEach(({ verifier }, index) =>
    assertStoredVerifierV002(verifier, `spec.dsseV002.signatures[${index}].verifier`),
  );
  return Object.freeze({ type: 'dsse/0.0.2', body: deepFreeze(body) });
}

export function dsseV002Verifiers(body: DsseV002Body): VerifierKey[] {
  return body.spec.dsseV002.signatures.map(({ verifier }, index) =>
    storedVerifierKey(verifier, `spec.dsseV002.signatures[${index}].verifier`),
  );
}
