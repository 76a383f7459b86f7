import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { CoreError } from './errors.ts';

/** The key types Sigil's services sign with. */
export type SigningKeyAlgorithm = 'ecdsa-p256' | 'ed25519';

export function generateSigningKey(algorithm: SigningKeyAlgorithm): KeyObject {
  switch (algorithm) {
    case 'ecdsa-p256':
      return generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
    case 'ed25519':
      return generateKeyPairSync('ed25519').privateKey;
  }
}

/** Parses a PEM private key (PKCS #8, SEC 1 or PKCS #1). `field` names the input in the error. */
export function parsePrivateKeyPem(pem: string, field = 'private key'): KeyObject {
  try {
    return createPrivateKey({ key: pem, format: 'pem' });
  } catch (cause) {
    throw new CoreError(
      'CORE_KEY_INVALID',
      `${field}: expected a PEM private key, ${(cause as Error).message}`,
      {
        cause,
      },
    );
  }
}

export function exportPrivateKeyPem(key: KeyObject): string {
  return key.export({ type: 'pkcs8', format: 'pem' }).toString();
}

/** The DER SubjectPublicKeyInfo of a private or public key. */
export function publicKeyDer(key: KeyObject): Uint8Array {
  return new Uint8Array(publicKeyOf(key).export({ type: 'spki', format: 'der' }));
}

export function publicKeyPem(key: KeyObject): string {
  return publicKeyOf(key).export({ type: 'spki', format: 'pem' }).toString();
}

/** createPublicKey refuses a KeyObject that is already public. */
function publicKeyOf(key: KeyObject): KeyObject {
  return key.type === 'public' ? key : createPublicKey(key);
}

/** The algorithm of a key, when it is one Sigil signs with. */
export function signingKeyAlgorithm(key: KeyObject): SigningKeyAlgorithm | undefined {
  if (key.asymmetricKeyType === 'ed25519') return 'ed25519';
  if (key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1')
    return 'ecdsa-p256';
  return undefined;
}
