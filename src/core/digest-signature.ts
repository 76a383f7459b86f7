import { constants, createHash, createPublicKey, publicDecrypt, type KeyObject } from 'node:crypto';
import { eddsa } from '@noble/curves/abstract/edwards.js';
import { ed25519 } from '@noble/curves/ed25519.js';
import { decodeBase64Url } from './encoding.ts';
import { CoreError } from './errors.ts';
import {
  ecdsaPublicKeyFromPoint,
  ecdsaPublicKeyFromSpki,
  verifyEcdsaDigest,
  type EcdsaCurveName,
} from './ecdsa-digest.ts';

/** The hashes a digest signature may be over. */
export type DigestAlgorithm = 'sha256' | 'sha384' | 'sha512';
type HashAlgorithm = DigestAlgorithm;

/**
 * Verifies a signature over a digest the verifier did not compute, as Rekor does for hashedrekord
 * (sigstore/sigstore `pkg/signature` VerifySignature with options.WithDigest): node:crypto can only
 * verify over a message it hashes itself, so
 * - ECDSA P-256/P-384/P-521 goes through verifyEcdsaDigest (ecdsa-digest.ts: OpenSSL over a shifted key,
 *   deciding as Go's ecdsa.VerifyASN1 does: strict DER, high-S accepted); a key in the usual SPKI shape
 *   skips node:crypto's key parser, whose DER decoding costs about as much as the verification;
 * - RSA PKCS #1 v1.5 recovers the encoded DigestInfo with node:crypto `publicDecrypt` and compares it
 *   byte for byte with the one RFC 8017 §9.2 prescribes (Go's rsa.VerifyPKCS1v15 does the same check);
 * - Ed25519 is Ed25519ph (RFC 8032 §5.1) over a SHA-512 digest, as upstream loads it with
 *   options.WithED25519ph(); pure Ed25519 cannot sign a digest.
 *
 * The function MUST stay pure (no shared mutable state, plain-byte arguments) so the API layer can move
 * it into a worker pool. It returns whether the signature verifies; it throws CORE_KEY_UNSUPPORTED only
 * when the key itself is of a type no digest signature exists for. Shared by the log (hashedrekord
 * admission) and the verifier (bundles checked against a digest).
 *
 * @param spki DER SubjectPublicKeyInfo of the verifying key
 * @param digest the signed digest, whose length MUST match `hashAlgorithm`
 * @param signature DER ECDSA signature, raw RSA signature (modulus length) or 64-byte Ed25519ph signature
 */
export function verifyDigestSignature(
  spki: Uint8Array,
  digest: Uint8Array,
  signature: Uint8Array,
  hashAlgorithm: HashAlgorithm,
): boolean {
  if (digest.length !== DIGEST_LENGTH[hashAlgorithm]) return false;
  const ecdsaKey = ecdsaPublicKeyFromSpki(spki);
  if (ecdsaKey !== undefined) return verifyEcdsaDigest(ecdsaKey, digest, signature);
  const key = createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' });
  const type = key.asymmetricKeyType;
  if (type === 'ec') return verifyEcdsa(key, digest, signature);
  if (type === 'rsa') return verifyRsaPkcs1v15(key, digest, signature, hashAlgorithm);
  if (type === 'ed25519') return hashAlgorithm === 'sha512' && verifyEd25519ph(key, digest, signature);
  throw new CoreError(
    'CORE_KEY_UNSUPPORTED',
    `verifier: expected an ECDSA, RSA or Ed25519 key, received ${type ?? 'unknown'}`,
  );
}

const DIGEST_LENGTH: Record<HashAlgorithm, number> = { sha256: 32, sha384: 48, sha512: 64 };

const ECDSA_CURVES = new Map<string | undefined, EcdsaCurveName>([
  ['prime256v1', 'P-256'],
  ['secp384r1', 'P-384'],
  ['secp521r1', 'P-521'],
]);

/** An EC key in an SPKI shape ecdsaPublicKeyFromSpki does not take, e.g. with a compressed point. */
function verifyEcdsa(key: KeyObject, digest: Uint8Array, signature: Uint8Array): boolean {
  const namedCurve = key.asymmetricKeyDetails?.namedCurve;
  const curve = ECDSA_CURVES.get(namedCurve);
  if (curve === undefined) {
    throw new CoreError(
      'CORE_KEY_UNSUPPORTED',
      `verifier: expected an ECDSA key on P-256, P-384 or P-521, received ${namedCurve ?? 'unknown'}`,
    );
  }
  const ecdsaKey = ecdsaPublicKeyFromPoint(curve, uncompressedPoint(key));
  return ecdsaKey !== undefined && verifyEcdsaDigest(ecdsaKey, digest, signature);
}

function uncompressedPoint(key: KeyObject): Uint8Array {
  const jwk = key.export({ format: 'jwk' });
  const x = decodeBase64Url(jwk.x ?? '', 'verifier x');
  const y = decodeBase64Url(jwk.y ?? '', 'verifier y');
  const point = new Uint8Array(1 + x.length + y.length);
  point[0] = 0x04;
  point.set(x, 1);
  point.set(y, 1 + x.length);
  return point;
}

/** RFC 8017 §9.2 note 1: the DER DigestInfo prefix for each hash (AlgorithmIdentifier with NULL). */
const DIGEST_INFO_PREFIX: Record<HashAlgorithm, Buffer> = {
  sha256: Buffer.from('3031300d060960864801650304020105000420', 'hex'),
  sha384: Buffer.from('3041300d060960864801650304020205000430', 'hex'),
  sha512: Buffer.from('3051300d060960864801650304020305000440', 'hex'),
};

function verifyRsaPkcs1v15(
  key: KeyObject,
  digest: Uint8Array,
  signature: Uint8Array,
  hash: HashAlgorithm,
): boolean {
  const modulusBytes = Math.ceil((key.asymmetricKeyDetails?.modulusLength ?? 0) / 8);
  if (signature.length !== modulusBytes) return false; // Go: ErrVerification unless len(sig) == k
  let recovered: Buffer;
  try {
    recovered = publicDecrypt({ key, padding: constants.RSA_PKCS1_PADDING }, signature);
  } catch {
    return false; // the EMSA-PKCS1-v1_5 padding did not check out
  }
  const expected = Buffer.concat([DIGEST_INFO_PREFIX[hash], digest]);
  return recovered.length === expected.length && recovered.equals(expected);
}

/** RFC 8032 §5.1 dom2(phflag, context) for Ed25519ph with an empty context. */
const DOM2_PREFIX = Buffer.from('SigEd25519 no Ed25519 collisions', 'ascii');

/**
 * Ed25519ph whose "prehash" is the identity: the caller hands over PH(M) = SHA-512(M) directly.
 * @noble/curves's own `ed25519ph` would hash its input again.
 */
const ed25519phOverDigest = eddsa(ed25519.Point, sha512, {
  domain: (data: Uint8Array, context: Uint8Array, phflag: boolean) =>
    Buffer.concat([DOM2_PREFIX, Uint8Array.of(phflag ? 1 : 0, context.length), context, data]),
  prehash: (digest: Uint8Array) => digest,
  zip215: false,
});

function sha512(message: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha512').update(message).digest());
}

function verifyEd25519ph(key: KeyObject, digest: Uint8Array, signature: Uint8Array): boolean {
  if (signature.length !== 64) return false;
  const publicKey = decodeBase64Url(key.export({ format: 'jwk' }).x ?? '', 'verifier x');
  try {
    return ed25519phOverDigest.verify(signature, digest, publicKey);
  } catch {
    return false;
  }
}
