import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { id_kp_serverAuth } from '@peculiar/asn1-x509';
import { parseCertificate, type ParsedCertificate } from '../../src/core/index.ts';
import { verifyCertificateChain } from '../../src/verify/certificate-chain.ts';
import { verifyCertificateSignature } from '../../src/verify/certificate-signature.ts';
import { VerificationError } from '../../src/verify/errors.ts';
import { buildTestChain, issueCertificate } from '../ctlog/chain-fixtures.ts';
import {
  FULCIO_LEAVES,
  bundleCertificates,
  flipByte,
  fulcioIntermediate,
  fulcioLeaf,
  offsetOf,
  productionTrust,
  readPemCertificates,
  testAuthority,
  throwsCode,
} from './certificate-chain-fixtures.ts';

const parse = (der: Uint8Array): ParsedCertificate => parseCertificate(der, 'test');
const trust = productionTrust();
const now = Date.now();

describe('verifyCertificateChain with public-good Fulcio certificates', () => {
  for (const name of FULCIO_LEAVES) {
    it(`chains ${name} through the 2022 intermediate to the production root`, () => {
      const leaf = fulcioLeaf(name);
      const verified = verifyCertificateChain(leaf, [], trust.certificateAuthorities, [
        leaf.notBefore + 1000,
      ]);
      assert.equal(verified.authority, trust.certificateAuthorities[1]);
      assert.deepEqual(
        verified.path.map((certificate) => certificate.fingerprint),
        [
          leaf.fingerprint,
          fulcioIntermediate().fingerprint,
          readPemCertificates('fulcio-certs/public-good-fulcio-2022-root.pem')[0]!.fingerprint,
        ],
      );
    });
  }

  it('accepts the notBefore and notAfter instants themselves (RFC 5280 §4.1.2.5: inclusive)', () => {
    const leaf = fulcioLeaf('github-actions-sigstore-js-release-leaf');
    verifyCertificateChain(leaf, [], trust.certificateAuthorities, [leaf.notBefore, leaf.notAfter]);
  });

  it('accepts a bundle chain holding the trusted intermediate (the email leaf’s upstream chain, root left out)', () => {
    const leaf = fulcioLeaf('email-github-oauth-connaisseur-leaf');
    const verified = verifyCertificateChain(leaf, [fulcioIntermediate()], trust.certificateAuthorities, [
      leaf.notBefore + 1000,
    ]);
    assert.equal(verified.path.length, 3);
  });

  for (const caseName of ['happy-path-v0.1', 'happy-path-v0.2', 'happy-path-v0.3']) {
    it(`verifies the certificate of conformance ${caseName} at its integrated time`, () => {
      const { leaf, chain, integratedTime } = bundleCertificates(
        `sigstore-conformance/bundle-verify/${caseName}/bundle.sigstore.json`,
      );
      verifyCertificateChain(leaf, chain, trust.certificateAuthorities, [integratedTime!]);
    });
  }

  describe('when the bundle chain carries the root', () => {
    it('rejects conformance bundle-with-root-cert_fail with VERIFY_CERTIFICATE_ROOT_IN_BUNDLE', () => {
      const { leaf, chain, integratedTime } = bundleCertificates(
        'sigstore-conformance/bundle-verify/bundle-with-root-cert_fail/bundle.sigstore.json',
      );
      assert.equal(chain.length, 2);
      throwsCode(
        () => verifyCertificateChain(leaf, chain, trust.certificateAuthorities, [integratedTime!]),
        'VERIFY_CERTIFICATE_ROOT_IN_BUNDLE',
      );
    });

    it('accepts the sigstore-js compatibility bundle whose chain carries the trusted root itself', () => {
      const { leaf, chain, integratedTime } = bundleCertificates(
        'sigstore-js/tests-bundles/bundleV01-full-cert-chain.sigstore',
      );
      const verified = verifyCertificateChain(leaf, chain, trust.certificateAuthorities, [integratedTime!]);
      assert.equal(verified.path.length, 3);
    });
  });

  it('rejects a verified time after notAfter with VERIFY_CERTIFICATE_EXPIRED', () => {
    const leaf = fulcioLeaf('github-actions-conformance-beacon-leaf');
    throwsCode(
      () => verifyCertificateChain(leaf, [], trust.certificateAuthorities, [leaf.notAfter + 1]),
      'VERIFY_CERTIFICATE_EXPIRED',
    );
  });

  it('rejects when one of several verified times falls outside the validity', () => {
    const leaf = fulcioLeaf('github-actions-conformance-beacon-leaf');
    throwsCode(
      () =>
        verifyCertificateChain(leaf, [], trust.certificateAuthorities, [
          leaf.notBefore + 1,
          leaf.notBefore - 1,
        ]),
      'VERIFY_CERTIFICATE_EXPIRED',
    );
  });

  it('rejects with VERIFY_CERTIFICATE_CHAIN_ERROR when only the 2021 CA is trusted, naming the leaf issuer', () => {
    const leaf = fulcioLeaf('github-actions-sigstore-js-release-leaf');
    const only2021 = [{ ...trust.certificateAuthorities[0]!, validFor: { start: 0, end: Infinity } }];
    assert.throws(
      () => verifyCertificateChain(leaf, [], only2021, [leaf.notBefore + 1]),
      (error: unknown) =>
        error instanceof VerificationError &&
        error.code === 'VERIFY_CERTIFICATE_CHAIN_ERROR' &&
        error.message.includes('CN=sigstore-intermediate'),
    );
  });

  it('rejects every flip of a byte of the leaf signature with VERIFY_CERTIFICATE_CHAIN_ERROR', () => {
    const leaf = fulcioLeaf('github-actions-sigstore-js-release-leaf');
    const start = offsetOf(leaf, leaf.signature);
    for (let offset = start; offset < start + leaf.signature.length; offset++) {
      const mutated = flipByte(leaf, offset)!;
      throwsCode(
        () => verifyCertificateChain(mutated, [], trust.certificateAuthorities, [leaf.notBefore + 1000]),
        'VERIFY_CERTIFICATE_CHAIN_ERROR',
      );
    }
  });

  it('throws only VerificationError for any flipped byte of the leaf that still parses', () => {
    const leaf = fulcioLeaf('email-github-oauth-connaisseur-leaf');
    for (let offset = 0; offset < leaf.der.length; offset++) {
      const mutated = flipByte(leaf, offset);
      if (!mutated) continue;
      assert.throws(
        () => verifyCertificateChain(mutated, [], trust.certificateAuthorities, [leaf.notBefore + 1000]),
        VerificationError,
        `offset ${offset}`,
      );
    }
  });
});

