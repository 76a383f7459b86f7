import { createHash, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';

/** A signer of hashedrekord 0.0.1 proposals, as cosign and sigstore-js build them. */
export class HashedRekordSigner {
  readonly #privateKey: KeyObject;
  readonly publicKeyPem: string;

  constructor() {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    this.#privateKey = privateKey;
    this.publicKeyPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
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

export async function postJson(url: string, body: unknown): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}
