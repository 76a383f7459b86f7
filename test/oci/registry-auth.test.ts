// Authentication against the real distribution registry (Debian docker-registry 2.8): htpasswd Basic auth,
// and bearer tokens from a token server (test/tools/registry-auth.ts) whose JWTs the registry verifies
// against its rootcertbundle. Credentials come from a docker config.json file, a Kubernetes
// dockerconfigjson pull secret and a docker credential helper script the test writes onto PATH.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { request } from 'undici';
import {
  anonymousCredentials,
  staticCredentials,
  type CredentialSource,
} from '../../src/oci/auth/credentials.ts';
import { loadDockerConfig, pullSecretCredentials } from '../../src/oci/auth/docker-config.ts';
import { OciError } from '../../src/oci/errors.ts';
import { rejectsWith } from './oci-assertions.ts';
import { MEDIA_TYPES } from '../../src/oci/manifest.ts';
import { parseImageReference } from '../../src/oci/reference.ts';
import { createRegistryClient, type ClosableRegistryClient } from '../../src/oci/registry-client.ts';
import type { ImageReference } from '../../src/oci/oci.types.ts';
import { startRegistry, type RunningRegistry } from '../tools/registry.ts';

const encoder = new TextEncoder();
const USER = 'sigil';
const PASSWORD = 'correct horse battery staple';
const basic = (user: string, password: string) =>
  `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

/** Pushes a one-blob image under `tag` and reads it back: what a signer and a verifier both do. */
async function pushAndPull(
  credentials: CredentialSource,
  reference: ImageReference,
  tag = 'v1',
): Promise<string> {
  const client = createRegistryClient({ credentials, retries: 0 });
  try {
    const config = await client.pushBlob(reference, encoder.encode(`{"tag":"${tag}"}`), MEDIA_TYPES.ociEmpty);
    const bytes = encoder.encode(
      JSON.stringify({ schemaVersion: 2, mediaType: MEDIA_TYPES.ociManifest, config, layers: [] }),
    );
    const digest = await client.pushManifest(reference, bytes, MEDIA_TYPES.ociManifest, tag);
    assert.equal((await client.getManifest({ ...reference, tag })).digest, digest);
    return digest;
  } finally {
    await client.close();
  }
}

async function withClient<T>(
  credentials: CredentialSource,
  use: (client: ClosableRegistryClient) => Promise<T>,
) {
  const client = createRegistryClient({ credentials, retries: 0 });
  try {
    return await use(client);
  } finally {
    await client.close();
  }
}

describe('basic auth (registry with htpasswd)', () => {
  let registry: RunningRegistry;
  let dir: string;
  let reference: ImageReference;
  const savedPath = process.env.PATH;

  before(async () => {
    registry = await startRegistry({ auth: { htpasswd: { [USER]: PASSWORD } } });
    dir = await mkdtemp(join(tmpdir(), 'sigil-oci-auth-'));
    reference = parseImageReference(`${registry.host}/sigil/basic:v1`);
    // docker-credential-sigiltest: knows this registry only, as a real helper knows its own.
    const helper = join(dir, 'docker-credential-sigiltest');
    await writeFile(
      helper,
      [
        '#!/bin/sh',
        'read server',
        `if [ "$server" = "${registry.host}" ]; then`,
        `  printf '{"ServerURL":"%s","Username":"${USER}","Secret":"${PASSWORD}"}' "$server"`,
        'else',
        '  echo "credentials not found in native keychain"; exit 1',
        'fi',
        '',
      ].join('\n'),
    );
    await chmod(helper, 0o755);
    // docker-credential-sigilempty: a store that has nothing for anyone.
    const empty = join(dir, 'docker-credential-sigilempty');
    await writeFile(empty, '#!/bin/sh\necho "credentials not found in native keychain"\nexit 1\n');
    await chmod(empty, 0o755);
    process.env.PATH = `${dir}${delimiter}${savedPath ?? ''}`;
  });

  after(async () => {
    process.env.PATH = savedPath;
    await registry?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('refuses an anonymous client with OCI_UNAUTHORIZED naming the registry', async () => {
    await withClient(anonymousCredentials, (client) =>
      rejectsWith(
        client.getManifest(reference),
        'OCI_UNAUTHORIZED',
        new RegExp(
          `registry ${registry.host} requires basic authentication and no credentials are configured`,
        ),
      ),
    );
  });

  it('authenticates with credentials from a docker config.json file (auths.auth)', async () => {
    const path = join(dir, 'config.json');
    await writeFile(
      path,
      JSON.stringify({
        auths: {
          [`https://${registry.host}/v1/`]: { auth: Buffer.from(`${USER}:${PASSWORD}`).toString('base64') },
        },
      }),
    );
    await pushAndPull(await loadDockerConfig(path), reference, 'from-config');
  });

  it('authenticates with a Kubernetes dockerconfigjson pull secret (username/password)', async () => {
    const secret = encoder.encode(
      JSON.stringify({ auths: { [registry.host]: { username: USER, password: PASSWORD } } }),
    );
    await pushAndPull(pullSecretCredentials(secret), reference, 'from-secret');
  });

  it('authenticates with a credential helper named in credHelpers', async () => {
    const path = join(dir, 'helper-config.json');
    await writeFile(path, JSON.stringify({ credHelpers: { [registry.host]: 'sigiltest' } }));
    await pushAndPull(await loadDockerConfig(path), reference, 'from-helper');
  });

  it('falls back to auths when the credsStore helper has nothing for the registry', async () => {
    const secret = JSON.stringify({
      credsStore: 'sigilempty',
      auths: { [`http://${registry.host}`]: { username: USER, password: PASSWORD } },
    });
    await pushAndPull(pullSecretCredentials(secret), reference, 'from-store-fallback');
  });

  it('refuses wrong credentials with OCI_UNAUTHORIZED naming the user, never the password', async () => {
    await withClient(
      staticCredentials({ [registry.host]: { kind: 'basic', username: USER, password: 'wrong' } }),
      async (client) => {
        await assert.rejects(client.getManifest(reference), (error: unknown) => {
          assert.ok(error instanceof OciError && error.code === 'OCI_UNAUTHORIZED');
          assert.match(error.message, /as user "sigil"/);
          assert.doesNotMatch(error.message, /wrong/);
          return true;
        });
      },
    );
  });

  it('reports a credential helper that is not installed as OCI_CREDENTIALS_INVALID', async () => {
    const credentials = pullSecretCredentials(JSON.stringify({ credsStore: 'sigil-not-installed' }));
    await withClient(credentials, (client) =>
      rejectsWith(
        client.getManifest(reference),
        'OCI_CREDENTIALS_INVALID',
        /docker-credential-sigil-not-installed/,
      ),
    );
  });

  it('does not use credentials that belong to another registry', async () => {
    const other = staticCredentials({
      'registry.example.com': { kind: 'basic', username: USER, password: PASSWORD },
    });
    await withClient(other, (client) => rejectsWith(client.getManifest(reference), 'OCI_UNAUTHORIZED'));
  });
});

