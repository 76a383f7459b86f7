import { LogError } from '../errors.ts';
import type { EntryApi, HashAlgorithm, ProtoHashAlgorithm, PublicKeyDetails } from './entry.types.ts';
import type { KeyAlgorithm } from './verifier-key.ts';

/**
 * Which key and digest pairings the log accepts, exactly as upstream decides it:
 * - sigstore/sigstore `pkg/signature/algorithm_registry.go`: each PublicKeyDetails names a key type
 *   (RSA modulus size, ECDSA curve, Ed25519) and one hash; IsAlgorithmPermitted(key, hash) is true
 *   when a permitted algorithm matches both.
 * - Rekor v1 permits RSA PKCS#1 v1.5 2048/3072/4096, ECDSA P-256/P-384/P-521, Ed25519 and Ed25519ph
 *   (sigstore/rekor `pkg/api/api.go` AllowedClientSigningAlgorithms) and checks the entry's artifact
 *   hash against every verifier (`pkg/api/entries.go` checkEntryAlgorithms): the hashedrekord digest
 *   algorithm, the sha256 payload hash for dsse and intoto.
 * - Rekor v2 drops pure Ed25519 (sigstore/rekor-tiles `internal/algorithmregistry`) and takes the
 *   hash from the request's keyDetails.
 *
 * Consequences worth knowing: pure Ed25519 never matches (its hash is "none" and every entry has a
 * digest), so Ed25519 works only as Ed25519ph over SHA-512; a v1 dsse or intoto entry (sha256) can
 * only be signed with P-256 or RSA.
 */

interface AlgorithmDetails {
  readonly name: PublicKeyDetails;
  /** undefined is Go's crypto.Hash(0): no digest (pure Ed25519). */
  readonly hash: HashAlgorithm | undefined;
  readonly matches: (key: KeyAlgorithm) => boolean;
}

const rsa = (bits: number) => (key: KeyAlgorithm) =>
  key.type === 'rsa' && Math.ceil(key.bits / 8) * 8 === bits;
const ecdsa = (curve: string) => (key: KeyAlgorithm) => key.type === 'ecdsa' && key.curve === curve;
const ed25519 = (key: KeyAlgorithm) => key.type === 'ed25519';

/** sigstore/sigstore `pkg/signature/algorithm_registry.go` supportedAlgorithms, in its order. */
const SUPPORTED: readonly AlgorithmDetails[] = [
  { name: 'PKIX_RSA_PKCS1V15_2048_SHA256', hash: 'sha256', matches: rsa(2048) },
  { name: 'PKIX_RSA_PKCS1V15_3072_SHA256', hash: 'sha256', matches: rsa(3072) },
  { name: 'PKIX_RSA_PKCS1V15_4096_SHA256', hash: 'sha256', matches: rsa(4096) },
  { name: 'PKIX_RSA_PSS_2048_SHA256', hash: 'sha256', matches: rsa(2048) },
  { name: 'PKIX_RSA_PSS_3072_SHA256', hash: 'sha256', matches: rsa(3072) },
  { name: 'PKIX_RSA_PSS_4096_SHA256', hash: 'sha256', matches: rsa(4096) },
  { name: 'PKIX_ECDSA_P256_SHA_256', hash: 'sha256', matches: ecdsa('P-256') },
  { name: 'PKIX_ECDSA_P384_SHA_384', hash: 'sha384', matches: ecdsa('P-384') },
  { name: 'PKIX_ECDSA_P521_SHA_512', hash: 'sha512', matches: ecdsa('P-521') },
  { name: 'PKIX_ED25519', hash: undefined, matches: ed25519 },
  { name: 'PKIX_ED25519_PH', hash: 'sha512', matches: ed25519 },
];

const V1_PERMITTED: readonly PublicKeyDetails[] = [
  'PKIX_RSA_PKCS1V15_2048_SHA256',
  'PKIX_RSA_PKCS1V15_3072_SHA256',
  'PKIX_RSA_PKCS1V15_4096_SHA256',
  'PKIX_ECDSA_P256_SHA_256',
  'PKIX_ECDSA_P384_SHA_384',
  'PKIX_ECDSA_P521_SHA_512',
  'PKIX_ED25519',
  'PKIX_ED25519_PH',
];

const V2_PERMITTED: readonly PublicKeyDetails[] = V1_PERMITTED.filter((name) => name !== 'PKIX_ED25519');

const PERMITTED: Record<EntryApi, readonly AlgorithmDetails[]> = {
  v1: SUPPORTED.filter((details) => V1_PERMITTED.includes(details.name)),
  v2: SUPPORTED.filter((details) => V2_PERMITTED.includes(details.name)),
};

/** Every PublicKeyDetails name the log understands (permitted or not). */
export const KNOWN_KEY_DETAILS: readonly PublicKeyDetails[] = SUPPORTED.map((details) => details.name);

export function isKnownKeyDetails(name: string): name is PublicKeyDetails {
  return (KNOWN_KEY_DETAILS as readonly string[]).includes(name);
}

/** The hash a PublicKeyDetails names (GetAlgorithmDetails(...).GetHashType()); undefined for pure Ed25519. */
export function keyDetailsHash(name: PublicKeyDetails): HashAlgorithm | undefined {
  return SUPPORTED.find((details) => details.name === name)?.hash;
}

export function isAlgorithmPermitted(
  api: EntryApi,
  key: KeyAlgorithm,
  hash: HashAlgorithm | undefined,
): boolean {
  return PERMITTED[api].some((details) => details.matches(key) && details.hash === hash);
}

/**
 * Throws LOG_ENTRY_UNSUPPORTED unless the key may sign a digest of `hash` on this API. The message
 * follows sigstore/rekor-tiles `internal/algorithmregistry` UnsupportedAlgorithm.
 */
export function assertAlgorithmPermitted(
  api: EntryApi,
  key: KeyAlgorithm,
  hash: HashAlgorithm | undefined,
  field: string,
): void {
  if (isAlgorithmPermitted(api, key, hash)) return;
  const allowed = PERMITTED[api]
    .filter((details) => details.matches(key))
    .map((details) => details.hash ?? 'none');
  const expected =
    allowed.length === 0 ? 'a permitted key type' : `digest ${[...new Set(allowed)].join(' or ')}`;
  throw new LogError(
    'LOG_ENTRY_UNSUPPORTED',
    `${field}: unsupported entry algorithm for ${describeKey(key)}: expected ${expected}, received digest ${hash ?? 'none'}`,
  );
}

export function describeKey(key: KeyAlgorithm): string {
  switch (key.type) {
    case 'ecdsa':
      return `ECDSA key on ${key.curve}`;
    case 'rsa':
      return `RSA key of ${key.bits} bits`;
    case 'ed25519':
      return 'Ed25519 key';
  }
}

const PROTO_HASH: Record<HashAlgorithm, ProtoHashAlgorithm> = {
  sha256: 'SHA2_256',
  sha384: 'SHA2_384',
  sha512: 'SHA2_512',
};

/** protobuf-specs HashAlgorithm name of a digest algorithm (GetProtoHashType). */
export function protoHashAlgorithm(hash: HashAlgorithm): ProtoHashAlgorithm {
  return PROTO_HASH[hash];
}

export function hashFromProto(name: ProtoHashAlgorithm): HashAlgorithm {
  const entry = Object.entries(PROTO_HASH).find(([, proto]) => proto === name);
  return entry![0] as HashAlgorithm;
}

/** Byte length of a digest. */
export function digestLength(hash: HashAlgorithm): number {
  return { sha256: 32, sha384: 48, sha512: 64 }[hash];
}
