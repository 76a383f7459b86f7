import { createHash, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';

/** A signer of hashedrekord 0.0.1 proposals, as cosign and sigstore-js build them. */
export class HashedRekordSigner {
  readonly #privateKey: KeyObject;
  readonly publicKeyPem: string;
  readonly #spki: Buffer;

  constructor() {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    this.#privateKey = privateKey;
    this.publicKeyPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
    this.#spki = publicKey.export({ type: 'spki', format: 'der' });
  }

  /** A valid Rekor v2 CreateEntryRequest (hashedRekordRequestV002, protojson) for `artifact`. */
  v2Request(artifact: Uint8Array = randomBytes(32)): HashedRekordV2Request {
    return {
      hashedRekordRequestV002: {
        digest: createHash('sha256').update(artifact).digest('base64'),
        signature: {
          content: sign('sha256', artifact, this.#privateKey).toString('base64'),
          verifier: {
            publicKey: { rawBytes: this.#spki.toString('base64') },
            keyDetails: 'PKIX_ECDSA_P256_SHA_256',
          },
        },
      },
    };
  }

  /** A valid proposal for `artifact` (random when omitted). */
  proposal(artifact: Uint8Array = randomBytes(32)): HashedRekordProposal {
    return {
      apiVersion: '0.0.1',
      kind: 'hashedrekord',
      spec: {
        data: { hash: { algorithm: 'sha256', value: createHash('sha256').update(artifact).digest('hex') } },
        signature: {
          content: sign('sha256', artifact, this.#privateKey).toString('base64'),
          publicKey: { content: Buffer.from(this.publicKeyPem).toString('base64') },
        },
      },
    };
  }
}

export interface HashedRekordProposal {
  apiVersion: string;
  kind: string;
  spec: {
    data: { hash: { algorithm: string; value: string } };
    signature: { content: string; publicKey: { content: string } };
  };
}

export interface HashedRekordV2Request {
  hashedRekordRequestV002: {
    digest: string;
    signature: {
      content: string;
      verifier: { publicKey: { rawBytes: string }; keyDetails: string };
    };
  };
}

export async function postJson(url: string, body: unknown): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}
