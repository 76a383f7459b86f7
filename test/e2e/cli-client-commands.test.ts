import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { run } from '../tools/service.ts';
import { startSigil, type RunningSigil } from '../tools/sigil-process.ts';

const cli = fileURLToPath(new URL('../../src/cli/sigil.ts', import.meta.url));
const sigilCli = (args: string[]) => run(process.execPath, ['--import', 'tsx', cli, ...args]);

/** `sigil token`, `sigil trust-config` and `sigil ca init` against a running `sigil up`. */
describe('the client commands', () => {
  let sigil: RunningSigil;
  let dir: string;

  before(async () => {
    sigil = await startSigil();
    dir = await mkdtemp(join(tmpdir(), 'sigil-cli-'));
  });

  const tokenArgs = () => [
    'token',
    '--issuer',
    sigil.summary.ca.oidcIssuer,
    '--subject',
    'cli',
    '--email',
    'cli@example.com',
  ];

  after(async () => {
    await sigil?.cleanup();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('sigil token prints an ID token of the development issuer with the subject and email asked for', async () => {
    const token = (await sigilCli(tokenArgs())).trim();
    const [, payload] = token.split('.');
    const claims = JSON.parse(Buffer.from(payload!, 'base64url').toString()) as Record<string, unknown>;
    assert.equal(claims.iss, sigil.summary.ca.oidcIssuer);
    assert.equal(claims.sub, 'cli');
    assert.equal(claims.email, 'cli@example.com');
    assert.equal(claims.email_verified, true);
    assert.equal(claims.aud, 'sigstore');
  });

  it('sigil token --out writes the bare token, as cosign --identity-token reads a file', async () => {
    const file = join(dir, 'token');
    const printed = await sigilCli([...tokenArgs(), '--out', file]);
    assert.equal(printed, '');
    assert.match(await readFile(file, 'utf8'), /^[\w-]+\.[\w-]+\.[\w-]+$/);
  });

  it('sigil trust-config fetches the trust material sigil up wrote, and says how to use it', async () => {
    const printed = await sigilCli(['trust-config', '--url', sigil.url, '--out', dir]);
    const fetched = await readFile(join(dir, 'trust-config.json'), 'utf8');
    assert.deepEqual(
      JSON.parse(fetched),
      JSON.parse(await readFile(sigil.summary.ca.trustConfigFile, 'utf8')),
    );
    assert.deepEqual(
      JSON.parse(await readFile(join(dir, 'trusted_root.json'), 'utf8')),
      JSON.parse(await readFile(sigil.summary.ca.trustedRootFile, 'utf8')),
    );
    assert.match(printed, /cosign verify-blob --trusted-root .*trusted_root\.json/);
    assert.match(printed, new RegExp(`sigil token --issuer ${sigil.summary.ca.oidcIssuer}`));
  });

  it('sigil trust-config tells the user what to do when nothing answers', async () => {
    await assert.rejects(
      sigilCli(['trust-config', '--url', 'http://127.0.0.1:9', '--out', dir]),
      /unreachable.*sigil up/s,
    );
  });

  it('sigil ca init creates a CA once and asks for a passphrase', async () => {
    const caDir = join(dir, 'ca');
    await assert.rejects(sigilCli(['ca', 'init', '--dir', caDir]), /SIGIL_CA_PASSPHRASE|--passphrase-file/);
    const passphraseFile = join(dir, 'passphrase');
    await writeFile(passphraseFile, 'a passphrase for the test\n');
    const summary = JSON.parse(
      await sigilCli(['ca', 'init', '--dir', caDir, '--passphrase-file', passphraseFile, '--json']),
    ) as { files: string[]; root: { subject: string } };
    assert.equal(summary.files.length, 6); // root, intermediate and precertificate signer, each with its key
    assert.equal(summary.root.subject, 'O=sigil, CN=sigil');
    assert.match(await readFile(join(caDir, 'intermediate-key.pem'), 'utf8'), /BEGIN ENCRYPTED PRIVATE KEY/);
    await assert.rejects(
      sigilCli(['ca', 'init', '--dir', caDir, '--passphrase-file', passphraseFile]),
      /refusing to overwrite a CA/,
    );
  });
});
