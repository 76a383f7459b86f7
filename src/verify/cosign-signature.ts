import { hash } from 'node:crypto';
import {
  decodeBase64,
  decodeHex,
  decodePem,
  decodeUtf8,
  parseCertificate,
  parseJson,
  type ParsedCertificate,
} from '../core/index.ts';
import type { Bundle, TlogEntry, VerificationMaterial } from './bundle.types.ts';
import { VerificationError } from './errors.ts';
import type { SignerPolicy, Verifier } from './verifier.ts';
import type { VerificationResult } from './verification-result.ts';

/** The annotations of a layer of a cosign `.sig` manifest (sigstore/cosign `pkg/oci/static`). */
export const COSIGN_ANNOTATIONS = {
  signature: 'dev.cosignproject.cosign/signature',
  certificate: 'dev.sigstore.cosign/certificate',
  chain: 'dev.sigstore.cosign/chain',
  bundle: 'dev.sigstore.cosign/bundle',
  rfc3161Timestamp: 'dev.sigstore.cosign/rfc3161timestamp',
} as const;

/** One layer of a cosign legacy signature manifest: the simple-signing payload and its annotations. */
export interface CosignSignatureLayer {
  /** The layer's blob: the simple-signing JSON payload, exactly as stored. */
  readonly payload: Uint8Array;
  /** The layer's descriptor digest (`sha256:…`); checked against the payload when given. */
  readonly digest?: string;
  readonly annotations: Readonly<Record<string, string>>;
}

export interface CosignVerificationPolicy {
  /** The image manifest digest the signature must name (`sha256:…`). */
  readonly imageDigest: string;
  readonly signer: SignerPolicy;
}

export interface CosignVerificationResult extends VerificationResult {
  /** `critical.identity.docker-reference` of the payload. */
  readonly dockerReference: string;
  /** `optional` of the payload: the annotations the signer added (`cosign sign -a k=v`). */
  readonly payloadAnnotations: Readonly<Record<string, unknown>>;
}

const SIMPLE_SIGNING_TYPE = 'cosign container image signature';
const MAX_PAYLOAD_BYTES = 1024 * 1024;

/**
 * Verifies a cosign legacy OCI signature (a `.sig` layer: simple-signing payload, signature and
 * certificate annotations, the Rekor SET bundle, an RFC 3161 timestamp) with the same steps as a
 * Sigstore bundle: it is read into a v0.1-shaped Bundle (a message signature over the payload, the SET
 * as inclusion promise) and handed to `verifier`. The payload must name `policy.imageDigest`. As cosign
 * does, the `chain` annotation is not trusted: the certificate chains to the trusted root's CAs.
 * Throws VERIFY_COSIGN_SIGNATURE_INVALID for malformed annotations or payloads, VERIFY_ARTIFACT_MISMATCH
 * for a payload about another image, and every code of Verifier.verify.
 */
export function verifyCosignSignature(
  verifier: Verifier,
  layer: CosignSignatureLayer,
  policy: CosignVerificationPolicy,
): CosignVerificationResult {
  checkLayerDigest(layer);
  const payload = parseSimpleSigning(layer.payload);
  if (payload.manifestDigest !== policy.imageDigest) {
    throw new VerificationError(
      'VERIFY_ARTIFACT_MISMATCH',
      `payload critical.image.docker-manifest-digest: expected ${policy.imageDigest}, received ${payload.manifestDigest}`,
    );
  }
  const bundle = bundleOf(layer);
  const result = verifier.verify(bundle, {
    artifact: { kind: 'bytes', bytes: layer.payload },
    signer: policy.signer,
  });
  return { ...result, dockerReference: payload.dockerReference, payloadAnnotations: payload.optional };
}

export interface CosignAttestationPolicy extends CosignVerificationPolicy {
  /** The in-toto statement's `predicateType` must be this URI when given. */
  readonly predicateType?: string;
}

