import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { describe, it } from 'node:test';
import { Verifier, toSignedEntity, toTrustMaterial } from '@sigstore/verify';
import { bundleFromJSON } from '@sigstore/bundle';
import { TrustedRoot } from '@sigstore/protobuf-specs';
import { pinnedVersion } from '../tools/pins.ts';
import { run } from '../tools/service.ts';
import { toolPath } from '../tools/tools.ts';
import { vectorPath } from '../tools/vectors.ts';

const require = createRequire(import.meta.url);
const conformance = 'sigstore-conformance/bundle-verify';

async function verifyConformanceCase(name: string): Promise<void> {
  const bundle = bundleFromJSON(
    JSON.parse(await readFile(vectorPath(`${conformance}/${name}/bundle.sigstore.json`), 'utf8')),
  );
  const root = TrustedRoot.fromJSON(
    JSON.parse(await readFile(vectorPath('npm-provenance/sigstore-tuf-trusted_root.json'), 'utf8')),
  );
  const artifact = await readFile(vectorPath(`${conformance}/a.txt`));
  const verifier = new Verifier(toTrustMaterial(root), { tlogThreshold: 1, ctlogThreshold: 1 });
  verifier.verify(toSignedEntity(bundle, artifact), {
    subjectAlternativeName:
      'https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main',
    extensions: { issuer: 'https://token.actions.githubusercontent.com' },
  });
}

describe('sigstore-js', () => {
  it('is installed at the locked versions', () => {
    const lock = require('../../package-lock.json') as { packages: Record<string, { version: string }> };
    for (const name of ['sigstore', '@sigstore/verify']) {
      const installed = (require(`${name}/package.json`) as { version: string }).version;
      assert.equal(installed, lock.packages[`node_modules/${name}`]?.version, name);
    }
  });

  it('verifies a public-good bundle offline (conformance happy-path-v0.3)', async () => {
    await verifyConformanceCase('happy-path-v0.3');
  });

  it('rejects a staging bundle against the production root (conformance bundle-from-wrong-instance_fail)', async () => {
    await assert.rejects(verifyConformanceCase('bundle-from-wrong-instance_fail'), {
      name: 'VerificationError',
      code: 'CERTIFICATE_ERROR',
    });
  });
});

describe('sigstore-python', () => {
  it('is the pinned version', async () => {
    const output = await run(toolPath('sigstore-python'), ['--version']);
    assert.equal(output.trim(), `sigstore ${pinnedVersion('SIGSTORE_PYTHON_VERSION')}`);
  });
});
