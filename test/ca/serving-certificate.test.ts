import assert from 'node:assert/strict';
import { X509Certificate, createPublicKey, generateKeyPairSync } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { AsnConvert } from '@peculiar/asn1-schema';
import {
  AuthorityKeyIdentifier,
  BasicConstraints,
  Certificate,
  KeyUsage,
  KeyUsageFlags,
  SubjectKeyIdentifier,
  id_ce_authorityKeyIdentifier,
  id_ce_basicConstraints,
  id_ce_keyUsage,
  id_ce_subjectAltName,
  id_ce_subjectKeyIdentifier,
} from '@peculiar/asn1-x509';
import { CaError } from '../../src/ca/index.ts';
import { issueServingCertificate, type ServingCertificate } from '../../src/ca/serving-certificate.ts';
import { run } from '../tools/service.ts';
import { toolPath } from '../tools/tools.ts';

const HOSTS = ['sigil-webhook.sigil-system.svc', 'localhost', '127.0.0.1', '::1', '::ffff:10.1.2.3'];
const NOW = new Date('2025-03-01T12:00:00.500Z');

/** The extension's parsed value, or undefined when the certificate lacks it. */
function extensionOf<T>(
  pem: string,
  oid: string,
  type: new () => T,
): { value: T; critical: boolean } | undefined {
  const certificate = AsnConvert.parse(new X509Certificate(pem).raw, Certificate);
  const found = certificate.tbsCertificate.extensions?.find((item) => item.extnID === oid);
  return found && { value: AsnConvert.parse(found.extnValue, type), critical: found.critical };
}

function installed(name: string): string | undefined {
  try {
    return toolPath(name);
  } catch {
    return undefined;
  }
}