export interface CosignAttestationResult extends VerificationResult {
  /** The verified in-toto statement (its subjects include the image digest). */
  readonly statement: unknown;
  readonly predicateType: string;
}

/**
 * Verifies a cosign legacy attestation (an `.att` layer: the DSSE envelope JSON as the blob, the same
 * certificate, Rekor bundle and timestamp annotations as a `.sig` layer): read into a v0.1-shaped
 * DSSE bundle and handed to `verifier` with the image digest as the artifact, so the envelope's in-toto
 * statement must name `policy.imageDigest` among its subjects. Throws VERIFY_COSIGN_SIGNATURE_INVALID
 * for a malformed envelope or annotations, VERIFY_ARTIFACT_MISMATCH for a statement about another image
 * or of another predicate type, and every code of Verifier.verify.
 */
export function verifyCosignAttestation(
  verifier: Verifier,
  layer: CosignSignatureLayer,
  policy: CosignAttestationPolicy,
): CosignAttestationResult {
  checkLayerDigest(layer);
  const match = /^(sha256|sha384|sha512):([0-9a-f]+)$/.exec(policy.imageDigest);
  if (!match) {
    throw new VerificationError(
      'VERIFY_OPTIONS_INVALID',
      `imageDigest: expected sha256:<hex>, received ${JSON.stringify(policy.imageDigest)}`,
    );
  }
  const bundle: Bundle = {
    mediaType: 'application/vnd.dev.sigstore.bundle+json;version=0.1',
    version: '0.1',
    verificationMaterial: verificationMaterialOf(layer.annotations),
    content: envelopeOf(layer.payload),
  };
  const result = verifier.verify(bundle, {
    artifact: {
      kind: 'digest',
      algorithm: match[1] as 'sha256' | 'sha384' | 'sha512',
      digest: Buffer.from(match[2]!, 'hex'),
    },
    signer: policy.signer,
  });
  const predicateType = (result.statement as { predicateType?: unknown } | undefined)?.predicateType;
  if (typeof predicateType !== 'string') {
    throw new VerificationError(
      'VERIFY_ARTIFACT_MISMATCH',
      `dsseEnvelope.payload: expected an in-toto statement with a predicateType, received ${JSON.stringify(predicateType)}`,
    );
  }
  if (policy.predicateType !== undefined && predicateType !== policy.predicateType) {
    throw new VerificationError(
      'VERIFY_ARTIFACT_MISMATCH',
      `statement predicateType: expected ${policy.predicateType}, received ${predicateType}`,
    );
  }
  return { ...result, statement: result.statement, predicateType };
}

function checkLayerDigest(layer: CosignSignatureLayer): void {
  const computed = `sha256:${hash('sha256', layer.payload, 'hex')}`;
  if (layer.digest !== undefined && layer.digest !== computed) {
    throw invalid(`layer digest: expected the blob's ${computed}, received ${layer.digest}`);
  }
}

/** The DSSE envelope JSON of an `.att` layer (`{payloadType, payload, signatures: [{keyid, sig}]}`). */
function envelopeOf(bytes: Uint8Array): Extract<Bundle['content'], { kind: 'dsseEnvelope' }> {
  const value = decode(() =>
    parseJson(decodeUtf8(bytes, 'envelope'), { field: 'envelope', maxLength: MAX_PAYLOAD_BYTES }),
  ) as { payloadType?: unknown; payload?: unknown; signatures?: unknown } | null;
  const signatures = value?.signatures;
  if (
    typeof value?.payloadType !== 'string' ||
    typeof value.payload !== 'string' ||
    !Array.isArray(signatures) ||
    signatures.length === 0
  ) {
    throw invalid('envelope: expected DSSE JSON {payloadType, payload, signatures: [{keyid, sig}, …]}');
  }
  return {
    kind: 'dsseEnvelope',
    payloadType: value.payloadType,
    payload: decode(() => decodeBase64(value.payload as string, 'envelope.payload')),
    signatures: signatures.map((signature: { keyid?: unknown; sig?: unknown } | null, index) => {
      if (typeof signature?.sig !== 'string')
        throw invalid(
          `envelope.signatures[${index}].sig: expected base64, received ${typeof signature?.sig}`,
        );
      return {
        sig: decode(() => decodeBase64(signature.sig as string, `envelope.signatures[${index}].sig`)),
        keyid: typeof signature.keyid === 'string' ? signature.keyid : '',
      };
    }),
  };
}

