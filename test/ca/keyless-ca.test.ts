import assert from 'node:assert/strict';
import { X509Certificate, createSign, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { AsnConvert } from '@peculiar/asn1-schema';
import { CertificationRequest, CertificationRequestInfo } from '@peculiar/asn1-csr';
import { AlgorithmIdentifier, Name, SubjectPublicKeyInfo } from '@peculiar/asn1-x509';
import {
  CaError,
  KeylessCa,
  initCertificateAuthority,
  loadCertificateAuthority,
  type CaSigner,
  type CertifiedIdentity,
  type CtSubmitter,
  type SigningCertificateRequest,
} from '../../src/ca/index.ts';

const identity: CertifiedIdentity = {
  name: 'someone@example.com',
  subjectAlternativeName: { kind: 'email', value: 'someone@example.com' },
  extensions: [
    { oid: '1.3.6.1.4.1.57264.1.1', value: 'https://issuer.example', encoding: 'raw' },
    { oid: '1.3.6.1.4.1.57264.1.8', value: 'https://issuer.example', encoding: 'utf8-string' },
  ],
};
/** Token checks are src/ca/oidc's (tested there); here every token stands for `identity`. */
const identities = { verify: async () => identity };

function publicKeyRequest(
  privateKey: KeyObject,
  publicKey: KeyObject,
  signed = identity.name,
): SigningCertificateRequest {
  const hash = privateKey.asymmetricKeyType === 'ed25519' ? undefined : 'sha256';
  return {
    token: 'a token',
    key: {
      kind: 'public-key',
      content: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
      proofOfPossession: sign(hash, Buffer.from(signed), privateKey),
    },
  };
}

/** A PKCS#10 request signed by `privateKey` (ECDSA P-256, SHA-256). */
function csrRequest(privateKey: KeyObject, publicKey: KeyObject, tamper = false): SigningCertificateRequest {
  const info = new CertificationRequestInfo({
    subject: new Name(),
    subjectPKInfo: AsnConvert.parse(publicKey.export({ type: 'spki', format: 'der' }), SubjectPublicKeyInfo),
  });
  const infoDer = Buffer.from(AsnConvert.serialize(info));
  const signature = createSign('sha256')
    .update(tamper ? Buffer.concat([infoDer, Buffer.from([0])]) : infoDer)
    .sign(privateKey);
  const request = new CertificationRequest({
    certificationRequestInfo: info,
    signatureAlgorithm: new AlgorithmIdentifier({ algorithm: '1.2.840.10045.4.3.2' }),
    signature: new Uint8Array(signature).buffer,
  });
  const pem = `-----BEGIN CERTIFICATE REQUEST-----\n${Buffer.from(AsnConvert.serialize(request)).toString('base64')}\n-----END CERTIFICATE REQUEST-----\n`;
  return { token: 'a token', key: { kind: 'csr', content: Buffer.from(pem) } };
}

function rejectsWith(code: string) {
  return (error: unknown) => {
    assert.ok(error instanceof CaError, `expected a CaError, received ${String(error)}`);
    assert.equal(error.code, code, error.message);
    return true;
  };
}

describe('KeylessCa', () => {
  let dir: string;
  let signer: CaSigner;
  const p256 = generateKeyPairSync('ec', { namedCurve: 'P-256' });

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sigil-ca-'));
    await initCertificateAuthority({ dir, passphrase: 'a test passphrase' });
    signer = await loadCertificateAuthority(dir, 'a test passphrase');
  });

  after(() => rm(dir, { recursive: true, force: true }));

  describe('without a CT log', () => {
    it('certifies a key whose proof of possession signs the identity name', async () => {
      const ca = new KeylessCa({ signer, identities });
      const issued = await ca.issue(publicKeyRequest(p256.privateKey, p256.publicKey));
      assert.equal(issued.sct, undefined);
      assert.equal(issued.chain.length, 3);
      const leaf = new X509Certificate(issued.chain[0]!);
      assert.equal(leaf.subjectAltName, 'email:someone@example.com');
      assert.ok(leaf.publicKey.equals(p256.publicKey));
      assert.ok(leaf.verify(new X509Certificate(issued.chain[1]!).publicKey));
    });

    for (const [name, options] of [
      ['P-384', { namedCurve: 'P-384' }],
      ['Ed25519', undefined],
      ['RSA 2048', { modulusLength: 2048 }],
    ] as const) {
      it(`certifies a ${name} key`, async () => {
        const pair =
          name === 'Ed25519'
            ? generateKeyPairSync('ed25519')
            : name === 'P-384'
              ? generateKeyPairSync('ec', options as { namedCurve: string })
              : generateKeyPairSync('rsa', options as { modulusLength: number });
        const ca = new KeylessCa({ signer, identities });
        const request = publicKeyRequest(pair.privateKey, pair.publicKey);
        if (name === 'P-384' && request.key.kind === 'public-key') {
          request.key.proofOfPossession = sign('sha384', Buffer.from(identity.name), pair.privateKey);
        }
        const issued = await ca.issue(request);
        assert.ok(new X509Certificate(issued.chain[0]!).publicKey.equals(pair.publicKey));
      });
    }

    it('certifies the key of a CSR whose signature verifies', async () => {
      const ca = new KeylessCa({ signer, identities });
      const issued = await ca.issue(csrRequest(p256.privateKey, p256.publicKey));
      assert.ok(new X509Certificate(issued.chain[0]!).publicKey.equals(p256.publicKey));
    });

    it('refuses a CSR with a bad signature with CA_CSR_INVALID', async () => {
      const ca = new KeylessCa({ signer, identities });
      await assert.rejects(
        ca.issue(csrRequest(p256.privateKey, p256.publicKey, true)),
        rejectsWith('CA_CSR_INVALID'),
      );
    });

    it('refuses a proof of possession over another value with CA_PROOF_OF_POSSESSION_INVALID', async () => {
      const ca = new KeylessCa({ signer, identities });
      await assert.rejects(
        ca.issue(publicKeyRequest(p256.privateKey, p256.publicKey, 'someone-else@example.com')),
        rejectsWith('CA_PROOF_OF_POSSESSION_INVALID'),
      );
    });

    it('refuses a proof of possession by another key', async () => {
      const other = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      const ca = new KeylessCa({ signer, identities });
      await assert.rejects(
        ca.issue(publicKeyRequest(other.privateKey, p256.publicKey)),
        rejectsWith('CA_PROOF_OF_POSSESSION_INVALID'),
      );
    });

    it('refuses RSA keys under 2048 bits and curves outside P-256/384/521 with CA_PUBLIC_KEY_UNSUPPORTED', async () => {
      const ca = new KeylessCa({ signer, identities });
      const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 });
      await assert.rejects(
        ca.issue(publicKeyRequest(rsa.privateKey, rsa.publicKey)),
        rejectsWith('CA_PUBLIC_KEY_UNSUPPORTED'),
      );
      const k1 = generateKeyPairSync('ec', { namedCurve: 'secp256k1' });
      await assert.rejects(
        ca.issue(publicKeyRequest(k1.privateKey, k1.publicKey)),
        rejectsWith('CA_PUBLIC_KEY_UNSUPPORTED'),
      );
    });

    it('refuses a key that is not a public key with CA_PUBLIC_KEY_INVALID', async () => {
      const ca = new KeylessCa({ signer, identities });
      const request = publicKeyRequest(p256.privateKey, p256.publicKey);
      if (request.key.kind === 'public-key')
        request.key.content = '-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n';
      await assert.rejects(ca.issue(request), rejectsWith('CA_PUBLIC_KEY_INVALID'));
    });

    it('passes on the identity verifier’s refusal and issues nothing', async () => {
      const refusing = {
        verify: async () => {
          throw new CaError('CA_TOKEN_EXPIRED', 'token: expired');
        },
      };
      const ca = new KeylessCa({ signer, identities: refusing });
      await assert.rejects(
        ca.issue(publicKeyRequest(p256.privateKey, p256.publicKey)),
        rejectsWith('CA_TOKEN_EXPIRED'),
      );
    });
  });

  describe('with a CT log', () => {
    it('issues no certificate when the CT log fails, with CA_CT_FAILED', async () => {
      // a fault a real log cannot be made to produce on demand (DESIGN.md: in-process fakes for faults)
      const failing: CtSubmitter = {
        addPreChain: async () => {
          throw new Error('disk full');
        },
      };
      const ca = new KeylessCa({ signer, identities, ct: failing });
      await assert.rejects(
        ca.issue(publicKeyRequest(p256.privateKey, p256.publicKey)),
        rejectsWith('CA_CT_FAILED'),
      );
    });

    it('submits a precertificate signed by the precertificate signing certificate, with the chain to the root', async () => {
      const submitted: Uint8Array[][] = [];
      const recording: CtSubmitter = {
        addPreChain: async (chain) => {
          submitted.push([...chain]);
          throw new Error('stop here');
        },
      };
      const ca = new KeylessCa({ signer, identities, ct: recording });
      await assert.rejects(ca.issue(publicKeyRequest(p256.privateKey, p256.publicKey)));
      const [chain] = submitted;
      assert.equal(chain?.length, 4);
      const precertificate = new X509Certificate(chain[0]!);
      const precertificateSigner = new X509Certificate(chain[1]!);
      assert.ok(precertificate.verify(precertificateSigner.publicKey));
      assert.equal(precertificate.issuer, precertificateSigner.subject);
      assert.match(Buffer.from(precertificate.raw).toString('hex'), /060a2b06010401d679020403/); // poison OID
      // RFC 6962 §3.1: a P-256 CA certificate with only the precertificate signing EKU, certified by the intermediate
      assert.equal(precertificateSigner.publicKey.asymmetricKeyDetails?.namedCurve, 'prime256v1');
      assert.ok(precertificateSigner.ca);
      assert.equal(precertificateSigner.keyUsage?.join(), '1.3.6.1.4.1.11129.2.4.4');
      assert.ok(precertificateSigner.verify(new X509Certificate(signer.chain[0]!).publicKey));
      assert.deepEqual(chain.slice(2), [...signer.chain]);
      // the precertificate names the final certificate's signature algorithm (ecdsa-with-SHA384)
      assert.match(
        Buffer.from(precertificate.raw).toString('hex'),
        /^3082....3082....a003020102021[0-9a-f]{41}300a06082a8648ce3d040303/,
      );
    });
  });
});