describe('issueServingCertificate', () => {
  let issued: ServingCertificate;
  let leaf: X509Certificate;
  let ca: X509Certificate;

  before(async () => {
    issued = await issueServingCertificate({ hosts: HOSTS, now: NOW });
    leaf = new X509Certificate(issued.certificatePem);
    ca = new X509Certificate(issued.caCertificatePem);
  });

  describe('the serving certificate', () => {
    it('names the first host as its subject CN', () => {
      assert.match(leaf.subject, /^CN=sigil-webhook\.sigil-system\.svc$/m);
    });

    it('lists every name as a dNSName and every address as an iPAddress, IPv4 and IPv6', () => {
      assert.equal(
        leaf.subjectAltName,
        'DNS:sigil-webhook.sigil-system.svc, DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1, ' +
          'IP Address:0:0:0:0:0:FFFF:A01:203',
      );
      assert.equal(leaf.checkHost('sigil-webhook.sigil-system.svc'), 'sigil-webhook.sigil-system.svc');
      assert.equal(leaf.checkHost('localhost'), 'localhost');
      assert.equal(leaf.checkIP('127.0.0.1'), '127.0.0.1');
      assert.equal(leaf.checkIP('::1'), '::1');
      assert.equal(leaf.checkIP('::ffff:10.1.2.3'), '::ffff:10.1.2.3');
    });

    it('matches no host and no address it was not issued for', () => {
      assert.equal(leaf.checkHost('other.sigil-system.svc'), undefined);
      assert.equal(leaf.checkHost('127.0.0.1'), undefined, 'an address is not a dNSName');
      assert.equal(leaf.checkIP('127.0.0.2'), undefined);
    });

    it('is for TLS servers only: EKU serverAuth, KU digitalSignature (critical), not a CA', () => {
      assert.deepEqual(leaf.keyUsage, ['1.3.6.1.5.5.7.3.1']);
      const keyUsage = extensionOf(issued.certificatePem, id_ce_keyUsage, KeyUsage);
      assert.equal(keyUsage?.critical, true);
      assert.equal(keyUsage?.value.toNumber(), KeyUsageFlags.digitalSignature);
      assert.equal(leaf.ca, false);
      assert.equal(
        extensionOf(issued.certificatePem, id_ce_basicConstraints, BasicConstraints)?.value.cA,
        false,
      );
    });

    it('carries a SAN that is not critical, since its subject is not empty (RFC 5280 §4.2.1.6)', () => {
      const certificate = AsnConvert.parse(leaf.raw, Certificate);
      const san = certificate.tbsCertificate.extensions?.find((item) => item.extnID === id_ce_subjectAltName);
      assert.equal(san?.critical, false);
    });

    it('is signed by the CA it comes with, whose SKI is its AKI', () => {
      assert.equal(leaf.verify(ca.publicKey), true);
      assert.equal(leaf.checkIssued(ca), true);
      assert.equal(leaf.verify(generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey), false);
      const aki = extensionOf(issued.certificatePem, id_ce_authorityKeyIdentifier, AuthorityKeyIdentifier);
      const caSki = extensionOf(issued.caCertificatePem, id_ce_subjectKeyIdentifier, SubjectKeyIdentifier);
      assert.ok(aki?.value.keyIdentifier && caSki);
      assert.deepEqual(Buffer.from(aki.value.keyIdentifier.buffer), Buffer.from(caSki.value.buffer));
      assert.ok(extensionOf(issued.certificatePem, id_ce_subjectKeyIdentifier, SubjectKeyIdentifier));
    });

    it('comes with the private key of its P-256 public key', () => {
      const publicKey = createPublicKey(issued.privateKeyPem);
      assert.equal(publicKey.equals(leaf.publicKey), true);
      assert.equal(leaf.publicKey.asymmetricKeyDetails?.namedCurve, 'prime256v1');
    });

    it('is valid from 5 minutes before now (clock skew) for 365 days by default, in whole seconds', () => {
      assert.equal(new Date(leaf.validFrom).toISOString(), '2025-03-01T11:55:00.000Z');
      assert.equal(new Date(leaf.validTo).toISOString(), '2026-03-01T12:00:00.000Z');
    });
  });

  describe('the CA', () => {
    it('is a self-signed P-256 CA that may sign certificates', () => {
      assert.equal(ca.ca, true);
      assert.equal(ca.verify(ca.publicKey), true);
      assert.equal(ca.subject, ca.issuer);
      assert.equal(ca.publicKey.asymmetricKeyDetails?.namedCurve, 'prime256v1');
      const keyUsage = extensionOf(issued.caCertificatePem, id_ce_keyUsage, KeyUsage);
      assert.ok(keyUsage && (keyUsage.value.toNumber() & KeyUsageFlags.keyCertSign) !== 0);
      assert.equal(
        extensionOf(issued.caCertificatePem, id_ce_basicConstraints, BasicConstraints)?.value.cA,
        true,
      );
    });

    it('is fresh on every call', async () => {
      const again = await issueServingCertificate({ hosts: HOSTS, now: NOW });
      assert.notEqual(new X509Certificate(again.caCertificatePem).fingerprint256, ca.fingerprint256);
      assert.equal(leaf.verify(new X509Certificate(again.caCertificatePem).publicKey), false);
    });
  });

  it('counts validityDays from now', async () => {
    const short = await issueServingCertificate({ hosts: ['localhost'], now: NOW, validityDays: 30 });
    assert.equal(
      new Date(new X509Certificate(short.certificatePem).validTo).toISOString(),
      '2025-03-31T12:00:00.000Z',
    );
    assert.equal(
      new Date(new X509Certificate(short.caCertificatePem).validTo).toISOString(),
      '2025-03-31T12:00:00.000Z',
    );
  });

  describe('when the options are unusable', () => {
    const cases: [string, Parameters<typeof issueServingCertificate>[0], RegExp][] = [
      ['no host', { hosts: [] }, /^hosts: expected 1 to 100 names or addresses, received 0$/],
      [
        'an underscore in a name',
        { hosts: ['localhost', 'bad_host'] },
        /^hosts\[1\]: .*received "bad_host"$/,
      ],
      ['an empty label', { hosts: ['a..svc'] }, /^hosts\[0\]: /],
      ['an empty host', { hosts: [''] }, /^hosts\[0\]: /],
      ['a URL', { hosts: ['https://sigil.svc'] }, /^hosts\[0\]: /],
      ['an IPv6 zone', { hosts: ['fe80::1%eth0'] }, /^hosts\[0\]: .*without zone/],
      ['a bracketed IPv6 address', { hosts: ['[::1]'] }, /^hosts\[0\]: /],
      [
        '0 days',
        { hosts: ['localhost'], validityDays: 0 },
        /^validityDays: expected an integer from 1 to 3650, received 0$/,
      ],
      ['a fraction of a day', { hosts: ['localhost'], validityDays: 1.5 }, /^validityDays: .*received 1\.5$/],
      ['NaN days', { hosts: ['localhost'], validityDays: Number.NaN }, /^validityDays: .*received NaN$/],
    ];
    for (const [name, options, message] of cases) {
      it(`refuses ${name} with CA_CONFIG_INVALID`, async () => {
        await assert.rejects(issueServingCertificate(options), (error: unknown) => {
          assert.ok(error instanceof CaError);
          assert.equal(error.code, 'CA_CONFIG_INVALID');
          assert.match(error.message, message);
          return true;
        });
      });
    }
  });

  describe('checked by other X.509 implementations', () => {
    let dir: string;
    before(async () => {
      dir = await mkdtemp(join(tmpdir(), 'sigil-serving-'));
      await writeFile(join(dir, 'ca.pem'), issued.caCertificatePem);
      await writeFile(join(dir, 'cert.pem'), issued.certificatePem);
    });
    after(() => rm(dir, { recursive: true, force: true }));

    const openssl = installed('openssl');
    it(
      'passes openssl verify -CAfile as an SSL server certificate for a listed host and address',
      { skip: openssl ? false : 'openssl is not installed' },
      async () => {
        const common = [
          'verify',
          '-purpose',
          'sslserver',
          '-attime',
          String(Math.floor(NOW.getTime() / 1000)),
          '-CAfile',
        ];
        const ok = await run(openssl!, [
          ...common,
          join(dir, 'ca.pem'),
          '-verify_hostname',
          'localhost',
          join(dir, 'cert.pem'),
        ]);
        assert.match(ok, /cert\.pem: OK/);
        await run(openssl!, [...common, join(dir, 'ca.pem'), '-verify_ip', '::1', join(dir, 'cert.pem')]);
        await assert.rejects(
          run(openssl!, [
            ...common,
            join(dir, 'ca.pem'),
            '-verify_hostname',
            'evil.svc',
            join(dir, 'cert.pem'),
          ]),
          /hostname mismatch/,
        );
      },
    );

    const go = installed('go');
    it(
      "passes Go's crypto/x509 verification for every host, as Kubernetes' API server runs it",
      { skip: go ? false : 'go is not installed (the API server verifies with Go crypto/x509)' },
      async () => {
        const program = fileURLToPath(new URL('fixtures/serving-certificate-verify.go', import.meta.url));
        const files = [join(dir, 'current-ca.pem'), join(dir, 'current-cert.pem')];
        // the certificate is valid now only if NOW is recent; Go verifies at the current time
        const current = await issueServingCertificate({ hosts: HOSTS });
        await writeFile(files[0]!, current.caCertificatePem);
        await writeFile(files[1]!, current.certificatePem);
        await run(go!, ['run', program, ...files, ...HOSTS], { cwd: dir });
        await assert.rejects(
          run(go!, ['run', program, ...files, 'other.svc'], { cwd: dir }),
          /not other\.svc/,
        );
      },
    );
  });
});