interface SimpleSigning {
  readonly manifestDigest: string;
  readonly dockerReference: string;
  readonly optional: Readonly<Record<string, unknown>>;
}

/** containers/image simple signing, as cosign writes it (`pkg/cosign/payload`). */
function parseSimpleSigning(bytes: Uint8Array): SimpleSigning {
  let value: unknown;
  try {
    value = parseJson(decodeUtf8(bytes, 'payload'), { field: 'payload', maxLength: MAX_PAYLOAD_BYTES });
  } catch (cause) {
    throw invalid(`payload: expected simple-signing JSON, ${(cause as Error).message}`, cause);
  }
  const critical = (value as { critical?: unknown } | null)?.critical as
    | {
        type?: unknown;
        image?: { 'docker-manifest-digest'?: unknown };
        identity?: { 'docker-reference'?: unknown };
      }
    | undefined;
  if (critical?.type !== SIMPLE_SIGNING_TYPE) {
    throw invalid(
      `payload critical.type: expected ${JSON.stringify(SIMPLE_SIGNING_TYPE)}, received ${JSON.stringify(critical?.type)}`,
    );
  }
  const digest = critical.image?.['docker-manifest-digest'];
  if (typeof digest !== 'string' || !/^sha256:[0-9a-f]{64}$/.test(digest)) {
    throw invalid(
      `payload critical.image.docker-manifest-digest: expected sha256:<64 hex>, received ${JSON.stringify(digest)}`,
    );
  }
  const reference = critical.identity?.['docker-reference'];
  const optional = (value as { optional?: unknown }).optional;
  return {
    manifestDigest: digest,
    dockerReference: typeof reference === 'string' ? reference : '',
    optional: typeof optional === 'object' && optional !== null ? (optional as Record<string, unknown>) : {},
  };
}

/** The layer as a v0.1 bundle: what the Sigstore steps check. */
function bundleOf(layer: CosignSignatureLayer): Bundle {
  const signatureText = layer.annotations[COSIGN_ANNOTATIONS.signature];
  if (signatureText === undefined) throw invalid(`annotation ${COSIGN_ANNOTATIONS.signature}: missing`);
  const signature = decode(() => decodeBase64(signatureText, COSIGN_ANNOTATIONS.signature));
  return {
    mediaType: 'application/vnd.dev.sigstore.bundle+json;version=0.1',
    version: '0.1',
    verificationMaterial: verificationMaterialOf(layer.annotations),
    content: {
      kind: 'messageSignature',
      messageDigest: { algorithm: 'SHA2_256', digest: hash('sha256', layer.payload, 'buffer') },
      signature,
    },
  };
}

/**
 * The certificate (or, without one, a key given out of band), the Rekor entry and the RFC 3161 timestamp
 * of a `.sig` or `.att` layer's annotations.
 */
function verificationMaterialOf(annotations: Readonly<Record<string, string>>): VerificationMaterial {
  const certificatePem = annotations[COSIGN_ANNOTATIONS.certificate];
  const tlogEntry = annotations[COSIGN_ANNOTATIONS.bundle];
  const timestamp = annotations[COSIGN_ANNOTATIONS.rfc3161Timestamp];
  return {
    signer: certificatePem
      ? { kind: 'certificate', certificate: certificateOf(certificatePem), chain: [] }
      : { kind: 'publicKey', hint: '' },
    tlogEntries: tlogEntry ? [tlogEntryOf(tlogEntry)] : [],
    rfc3161Timestamps: timestamp ? [timestampOf(timestamp)] : [],
  };
}

