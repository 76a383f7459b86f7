import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { registryKey } from '../../../src/oci/auth/credentials.ts';
import { parseDockerConfig, pullSecretCredentials } from '../../../src/oci/auth/docker-config.ts';
import { OciError } from '../../../src/oci/errors.ts';

const b64 = (text: string) => Buffer.from(text).toString('base64');

describe('docker config credentials', () => {
  it('matches keys by host as Docker does, Docker Hub under https://index.docker.io/v1/', async () => {
    const source = pullSecretCredentials(
      JSON.stringify({
        auths: {
          'https://index.docker.io/v1/': { auth: b64('hub-user:hub:pass') },
          'http://registry.example.com:5000/some/path': { username: 'u', password: 'p' },
          'ghcr.io': { identitytoken: 'refresh-me' },
          'quay.io': { registrytoken: 'bearer-me' },
          'empty.example.com': {},
        },
      }),
    );
    assert.deepEqual(await source.credentialFor('registry-1.docker.io'), {
      kind: 'basic',
      username: 'hub-user',
      password: 'hub:pass',
    });
    assert.deepEqual(
      await source.credentialFor('docker.io'),
      await source.credentialFor('registry-1.docker.io'),
    );
    assert.deepEqual(await source.credentialFor('registry.example.com:5000'), {
      kind: 'basic',
      username: 'u',
      password: 'p',
    });
    assert.deepEqual(await source.credentialFor('registry.example.com'), { kind: 'anonymous' });
    assert.deepEqual(await source.credentialFor('GHCR.io'), { kind: 'identity-token', token: 'refresh-me' });
    assert.deepEqual(await source.credentialFor('quay.io'), { kind: 'registry-token', token: 'bearer-me' });
    assert.deepEqual(await source.credentialFor('empty.example.com'), { kind: 'anonymous' });
  });

  it('reads a legacy kubernetes.io/dockercfg secret (the auths map alone)', async () => {
    const source = pullSecretCredentials(JSON.stringify({ 'registry.example.com': { auth: b64('a:b') } }));
    assert.deepEqual(await source.credentialFor('registry.example.com'), {
      kind: 'basic',
      username: 'a',
      password: 'b',
    });
  });

  it('folds hosts the way docker/cli ConvertToHostname does', () => {
    assert.equal(registryKey('https://index.docker.io/v1/'), 'index.docker.io');
    assert.equal(registryKey('docker.io'), 'index.docker.io');
    assert.equal(registryKey('http://Example.com:5000/v2/'), 'example.com:5000');
  });

  for (const [what, data, message] of [
    ['not JSON', '{', /expected docker config JSON/],
    ['auths not an object', '{"auths":[]}', /auths: expected an object/],
    [
      'auth not base64 of user:password',
      JSON.stringify({ auths: { x: { auth: b64('nocolon') } } }),
      /found no ':'/,
    ],
    ['auth not base64', JSON.stringify({ auths: { x: { auth: '!!!' } } }), /auth: expected base64/],
    ['credHelpers with a number', JSON.stringify({ credHelpers: { x: 1 } }), /credHelpers\["x"\]/],
    ['credsStore not a string', JSON.stringify({ credsStore: true }), /credsStore: expected a string/],
  ] as const) {
    it(`rejects a config with ${what} (OCI_CREDENTIALS_INVALID)`, () => {
      assert.throws(
        () => parseDockerConfig(data, 'pull secret'),
        (error: unknown) =>
          error instanceof OciError &&
          error.code === 'OCI_CREDENTIALS_INVALID' &&
          message.test(error.message),
      );
    });
  }
});
