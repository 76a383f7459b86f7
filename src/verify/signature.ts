import { constants, createPublicKey, verify, type KeyObject } from 'node:crypto';
import {
  DerTag,
  contentBytes,
  decodeOid,
  readChildren,
  readWhole,
  decodeUtf8,
  encodeHex,
  parseJson,
  preAuthenticationEncoding,
  verifyDigestSignature,
  type DigestAlgorithm,
} from '../core/index.ts';
import { describeArtifact, digestAlgorithmOf, digestOf, type Artifact } from './artifact.ts';
import type { BundleContent } from './bundle.types.ts';
import { VerificationError } from './errors.ts';
import { verifyOnce } from './internal/verified-signatures.ts';

/** The key that made the bundle's signature: a certificate's or one the caller trusts. */
export interface SigningKey {
  /** DER SubjectPublicKeyInfo. */
  readonly spki: Uint8Array;
  /** Imported on first use; the digest path does without it. */
  key?: KeyObject;
}

const IN_TOTO_PAYLOAD_TYPE = 'application/vnd.in-toto+json';
/** Largest DSSE payload parsed as an in-toto statement, in bytes. */
const MAX_STATEMENT_BYTES = 16 * 1024 * 1024;

/**
 * Step "signature over the artifact" of the Sigstore client spec: the bundle's message signature over
 * the artifact (its bytes, or its digest alone), or the DSSE envelope's signature over the
 * pre-authentication encoding with the artifact among the in-toto statement's subjects. Throws
 * VERIFY_ARTIFACT_MISMATCH when the artifact is not what was signed, VERIFY_SIGNATURE_ERROR when the
 * signature does not verify, VERIFY_KEY_UNSUPPORTED for a key no signature scheme here takes.
 * Returns the in-toto statement of a DSSE bundle, parsed (undefined otherwise).
 */
export function verifyContentSignature(
  content: BundleContent,
  artifact: Artifact,
  signer: SigningKey,
): unknown {
  switch (content.kind) {
    case 'messageSignature': {
      const algorithm = content.messageDigest
        ? digestAlgorithmOf(content.messageDigest.algorithm, 'messageSignature.messageDigest.algorithm')
        : defaultDigestOf(signer);
      const digest = digestOf(artifact, algorithm);
      if (digest === undefined) {
        throw new VerificationError(
          'VERIFY_ARTIFACT_MISMATCH',
          `artifact: the signature is over a ${algorithm} digest, received only ${describeArtifact(artifact)}`,
        );
      }
      if (content.messageDigest && !Buffer.from(digest).equals(content.messageDigest.digest)) {
        throw new VerificationError(
          'VERIFY_ARTIFACT_MISMATCH',
          `messageSignature.messageDigest: expected the artifact's ${algorithm} ${encodeHex(digest)}, received ${encodeHex(content.messageDigest.digest)}`,
        );
      }
      const verified =
        artifact.kind === 'bytes'
          ? verifyOverMessage(signer, artifact.bytes, content.signature, algorithm)
          : verifyOverDigest(signer, digest, content.signature, algorithm);
      if (!verified) {
        throw new VerificationError(
          'VERIFY_SIGNATURE_ERROR',
          `messageSignature.signature: does not verify over ${describeArtifact(artifact)} with the signing key`,
        );
      }
      return undefined;
    }
    case 'dsseEnvelope': {
      const message = preAuthenticationEncoding(content.payloadType, content.payload);
      const algorithm = defaultDigestOf(signer);
      if (
        !content.signatures.some((signature) => verifyOverMessage(signer, message, signature.sig, algorithm))
      ) {
        throw new VerificationError(
          'VERIFY_SIGNATURE_ERROR',
          `dsseEnvelope.signatures: none of ${content.signatures.length} verifies over the envelope with the signing key`,
        );
      }
      return matchPayload(content.payloadType, content.payload, artifact);
    }
  }
}

/** ECDSA keys sign with the hash of their curve's size, RSA with SHA-256, Ed25519 without one. */
function defaultDigestOf(signer: SigningKey): DigestAlgorithm {
  // Read from the SPKI's AlgorithmIdentifier: importing the key only for its curve costs ~100 µs.
  const curve = spkiCurveOid(signer.spki);
  if (curve !== undefined) return CURVE_DIGESTS[curve] ?? 'sha256';
  const key = importKey(signer);
  if (key.asymmetricKeyType === 'ec') {
    const name = key.asymmetricKeyDetails?.namedCurve;
    return name === 'secp384r1' ? 'sha384' : name === 'secp521r1' ? 'sha512' : 'sha256';
  }
  return key.asymmetricKeyType === 'ed25519' ? 'sha512' : 'sha256';
}

const CURVE_DIGESTS: Readonly<Record<string, DigestAlgorithm>> = {
  '1.2.840.10045.3.1.7': 'sha256',
  '1.3.132.0.34': 'sha384',
  '1.3.132.0.35': 'sha512',
};

