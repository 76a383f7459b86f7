import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { id_kp_serverAuth } from '@peculiar/asn1-x509';
import {
  ChainValidator,
  CtError,
  EKU_CODE_SIGNING,
  type ChainValidatorOptions,
} from '../../src/ctlog/index.ts';
import { buildTestChain, issueCertificate } from './chain-fixtures.ts';

const chain = buildTestChain();
const { root, intermediate, leaf, precertificate } = chain;
const other = buildTestChain('another root');

function validator(options: Partial<ChainValidatorOptions> = {}): ChainValidator {
  return new ChainValidator({
    roots: [root.der],
    acceptedExtKeyUsages: [EKU_CODE_SIGNING],
    maxChainLength: 5,
    maxCertificateBytes: 16_384,
    cachedIssuers: 16,
    ...options,
  });
}

function refusesWith(code: string, pattern?: RegExp) {
  return (error: unknown) => {
    assert.ok(error instanceof CtError, `expected a CtError, received ${String(error)}`);
    assert.equal(error.code, code, error.message);
    if (pattern) assert.match(error.message, pattern);
    return true;
  };
}

const fingerprint = (der: Uint8Array) => createHash('sha256').update(der).digest('hex');

describe('ChainValidator', () => {
  describe('when the chain leads to a configured root', () => {
    it('accepts it with the root, ending the verified path at the root', () => {
      const verified = validator().validate([leaf.der, intermediate.der, root.der], 'certificate');
      assert.equal(verified.leaf.fingerprint, fingerprint(leaf.der));
      assert.deepEqual(
        verified.issuers.map((issuer) => issuer.fingerprint),
        [fingerprint(intermediate.der), fingerprint(root.der)],
      );
    });

    it('accepts it without the root and adds the root to the path (RFC 6962 §4.1)', () => {
      const verified = validator().validate([precertificate.der, intermediate.der], 'precertificate');
      assert.deepEqual(
        verified.issuers.map((issuer) => issuer.fingerprint),
        [fingerprint(intermediate.der), fingerprint(root.der)],
      );
    });

    it('accepts a leaf the root issued directly, submitted alone', () => {
      const direct = issueCertificate({ subject: 'direct', keyType: 'p256', issuer: root });
      assert.equal(validator().validate([direct.der], 'certificate').issuers.length, 1);
    });

    it('verifies Ed25519 and RSA issuers as well as ECDSA', () => {
      const edRoot = issueCertificate({ subject: 'ed root', keyType: 'ed25519', ca: true, ekus: null });
      const rsaIntermediate = issueCertificate({
        subject: 'rsa int',
        keyType: 'rsa',
        ca: true,
        issuer: edRoot,
      });
      const edLeaf = issueCertificate({ subject: 'ed leaf', keyType: 'ed25519', issuer: rsaIntermediate });
      const verified = validator({ roots: [edRoot.der] }).validate(
        [edLeaf.der, rsaIntermediate.der],
        'certificate',
      );
      assert.equal(verified.issuers.length, 2);
    });

    it('verifies the intermediate once, then only each new leaf', () => {
      const cached = validator();
      cached.validate([leaf.der, intermediate.der], 'certificate');
      assert.equal(cached.signatureVerifications, 2);
      const next = issueCertificate({ subject: 'next leaf', keyType: 'p256', issuer: intermediate });
      cached.validate([next.der, intermediate.der, root.der], 'certificate');
      assert.equal(cached.signatureVerifications, 3);
    });
  });

  describe('refuses', () => {
    const refusals: [string, () => void, string, RegExp][] = [
      ['an empty chain', () => validator().validate([], 'certificate'), 'CT_CHAIN_EMPTY', /received none/],
      [
        'a chain longer than the limit',
        () => validator().validate(Array(6).fill(leaf.der), 'certificate'),
        'CT_CHAIN_TOO_LONG',
        /expected at most 5 certificates, received 6/,
      ],
      [
        'a certificate over the size limit',
        () => validator({ maxCertificateBytes: 100 }).validate([leaf.der], 'certificate'),
        'CT_CERTIFICATE_TOO_LARGE',
        /^chain\[0\]: expected at most 100 bytes/,
      ],
      [
        'bytes that are no certificate',
        () => validator().validate([leaf.der, Uint8Array.of(1, 2, 3)], 'certificate'),
        'CT_CERTIFICATE_INVALID',
        /^chain\[1\]: expected a DER X\.509 certificate/,
      ],
      [
        'a chain to a root the log does not trust',
        () => validator().validate([other.leaf.der, other.intermediate.der, other.root.der], 'certificate'),
        'CT_CHAIN_UNTRUSTED',
        /^chain\[2\]: .*issued by O=sigil test, CN=another root \(a root the log does not trust\)/,
      ],
      [
        'a chain that stops at an intermediate of an untrusted root',
        () => validator().validate([other.leaf.der, other.intermediate.der], 'certificate'),
        'CT_CHAIN_UNTRUSTED',
        /expected a certificate issued by one of the log's 1 roots/,
      ],
      [
        'an intermediate that claims the root by name but is signed by another key',
        () => {
          const forged = issueCertificate({
            subject: 'forged',
            keyType: 'p384',
            ca: true,
            issuer: other.root,
            issuerName: 'sigil test root',
          });
          const forgedLeaf = issueCertificate({ subject: 'forged leaf', keyType: 'p256', issuer: forged });
          validator().validate([forgedLeaf.der, forged.der], 'certificate');
        },
        'CT_CHAIN_UNTRUSTED',
        /whose signature no root of that name verifies/,
      ],
      [
        'a leaf whose signature is broken',
        () => {
          const broken = issueCertificate({
            subject: 'broken',
            keyType: 'p256',
            issuer: intermediate,
            corruptSignature: true,
          });
          validator().validate([broken.der, intermediate.der], 'certificate');
        },
        'CT_SIGNATURE_INVALID',
        /^chain\[0\]: expected a signature by the ec key of O=sigil test, CN=sigil test root intermediate/,
      ],
      [
        'certificates in the wrong order',
        () => validator().validate([leaf.der, root.der, intermediate.der], 'certificate'),
        'CT_CHAIN_INVALID',
        /^chain\[1\]: expected a root only at the end of the chain/,
      ],
      [
        'a chain whose names do not link',
        () => validator().validate([leaf.der, other.intermediate.der], 'certificate'),
        'CT_CHAIN_INVALID',
        /^chain\[0\]: expected a certificate issued by chain\[1\] \(O=sigil test, CN=another root intermediate\)/,
      ],
      [
        'an issuer that is not a CA',
        () => {
          const notCa = issueCertificate({ subject: 'not a ca', keyType: 'p256', issuer: root });
          const below = issueCertificate({ subject: 'below', keyType: 'p256', issuer: notCa });
          validator().validate([below.der, notCa.der], 'certificate');
        },
        'CT_CHAIN_INVALID',
        /^chain\[1\]: expected a CA certificate/,
      ],
      [
        'a leaf without an EKU extension',
        () =>
          validator().validate(
            [issueCertificate({ subject: 'no eku', keyType: 'p256', issuer: intermediate, ekus: null }).der],
            'certificate',
          ),
        'CT_EKU_MISSING',
        /^chain\[0\]: expected extended key usage 1\.3\.6\.1\.5\.5\.7\.3\.3, received no extKeyUsage extension/,
      ],
      [
        'a leaf for TLS servers only',
        () =>
          validator().validate(
            [
              issueCertificate({
                subject: 'tls',
                keyType: 'p256',
                issuer: intermediate,
                ekus: [id_kp_serverAuth],
              }).der,
            ],
            'certificate',
          ),
        'CT_EKU_MISSING',
        /received 1\.3\.6\.1\.5\.5\.7\.3\.1$/,
      ],
      [
        'an intermediate whose EKU excludes code signing',
        () => {
          const tlsCa = issueCertificate({
            subject: 'tls ca',
            keyType: 'p256',
            ca: true,
            issuer: root,
            ekus: [id_kp_serverAuth],
          });
          const under = issueCertificate({ subject: 'under tls ca', keyType: 'p256', issuer: tlsCa });
          validator().validate([under.der, tlsCa.der], 'certificate');
        },
        'CT_EKU_MISSING',
        /^chain\[1\]: expected its extended key usage to allow/,
      ],
      [
        'a precertificate on add-chain',
        () => validator().validate([precertificate.der, intermediate.der], 'certificate'),
        'CT_PRECERT_UNEXPECTED',
        /submit it to add-pre-chain/,
      ],
      [
        'a certificate on add-pre-chain',
        () => validator().validate([leaf.der, intermediate.der], 'precertificate'),
        'CT_PRECERT_EXPECTED',
        /submit it to add-chain/,
      ],
      [
        'a root submitted as the leaf',
        () => {
          const signingRoot = issueCertificate({ subject: 'code signing root', keyType: 'p256', ca: true });
          validator({ roots: [signingRoot.der] }).validate([signingRoot.der], 'certificate');
        },
        'CT_CHAIN_INVALID',
        /^chain\[0\]: expected an end-entity certificate, received a root of the log$/,
      ],
    ];
    for (const [name, run, code, pattern] of refusals) {
      it(`${name}, with ${code}`, () => assert.throws(run, refusesWith(code, pattern)));
    }
  });

  it('serves its roots in configured order', () => {
    assert.deepEqual(validator({ roots: [root.der, other.root.der] }).roots, [root.der, other.root.der]);
  });

  it('refuses a root that does not parse, naming it', () => {
    assert.throws(
      () => validator({ roots: [root.der, Uint8Array.of(0x30, 0x00)] }),
      refusesWith('CT_CERTIFICATE_INVALID', /^roots\[1\]/),
    );
  });
});
