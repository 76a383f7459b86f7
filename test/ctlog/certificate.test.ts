import assert from 'node:assert/strict';
import { createHash, X509Certificate } from 'node:crypto';
import { describe, it } from 'node:test';
import { AsnConvert } from '@peculiar/asn1-schema';
import { Extensions, TBSCertificate } from '@peculiar/asn1-x509';
import { CT_POISON_OID, CtError, parseCertificate, tbsWithoutExtension } from '../../src/ctlog/index.ts';
import { isPrecertificate } from '../../src/ctlog/certificate.ts';
import { buildTbs, extension, generateKey, issueCertificate, signTbs } from './chain-fixtures.ts';

const root = issueCertificate({ subject: 'certificate test root', keyType: 'p256', ca: true });
const leaf = issueCertificate({ subject: 'leaf', keyType: 'p256', issuer: root });

function refusesWith(code: string, pattern?: RegExp) {
  return (error: unknown) => {
    assert.ok(error instanceof CtError, `expected a CtError, received ${String(error)}`);
    assert.equal(error.code, code, error.message);
    if (pattern) assert.match(error.message, pattern);
    return true;
  };
}

describe('parseCertificate', () => {
  it('cuts a certificate into the bytes CT hashes and signs, as OpenSSL reads them', () => {
    const parsed = parseCertificate(leaf.der, 'chain[0]');
    const openssl = new X509Certificate(leaf.der);
    assert.equal(parsed.fingerprint, createHash('sha256').update(leaf.der).digest('hex'));
    assert.equal(parsed.signatureAlgorithm, '1.2.840.10045.4.3.2');
    assert.ok(openssl.verify(root.publicKey));
    assert.deepEqual(parsed.issuer, parseCertificate(root.der, 'root').subject);
    assert.deepEqual(
      Buffer.from(parsed.subjectPublicKeyInfo),
      leaf.publicKey.export({ type: 'spki', format: 'der' }),
    );
    assert.deepEqual([...parsed.extensions.keys()], ['2.5.29.37']);
  });

  describe('when the bytes are not a DER certificate', () => {
    const cases: [string, Uint8Array][] = [
      ['empty input', new Uint8Array()],
      ['trailing bytes', Uint8Array.of(...leaf.der, 0)],
      ['a truncated certificate', leaf.der.subarray(0, leaf.der.length - 1)],
      ['a non-minimal length', Uint8Array.of(0x30, 0x81, 0x03, 0x02, 0x01, 0x00)],
      ['the indefinite length', Uint8Array.of(0x30, 0x80, 0x00, 0x00)],
      ['base64 text', new TextEncoder().encode('MIIB')],
    ];
    for (const [name, der] of cases) {
      it(`refuses ${name} with CT_CERTIFICATE_INVALID naming the field`, () => {
        assert.throws(
          () => parseCertificate(der, 'chain[3]'),
          refusesWith('CT_CERTIFICATE_INVALID', /^chain\[3\]: /),
        );
      });
    }

    it('refuses a repeated extension', () => {
      const { publicKey } = generateKey('p256');
      const tbs = buildTbs({ subject: 'twice', keyType: 'p256', issuer: root }, publicKey);
      tbs.extensions = new Extensions([...tbs.extensions!, ...tbs.extensions!]);
      assert.throws(
        () => parseCertificate(signTbs(tbs, root), 'chain[0]'),
        refusesWith('CT_CERTIFICATE_INVALID', /appears twice/),
      );
    });

    it('refuses a signature algorithm that differs from the one inside the TBSCertificate', () => {
      const { publicKey } = generateKey('p256');
      const tbs = buildTbs({ subject: 'mismatch', keyType: 'p256', issuer: root }, publicKey);
      tbs.signature.algorithm = '1.2.840.10045.4.3.3';
      assert.throws(
        () => parseCertificate(signTbs(tbs, root), 'chain[0]'),
        refusesWith('CT_CERTIFICATE_INVALID', /signatureAlgorithm differs/),
      );
    });
  });
});

describe('tbsWithoutExtension', () => {
  it('gives the precertificate TBSCertificate without its poison, every other byte unchanged (RFC 6962 §3.2)', () => {
    const { publicKey } = generateKey('p256');
    const withPoison = buildTbs(
      { subject: 'precert', keyType: 'p256', issuer: root, poison: 'critical' },
      publicKey,
    );
    const precertificate = parseCertificate(signTbs(withPoison, root), 'chain[0]');
    const final = AsnConvert.parse(AsnConvert.serialize(withPoison), TBSCertificate);
    final.extensions = new Extensions(final.extensions!.filter((ext) => ext.extnID !== CT_POISON_OID));
    assert.deepEqual(
      Buffer.from(tbsWithoutExtension(precertificate, CT_POISON_OID, 'chain[0]')),
      Buffer.from(AsnConvert.serialize(final)),
    );
  });

  it('drops the extensions field when the removed extension was the only one', () => {
    const only = issueCertificate({
      subject: 'only poison',
      keyType: 'p256',
      issuer: root,
      ekus: null,
      poison: 'critical',
    });
    const tbs = tbsWithoutExtension(parseCertificate(only.der, 'chain[0]'), CT_POISON_OID, 'chain[0]');
    const parsed = AsnConvert.parse(tbs, TBSCertificate);
    assert.equal(parsed.extensions, undefined);
    assert.deepEqual(
      Buffer.from(AsnConvert.serialize(parsed.subject)),
      Buffer.from(parseCertificate(only.der, 'x').subject),
    );
  });

  it('refuses a certificate without that extension', () => {
    assert.throws(
      () => tbsWithoutExtension(parseCertificate(leaf.der, 'chain[0]'), CT_POISON_OID, 'chain[0]'),
      refusesWith('CT_CERTIFICATE_INVALID', /expected extension 1\.3\.6\.1\.4\.1\.11129\.2\.4\.3/),
    );
  });
});

describe('isPrecertificate', () => {
  it('finds the critical NULL poison extension', () => {
    const precert = issueCertificate({ subject: 'p', keyType: 'p256', issuer: root, poison: 'critical' });
    assert.equal(isPrecertificate(parseCertificate(precert.der, 'chain[0]'), 'chain[0]'), true);
    assert.equal(isPrecertificate(parseCertificate(leaf.der, 'chain[0]'), 'chain[0]'), false);
  });

  it('refuses a non-critical poison with CT_PRECERT_INVALID', () => {
    const precert = issueCertificate({ subject: 'p', keyType: 'p256', issuer: root, poison: 'non-critical' });
    assert.throws(
      () => isPrecertificate(parseCertificate(precert.der, 'chain[0]'), 'chain[0]'),
      refusesWith('CT_PRECERT_INVALID', /received non-critical with 0500/),
    );
  });

  it('refuses a poison whose value is not NULL', () => {
    const precert = issueCertificate({
      subject: 'p',
      keyType: 'p256',
      issuer: root,
      extensions: [extension(CT_POISON_OID, true, Uint8Array.of(0x04, 0x00))],
    });
    assert.throws(
      () => isPrecertificate(parseCertificate(precert.der, 'chain[0]'), 'chain[0]'),
      refusesWith('CT_PRECERT_INVALID', /received critical with 0400/),
    );
  });
});