function certificateOf(pem: string): ParsedCertificate {
  const field = COSIGN_ANNOTATIONS.certificate;
  const blocks = decode(() => decodePem(pem, field)).filter((block) => block.label === 'CERTIFICATE');
  if (blocks.length !== 1)
    throw invalid(`annotation ${field}: expected one PEM certificate, received ${blocks.length}`);
  return decode(() => parseCertificate(blocks[0]!.der, field));
}

/** cosign's `bundle.RekorBundle`: `{SignedEntryTimestamp, Payload: {body, integratedTime, logIndex, logID}}`. */
function tlogEntryOf(text: string): TlogEntry {
  const field = COSIGN_ANNOTATIONS.bundle;
  const value = decode(() => parseJson(text, { field, maxLength: MAX_PAYLOAD_BYTES })) as {
    SignedEntryTimestamp?: unknown;
    Payload?: { body?: unknown; integratedTime?: unknown; logIndex?: unknown; logID?: unknown };
  };
  const payload = value?.Payload;
  const integer = (name: 'integratedTime' | 'logIndex') => {
    const number = payload?.[name];
    if (typeof number !== 'number' || !Number.isSafeInteger(number) || number < 0) {
      throw invalid(
        `annotation ${field} Payload.${name}: expected a non-negative integer, received ${JSON.stringify(number)}`,
      );
    }
    return number;
  };
  if (
    typeof value?.SignedEntryTimestamp !== 'string' ||
    typeof payload?.body !== 'string' ||
    typeof payload.logID !== 'string'
  ) {
    throw invalid(
      `annotation ${field}: expected {SignedEntryTimestamp, Payload: {body, integratedTime, logIndex, logID}}`,
    );
  }
  const body = decode(() => decodeBase64(payload.body as string, `${field} Payload.body`));
  const logId = decode(() => decodeHex(payload.logID as string, `${field} Payload.logID`));
  const parsedBody = decode(() =>
    parseJson(decodeUtf8(body, `${field} Payload.body`), { field: `${field} Payload.body` }),
  ) as {
    kind?: unknown;
    apiVersion?: unknown;
  };
  if (typeof parsedBody?.kind !== 'string' || typeof parsedBody.apiVersion !== 'string') {
    throw invalid(`annotation ${field} Payload.body: expected a Rekor entry with kind and apiVersion`);
  }
  return {
    logIndex: integer('logIndex'),
    logId,
    kindVersion: { kind: parsedBody.kind, version: parsedBody.apiVersion },
    integratedTime: integer('integratedTime'),
    signedEntryTimestamp: decode(() =>
      decodeBase64(value.SignedEntryTimestamp as string, `${field} SignedEntryTimestamp`),
    ),
    canonicalizedBody: body,
  };
}

/** cosign's `bundle.RFC3161Timestamp`: `{SignedRFC3161Timestamp: base64 DER}`. */
function timestampOf(text: string): Uint8Array {
  const field = COSIGN_ANNOTATIONS.rfc3161Timestamp;
  const value = decode(() => parseJson(text, { field, maxLength: MAX_PAYLOAD_BYTES })) as {
    SignedRFC3161Timestamp?: unknown;
  };
  if (typeof value?.SignedRFC3161Timestamp !== 'string')
    throw invalid(`annotation ${field}: expected {SignedRFC3161Timestamp}`);
  return decode(() =>
    decodeBase64(value.SignedRFC3161Timestamp as string, `${field} SignedRFC3161Timestamp`),
  );
}

/** Runs a decoder, turning its core errors into VERIFY_COSIGN_SIGNATURE_INVALID. */
function decode<T>(read: () => T): T {
  try {
    return read();
  } catch (cause) {
    if (cause instanceof VerificationError) throw cause;
    throw invalid((cause as Error).message, cause);
  }
}

function invalid(message: string, cause?: unknown): VerificationError {
  return new VerificationError(
    'VERIFY_COSIGN_SIGNATURE_INVALID',
    message,
    cause === undefined ? undefined : { cause },
  );
}
