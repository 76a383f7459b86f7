import { createPublicKey, type KeyObject } from 'node:crypto';
import { decodePem, describeError, isSingleDerElement } from '../core/index.ts';
import { VerificationError } from './errors.ts';
import type { PublicKeyDetails } from './trust.types.ts';

/**
 * Public keys for verification: DER SubjectPublicKeyInfo → KeyObject, checked against the protobuf-specs
 * PublicKeyDetails that says how the key signs (sigstore_common.proto; the algorithm registry in
 * protobuf-specs `docs/algorithm-registry.md`). Imports are cached by DER: trust material and cosign keys
 * repeat, and an import costs more than the verification it serves.
 */

/** A key with the details it signs with and its DER SubjectPublicKeyInfo. */
export interface ImportedPublicKey {
  readonly key: KeyObject;
  readonly details: PublicKeyDetails;
  readonly der: Uint8Array;
}

type KeyShape =
  | { readonly type: 'ec'; readonly curve: string }
  | { readonly type: 'ed25519' }
  | { readonly type: 'rsa'; readonly bits: number; readonly pss: boolean };

const SHAPES: Readonly<Record<PublicKeyDetails, KeyShape>> = {
  PKIX_ECDSA_P256_SHA_256: { type: 'ec', curve: 'prime256v1' },
  PKIX_ECDSA_P384_SHA_384: { type: 'ec', curve: 'secp384r1' },
  PKIX_ECDSA_P521_SHA_512: { type: 'ec', curve: 'secp521r1' },
  PKIX_ED25519: { type: 'ed25519' },
  PKIX_ED25519_PH: { type: 'ed25519' },
  PKIX_RSA_PKCS1V15_2048_SHA256: { type: 'rsa', bits: 2048, pss: false },
  PKIX_RSA_PKCS1V15_3072_SHA256: { type: 'rsa', bits: 3072, pss: false },
  PKIX_RSA_PKCS1V15_4096_SHA256: { type: 'rsa', bits: 4096, pss: false },
  PKIX_RSA_PSS_2048_SHA256: { type: 'rsa', bits: 2048, pss: true },
  PKIX_RSA_PSS_3072_SHA256: { type: 'rsa', bits: 3072, pss: true },
  PKIX_RSA_PSS_4096_SHA256: { type: 'rsa', bits: 4096, pss: true },
};

/**
 * Deprecated PublicKeyDetails names still found in trusted roots (the Sigstore staging CT log key is
 * `PKCS1_RSA_PKCS1V5`, a PKCS #1 RSAPublicKey; sigstore-go `pkg/root/trusted_root.go` accepts it), and
 * the scheme they stand for; the RSA size is read from the key.
 */
const DEPRECATED_RSA: Readonly<
  Record<string, { readonly encoding: 'pkcs1' | 'spki'; readonly pss: boolean }>
> = {
  PKCS1_RSA_PKCS1V5: { encoding: 'pkcs1', pss: false },
  PKCS1_RSA_PSS: { encoding: 'pkcs1', pss: true },
  PKIX_RSA_PKCS1V5: { encoding: 'spki', pss: false },
  PKIX_RSA_PSS: { encoding: 'spki', pss: true },
};

/** Most keys kept; trust roots hold a handful, a busy cluster a few hundred cosign keys. */
const CACHED_KEYS = 256;
const keysByDer = new Map<string, KeyObject>();

export function isPublicKeyDetails(name: string): name is PublicKeyDetails {
  return Object.hasOwn(SHAPES, name);
}

/**
 * Imports a DER SubjectPublicKeyInfo. With `details`, the key MUST be of the type and size they name
 * (P-256 for PKIX_ECDSA_P256_SHA_256, a 3072-bit modulus for PKIX_RSA_PKCS1V15_3072_SHA256, …).
 * Throws VERIFY_KEY_UNSUPPORTED naming `field` for bytes that are not one SPKI, a key node cannot
 * import, or a key that does not match `details`.
 */
