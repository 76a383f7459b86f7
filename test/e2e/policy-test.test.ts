import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { buildProgram, runCli, type CliIo } from '../../src/cli/program.ts';
import { loadConnaisseurImages } from '../tools/connaisseur-images.ts';
import { startRegistry, type RunningRegistry } from '../tools/registry.ts';
import { vectorPath } from '../tools/vectors.ts';

/**
 * `sigil policy test` against connaisseur's cosign images in the distribution registry: a key-based
 * policy allows alice's image and denies it for bob's key with the reason; a keyless policy, checked
 * against the production trusted root, allows the keyless image and lists the identity seen when
 * another is wanted.
 */
describe('sigil policy test against a real registry', () => {
  let registry: RunningRegistry;
  let images: Record<string, string>;
  let dir: string;

  before(async () => {
    registry = await startRegistry();
    ({ images } = await loadConnaisseurImages(registry.url, {
      storageDirectory: registry.storageDirectory!,
    }));
    dir = await mkdtemp(join(tmpdir(), 'sigil-policy-test-'));
    const trustedRoot = JSON.parse(
      await readFile(vectorPath('npm-provenance/sigstore-tuf-trusted_root.json'), 'utf8'),
    ) as unknown;
    await writeFile(join(dir, 'trust-config.json'), JSON.stringify({ trustedRoot }));
  });

  after(async () => {
    await registry?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  async function policyFile(name: string, authority: Record<string, unknown>): Promise<string> {
    const path = join(dir, `${name}.yaml`);
    const document = {
      apiVersion: 'policy.sigstore.dev/v1beta1',
      kind: 'ClusterImagePolicy',
      metadata: { name },
      spec: { images: [{ glob: '**/securesystemsengineering/testimage*' }], authorities: [authority] },
    };
    await writeFile(path, JSON.stringify(document));
    return path;
  }

  async function sigil(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    let stdout = '';
    let stderr = '';
    const io: CliIo = {
      env: process.env,
      stdout: (text) => (stdout += text),
      stderr: (text) => (stderr += text),
      untilStopped: () => new Promise(() => {}),
    };
    const code = await runCli(buildProgram(io), args, io);
    return { code, stdout, stderr };
  }

  const key = async (name: string) => ({
    name,
    key: { data: await readFile(vectorPath(`connaisseur/cosign/${name}.key`), 'utf8') },
  });

  it("allows alice's image for alice's key and denies it for bob's, naming the authority", async () => {
    const image = `${registry.host}/securesystemsengineering/testimage:multi-cosigned-alice`;
    const allowed = await sigil([
      'policy',
      'test',
      '--policy',
      await policyFile('alice', await key('alice')),
      image,
    ]);
    assert.equal(allowed.code, 0, allowed.stderr);
    assert.equal(
      allowed.stdout,
      `image ${image}@${images['multi-cosigned-alice']} allowed by policy alice\n`,
    );
    const denied = await sigil([
      'policy',
      'test',
      '--policy',
      await policyFile('bob', await key('bob')),
      image,
      '--json',
    ]);
    assert.equal(denied.code, 1);
    const decision = JSON.parse(denied.stdout) as {
      outcome: string;
      policies: { authorities: { name: string; reason: string }[] }[];
    };
    assert.equal(decision.outcome, 'denied');
    assert.deepEqual(
      decision.policies[0]!.authorities.map((each) => [each.name, each.reason]),
      [['bob', 'SIGNATURE_INVALID']],
    );
    assert.match(
      denied.stderr,
      /CLI_CHECK_FAILED: image .* denied by policy bob: authority bob: no signatures verified/,
    );
  });

  it('allows the keyless image for its identity and lists it when another is wanted', async () => {
    const image = `${registry.host}/securesystemsengineering/testimage@${images['keyless']}`;
    const keyless = (subject: string) => ({
      name: 'ci',
      keyless: { identities: [{ issuer: 'https://github.com/login/oauth', subject }] },
    });
    const trust = ['--trust-config', join(dir, 'trust-config.json')];
    const allowed = await sigil([
      'policy',
      'test',
      '--policy',
      await policyFile('philipp', keyless('philipp.belitz@securesystems.de')),
      image,
      ...trust,
    ]);
    assert.equal(allowed.code, 0, allowed.stdout + allowed.stderr);
    const denied = await sigil([
      'policy',
      'test',
      '--policy',
      await policyFile('other', keyless('other@example.com')),
      image,
      ...trust,
    ]);
    assert.equal(denied.code, 1);
    assert.equal(
      denied.stdout,
      `image ${image} denied by policy other: authority ci: no signatures from subject other@example.com and issuer https://github.com/login/oauth (found: philipp.belitz@securesystems.de (issuer https://github.com/login/oauth))\n`,
    );
  });
});
