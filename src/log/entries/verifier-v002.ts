import { encodeBase64 } from '../../core/index.ts';
import { LogError } from '../errors.ts';
import { assertAlgorithmPermitted, isKnownKeyDetails, keyDetailsHash } from './algorithm-policy.ts';
import type { HashAlgorithm, PublicKeyDetails, VerifierV002 } from './entry.types.ts';
import { decodeProtoBytes } from './proto-bytes.ts';
import { preview } from './schema-validation.ts';
import { parseDerVerifier, type VerifierKey } from './verifier-key.ts';

/**
 * A Rekor v2 `Verifier` (sigstore/rekor-tiles `api/proto/rekor/v2/verifier.proto`): a DER public key or
 * DER certificate, and the `keyDetails` whose hash the signature uses. Upstream checks the key against
 * the registry with that hash only (`pkg/types/hashedrekord/hashedrekord.go` verifySupportedAlgorithm),
 * not that keyDetails describes the key — sigstore-js sends PKIX_ECDSA_P256_SHA_256 for every key, so
 * an RSA-2048 key under that name is accepted with SHA-256, exactly as upstream does.
 */

/** The request JSON of a Verifier after the schema (both oneof members optional there). */
export interface VerifierJson {
  keyDetails: string;
  publicKey?: { rawBytes: string };
  x509Certificate?: { rawBytes: string };
}

export interface ParsedVerifierV002 {
  /** The verifier as the leaf stores it: protojson of the request's message, bytes re-encoded. */
  readonly proto: VerifierV002;
  readonly key: VerifierKey;
  readonly keyDetails: PublicKeyDetails;
  /** The digest algorithm keyDetails names; permitted together with the key. */
  readonly hash: HashAlgorithm;
}

/** protobuf-specs PublicKeyDetails names that exist but that no Sigstore registry can verify. */
const UNSUPPORTED_KEY_DETAILS = new Set([
  'PUBLIC_KEY_DETAILS_UNSPECIFIED',
  'PKCS1_RSA_PKCS1V5',
  'PKCS1_RSA_PSS',
  'PKIX_RSA_PKCS1V5',
  'PKIX_RSA_PSS',
  'PKIX_ECDSA_P256_HMAC_SHA_256',
  'PKIX_ECDSA_P384_SHA_256',
  'PKIX_ECDSA_P521_SHA_256',
  'LMS_SHA256',
  'LMOTS_SHA256',
  'ML_DSA_44',
  'ML_DSA_65',
  'ML_DSA_87',
]);

/** Parses a request verifier and checks its key and hash are permitted on the v2 API. */
export function parseVerifierV002(json: VerifierJson, field: string): ParsedVerifierV002 {
  const keyDetails = readKeyDetails(json.keyDetails, `${field}.keyDetails`);
  const { source, raw } = readOneof(json, field);
  const der = decodeProtoBytes(raw, `${field}.${source}.rawBytes`);
  const key = parseDerVerifier(
    der,
    source === 'x509Certificate' ? 'certificate' : 'publicKey',
    `${field}.${source}.rawBytes`,
  );
  const hash = keyDetailsHash(keyDetails);
  assertAlgorithmPermitted('v2', key.algorithm, hash, field);
  if (hash === undefined)
    throw new LogError('LOG_ENTRY_UNSUPPORTED', `${field}.keyDetails: expected a digest algorithm`);
  const bytes = { rawBytes: encodeBase64(der) };
  const proto: VerifierV002 =
    source === 'x509Certificate' ? { keyDetails, x509Certificate: bytes } : { keyDetails, publicKey: bytes };
  return Object.freeze({ proto, key, keyDetails, hash });
}

/** Checks a stored verifier's shape (one oneof member, a known keyDetails); no key parsing. */
export function assertStoredVerifierV002(json: VerifierJson, field: string): void {
  readKeyDetails(json.keyDetails, `${field}.keyDetails`);
  readOneof(json, field);
}

/** Parses the key of a stored verifier. */
export function storedVerifierKey(verifier: VerifierV002, field: string): VerifierKey {
  const { source, raw } = readOneof(verifier, field);
  const der = decodeProtoBytes(raw, `${field}.${source}.rawBytes`);
  return parseDerVerifier(
    der,
    source === 'x509Certificate' ? 'certificate' : 'publicKey',
    `${field}.${source}.rawBytes`,
  );
}

function readKeyDetails(name: string, field: string): PublicKeyDetails {
  if (isKnownKeyDetails(name)) return name;
  if (UNSUPPORTED_KEY_DETAILS.has(name)) {
    throw new LogError(
      'LOG_ENTRY_UNSUPPORTED',
      `${field}: expected a supported PublicKeyDetails, received ${name}`,
    );
  }
  throw new LogError(
    'LOG_ENTRY_INVALID',
    `${field}: expected a PublicKeyDetails name, received ${preview(name)}`,
  );
}

function readOneof(
  json: VerifierJson,
  field: string,
): { source: 'publicKey' | 'x509Certificate'; raw: string } {
  if (json.publicKey !== undefined && json.x509Certificate !== undefined) {
    throw new LogError(
      'LOG_ENTRY_INVALID',
      `${field}: expected one of publicKey or x509Certificate, received both`,
    );
  }
  if (json.publicKey !== undefined) return { source: 'publicKey', raw: json.publicKey.rawBytes };
  if (json.x509Certificate !== undefined)
    return { source: 'x509Certificate', raw: json.x509Certificate.rawBytes };
  throw new LogError(
    'LOG_ENTRY_INVALID',
    `${field}: expected one of publicKey or x509Certificate, received neither`,
  );
}