export function importPublicKey(
  der: Uint8Array,
  details: PublicKeyDetails | undefined,
  field: string,
): KeyObject {
  if (details !== undefined && !isPublicKeyDetails(details)) {
    throw unsupported(field, `a supported keyDetails, received ${JSON.stringify(details)}`);
  }
  const key = importDer(der, 'spki', field);
  if (details !== undefined) checkShape(key, details, field);
  return key;
}

/**
 * Imports a key as a trusted root names it: `keyDetails` is any protobuf-specs PublicKeyDetails name,
 * including the deprecated RSA ones, which are mapped to the sized name of the same scheme (and a
 * PKCS #1 key to its SPKI). Throws VERIFY_KEY_UNSUPPORTED naming `field` for any other name.
 */
export function importNamedPublicKey(der: Uint8Array, keyDetails: string, field: string): ImportedPublicKey {
  if (isPublicKeyDetails(keyDetails)) {
    return { key: importPublicKey(der, keyDetails, field), details: keyDetails, der };
  }
  const deprecated = Object.hasOwn(DEPRECATED_RSA, keyDetails) ? DEPRECATED_RSA[keyDetails] : undefined;
  if (!deprecated) throw unsupported(field, `a supported keyDetails, received ${JSON.stringify(keyDetails)}`);
  const key = importDer(der, deprecated.encoding, field);
  const details = inferPublicKeyDetails(key, field, deprecated.pss);
  const spki =
    deprecated.encoding === 'spki' ? der : new Uint8Array(key.export({ type: 'spki', format: 'der' }));
  return { key, details, der: spki };
}

/**
 * Imports the single `PUBLIC KEY` PEM block of `pem` (a cosign or npm key given out of band) and infers
 * its details from the key: ECDSA P-256/384/521 with SHA-256/384/512, Ed25519, RSA 2048/3072/4096 with
 * PKCS #1 v1.5 and SHA-256 (RSASSA-PSS keys with PSS). Throws VERIFY_KEY_UNSUPPORTED naming `field`.
 */
export function importPublicKeyPem(pem: string, field: string): ImportedPublicKey {
  let blocks;
  try {
    blocks = decodePem(pem, field);
  } catch (cause) {
    throw unsupported(field, 'a PEM public key', cause);
  }
  const [block, ...rest] = blocks;
  if (!block || rest.length > 0 || block.label !== 'PUBLIC KEY') {
    const labels = blocks.map((each) => each.label).join(', ');
    throw unsupported(field, `one PEM block labelled PUBLIC KEY, received ${labels}`);
  }
  const key = importDer(block.der, 'spki', field);
  return { key, details: inferPublicKeyDetails(key, field), der: block.der };
}

/**
 * The PublicKeyDetails a key signs with when nothing else says (see importPublicKeyPem). `pss` picks
 * RSASSA-PSS for an rsaEncryption key. Throws VERIFY_KEY_UNSUPPORTED naming `field` for other keys.
 */
export function inferPublicKeyDetails(key: KeyObject, field: string, pss = false): PublicKeyDetails {
  const type = key.asymmetricKeyType;
  const { namedCurve, modulusLength } = key.asymmetricKeyDetails ?? {};
  if (type === 'ed25519') return 'PKIX_ED25519';
  if (type === 'ec') {
    if (namedCurve === 'prime256v1') return 'PKIX_ECDSA_P256_SHA_256';
    if (namedCurve === 'secp384r1') return 'PKIX_ECDSA_P384_SHA_384';
    if (namedCurve === 'secp521r1') return 'PKIX_ECDSA_P521_SHA_512';
  }
  if (
    (type === 'rsa' || type === 'rsa-pss') &&
    (modulusLength === 2048 || modulusLength === 3072 || modulusLength === 4096)
  ) {
    return type === 'rsa-pss' || pss
      ? `PKIX_RSA_PSS_${modulusLength}_SHA256`
      : `PKIX_RSA_PKCS1V15_${modulusLength}_SHA256`;
  }
  throw unsupported(
    field,
    `an ECDSA P-256/P-384/P-521, Ed25519 or RSA 2048/3072/4096 key, received ${describeKey(key)}`,
  );
}

