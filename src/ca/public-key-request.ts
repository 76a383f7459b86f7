import { createPublicKey, verify, type JsonWebKey as NodeJsonWebKey, type KeyObject } from 'node:crypto';
import {
  decodeBase64,
  readElement,
  DerTag,
  contentBytes,
  decodeOid,
  readChildren,
  readWhole,
} from '../core/index.ts';
import { signatureAlgorithmOf } from './ca-signer.ts';
import { CaError } from './errors.ts';

/** A requester's public key, parsed and found acceptable, with the SPKI DER it came as. */
export interface RequestKey {
  key: KeyObject;
  spki: Uint8Array;
}

const PEM_PUBLIC_KEY = /^-----BEGIN PUBLIC KEY-----\r?\n([A-Za-z0-9+/=\r\n]+)-----END PUBLIC KEY-----\s*$/;
const MAX_KEY_BYTES = 4096;

/**
 * The key of a public-key request: PEM SubjectPublicKeyInfo, or DER, as sigstore/fulcio
 * `pkg/challenges` ParsePublicKey accepts. Then the checks of Fulcio's `--client-signing-algorithms`
 * default and goodkey: ECDSA P-256/P-384/P-521, RSA 2048–4096 bits with e = 65537, Ed25519.
 */
export function parseRequestKey(content: Uint8Array | string, field: string): RequestKey {
  const text = typeof content === 'string' ? content : Buffer.from(content).toString('latin1');
  let spki: Uint8Array;
  const pem = PEM_PUBLIC_KEY.exec(text.trim() + '\n');
  if (pem) spki = decodeBase64(pem[1]!.replace(/[\r\n]/g, ''), field);
  else if (typeof content === 'string') {
    throw new CaError('CA_PUBLIC_KEY_INVALID', `${field}: expected a PEM public key (BEGIN PUBLIC KEY)`);
  } else spki = content;
  if (spki.length > MAX_KEY_BYTES) {
    throw new CaError('CA_PUBLIC_KEY_INVALID', `${field}: expected at most ${MAX_KEY_BYTES} bytes of key`);
  }
  let key: KeyObject;
  try {
    const jwk = ecJwk(spki);
    key = jwk
      ? createPublicKey({ key: jwk, format: 'jwk' })
      : createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' });
  } catch (error) {
    throw new CaError('CA_PUBLIC_KEY_INVALID', `${field}: not a SubjectPublicKeyInfo public key`, {
      cause: error,
    });
  }
  checkKeyStrength(key, field);
  return { key, spki: exactElement(spki, field) };
}

/** Refuses weak and unsupported keys with a message naming what is accepted. */
export function checkKeyStrength(key: KeyObject, field: string): void {
  const details = key.asymmetricKeyDetails ?? {};
  switch (key.asymmetricKeyType) {
    case 'ec':
      if (['prime256v1', 'secp384r1', 'secp521r1'].includes(details.namedCurve ?? '')) return;
      throw new CaError(
        'CA_PUBLIC_KEY_UNSUPPORTED',
        `${field}: expected an ECDSA key on P-256, P-384 or P-521, received curve ${details.namedCurve}`,
      );
    case 'rsa': {
      const bits = details.modulusLength ?? 0;
      if (bits < 2048 || bits > 4096) {
        throw new CaError(
          'CA_PUBLIC_KEY_UNSUPPORTED',
          `${field}: expected an RSA key of 2048 to 4096 bits, received ${bits} bits`,
        );
      }
      if (details.publicExponent !== 65537n) {
        throw new CaError(
          'CA_PUBLIC_KEY_UNSUPPORTED',
          `${field}: expected RSA public exponent 65537, received ${details.publicExponent}`,
        );
      }
      return;
    }
    case 'ed25519':
      return;
    case 'dsa':
    case 'ed448':
    case 'rsa-pss':
    case 'x25519':
    case 'x448':
    case undefined:
      throw new CaError(
        'CA_PUBLIC_KEY_UNSUPPORTED',
        `${field}: expected an ECDSA, RSA or Ed25519 key, received ${key.asymmetricKeyType}`,
      );
  }
}

/**
 * Proof of possession: `signature` by the requester's key over the UTF-8 bytes of the identity's name
 * (the email for email issuers, `sub` otherwise; sigstore/fulcio `pkg/server/grpc_server.go`).
 */
export function verifyProofOfPossession(
  key: KeyObject,
  name: string,
  signature: Uint8Array,
  field: string,
): void {
  let valid = false;
  try {
    // the key's default hash (sigstore/sigstore `signature.LoadVerifier`), as the CA signs with its own
    valid = verify(signatureAlgorithmOf(key).hash, Buffer.from(name, 'utf8'), key, signature);
  } catch {
    // an unusable signature encoding is a signature that does not verify
  }
  if (!valid) {
    throw new CaError(
      'CA_PROOF_OF_POSSESSION_INVALID',
      `${field}: the signature does not verify with the submitted key over the token's subject (${JSON.stringify(name)})`,
    );
  }
}

const EC_PUBLIC_KEY = '1.2.840.10045.2.1';
const EC_CURVES: Readonly<Record<string, { crv: string; size: number }>> = {
  '1.2.840.10045.3.1.7': { crv: 'P-256', size: 32 },
  '1.3.132.0.34': { crv: 'P-384', size: 48 },
  '1.3.132.0.35': { crv: 'P-521', size: 66 },
};

/**
 * An ECDSA SubjectPublicKeyInfo with an uncompressed point on a named NIST curve (RFC 5480), as a JWK;
 * undefined for anything else. OpenSSL 3 imports the JWK's coordinates in half the time it takes to
 * decode the DER (~80 against ~160 µs here), and still checks the point is on the curve.
 */
function ecJwk(spki: Uint8Array): NodeJsonWebKey | undefined {
  try {
    const outer = readWhole(spki, DerTag.sequence);
    const [algorithm, bits] = readChildren(spki, outer);
    if (!algorithm || !bits || bits.tag !== DerTag.bitString) return undefined;
    const [type, curve] = readChildren(spki, algorithm);
    if (type?.tag !== DerTag.oid || curve?.tag !== DerTag.oid) return undefined;
    if (decodeOid(contentBytes(spki, type)) !== EC_PUBLIC_KEY) return undefined;
    const named = EC_CURVES[decodeOid(contentBytes(spki, curve))];
    const point = contentBytes(spki, bits); // unused-bits byte, then 04 || x || y
    if (!named || point.length !== 2 + 2 * named.size || point[0] !== 0 || point[1] !== 0x04)
      return undefined;
    const coordinate = (start: number) =>
      Buffer.from(point.subarray(start, start + named.size)).toString('base64url');
    return { kty: 'EC', crv: named.crv, x: coordinate(2), y: coordinate(2 + named.size) };
  } catch {
    return undefined; // not this shape: the DER import decides
  }
}

/** The DER element at the start of `bytes`, refusing trailing data. */
function exactElement(bytes: Uint8Array, field: string): Uint8Array {
  try {
    const element = readElement(bytes, 0);
    if (element.end === bytes.length) return bytes;
  } catch {
    // reported below
  }
  throw new CaError('CA_PUBLIC_KEY_INVALID', `${field}: expected exactly one DER SubjectPublicKeyInfo`);
}
