import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { run } from '../tools/service.ts';
import { devToken, startSigil, type RunningSigil } from '../tools/sigil-process.ts';
import { toolPath } from '../tools/tools.ts';

/**
 * cosign and sigstore-python as independent clients of Sigil's keyless CA, CT log and Rekor log: each
 * signs a blob with an ID token from the development issuer and verifies it against the trust material
 * `sigil up` wrote, SCT checks on (both clients require one with a CT log in the trusted root).
 */
describe('keyless signing with cosign and sigstore-python against sigil up', () => {
  let sigil: RunningSigil;
  let dir: string;
  const email = 'builder@example.com';
  const inDir = (command: string, args: string[]) => run(command, args, { cwd: dir });

  before(async () => {
    sigil = await startSigil();
    dir = await mkdtemp(join(tmpdir(), 'sigil-keyless-'));
    await writeFile(join(dir, 'artifact.txt'), 'signed keylessly against sigil\n');
    await writeFile(join(dir, 'tampered.txt'), 'not what was signed\n');
    // cosign reads --identity-token as a file when it names one; a JWT this long is not a valid file name
    await writeFile(join(dir, 'token'), await devToken(sigil, 'builder', email));
  });

  after(async () => {
    await sigil?.cleanup();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  describe('cosign', () => {
    const cosign = (args: string[]) => inDir(toolPath('cosign'), args);
    const verify = (artifact: string, identity: string, issuer = sigil.summary.ca.oidcIssuer) =>
      cosign([
        'verify-blob',
        '--trusted-root',
        sigil.summary.ca.trustedRootFile,
        '--bundle',
        'cosign.sigstore.json',
        '--certificate-identity',
        identity,
        '--certificate-oidc-issuer',
        issuer,
        artifact,
      ]);

    before(async () => {
      await cosign([
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
      ]);
    });

    it('verifies the bundle: certificate chain, embedded SCT, Rekor entry and identity', async () => {
      await verify('artifact.txt', email); // cosign exits 0 only when everything verified
    });

    it('refuses another identity, another issuer, and a changed artifact', async () => {
      await assert.rejects(
        verify('artifact.txt', 'someone-else@example.com'),
        /expected SAN value "someone-else@example.com", got "builder@example.com"/,
      );
      await assert.rejects(
        verify('artifact.txt', email, 'https://issuer.example'),
        /no matching CertificateIdentity/,
      );
      await assert.rejects(verify('tampered.txt', email), /exited 1/);
    });

    it('signs with the signing config from the trust config as well', async () => {
      await cosign([
        'sign-blob',
        '--yes',
        '--signing-config',
        join(sigil.summary.stateDir, 'signing-config.json'),
        '--trusted-root',
        sigil.summary.ca.trustedRootFile,
        '--identity-token',
        join(dir, 'token'),
        '--bundle',
        'cosign-config.sigstore.json',
        'artifact.txt',
      ]);
      await cosign([
        'verify-blob',
        '--trusted-root',
        sigil.summary.ca.trustedRootFile,
        '--bundle',
        'cosign-config.sigstore.json',
        '--certificate-identity',
        email,
        '--certificate-oidc-issuer',
        sigil.summary.ca.oidcIssuer,
        'artifact.txt',
      ]);
    });
  });

  describe('sigstore-python', () => {
    const python = (args: string[]) =>
      inDir(toolPath('sigstore-python'), ['--trust-config', sigil.summary.ca.trustConfigFile, ...args]);

    it('signs with --trust-config and verifies the identity', async () => {
      const token = await readFile(join(dir, 'token'), 'utf8');
      await python(['sign', '--identity-token', token, '--bundle', 'python.sigstore.json', 'artifact.txt']);
      await python([
        'verify',
        'identity',
        '--bundle',
        'python.sigstore.json',
        '--cert-identity',
        email,
        '--cert-oidc-issuer',
        sigil.summary.ca.oidcIssuer,
        'artifact.txt',
      ]);
      await assert.rejects(
        python([
          'verify',
          'identity',
          '--bundle',
          'python.sigstore.json',
          '--cert-identity',
          'someone-else@example.com',
          '--cert-oidc-issuer',
          sigil.summary.ca.oidcIssuer,
          'artifact.txt',
        ]),
      );
    });
  });
});