/** The namedCurve OID of an id-ecPublicKey SPKI (RFC 5480 §2.1.1), or undefined for any other key. */
function spkiCurveOid(spki: Uint8Array): string | undefined {
  try {
    const [algorithm] = readChildren(spki, readWhole(spki, DerTag.sequence));
    if (!algorithm || algorithm.tag !== DerTag.sequence) return undefined;
    const [type, parameters] = readChildren(spki, algorithm);
    if (type?.tag !== DerTag.oid || decodeOid(contentBytes(spki, type)) !== '1.2.840.10045.2.1')
      return undefined;
    return parameters?.tag === DerTag.oid ? decodeOid(contentBytes(spki, parameters)) : undefined;
  } catch {
    return undefined; // not DER: importKey reports it
  }
}

function importKey(signer: SigningKey): KeyObject {
  if (signer.key) return signer.key;
  try {
    signer.key = createPublicKey({ key: Buffer.from(signer.spki), format: 'der', type: 'spki' });
  } catch (cause) {
    throw new VerificationError(
      'VERIFY_KEY_UNSUPPORTED',
      `signing key: not a public key node:crypto reads (${(cause as Error).message})`,
      { cause },
    );
  }
  return signer.key;
}

function verifyOverMessage(
  signer: SigningKey,
  message: Uint8Array,
  signature: Uint8Array,
  algorithm: DigestAlgorithm,
): boolean {
  return verifyOnce([signer.spki, `message ${algorithm}`, message, signature], () =>
    verifyOverMessageOnce(signer, message, signature, algorithm),
  );
}

function verifyOverMessageOnce(
  signer: SigningKey,
  message: Uint8Array,
  signature: Uint8Array,
  algorithm: DigestAlgorithm,
): boolean {
  const key = importKey(signer);
  const type = key.asymmetricKeyType;
  if (type !== 'ec' && type !== 'rsa' && type !== 'rsa-pss' && type !== 'ed25519') {
    throw new VerificationError(
      'VERIFY_KEY_UNSUPPORTED',
      `signing key: expected ECDSA, RSA or Ed25519, received ${type ?? 'unknown'}`,
    );
  }
  try {
    if (type === 'ed25519') return verify(null, message, key, signature);
    const options =
      type === 'ec'
        ? { key, dsaEncoding: 'der' as const }
        : { key, padding: type === 'rsa' ? constants.RSA_PKCS1_PADDING : constants.RSA_PKCS1_PSS_PADDING };
    return verify(algorithm, message, options, signature);
  } catch {
    return false; // a malformed signature (e.g. not DER) does not verify
  }
}

function verifyOverDigest(
  signer: SigningKey,
  digest: Uint8Array,
  signature: Uint8Array,
  algorithm: DigestAlgorithm,
): boolean {
  try {
    return verifyOnce([signer.spki, `digest ${algorithm}`, digest, signature], () =>
      verifyDigestSignature(signer.spki, digest, signature, algorithm),
    );
  } catch (cause) {
    throw new VerificationError('VERIFY_KEY_UNSUPPORTED', `signing key: ${(cause as Error).message}`, {
      cause,
    });
  }
}

/**
 * The artifact must be what the envelope speaks of: one of an in-toto statement's subjects (by any
 * digest both sides have), or, for another payload type, the payload itself.
 */
function matchPayload(payloadType: string, payload: Uint8Array, artifact: Artifact): unknown {
  if (payloadType !== IN_TOTO_PAYLOAD_TYPE) {
    const digest = digestOf(artifact, 'sha256');
    if (digest && Buffer.from(digest).equals(digestOf({ kind: 'bytes', bytes: payload }, 'sha256')!))
      return undefined;
    throw new VerificationError(
      'VERIFY_ARTIFACT_MISMATCH',
      `dsseEnvelope.payload: is not the artifact ${describeArtifact(artifact)}`,
    );
  }
  let statement: unknown;
  try {
    statement = parseJson(decodeUtf8(payload, 'dsseEnvelope.payload'), {
      field: 'dsseEnvelope.payload',
      maxLength: MAX_STATEMENT_BYTES,
    });
  } catch (cause) {
    throw new VerificationError(
      'VERIFY_ARTIFACT_MISMATCH',
      `dsseEnvelope.payload: expected an in-toto statement, ${(cause as Error).message}`,
      { cause },
    );
  }
  const subjects = (statement as { subject?: unknown }).subject;
  if (!Array.isArray(subjects)) {
    throw new VerificationError(
      'VERIFY_ARTIFACT_MISMATCH',
      'dsseEnvelope.payload.subject: expected an array of subjects',
    );
  }
  for (const subject of subjects) {
    const digests = (subject as { digest?: unknown } | null)?.digest;
    if (typeof digests !== 'object' || digests === null) continue;
    for (const [name, value] of Object.entries(digests)) {
      if (name !== 'sha256' && name !== 'sha384' && name !== 'sha512') continue;
      const digest = digestOf(artifact, name);
      if (digest && typeof value === 'string' && value.toLowerCase() === encodeHex(digest)) return statement;
    }
  }
  throw new VerificationError(
    'VERIFY_ARTIFACT_MISMATCH',
    `dsseEnvelope.payload.subject: no subject has the artifact's digest ${describeArtifact(artifact)}`,
  );
}
