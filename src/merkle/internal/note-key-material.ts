import { createPublicKey } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { decodeBase64Url, encodeBase64Url } from '../../core/index.ts';
import { MerkleError } from '../errors.ts';
import type { MerkleErrorCode } from '../errors.ts';
import { isValidKeyName } from '../signed-note.ts';

/**
 * Public key material as note keys carry it: Ed25519 keys as their 32 raw bytes (RFC 8032, C2SP
 * signed-note §Ed25519 signatures), ECDSA and RSA keys as DER SubjectPublicKeyInfo. Shared by the
 * note signature types; not part of the public API of the merkle context.
 */

/** Bytes of a raw Ed25519 public key. */
export const ED25519_PUBLIC_KEY_SIZE = 32;

/** An Ed25519 public key from a KeyObject or its raw bytes, with both forms. */
export function importEd25519PublicKey(publicKey: KeyObject | Uint8Array): {
  key: KeyObject;
  raw: Uint8Array;
} {
  if (publicKey instanceof Uint8Array) {
    if (publicKey.length !== ED25519_PUBLIC_KEY_SIZE) {
      throw new MerkleError(
        'MERKLE_VERIFIER_KEY_INVALID',
        `ed25519 key: expected ${ED25519_PUBLIC_KEY_SIZE} bytes, received ${publicKey.length}`,
      );
    }
    const jwk = { kty: 'OKP', crv: 'Ed25519', x: encodeBase64Url(publicKey) };
    return { key: createPublicKey({ key: jwk, format: 'jwk' }), raw: publicKey };
  }
  if (publicKey.type !== 'public' || publicKey.asymmetricKeyType !== 'ed25519') {
    throw new MerkleError(
      'MERKLE_VERIFIER_KEY_INVALID',
      `expected an ed25519 public key, received ${describeKey(publicKey)}`,
    );
  }
  return { key: publicKey, raw: decodeBase64Url(publicKey.export({ format: 'jwk' }).x ?? '') };
}

/** A public key from a KeyObject or DER SPKI, with its DER SPKI (the given bytes, when given). */
export function importSpkiPublicKey(publicKey: KeyObject | Uint8Array): { key: KeyObject; spki: Uint8Array } {
  let key: KeyObject;
  if (publicKey instanceof Uint8Array) {
    try {
      key = createPublicKey({ key: Buffer.from(publicKey), format: 'der', type: 'spki' });
    } catch (cause) {
      throw new MerkleError('MERKLE_VERIFIER_KEY_INVALID', 'expected a DER SubjectPublicKeyInfo', { cause });
    }
  } else if (publicKey.type === 'public') {
    key = publicKey;
  } else {
    throw new MerkleError(
      'MERKLE_VERIFIER_KEY_INVALID',
      `expected a public key, received ${describeKey(publicKey)}`,
    );
  }
  const spki = publicKey instanceof Uint8Array ? publicKey : key.export({ type: 'spki', format: 'der' });
  return { key, spki: new Uint8Array(spki) };
}

/** `a private ec prime256v1 key`, for error messages. */
export function describeKey(key: KeyObject): string {
  const curve = key.asymmetricKeyDetails?.namedCurve;
  return `a ${key.type} ${String(key.asymmetricKeyType)}${curve === undefined ? '' : ` ${curve}`} key`;
}

/** Throws `code` unless `keyName` is a valid note key name (signed-note §Format). */
export function assertKeyName(keyName: string, code: MerkleErrorCode): void {
  if (!isValidKeyName(keyName)) {
    throw new MerkleError(
      code,
      `expected a key name without spaces or "+", received ${JSON.stringify(keyName)}`,
    );
  }
}

/** Runs a signature check, turning a throw (malformed signature or key) into false, as verifiers MUST. */
export function safely(check: () => boolean): boolean {
  try {
    return check();
  } catch {
    return false;
  }
}
