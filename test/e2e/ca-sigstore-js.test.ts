import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { bundleFromJSON } from '@sigstore/bundle';
import { TrustedRoot } from '@sigstore/protobuf-specs';
import { Verifier, toSignedEntity, toTrustMaterial } from '@sigstore/verify';
import { attest, sign } from 'sigstore';
import { devToken, startSigil, type RunningSigil } from '../tools/sigil-process.ts';

/**
 * sigstore-js as an independent client of the keyless CA and the Rekor v1 log: `sign()` and `attest()`
 * with an ID token from the development issuer, then @sigstore/verify against the TrustedRoot `sigil up`
 * wrote — certificate chain, embedded SCT (ctlog threshold 1), log entry, and identity.
 */
describe('keyless signing with sigstore-js against sigil up', () => {
  let sigil: RunningSigil;
  let root: TrustedRoot;
  let token: string;
  const email = 'js@example.com';
  const artifact = Buffer.from('signed by sigstore-js through sigil\n');

  before(async () => {
    sigil = await startSigil();
    root = TrustedRoot.fromJSON(JSON.parse(await readFile(sigil.summary.ca.trustedRootFile, 'utf8')));
    token = await devToken(sigil, 'js', email);
  });

  after(() => sigil?.cleanup());

  const options = () => ({
    fulcioURL: sigil.summary.ca.url,
    rekorURL: sigil.url,
    identityToken: token,
    timeout: 20_000,
  });
  const verifier = (ctlogThreshold = 1) =>
    new Verifier(toTrustMaterial(root), { tlogThreshold: 1, ctlogThreshold });

  it('signs a blob and the bundle verifies with the SCT checked and the identity matched', async () => {
    const bundle = bundleFromJSON(await sign(artifact, options()));
    const signer = verifier().verify(toSignedEntity(bundle, artifact), {
      subjectAlternativeName: email,
      extensions: { issuer: sigil.summary.ca.oidcIssuer },
    });
    assert.ok(signer.identity);
    assert.equal(signer.identity.subjectAlternativeName, email);

    // another identity, and another artifact, fail
    assert.throws(
      () =>
        verifier().verify(toSignedEntity(bundle, artifact), { subjectAlternativeName: 'other@example.com' }),
      { name: 'PolicyError' },
    );
    assert.throws(() => verifier().verify(toSignedEntity(bundle, Buffer.from('changed'))), {
      name: 'VerificationError',
    });
  });

  it('attests an in-toto statement (DSSE) and the bundle verifies', async () => {
    const statement = Buffer.from(
      JSON.stringify({
        _type: 'https://in-toto.io/Statement/v1',
        subject: [{ name: 'artifact', digest: { sha256: 'a'.repeat(64) } }],
        predicateType: 'https://slsa.dev/provenance/v1',
        predicate: {},
      }),
    );
    const bundle = bundleFromJSON(await attest(statement, 'application/vnd.in-toto+json', options()));
    assert.equal(bundle.content.$case, 'dsseEnvelope');
    verifier().verify(toSignedEntity(bundle), { subjectAlternativeName: email });
  });

  it('fails verification when the trusted root names no CT log the SCT could come from', async () => {
    const bundle = bundleFromJSON(await sign(artifact, options()));
    const withoutCt = TrustedRoot.fromJSON({ ...(TrustedRoot.toJSON(root) as object), ctlogs: [] });
    assert.throws(
      () =>
        new Verifier(toTrustMaterial(withoutCt), { tlogThreshold: 1, ctlogThreshold: 1 }).verify(
          toSignedEntity(bundle, artifact),
        ),
      { name: 'VerificationError' },
    );
    // The leaf is a 10-minute certificate with the email SAN, chained to the trusted root's CA.
    const content = bundle.verificationMaterial.content;
    if (content.$case !== 'certificate' && content.$case !== 'x509CertificateChain') {
      assert.fail(`expected a certificate in the bundle, received ${content.$case}`);
    }
    const leafDer =
      content.$case === 'certificate'
        ? content.certificate.rawBytes
        : content.x509CertificateChain.certificates[0]!.rawBytes;
    const leaf = new X509Certificate(leafDer);
    assert.equal(leaf.subjectAltName, `email:${email}`);
    assert.equal(new Date(leaf.validTo).getTime() - new Date(leaf.validFrom).getTime(), 600_000);
  });
});
