import { constants, createPublicKey, verify, type JsonWebKey, type KeyObject } from 'node:crypto';
import { CaError } from '../errors.ts';
import type { TokenClaims } from './claims.ts';

/**
 * Compact JWS (RFC 7515 §7.1) parsing and signature checks for identity tokens, over node:crypto.
 * jose's `jwtVerify` costs ~245 µs of CPU per ES256 token on the CA's machine (Web Crypto, async); a
 * direct node:crypto verify of the same token ~125 µs. Measured end to end with bench:ca: jose's
 * `compactVerify` in this place took issuance from 543 to 418 certificates/s (CPU 2.76 → 3.39 ms per
 * certificate; its Web Crypto verifications queue on libuv's thread pool behind the CA's signatures),
 * under the 500. So the hot path is here, with jose kept for minting (dev-issuer.ts) and tests.
 */

/** Asymmetric algorithms only: never `none`, never HMAC (RFC 8725 §3.1, §3.2). */
export const ALLOWED_ALGORITHMS = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
] as const;
export type TokenAlgorithm = (typeof ALLOWED_ALGORITHMS)[number];

type Family = 'rsa' | 'ec' | 'okp';
type Curve = 'P-256' | 'P-384' | 'P-521' | 'Ed25519' | 'Ed448';

interface AlgorithmSpec {
  family: Family;
  hash: 'sha256' | 'sha384' | 'sha512' | null;
  pss?: boolean;
  curve?: Curve;
  signatureLength?: number;
}

const ALGORITHMS: Readonly<Record<TokenAlgorithm, AlgorithmSpec>> = {
  RS256: { family: 'rsa', hash: 'sha256' },
  RS384: { family: 'rsa', hash: 'sha384' },
  RS512: { family: 'rsa', hash: 'sha512' },
  PS256: { family: 'rsa', hash: 'sha256', pss: true },
  PS384: { family: 'rsa', hash: 'sha384', pss: true },
  PS512: { family: 'rsa', hash: 'sha512', pss: true },
  // RFC 7518 §3.4: R || S, each the size of the curve order.
  ES256: { family: 'ec', hash: 'sha256', curve: 'P-256', signatureLength: 64 },
  ES384: { family: 'ec', hash: 'sha384', curve: 'P-384', signatureLength: 96 },
  ES512: { family: 'ec', hash: 'sha512', curve: 'P-521', signatureLength: 132 },
  EdDSA: { family: 'okp', hash: null },
};

const MIN_RSA_BITS = 2048;
const BASE64URL = /^[A-Za-z0-9_-]+$/;

export interface ParsedToken {
  readonly algorithm: TokenAlgorithm;
  readonly keyId?: string;
  readonly claims: TokenClaims;
  readonly signingInput: Buffer;
  readonly signature: Buffer;
}

/**
 * Splits and decodes a compact JWT. Throws CA_TOKEN_INVALID for anything malformed (never echoing the
 * token) and CA_TOKEN_ALGORITHM for an algorithm outside ALLOWED_ALGORITHMS.
 */
export function parseCompactToken(token: string, maxLength: number): ParsedToken {
  if (token.length > maxLength)
    throw invalid(`token: expected at most ${maxLength} characters, received ${token.length}`);
  const parts = token.split('.');
  if (parts.length !== 3)
    throw invalid(`token: expected a compact JWS of 3 dot-separated parts, received ${parts.length}`);
  const [encodedHeader = '', encodedPayload = '', encodedSignature = ''] = parts;
  const header = decodeJsonObject(encodedHeader, 'header');
  const algorithm = header['alg'];
  if (typeof algorithm !== 'string' || !Object.hasOwn(ALGORITHMS, algorithm))
    throw new CaError(
      'CA_TOKEN_ALGORITHM',
      `alg: expected one of ${ALLOWED_ALGORITHMS.join(', ')}, received ${typeof algorithm === 'string' ? JSON.stringify(algorithm.slice(0, 20)) : typeof algorithm}`,
    );
  // RFC 7515 §4.1.11: extensions we do not understand MUST make the token invalid.
  if (header['crit'] !== undefined) throw invalid('crit: expected no critical header parameters');
  const keyId = header['kid'];
  if (keyId !== undefined && (typeof keyId !== 'string' || keyId.length > 256))
    throw invalid('kid: expected a string of at most 256 characters');
  const claims = decodeJsonObject(encodedPayload, 'payload');
  if (!BASE64URL.test(encodedSignature))
    throw invalid('signature: expected base64url, received none or other text');
  return {
    algorithm: algorithm as TokenAlgorithm,
    ...(keyId !== undefined && { keyId }),
    claims,
    signingInput: Buffer.from(`${encodedHeader}.${encodedPayload}`, 'latin1'),
    signature: Buffer.from(encodedSignature, 'base64url'),
  };
}

