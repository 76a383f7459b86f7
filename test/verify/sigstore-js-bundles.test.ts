// The sigstore-js backward-compatibility bundles (/work/shared/vectors/sigstore-js, upstream
// sigstore/sigstore-js tests/bundles @ 769a53d8): DSSE bundles v0.1–v0.3 that upstream CI verifies with
// `sigstore verify` against the production trust root, with no artifact or identity given. Here the
// artifact is the subject digest of the in-toto statement inside the envelope (sigstore-go requires an
// artifact; this one is what the statement says was signed).
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { describe, it } from 'node:test';
import { certificateIdentity, parseBundle } from '../../src/verify/index.ts';
import { vectorPath } from '../tools/vectors.ts';
import {
  productionVerifier,
  readJson,
  subjectDigestOf,
  type DsseBundleJson,
} from './dsse-bundle-fixtures.ts';
import { throwsCode } from './certificate-chain-fixtures.ts';

const FOLDER = 'sigstore-js/tests-bundles';
/**
 * Its chain carries the root CA. sigstore-js's compatibility CI accepts it, but sigstore-conformance
 * bundle-with-root-cert_fail ("bundle certificate chain contains a root certificate: client should
 * reject this") refuses the same shape, and the conformance suite is the cross-client standard: the
 * conformance rule wins (sigstore-js README, "Conflict to note").
 */
const FULL_CHAIN = 'bundleV01-full-cert-chain.sigstore';
/** Who signed every bundle, as the folder's README states it. */
const SIGNER = { san: 'brian@dehamer.com', issuer: 'https://github.com/login/oauth' };

const names = readdirSync(vectorPath(FOLDER)).filter((name) => name.endsWith('.sigstore'));
const read = (name: string): DsseBundleJson => readJson<DsseBundleJson>(`${FOLDER}/${name}`);

describe('sigstore-js compatibility bundles against the production trusted root', () => {
  it('has the 9 bundles the README lists', () => {
    assert.equal(names.length, 9);
    assert.ok(names.includes(FULL_CHAIN));
  });

  for (const name of names.filter((name) => name !== FULL_CHAIN)) {
    it(`${name}: verifies for the in-toto subject digest with any certificate identity`, () => {
      const bundle = read(name);
      const result = productionVerifier.verify(bundle, {
        artifact: subjectDigestOf(bundle),
        signer: { kind: 'anyCertificateIdentityUnsafe' },
      });
      assert.equal(result.mediaType, bundle.mediaType);
      assert.equal(result.signer.kind, 'certificate');
      assert.equal(result.tlogEntries.length, 1);
      assert.equal(result.verifiedTimes[0]?.kind, 'transparencyLog');
      assert.equal(
        (result.statement as { subject: { name: string }[] }).subject[0]?.name,
        'pkg:npm/sigstore@1.0.0',
      );
    });
  }

  it('verifies every bundle for the exact SAN and issuer its certificate holds (brian@dehamer.com, GitHub OAuth)', () => {
    for (const name of names.filter((name) => name !== FULL_CHAIN)) {
      const bundle = read(name);
      const signer = parseBundle(bundle).verificationMaterial.signer;
      assert.equal(signer.kind, 'certificate', name);
      const identity = certificateIdentity(signer.certificate);
      assert.equal(identity.subjectAlternativeName, SIGNER.san, name);
      assert.equal(identity.sanType, 'email', name);
      assert.equal(identity.extensions.issuer, SIGNER.issuer, name);
      const policy = {
        subject: { exact: identity.subjectAlternativeName },
        issuer: { exact: identity.extensions.issuer },
      };
      const result = productionVerifier.verify(bundle, {
        artifact: subjectDigestOf(bundle),
        signer: { kind: 'certificateIdentities', identities: [policy] },
      });
      assert.ok(result.signer.kind === 'certificate', name);
      assert.deepEqual(result.signer.matchedPolicy, policy, name);
    }
  });

  it('refuses another identity with VERIFY_IDENTITY_MISMATCH', () => {
    const bundle = read('bundleV03-dsse.sigstore');
    throwsCode(
      () =>
        productionVerifier.verify(bundle, {
          artifact: subjectDigestOf(bundle),
          signer: {
            kind: 'certificateIdentities',
            identities: [{ subject: { exact: 'someone@example.com' }, issuer: { exact: SIGNER.issuer } }],
          },
        }),
      'VERIFY_IDENTITY_MISMATCH',
    );
  });

  it('refuses a digest the statement does not name with VERIFY_ARTIFACT_MISMATCH', () => {
    const bundle = read('bundleV03-intoto.sigstore');
    const artifact = subjectDigestOf(bundle);
    assert.ok(artifact.kind === 'digest');
    const other = Uint8Array.from(artifact.digest);
    other[0]! ^= 0x01;
    throwsCode(
      () =>
        productionVerifier.verify(bundle, {
          artifact: { ...artifact, digest: other },
          signer: { kind: 'anyCertificateIdentityUnsafe' },
        }),
      'VERIFY_ARTIFACT_MISMATCH',
    );
  });

  describe(`when the chain carries the root (${FULL_CHAIN})`, () => {
    it('verifies it as stored: the root it carries is the trusted production root', () => {
      // Unlike conformance bundle-with-root-cert_fail, whose chain brings a root of its own (refused with
      // VERIFY_CERTIFICATE_ROOT_IN_BUNDLE there), this chain is exactly the trusted CA's: sigstore-js CI
      // accepts it, and so does Sigil (the path is built from the trusted root either way).
      const bundle = read(FULL_CHAIN);
      assert.equal(bundle.verificationMaterial.x509CertificateChain?.certificates.length, 3);
      const result = productionVerifier.verify(bundle, {
        artifact: subjectDigestOf(bundle),
        signer: {
          kind: 'certificateIdentities',
          identities: [{ subject: { exact: SIGNER.san }, issuer: { exact: SIGNER.issuer } }],
        },
      });
      assert.equal(result.tlogEntries[0]?.logIndex, 27244980);
    });
  });
});
