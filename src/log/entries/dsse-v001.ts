import { decodeBase64, describeError, encodeUtf8, parseJson } from '../../core/index.ts';
import { LogError } from '../errors.ts';
import { assertAlgorithmPermitted } from './algorithm-policy.ts';
import { assertEnvelopeLength, type ResolvedEntryLimits } from './entry-limits.ts';
import { dsseEnvelopeSchema, dsseV001LeafSchema, dsseV001ProposalSchema } from './entry-schemas.ts';
import type { DsseV001Body, DsseV001Entry } from './entry.types.ts';
import { preAuthenticationEncoding } from '../../core/index.ts';
import { matchSignatures, verifyMessageSignature } from './envelope-signatures.ts';
import { sha256Hex } from './internal/digest.ts';
import { deepFreeze } from './internal/freeze.ts';
import { decodeProtoBytes } from './proto-bytes.ts';
import { compileAssertion, joinPath } from './schema-validation.ts';
import { parseBase64PemVerifier, type VerifierKey } from './verifier-key.ts';

/**
 * dsse 0.0.1 (sigstore/rekor `pkg/types/dsse/v0.0.1/entry.go`): a DSSE envelope sent as a JSON string
 * with the PEM keys or certificates that verify it. Every signature must be verified (verifyEnvelope);
 * the leaf keeps only server-computed fields — `signatures` (each envelope signature with the canonical
 * PEM of its verifier, sorted by signature), `envelopeHash` (SHA-256 of the envelope string exactly as
 * sent) and `payloadHash` (SHA-256 of the decoded payload) — and drops `proposedContent`.
 */

interface DsseV001Proposal {
  spec: { proposedContent: { envelope: string; verifiers: string[] } };
}

interface DsseEnvelopeJson {
  payload: string;
  payloadType: string;
  signatures: { keyid?: string; sig: string }[];
}

const assertProposal = compileAssertion<DsseV001Proposal>(dsseV001ProposalSchema);
const assertEnvelope = compileAssertion<DsseEnvelopeJson>(dsseEnvelopeSchema);
const assertLeaf = compileAssertion<DsseV001Body>(dsseV001LeafSchema);

const FIELD = {
  envelope: 'spec.proposedContent.envelope',
  verifiers: 'spec.proposedContent.verifiers',
} as const;

/**
 * sigstore-go (cosign v3) sends the read-only `spec.signatures` as `null`, which Go's encoding/json writes
 * for a nil slice and Rekor reads as absent: so does this log. Any other value is still refused.
 */
function withoutNullComputedFields(proposal: unknown): unknown {
  const spec = (proposal as { spec?: unknown } | null)?.spec;
  if (typeof spec !== 'object' || spec === null) return proposal;
  const fields = spec as Record<string, unknown>;
  const nulls = ['envelopeHash', 'payloadHash', 'signatures'].filter((name) => fields[name] === null);
  if (nulls.length === 0) return proposal;
  const kept = Object.fromEntries(Object.entries(fields).filter(([name]) => !nulls.includes(name)));
  return { ...(proposal as object), spec: kept };
}

/** Field names for matchSignatures, made once (under tsx each named function costs a rename per creation). */
const MATCH_FIELDS = {
  signature: (index: number) => `${FIELD.envelope}.signatures[${index}]`,
  verifier: (index: number) => `${FIELD.verifiers}[${index}]`,
  verifiers: FIELD.verifiers,
};

/** Validates a proposed dsse 0.0.1 entry and verifies every envelope signature. */
export function parseDsseV001(proposal: unknown, limits: ResolvedEntryLimits): DsseV001Entry {
  assertEnvelopeLength(proposal, ['spec', 'proposedContent', 'envelope'], limits);
  const { envelope: envelopeText, verifiers } = assertProposal(withoutNullComputedFields(proposal)).spec
    .proposedContent;
  const envelope = readEnvelope(envelopeText);
  const payload = decodeProtoBytes(envelope.payload, joinPath(FIELD.envelope, 'payload'), 'base64');
  const keys = verifiers.map((content, index) => {
    const field = `${FIELD.verifiers}[${index}]`;
    const key = parseBase64PemVerifier(content, field);
    // checkEntryAlgorithms: a dsse entry's artifact hash is its sha256 payload hash.
    assertAlgorithmPermitted('v1', key.algorithm, 'sha256', field);
    return key;
  });
  const message = preAuthenticationEncoding(envelope.payloadType, payload);
  const signatures = envelope.signatures.map(({ sig }, index) => ({
    id: sig,
    bytes: decodeBase64(sig, `${FIELD.envelope}.signatures[${index}].sig`),
  }));
  const matches = matchSignatures(
    signatures,
    keys,
    (key: VerifierKey, signature) => verifyMessageSignature(key, message, signature.bytes, 'sha256'),
    MATCH_FIELDS,
  );
  // Go's sort.Strings: byte order, which for base64 text is UTF-16 order too.
  const sorted = [...matches.values()].sort((a, b) => (a.signature.id < b.signature.id ? -1 : 1));
  const body: DsseV001Body = {
    apiVersion: '0.0.1',
    kind: 'dsse',
    spec: {
      envelopeHash: { algorithm: 'sha256', value: sha256Hex(encodeUtf8(envelopeText)) },
      payloadHash: { algorithm: 'sha256', value: sha256Hex(payload) },
      signatures: sorted.map(({ signature, verifier }) => ({
        signature: signature.id,
        verifier: verifier.canonicalPemBase64,
      })),
    },
  };
  return Object.freeze({
    type: 'dsse/0.0.1',
    body: deepFreeze(body),
    envelope: Object.freeze({ payloadType: envelope.payloadType, payload }),
  });
}

/** Reads a stored dsse 0.0.1 leaf as it is; the envelope is not in the leaf, so nothing is verified. */
export function readDsseV001Leaf(leaf: unknown): DsseV001Entry {
  return Object.freeze({ type: 'dsse/0.0.1', body: deepFreeze(assertLeaf(leaf)) });
}

/** The keys and certificates of an entry's signatures. */
export function dsseV001Verifiers(body: DsseV001Body): VerifierKey[] {
  return body.spec.signatures.map(({ verifier }, index) =>
    parseBase64PemVerifier(verifier, `spec.signatures[${index}].verifier`),
  );
}

function readEnvelope(text: string): DsseEnvelopeJson {
  let json: unknown;
  try {
    json = parseJson(text, { field: FIELD.envelope, maxLength: text.length });
  } catch (cause) {
    throw new LogError('LOG_ENTRY_INVALID', describeError(cause), { cause });
  }
  return assertEnvelope(json, FIELD.envelope);
}
