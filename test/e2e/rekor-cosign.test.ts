import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { run } from '../tools/service.ts';
import { startSigil, type RunningSigil } from '../tools/sigil-process.ts';
import { toolPath } from '../tools/tools.ts';

/**
 * cosign (built from its Go module) as an independent client of both log APIs: it signs a blob with a
 * key, has the log witness it, and verifies the bundle offline against a trusted root that cosign
 * itself generates from the log's public key.
 */
describe('the logs with cosign as the client', () => {
  let sigil: RunningSigil;
  let dir: string;
  const cosign = (args: string[]) =>
    run(toolPath('cosign'), args, { cwd: dir, env: { ...process.env, COSIGN_PASSWORD: 'e2e' } });

  before(async () => {
    sigil = await startSigil();
    dir = await mkdtemp(join(tmpdir(), 'sigil-cosign-'));
    await cosign(['generate-key-pair']);
    await writeFile(join(dir, 'artifact.txt'), 'signed by cosign, witnessed by sigil\n');
    await writeFile(join(dir, 'tampered.txt'), 'not what was signed\n');
    await writeFile(join(dir, 'rekor-v1.pub'), sigil.summary.rekorV1.publicKeyPem);
    await writeFile(join(dir, 'rekor-v2.pub'), sigil.summary.log.publicKeyPem);
  });

  after(async () => {
    await sigil?.cleanup();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  async function trustedRoot(name: string, publicKey: string): Promise<string> {
    await cosign([
      'trusted-root',
      'create',
      `--rekor=url=${sigil.url},public-key=${publicKey},start-time=2020-01-01T00:00:00Z`,
      '--out',
      name,
    ]);
    return name;
  }

  async function verifyBoth(bundle: string, root: string): Promise<void> {
    // cosign exits 0 only when the signature, the log key, the checkpoint and the proof all verify.
    await cosign([
      'verify-blob',
      '--key',
      'cosign.pub',
      '--bundle',
      bundle,
      '--trusted-root',
      root,
      'artifact.txt',
    ]);
    await assert.rejects(
      cosign([
        'verify-blob',
        '--key',
        'cosign.pub',
        '--bundle',
        bundle,
        '--trusted-root',
        root,
        'tampered.txt',
      ]),
      /exited 1/,
    );
  }

  it('signs with Rekor v1 (hashedrekord 0.0.1, SET and inclusion proof) and verifies', async () => {
    await cosign([
      'sign-blob',
      '--yes',
      '--key',
      'cosign.key',
      '--rekor-url',
      sigil.url,
      '--use-signing-config=false',
      '--tlog-upload=true',
      '--bundle',
      'v1.bundle',
      'artifact.txt',
    ]);
    const bundle = JSON.parse(await readFile(join(dir, 'v1.bundle'), 'utf8')) as {
      verificationMaterial: {
        tlogEntries: { kindVersion: { version: string }; inclusionPromise?: unknown }[];
      };
    };
    assert.equal(bundle.verificationMaterial.tlogEntries[0]?.kindVersion.version, '0.0.1');
    assert.ok(bundle.verificationMaterial.tlogEntries[0]?.inclusionPromise);
    await verifyBoth('v1.bundle', await trustedRoot('v1-root.json', 'rekor-v1.pub'));
  });

  it('signs with Rekor v2 (hashedrekord 0.0.2, checkpointed inclusion proof) and verifies', async () => {
    const root = await trustedRoot('v2-root.json', 'rekor-v2.pub');
    await cosign([
      'signing-config',
      'create',
      `--rekor=url=${sigil.url},api-version=2,start-time=2020-01-01T00:00:00Z,operator=sigil`,
      '--rekor-config',
      'ANY',
      '--out',
      'signing-config.json',
    ]);
    await cosign([
      'sign-blob',
      '--yes',
      '--key',
      'cosign.key',
      '--signing-config',
      'signing-config.json',
      '--trusted-root',
      root,
      '--bundle',
      'v2.bundle',
      'artifact.txt',
    ]);
    const bundle = JSON.parse(await readFile(join(dir, 'v2.bundle'), 'utf8')) as {
      verificationMaterial: { tlogEntries: { kindVersion: { version: string } }[] };
    };
    assert.equal(bundle.verificationMaterial.tlogEntries[0]?.kindVersion.version, '0.0.2');
    await verifyBoth('v2.bundle', root);
  });

  it('fails verification against a trusted root with another log key', async () => {
    await writeFile(join(dir, 'other.pub'), sigil.summary.log.publicKeyPem);
    const wrong = await trustedRoot('wrong-root.json', 'other.pub'); // the v2 key is not the v1 log's key
    await assert.rejects(
      cosign([
        'verify-blob',
        '--key',
        'cosign.pub',
        '--bundle',
        'v1.bundle',
        '--trusted-root',
        wrong,
        'artifact.txt',
      ]),
      /exited 1/,
    );
  });
});