describe('verifyCertificateChain with generated chains', () => {
  const { root, intermediate, leaf } = buildTestChain('chain test root');
  const authority = testAuthority([intermediate, root]);

  it('returns the path leaf, intermediate, root and the CA it went through', () => {
    const verified = verifyCertificateChain(parse(leaf.der), [], [authority], [now]);
    assert.equal(verified.authority, authority);
    assert.deepEqual(
      verified.path.map((certificate) => certificate.der),
      [leaf.der, intermediate.der, root.der],
    );
  });

  it('accepts a leaf the root issued directly, with a CA of the root alone', () => {
    const direct = issueCertificate({ subject: 'direct', keyType: 'ed25519', issuer: root });
    verifyCertificateChain(parse(direct.der), [], [testAuthority([root])], [now]);
  });

  it('tries the next CA when the first does not issue the leaf', () => {
    const other = buildTestChain('other root');
    const verified = verifyCertificateChain(
      parse(leaf.der),
      [],
      [testAuthority([other.intermediate, other.root]), authority],
      [now],
    );
    assert.equal(verified.authority, authority);
  });

  describe('when the leaf is not a code-signing end-entity certificate', () => {
    it('rejects a leaf without extended key usage with VERIFY_CERTIFICATE_USAGE_ERROR', () => {
      const bare = issueCertificate({ subject: 'no eku', keyType: 'p256', issuer: intermediate, ekus: null });
      throwsCode(
        () => verifyCertificateChain(parse(bare.der), [], [authority], [now]),
        'VERIFY_CERTIFICATE_USAGE_ERROR',
      );
    });

    it('rejects a leaf whose extended key usage is serverAuth only', () => {
      const server = issueCertificate({
        subject: 'server',
        keyType: 'p256',
        issuer: intermediate,
        ekus: [id_kp_serverAuth],
      });
      throwsCode(
        () => verifyCertificateChain(parse(server.der), [], [authority], [now]),
        'VERIFY_CERTIFICATE_USAGE_ERROR',
      );
    });

    it('rejects a CA certificate used as the leaf', () => {
      const ca = issueCertificate({ subject: 'sub ca', keyType: 'p256', issuer: intermediate, ca: true });
      throwsCode(
        () => verifyCertificateChain(parse(ca.der), [], [authority], [now]),
        'VERIFY_CERTIFICATE_USAGE_ERROR',
      );
    });
  });

  it('rejects a time ten minutes after the leaf expired with VERIFY_CERTIFICATE_EXPIRED', () => {
    throwsCode(
      () => verifyCertificateChain(parse(leaf.der), [], [authority], [now + 20 * 60_000]),
      'VERIFY_CERTIFICATE_EXPIRED',
    );
  });

  describe('when the leaf does not chain to a trusted CA', () => {
    it('rejects a leaf with a bad signature with VERIFY_CERTIFICATE_CHAIN_ERROR', () => {
      const forged = issueCertificate({
        subject: 'forged',
        keyType: 'p256',
        issuer: intermediate,
        corruptSignature: true,
      });
      throwsCode(
        () => verifyCertificateChain(parse(forged.der), [], [authority], [now]),
        'VERIFY_CERTIFICATE_CHAIN_ERROR',
      );
    });

    it('rejects a leaf issued by another CA of the same name', () => {
      const impostor = buildTestChain('chain test root');
      throwsCode(
        () => verifyCertificateChain(parse(impostor.leaf.der), [], [authority], [now]),
        'VERIFY_CERTIFICATE_CHAIN_ERROR',
      );
    });

    it('rejects a leaf naming an issuer other than the CA', () => {
      const misnamed = issueCertificate({
        subject: 'misnamed',
        keyType: 'p256',
        issuer: intermediate,
        issuerName: 'someone else',
      });
      throwsCode(
        () => verifyCertificateChain(parse(misnamed.der), [], [authority], [now]),
        'VERIFY_CERTIFICATE_CHAIN_ERROR',
      );
    });

    it('rejects when no CA is valid at the verified time', () => {
      const retired = testAuthority([intermediate, root], { start: 0, end: now - 1 });
      throwsCode(
        () => verifyCertificateChain(parse(leaf.der), [], [retired], [now]),
        'VERIFY_CERTIFICATE_CHAIN_ERROR',
      );
    });

    it('rejects a bundle intermediate that is not one of the CA’s certificates', () => {
      const other = buildTestChain('other root');
      throwsCode(
        () => verifyCertificateChain(parse(leaf.der), [parse(other.intermediate.der)], [authority], [now]),
        'VERIFY_CERTIFICATE_CHAIN_ERROR',
      );
    });

    it('rejects a trusted chain whose intermediate is not a CA', () => {
      const notCa = issueCertificate({ subject: 'not a ca', keyType: 'p384', issuer: root });
      const issued = issueCertificate({ subject: 'leaf', keyType: 'p256', issuer: notCa });
      throwsCode(
        () => verifyCertificateChain(parse(issued.der), [], [testAuthority([notCa, root])], [now]),
        'VERIFY_CERTIFICATE_CHAIN_ERROR',
      );
    });

    it('rejects a trusted chain whose intermediate restricts EKU to serverAuth', () => {
      const tls = issueCertificate({
        subject: 'tls ca',
        keyType: 'p384',
        issuer: root,
        ca: true,
        ekus: [id_kp_serverAuth],
      });
      const issued = issueCertificate({ subject: 'leaf', keyType: 'p256', issuer: tls });
      throwsCode(
        () => verifyCertificateChain(parse(issued.der), [], [testAuthority([tls, root])], [now]),
        'VERIFY_CERTIFICATE_CHAIN_ERROR',
      );
    });

    it('rejects a trusted chain whose intermediate the root did not sign', () => {
      const unsigned = issueCertificate({
        subject: 'chain test root intermediate',
        keyType: 'p384',
        ca: true,
        issuerName: 'chain test root',
      });
      const issued = issueCertificate({ subject: 'leaf', keyType: 'p256', issuer: unsigned });
      throwsCode(
        () => verifyCertificateChain(parse(issued.der), [], [testAuthority([unsigned, root])], [now]),
        'VERIFY_CERTIFICATE_CHAIN_ERROR',
      );
    });
  });

  describe('when the bundle chain carries a root', () => {
    it('accepts a copy of the trusted root: the path is built from the trusted CA either way', () => {
      const verified = verifyCertificateChain(
        parse(leaf.der),
        [parse(intermediate.der), parse(root.der)],
        [authority],
        [now],
      );
      assert.equal(verified.authority, authority);
    });

    it('rejects an untrusted self-signed certificate the same way', () => {
      const stranger = issueCertificate({ subject: 'stranger', keyType: 'p256', ca: true, ekus: null });
      throwsCode(
        () => verifyCertificateChain(parse(leaf.der), [parse(stranger.der)], [authority], [now]),
        'VERIFY_CERTIFICATE_ROOT_IN_BUNDLE',
      );
    });
  });

  it('refuses a call without verified times with VERIFY_OPTIONS_INVALID', () => {
    throwsCode(() => verifyCertificateChain(parse(leaf.der), [], [authority], []), 'VERIFY_OPTIONS_INVALID');
  });
});

