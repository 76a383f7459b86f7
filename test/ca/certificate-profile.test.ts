import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { AsnConvert } from '@peculiar/asn1-schema';
import { Certificate } from '@peculiar/asn1-x509';
import {
  CT_POISON_OID,
  CaError,
  initCertificateAuthority,
  leafTemplate,
  loadCertificateAuthority,
  type CaSigner,
  type LeafExtension,
} from '../../src/ca/index.ts';
import { decodeBase64 } from '../../src/core/index.ts';

const vectors = new URL('../../../shared/vectors/fulcio-certs/', import.meta.url);

interface DecodedLeaf {
  public_key_spki_b64: string;
  san: { type: string; value: string }[];
  fulcio_extensions: { oid: string; raw_value_hex: string; encoding: string; value: string }[];
}

/** Each extension of a DER certificate as [oid, critical, hex of extnValue], in order. */
function extensionsOf(der: Uint8Array): [string, boolean, string][] {
  const certificate = AsnConvert.parse(der, Certificate);
  return Array.from(certificate.tbsCertificate.extensions ?? [], (extension) => [
    extension.extnID,
    extension.critical,
    Buffer.from(extension.extnValue.buffer).toString('hex'),
  ]);
}

describe('the leaf certificate profile', () => {
  let dir: string;
  let signer: CaSigner;
  let realLeaf: Uint8Array;
  let decoded: DecodedLeaf;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sigil-ca-'));
    await initCertificateAuthority({ dir, passphrase: 'a test passphrase' });
    signer = await loadCertificateAuthority(dir, 'a test passphrase');
    const pem = await readFile(new URL('github-actions-sigstore-js-release-leaf.pem', vectors), 'utf8');
    realLeaf = new Uint8Array(new X509Certificate(pem).raw);
    const all = JSON.parse(await readFile(new URL('decoded-extensions.json', vectors), 'utf8')) as Record<
      string,
      DecodedLeaf
    >;
    decoded = all['github-actions-sigstore-js-release-leaf']!;
  });

  after(() => rm(dir, { recursive: true, force: true }));

  /** The real GitHub Actions leaf's key, SAN and Fulcio extension values, issued by our CA. */
  async function reissueRealLeaf(): Promise<Uint8Array> {
    const extensions: LeafExtension[] = decoded.fulcio_extensions.map((item) => ({
      oid: item.oid,
      value: item.value,
      encoding: item.encoding.startsWith('raw') ? 'raw' : 'utf8-string',
    }));
    const template = leafTemplate(
      {
        publicKeySpki: decodeBase64(decoded.public_key_spki_b64),
        subjectAlternativeName: { kind: 'uri', value: decoded.san[0]!.value },
        extensions,
        now: new Date('2026-11-26T10:00:00.123Z'),
      },
      signer,
    );
    return signer.signCertificate(template.tbs());
  }

  it('encodes every extension byte for byte as public-good Fulcio does, in the same order', async () => {
    const ours = extensionsOf(await reissueRealLeaf());
    // the real leaf also has the SCT list (last); its AKI names public-good's intermediate
    const real = extensionsOf(realLeaf).filter(([oid]) => oid !== '1.3.6.1.4.1.11129.2.4.2');
    assert.deepEqual(
      ours.map(([oid, critical]) => [oid, critical]),
      real.map(([oid, critical]) => [oid, critical]),
    );
    for (const [index, [oid, critical, value]] of ours.entries()) {
      if (oid === '2.5.29.35') continue; // AKI: our intermediate's key identifier
      assert.deepEqual([oid, critical, value], real[index], `extension ${oid}`);
    }
  });

  it('issues a 10-minute certificate with an empty subject and a 20-byte serial that chains to the root', async () => {
    const der = await reissueRealLeaf();
    const leaf = new X509Certificate(der);
    const intermediate = new X509Certificate(signer.chain[0]!);
    const root = new X509Certificate(signer.chain[1]!);
    assert.equal(leaf.subject ?? '', ''); // node reports an empty subject as undefined
    assert.equal(leaf.serialNumber.length, 40);
    assert.equal(new Date(leaf.validTo).getTime() - new Date(leaf.validFrom).getTime(), 10 * 60 * 1000);
    assert.equal(leaf.validFrom, 'Nov 26 10:00:00 2026 GMT');
    assert.ok(leaf.verify(intermediate.publicKey));
    assert.ok(intermediate.verify(root.publicKey));
    assert.ok(root.verify(root.publicKey));
    assert.equal(leaf.issuer, intermediate.subject);
    assert.equal(leaf.publicKey.asymmetricKeyDetails?.namedCurve, 'prime256v1');
  });

  it('marks a precertificate with the critical poison extension, last', async () => {
    const template = leafTemplate(
      {
        publicKeySpki: decodeBase64(decoded.public_key_spki_b64),
        subjectAlternativeName: { kind: 'email', value: 'someone@example.com' },
        extensions: [
          { oid: '1.3.6.1.4.1.57264.1.8', value: 'https://issuer.example', encoding: 'utf8-string' },
        ],
        now: new Date(),
      },
      signer,
    );
    const precertificate = await signer.signCertificate(
      template.tbs({ oid: CT_POISON_OID, critical: true, value: new Uint8Array([5, 0]) }),
    );
    assert.deepEqual(extensionsOf(precertificate).at(-1), [CT_POISON_OID, true, '0500']);
    assert.deepEqual(
      extensionsOf(precertificate).slice(0, -1),
      extensionsOf(await signer.signCertificate(template.tbs())),
    );
  });

  it('writes P-384 root and intermediate with the CA extensions upstream uses', () => {
    const intermediate = new X509Certificate(signer.chain[0]!);
    const root = new X509Certificate(signer.chain[1]!);
    assert.equal(root.publicKey.asymmetricKeyDetails?.namedCurve, 'secp384r1');
    assert.equal(intermediate.publicKey.asymmetricKeyDetails?.namedCurve, 'secp384r1');
    assert.equal(root.subject, 'O=sigil\nCN=sigil');
    assert.equal(intermediate.subject, 'O=sigil\nCN=sigil-intermediate');
    assert.ok(intermediate.ca && root.ca);
    assert.deepEqual(
      extensionsOf(signer.chain[0]!).map(([oid, critical]) => [oid, critical]),
      [
        ['2.5.29.15', true],
        ['2.5.29.37', false],
        ['2.5.29.19', true],
        ['2.5.29.14', false],
        ['2.5.29.35', false],
      ],
    );
  });

  it('never overwrites an existing CA, and refuses a wrong passphrase', async () => {
    await assert.rejects(initCertificateAuthority({ dir, passphrase: 'a test passphrase' }), (error) => {
      assert.ok(error instanceof CaError);
      assert.equal(error.code, 'CA_CONFIG_INVALID');
      return true;
    });
    await assert.rejects(loadCertificateAuthority(dir, 'not the passphrase'), (error) => {
      assert.ok(error instanceof CaError);
      assert.equal(error.code, 'CA_KEY_INVALID');
      return true;
    });
  });
});
