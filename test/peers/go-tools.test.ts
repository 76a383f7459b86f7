import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { pinnedVersion } from '../tools/pins.ts';
import { run } from '../tools/service.ts';
import { toolPath, toolsDir } from '../tools/tools.ts';

/** The version install-tools.sh recorded when it built the tool. */
async function builtVersion(name: string): Promise<string> {
  return (await readFile(join(toolsDir, 'bin', `.${name}.version`), 'utf8')).trim();
}

describe('cosign', () => {
  it('is the pinned version', async () => {
    const version = JSON.parse(await run(toolPath('cosign'), ['version', '--json'])) as {
      gitVersion: string;
    };
    assert.equal(version.gitVersion, pinnedVersion('COSIGN_VERSION'));
  });

  it('generates a key pair and signs and verifies a blob offline with it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sigil-cosign-'));
    try {
      const env = { ...process.env, COSIGN_PASSWORD: 'smoke' };
      await run(toolPath('cosign'), ['generate-key-pair'], { cwd: dir, env });
      await writeFile(join(dir, 'artifact.txt'), 'signed by cosign\n');
      const signArgs = [
        'sign-blob',
        '--yes',
        '--key',
        'cosign.key',
        '--tlog-upload=false',
        '--use-signing-config=false',
      ];
      await run(toolPath('cosign'), [...signArgs, '--bundle', 'artifact.bundle', 'artifact.txt'], {
        cwd: dir,
        env,
      });
      const verifyArgs = [
        'verify-blob',
        '--key',
        'cosign.pub',
        '--insecure-ignore-tlog=true',
        '--bundle',
        'artifact.bundle',
      ];
      await run(toolPath('cosign'), [...verifyArgs, 'artifact.txt'], { cwd: dir, env });
      await writeFile(join(dir, 'artifact.txt'), 'tampered\n');
      await assert.rejects(
        run(toolPath('cosign'), [...verifyArgs, 'artifact.txt'], { cwd: dir, env }),
        /exited 1/,
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('helm', () => {
  it('is the pinned version and renders a chart offline', async () => {
    const version = (await run(toolPath('helm'), ['version', '--template', '{{ .Version }}'])).trim();
    assert.equal(
      `${version}.0`.split('.').slice(0, 2).join('.'),
      pinnedVersion('HELM_VERSION').split('.').slice(0, 2).join('.'),
    );
    const dir = await mkdtemp(join(tmpdir(), 'sigil-helm-'));
    try {
      await run(toolPath('helm'), ['create', 'smoke'], {
        cwd: dir,
        env: { ...process.env, HELM_CACHE_HOME: dir, HELM_CONFIG_HOME: dir },
      });
      const rendered = await run(toolPath('helm'), ['template', 'smoke', join(dir, 'smoke')]);
      assert.match(rendered, /kind: Deployment/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('kubeconform', () => {
  it('was built at the pinned version and runs', async () => {
    assert.equal(await builtVersion('kubeconform'), pinnedVersion('KUBECONFORM_VERSION'));
    await run(toolPath('kubeconform'), ['-v']);
  });
});

describe('crane', () => {
  it('is the pinned version', async () => {
    assert.equal((await run(toolPath('crane'), ['version'])).trim(), pinnedVersion('CRANE_VERSION'));
  });
});