describe('verifyCertificateSignature', () => {
  const { root, intermediate, leaf } = buildTestChain('signature root');

  it('verifies RSA, ECDSA P-384 and Ed25519 signatures by their issuers', () => {
    assert.equal(verifyCertificateSignature(parse(intermediate.der), parse(root.der)), true);
    assert.equal(verifyCertificateSignature(parse(leaf.der), parse(intermediate.der)), true);
    const edRoot = issueCertificate({ subject: 'ed', keyType: 'ed25519', ca: true });
    assert.equal(verifyCertificateSignature(parse(edRoot.der), parse(edRoot.der)), true);
  });

  it('returns false for the wrong issuer, a wrong key type and a corrupted signature', () => {
    assert.equal(verifyCertificateSignature(parse(leaf.der), parse(root.der)), false);
    assert.equal(verifyCertificateSignature(parse(intermediate.der), parse(intermediate.der)), false);
    const forged = issueCertificate({
      subject: 'f',
      keyType: 'p256',
      issuer: intermediate,
      corruptSignature: true,
    });
    assert.equal(verifyCertificateSignature(parse(forged.der), parse(intermediate.der)), false);
  });

  it('verifies the public-good leaf by the public-good intermediate', () => {
    assert.equal(
      verifyCertificateSignature(fulcioLeaf('github-actions-sigstore-js-release-leaf'), fulcioIntermediate()),
      true,
    );
  });
});
