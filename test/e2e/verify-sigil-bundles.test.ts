import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { attest, sign } from 'sigstore';
import {
  VerificationError,
  Verifier,
  parseTrustedRoot,
  type VerificationPolicy,
} from '../../src/verify/index.ts';
import { run } from '../tools/service.ts';
import { devToken, startSigil, type RunningSigil } from '../tools/sigil-process.ts';
import { toolPath } from '../tools/tools.ts';

/**
 * Sigil's verifier on bundles that real clients made against Sigil's own CA and log: sigstore-js
 * (`sign` and `attest`, Rekor v1) and cosign (`sign-blob --bundle`), each checked against the trusted root
 * `sigil up` wrote — chain, SCT, SET, inclusion proof and checkpoint, signature, identity — and through
 * `sigil verify-bundle`, whose exit code says whether it verified.
 */
describe("Sigil's verifier on bundles signed against sigil up", () => {
  let sigil: RunningSigil;
  let dir: string;
  let verifier: Verifier;
  const email = 'verify@example.com';
  const artifact = Buffer.from('signed against sigil, verified by sigil\n');
  const identity = (subject = email): VerificationPolicy['signer'] => ({
    kind: 'certificateIdentities',
    identities: [{ subject: { exact: subject }, issuer: { exact: sigil.summary.ca.oidcIssuer } }],
  });

  before(async () => {
    sigil = await startSigil();
    dir = await mkdtemp(join(tmpdir(), 'sigil-verify-'));
    await writeFile(join(dir, 'artifact.txt'), artifact);
    await writeFile(join(dir, 'token'), await devToken(sigil, 'verify', email));
    verifier = new Verifier(parseTrustedRoot(await readFile(sigil.summary.ca.trustedRootFile)));
  });

  after(async () => {
    await sigil?.cleanup();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const sigstoreOptions = async () => ({
    fulcioURL: sigil.summary.ca.url,
    rekorURL: sigil.url,
    identityToken: await readFile(join(dir, 'token'), 'utf8'),
    timeout: 20_000,
  });

  it('verifies a sigstore-js message-signature bundle and refuses another identity or artifact', async () => {
    const bundle = await sign(artifact, await sigstoreOptions());
    const result = verifier.verify(bundle, {
      artifact: { kind: 'bytes', bytes: artifact },
      signer: identity(),
    });
    assert.equal(
      result.signer.kind === 'certificate' && result.signer.identity.subjectAlternativeName,
      email,
    );
    assert.equal(result.tlogEntries[0]?.baseUrl, sigil.url);
    assert.ok(result.tlogEntries[0]?.inclusionProven);
    assert.throws(
      () =>
        verifier.verify(bundle, {
          artifact: { kind: 'bytes', bytes: artifact },
          signer: identity('other@example.com'),
        }),
      (error: unknown) => error instanceof VerificationError && error.code === 'VERIFY_IDENTITY_MISMATCH',
    );
    assert.throws(
      () =>
        verifier.verify(bundle, {
          artifact: { kind: 'bytes', bytes: Buffer.from('changed') },
          signer: identity(),
        }),
      (error: unknown) => error instanceof VerificationError && error.code === 'VERIFY_ARTIFACT_MISMATCH',
    );
  });

  it('verifies a sigstore-js DSSE attestation against its subject', async () => {
    const subject = {
      name: 'artifact.txt',
      digest: { sha256: (await import('node:crypto')).hash('sha256', artifact) },
    };
    const statement = Buffer.from(
      JSON.stringify({
        _type: 'https://in-toto.io/Statement/v1',
        subject: [subject],
        predicateType: 'https://example.com/p',
        predicate: {},
      }),
    );
    const bundle = await attest(statement, 'application/vnd.in-toto+json', await sigstoreOptions());
    const result = verifier.verify(bundle, {
      artifact: { kind: 'bytes', bytes: artifact },
      signer: identity(),
    });
    assert.equal((result.statement as { predicateType?: string }).predicateType, 'https://example.com/p');
  });

  describe('cosign sign-blob', () => {
    before(async () => {
      await run(
        toolPath('cosign'),
        [
          'sign-blob',
          '--yes',
          '--fulcio-url',
          sigil.summary.ca.url,
          '--rekor-url',
          sigil.url,
          '--use-signing-config=false',
          '--identity-token',
          join(dir, 'token'),
          '--bundle',
          'cosign.sigstore.json',
          'artifact.txt',
        ],
        { cwd: dir },
      );
    });

    it('verifies the bundle cosign wrote', async () => {
      const bundle = await readFile(join(dir, 'cosign.sigstore.json'));
      const result = verifier.verify(bundle, {
        artifact: { kind: 'bytes', bytes: artifact },
        signer: identity(),
      });
      assert.equal(result.signer.kind, 'certificate');
    });

    it('`sigil verify-bundle` exits 0 for it, and 1 naming the code for a changed artifact', async () => {
      const cli = (artifactFile: string) =>
        run(
          process.execPath,
          [
            '--import',
            'tsx',
            join(process.cwd(), 'src/cli/sigil.ts'),
            'verify-bundle',
            join(dir, 'cosign.sigstore.json'),
            '--artifact',
            join(dir, artifactFile),
            '--trusted-root',
            sigil.summary.ca.trustedRootFile,
            '--certificate-identity',
            email,
            '--certificate-oidc-issuer',
            sigil.summary.ca.oidcIssuer,
          ],
          { cwd: process.cwd() },
        );
      const ok = await cli('artifact.txt');
      assert.match(ok, /^Verified OK/);
      await writeFile(join(dir, 'changed.txt'), 'changed\n');
      await assert.rejects(cli('changed.txt'), /VERIFY_ARTIFACT_MISMATCH/);
    });
  });
});