function decodeJsonObject(encoded: string, part: string): Record<string, unknown> {
  if (!BASE64URL.test(encoded)) throw invalid(`${part}: expected base64url`);
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(encoded, 'base64url').toString('utf8'));
  } catch {
    throw invalid(`${part}: expected base64url-encoded JSON`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw invalid(`${part}: expected a JSON object`);
  return value as Record<string, unknown>;
}

function invalid(message: string): CaError {
  return new CaError('CA_TOKEN_INVALID', message);
}

/** A public key from an issuer's JWKS, decoded once and kept. */
export interface VerificationKey {
  readonly keyId?: string;
  /** The JWK's `alg`, when it names one: the key then verifies only that algorithm. */
  readonly algorithm?: string;
  readonly key: KeyObject;
  readonly family: Family;
  readonly curve?: Curve;
}

const EC_CURVES: Readonly<Record<string, Curve>> = { 'P-256': 'P-256', 'P-384': 'P-384', 'P-521': 'P-521' };

/**
 * One JWK (RFC 7517) as a verification key, or a reason it is unusable: not a signing key (`use`,
 * `key_ops`), symmetric, an unsupported curve, or RSA under 2048 bits. Private members are never read.
 */
export function importVerificationKey(jwk: unknown): VerificationKey | string {
  if (typeof jwk !== 'object' || jwk === null || Array.isArray(jwk)) return 'not a JSON object';
  const fields = jwk as Record<string, unknown>;
  const keyId = typeof fields['kid'] === 'string' ? fields['kid'] : undefined;
  const algorithm = typeof fields['alg'] === 'string' ? fields['alg'] : undefined;
  if (fields['use'] !== undefined && fields['use'] !== 'sig') return `use ${JSON.stringify(fields['use'])}`;
  const operations = fields['key_ops'];
  if (operations !== undefined && !(Array.isArray(operations) && operations.includes('verify')))
    return 'key_ops without verify';
  let family: Family;
  let curve: Curve | undefined;
  let publicJwk: Record<string, unknown>;
  switch (fields['kty']) {
    case 'RSA':
      family = 'rsa';
      publicJwk = { kty: 'RSA', n: fields['n'], e: fields['e'] };
      break;
    case 'EC':
      family = 'ec';
      curve = EC_CURVES[String(fields['crv'])];
      if (!curve) return `curve ${JSON.stringify(fields['crv'])}`;
      publicJwk = { kty: 'EC', crv: curve, x: fields['x'], y: fields['y'] };
      break;
    case 'OKP':
      family = 'okp';
      if (fields['crv'] !== 'Ed25519' && fields['crv'] !== 'Ed448')
        return `curve ${JSON.stringify(fields['crv'])}`;
      curve = fields['crv'];
      publicJwk = { kty: 'OKP', crv: curve, x: fields['x'] };
      break;
    default:
      return `key type ${JSON.stringify(fields['kty'])}`;
  }
  let key: KeyObject;
  try {
    key = createPublicKey({ key: publicJwk as JsonWebKey, format: 'jwk' });
  } catch {
    return 'malformed key material';
  }
  if (family === 'rsa' && (key.asymmetricKeyDetails?.modulusLength ?? 0) < MIN_RSA_BITS)
    return `RSA key under ${MIN_RSA_BITS} bits`;
  return Object.freeze({
    ...(keyId !== undefined && { keyId }),
    ...(algorithm !== undefined && { algorithm }),
    key,
    family,
    ...(curve !== undefined && { curve }),
  });
}

/** Whether `key` may verify `algorithm` (RFC 7518 §3: key type and curve fixed by the algorithm). */
export function keyFits(key: VerificationKey, algorithm: TokenAlgorithm): boolean {
  if (key.algorithm !== undefined && key.algorithm !== algorithm) return false;
  const spec = ALGORITHMS[algorithm];
  if (spec.family !== key.family) return false;
  return spec.curve === undefined || spec.curve === key.curve;
}

/** Checks a JWS signature with node:crypto. `key` MUST fit the algorithm (keyFits). */
export function verifyTokenSignature(token: ParsedToken, key: VerificationKey): boolean {
  const spec = ALGORITHMS[token.algorithm];
  if (spec.signatureLength !== undefined && token.signature.length !== spec.signatureLength) return false;
  try {
    switch (spec.family) {
      case 'ec':
        return verify(
          spec.hash,
          token.signingInput,
          { key: key.key, dsaEncoding: 'ieee-p1363' },
          token.signature,
        );
      case 'rsa':
        return spec.pss
          ? verify(
              spec.hash,
              token.signingInput,
              // RFC 7518 §3.5: MGF1 with the same hash, salt as long as the hash.
              {
                key: key.key,
                padding: constants.RSA_PKCS1_PSS_PADDING,
                saltLength: constants.RSA_PSS_SALTLEN_DIGEST,
              },
              token.signature,
            )
          : verify(spec.hash, token.signingInput, key.key, token.signature);
      case 'okp':
        return verify(null, token.signingInput, key.key, token.signature);
    }
  } catch {
    return false;
  }
}