/**
 * The hash a signature under `details` is computed over: what `crypto.verify` takes as its algorithm,
 * and the digest a hashedrekord carries. Null for PKIX_ED25519 (pure Ed25519 hashes internally);
 * sha512 for PKIX_ED25519_PH (RFC 8032 §5.1 Ed25519ph prehashes with SHA-512).
 */
export function signatureHashOf(details: PublicKeyDetails): 'sha256' | 'sha384' | 'sha512' | null {
  switch (details) {
    case 'PKIX_ED25519':
      return null;
    case 'PKIX_ED25519_PH':
    case 'PKIX_ECDSA_P521_SHA_512':
      return 'sha512';
    case 'PKIX_ECDSA_P384_SHA_384':
      return 'sha384';
    case 'PKIX_ECDSA_P256_SHA_256':
    case 'PKIX_RSA_PKCS1V15_2048_SHA256':
    case 'PKIX_RSA_PKCS1V15_3072_SHA256':
    case 'PKIX_RSA_PKCS1V15_4096_SHA256':
    case 'PKIX_RSA_PSS_2048_SHA256':
    case 'PKIX_RSA_PSS_3072_SHA256':
    case 'PKIX_RSA_PSS_4096_SHA256':
      return 'sha256';
  }
}

function importDer(der: Uint8Array, type: 'spki' | 'pkcs1', field: string): KeyObject {
  const cacheKey = `${type}:${Buffer.from(der.buffer, der.byteOffset, der.byteLength).toString('base64')}`;
  const cached = keysByDer.get(cacheKey);
  if (cached) {
    // Refresh the entry so the cache evicts the least recently used key.
    keysByDer.delete(cacheKey);
    keysByDer.set(cacheKey, cached);
    return cached;
  }
  // OpenSSL reads a key from a prefix of its input; a key ID is a hash of the whole DER, so no trailer.
  if (!isSingleDerElement(der))
    throw unsupported(field, `a DER ${type === 'spki' ? 'SubjectPublicKeyInfo' : 'RSAPublicKey'}`);
  let key: KeyObject;
  try {
    key = createPublicKey({ key: Buffer.from(der), format: 'der', type });
  } catch (cause) {
    throw unsupported(field, `a public key node:crypto can import, ${describeError(cause)}`, cause);
  }
  if (keysByDer.size >= CACHED_KEYS) {
    const oldest = keysByDer.keys().next();
    if (!oldest.done) keysByDer.delete(oldest.value);
  }
  keysByDer.set(cacheKey, key);
  return key;
}

function checkShape(key: KeyObject, details: PublicKeyDetails, field: string): void {
  const shape = SHAPES[details];
  const type = key.asymmetricKeyType;
  const { namedCurve, modulusLength } = key.asymmetricKeyDetails ?? {};
  let matches: boolean;
  switch (shape.type) {
    case 'ec':
      matches = type === 'ec' && namedCurve === shape.curve;
      break;
    case 'ed25519':
      matches = type === 'ed25519';
      break;
    case 'rsa':
      // An RSASSA-PSS key (id-RSASSA-PSS SPKI) may only sign with PSS; an rsaEncryption key with either.
      matches = (type === 'rsa' || (type === 'rsa-pss' && shape.pss)) && modulusLength === shape.bits;
      break;
  }
  if (!matches) throw unsupported(field, `a key for ${details}, received ${describeKey(key)}`);
}

function describeKey(key: KeyObject): string {
  const { namedCurve, modulusLength } = key.asymmetricKeyDetails ?? {};
  return [
    key.asymmetricKeyType ?? 'unknown',
    namedCurve,
    modulusLength === undefined ? undefined : `${modulusLength}-bit`,
  ]
    .filter((part) => part !== undefined)
    .join(' ');
}

function unsupported(field: string, expected: string, cause?: unknown): VerificationError {
  return new VerificationError('VERIFY_KEY_UNSUPPORTED', `${field}: expected ${expected}`, { cause });
}