describe('bearer token auth (registry with auth: token)', () => {
  let registry: RunningRegistry;
  const credentials = () =>
    staticCredentials({ [registry.host]: { kind: 'basic', username: USER, password: PASSWORD } });

  before(async () => {
    registry = await startRegistry({ auth: { token: { users: { [USER]: PASSWORD } } } });
  });

  after(() => registry?.stop());

  it('answers the challenge with a token from the realm and reuses it for the same scope', async () => {
    const tokens = registry.tokenServer!;
    const reference = parseImageReference(`${registry.host}/sigil/bearer:v1`);
    await pushAndPull(credentials(), reference);
    const client = createRegistryClient({ credentials: credentials(), retries: 0 });
    try {
      const before = tokens.requests.length;
      await client.getManifest(reference);
      assert.equal(tokens.requests.length, before + 1);
      for (let round = 0; round < 5; round++) {
        await client.getManifest(reference);
        await client.resolveDigest(reference);
        await client.listTags(reference);
      }
      assert.equal(tokens.requests.length, before + 1, 'one token for every read of one repository');
      const last = tokens.requests.at(-1)!;
      assert.deepEqual(last.scopes, ['repository:sigil/bearer:pull']);
      assert.equal(last.service, tokens.service);
      assert.equal(last.account, USER);
      assert.equal(last.authorization, basic(USER, PASSWORD));

      // Another repository is another scope, so another token.
      await rejectsWith(
        client.getManifest(parseImageReference(`${registry.host}/sigil/other:v1`)),
        'OCI_NOT_FOUND',
      );
      assert.deepEqual(tokens.requests.at(-1)!.scopes, ['repository:sigil/other:pull']);
      assert.equal(tokens.requests.length, before + 2);
    } finally {
      await client.close();
    }
  });

  it('asks for pull,push when pushing', async () => {
    const tokens = registry.tokenServer!;
    const start = tokens.requests.length;
    await pushAndPull(credentials(), parseImageReference(`${registry.host}/sigil/pusher:v1`));
    const scopes = tokens.requests.slice(start).flatMap((record) => record.scopes);
    assert.ok(scopes.includes('repository:sigil/pusher:pull,push'), scopes.join(' '));
  });

  it('sends the basic credentials to the token server only: the registry sees bearer tokens', async () => {
    const reference = parseImageReference(`${registry.host}/sigil/watched:v1`);
    await pushAndPull(credentials(), reference);
    // A recording pass-through in front of the real registry: what reaches the registry, header by header.
    const seen: string[] = [];
    const proxy = createServer((incoming, outgoing) => {
      seen.push(incoming.headers.authorization ?? '(none)');
      void (async () => {
        const upstream = await request(`${registry.url}${incoming.url}`, {
          method: incoming.method as 'GET' | 'HEAD',
          headers: { ...incoming.headers, host: registry.host },
        });
        outgoing.writeHead(upstream.statusCode, upstream.headers as Record<string, string>);
        for await (const chunk of upstream.body) outgoing.write(chunk);
        outgoing.end();
      })();
    });
    proxy.listen(0, '127.0.0.1');
    await once(proxy, 'listening');
    const proxyHost = `127.0.0.1:${(proxy.address() as AddressInfo).port}`;
    const start = registry.tokenServer!.requests.length;
    try {
      await withClient(
        staticCredentials({ [proxyHost]: { kind: 'basic', username: USER, password: PASSWORD } }),
        async (client) => {
          const viaProxy = parseImageReference(`${proxyHost}/sigil/watched:v1`);
          await client.getManifest(viaProxy);
          await client.resolveDigest(viaProxy);
        },
      );
    } finally {
      await new Promise<void>((resolve) => proxy.close(() => resolve()));
    }
    assert.equal(seen[0], '(none)');
    assert.ok(seen.length >= 3);
    for (const value of seen.slice(1)) assert.match(value, /^Bearer /);
    assert.ok(!seen.some((value) => value.startsWith('Basic')));
    assert.equal(registry.tokenServer!.requests.at(start)?.authorization, basic(USER, PASSWORD));
  });

  it('refuses an anonymous client with OCI_UNAUTHORIZED when the token server grants nothing', async () => {
    await withClient(anonymousCredentials, (client) =>
      rejectsWith(
        client.getManifest(parseImageReference(`${registry.host}/sigil/bearer:v1`)),
        'OCI_UNAUTHORIZED',
        new RegExp(`token server 127\\.0\\.0\\.1:\\d+ for registry ${registry.host} refused.*anonymously`),
      ),
    );
  });

  it('refuses wrong credentials with OCI_UNAUTHORIZED', async () => {
    await withClient(
      staticCredentials({ [registry.host]: { kind: 'basic', username: USER, password: 'nope' } }),
      (client) =>
        rejectsWith(
          client.getManifest(parseImageReference(`${registry.host}/sigil/bearer:v1`)),
          'OCI_UNAUTHORIZED',
          /as user "sigil"/,
        ),
    );
  });
});
