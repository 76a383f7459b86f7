import { createPublicKey, sign, type KeyObject } from 'node:crypto';
import { FulcioSigner, type Signer } from '@sigstore/sign';

/**
 * Who signs: an ephemeral key certified by the keyless CA for an OIDC identity token (sigstore-js's
 * FulcioSigner, the Fulcio v2 API our CA serves), or a key the user holds.
 */
export type SigningIdentity =
  | { readonly kind: 'keyless'; readonly caUrl: string; readonly identityToken: string }
  | { readonly kind: 'key'; readonly privateKey: KeyObject };

/** A sigstore-js Signer for `identity`. */
export function signerFor(identity: SigningIdentity, timeoutMs = 30_000): Signer {
  switch (identity.kind) {
    case 'keyless':
      return new FulcioSigner({
        fulcioBaseURL: identity.caUrl,
        identityProvider: { getToken: () => Promise.resolve(identity.identityToken) },
        timeout: timeoutMs,
      });
    case 'key':
      return keySigner(identity.privateKey);
  }
}

/**
 * Signs with a held key: ECDSA with the hash of its curve, Ed25519 pure, RSA PKCS #1 v1.5 SHA-256 (what
 * cosign and Rekor's hashedrekord expect of each key type). The bundle names the key by its PEM.
 */
function keySigner(privateKey: KeyObject): Signer {
  const publicKey = createPublicKey(privateKey).export({ type: 'spki', format: 'pem' }).toString();
  const curve = privateKey.asymmetricKeyDetails?.namedCurve;
  const hash =
    privateKey.asymmetricKeyType === 'ed25519'
      ? null
      : curve === 'secp384r1'
        ? 'sha384'
        : curve === 'secp521r1'
          ? 'sha512'
          : 'sha256';
  return {
    sign: (data) =>
      Promise.resolve({
        signature: sign(hash, data, privateKey),
        key: { $case: 'publicKey', publicKey, hint: '' },
      }),
  };
}
