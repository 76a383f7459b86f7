import { decodeBase64, decodeUtf8, describeError, encodeBase64, encodeUtf8 } from '../../core/index.ts';
import { LogError } from '../errors.ts';
import { assertAlgorithmPermitted } from './algorithm-policy.ts';
import { assertEnvelopeLength, type ResolvedEntryLimits } from './entry-limits.ts';
import { intotoV002Schema } from './entry-schemas.ts';
import type { IntotoV002Body, IntotoV002Entry, IntotoV002Signature } from './entry.types.ts';
import { preAuthenticationEncoding } from '../../core/index.ts';
import { matchSignatures, verifyMessageSignature } from './envelope-signatures.ts';
import { sha256Hex } from './internal/digest.ts';
import { deepFreeze } from './internal/freeze.ts';
import { decodeProtoBytes } from './proto-bytes.ts';
import { compileAssertion } from './schema-validation.ts';
import { parseBase64PemVerifier, type VerifierKey } from './verifier-key.ts';

/**
 * intoto 0.0.2 (sigstore/rekor `pkg/types/intoto/v0.0.2/entry.go`): a DSSE envelope inlined as JSON
 * with each signature carrying its PEM key or certificate. Payload and signatures arrive base64-encoded
 * twice (the bytes of the envelope's own base64 text), as sigstore-js `toProposedIntotoEntry` sends them.
 *
 * The log verifies every signature (Unmarshal → verifyEnvelope), computes `payloadHash`, keeps the
 * client's `hash` (upstream cannot recompute it), and stores the current upstream Canonicalize form:
 * the payload is dropped and each key is re-encoded as canonical PEM (sigstore/rekor#1170). Leaves
 * written by older Rekor versions — with the payload, or with the PEM as the client sent it — are
 * read back unchanged.
 */

const assertProposal = compileAssertion<IntotoV002Body>(intotoV002Schema(false));
const assertLeaf = compileAssertion<IntotoV002Body>(intotoV002Schema(true));

const ENVELOPE = 'spec.content.envelope';
const PAYLOAD_PATH = ['spec', 'content', 'envelope', 'payload'];

/** Validates a proposed intoto 0.0.2 entry and verifies every envelope signature. */
export function parseIntotoV002(proposal: unknown, limits: ResolvedEntryLimits): IntotoV002Entry {
  assertEnvelopeLength(proposal, PAYLOAD_PATH, limits);
  const { envelope, hash } = assertProposal(proposal).spec.content;
  const payload = decodeTwice(envelope.payload ?? '', `${ENVELOPE}.payload`, 'payload').bytes;
  const signatures = envelope.signatures.map((signature, index) => {
    const field = `${ENVELOPE}.signatures[${index}]`;
    const { text, bytes } = decodeTwice(signature.sig, `${field}.sig`, 'signature');
    const key = parseBase64PemVerifier(signature.publicKey, `${field}.publicKey`);
    // checkEntryAlgorithms: an intoto entry's artifact hash is its sha256 payload hash.
    assertAlgorithmPermitted('v1', key.algorithm, 'sha256', `${field}.publicKey`);
    return { signature, text, key, bytes };
  });
  const message = preAuthenticationEncoding(envelope.payloadType, payload);
  matchSignatures(
    signatures.map(({ text, bytes }) => ({ id: text, bytes })),
    signatures.map(({ key }) => key),
    (key: VerifierKey, signature) => verifyMessageSignature(key, message, signature.bytes, 'sha256'),
    {
      // Methods, not arrow properties: under tsx each named arrow is renamed per call.
      signature(index) {
        return `${ENVELOPE}.signatures[${index}].sig`;
      },
      verifier(index) {
        return `${ENVELOPE}.signatures[${index}].publicKey`;
      },
      verifiers: `the public keys of ${ENVELOPE}.signatures`,
    },
  );
  const body: IntotoV002Body = {
    apiVersion: '0.0.2',
    kind: 'intoto',
    spec: {
      content: {
        envelope: {
          payloadType: envelope.payloadType,
          signatures: signatures.map(({ signature, text, key }) => canonicalSignature(signature, text, key)),
        },
        hash: { algorithm: 'sha256', value: hash.value },
        payloadHash: { algorithm: 'sha256', value: sha256Hex(payload) },
      },
    },
  };
  return Object.freeze({
    type: 'intoto/0.0.2',
    body: deepFreeze(body),
    envelope: Object.freeze({ payloadType: envelope.payloadType, payload }),
  });
}

/** Reads a stored intoto 0.0.2 leaf as it is, without verifying it again. */
export function readIntotoV002Leaf(leaf: unknown): IntotoV002Entry {
  return Object.freeze({ type: 'intoto/0.0.2', body: deepFreeze(assertLeaf(leaf)) });
}

export function intotoV002Verifiers(body: IntotoV002Body): VerifierKey[] {
  return body.spec.content.envelope.signatures.map(({ publicKey }, index) =>
    parseBase64PemVerifier(publicKey, `${ENVELOPE}.signatures[${index}].publicKey`),
  );
}

/** The leaf form of one signature; `keyid` is omitted when empty (Go `json:"keyid,omitempty"`). */
function canonicalSignature(
  signature: IntotoV002Signature,
  text: string,
  key: VerifierKey,
): IntotoV002Signature {
  const canonical = {
    sig: encodeBase64(encodeUtf8(text)),
    publicKey: key.canonicalPemBase64,
  };
  return signature.keyid ? { keyid: signature.keyid, ...canonical } : canonical;
}

/** The outer base64 is the field's; the inner one is the envelope's (either alphabet, as DSSE allows). */
function decodeTwice(outer: string, field: string, what: string): { text: string; bytes: Uint8Array } {
  let inner: string;
  try {
    inner = decodeUtf8(decodeBase64(outer, field), field);
  } catch (cause) {
    throw new LogError(
      'LOG_ENTRY_INVALID',
      `${field}: expected base64 of a base64 ${what}, ${describeError(cause)}`,
      {
        cause,
      },
    );
  }
  return { text: inner, bytes: decodeProtoBytes(inner, field, `base64 of a base64 ${what}`) };
}
