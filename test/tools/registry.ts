import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './ports.ts';
import {
  startTokenServer,
  writeHtpasswd,
  type RunningTokenServer,
  type TokenServerOptions,
} from './registry-auth.ts';
import { startService, waitUntil, type Service } from './service.ts';
import { toolPath } from './tools.ts';

export interface RunningRegistry {
  /** `http://127.0.0.1:PORT` */
  url: string;
  /** `127.0.0.1:PORT`, the form image references use. */
  host: string;
  service: Service;
  /**
   * The filesystem storage root (distribution's `storage.filesystem.rootdirectory`), for fixtures that
   * must plant content the push API refuses; absent for registries that keep everything in memory.
   */
  storageDirectory?: string;
  /** With `auth: { token }`: the token server the registry sends clients to. */
  tokenServer?: RunningTokenServer;
  stop(): Promise<void>;
}

export interface RegistryOptions {
  /**
   * How the registry authenticates (distribution's `auth:` section). Default none: anyone may pull and push.
   * `htpasswd`: Basic auth against these users and passwords. `token`: bearer tokens from a token server
   * the harness starts on another port (test/tools/registry-auth.ts).
   */
  auth?: { htpasswd: Readonly<Record<string, string>> } | { token: TokenServerOptions };
}

/** Starts the distribution registry (Debian `docker-registry`) on a free port with throwaway storage. */
export async function startRegistry(options: RegistryOptions = {}): Promise<RunningRegistry> {
  const dir = await mkdtemp(join(tmpdir(), 'sigil-registry-'));
  const port = await freePort();
  const auth: string[] = [];
  let tokenServer: RunningTokenServer | undefined;
  if (options.auth && 'htpasswd' in options.auth) {
    const path = await writeHtpasswd(dir, options.auth.htpasswd);
    auth.push('auth:', '  htpasswd:', '    realm: sigil-test', `    path: ${path}`);
  } else if (options.auth && 'token' in options.auth) {
    tokenServer = await startTokenServer(dir, options.auth.token);
    auth.push(
      'auth:',
      '  token:',
      `    realm: ${tokenServer.realm}`,
      `    service: ${tokenServer.service}`,
      `    issuer: ${tokenServer.issuer}`,
      `    rootcertbundle: ${tokenServer.certificatePath}`,
    );
  }
  const config = join(dir, 'config.yml');
  await writeFile(
    config,
    [
      'version: 0.1',
      'log:',
      '  level: error',
      '  accesslog:',
      '    disabled: true',
      'storage:',
      '  filesystem:',
      `    rootdirectory: ${join(dir, 'data')}`,
      '  delete:',
      '    enabled: true',
      'http:',
      `  addr: 127.0.0.1:${port}`,
      ...auth,
      '',
    ].join('\n'),
  );
  const service = startService('docker-registry', toolPath('docker-registry'), ['serve', config]);
  const url = `http://127.0.0.1:${port}`;
  await waitUntil(
    service,
    auth.length > 0 ? 'GET /v2/ answers 401' : 'GET /v2/ answers 200',
    async () => (await fetch(`${url}/v2/`)).status === (auth.length > 0 ? 401 : 200),
    30_000,
  );
  return {
    url,
    host: `127.0.0.1:${port}`,
    service,
    storageDirectory: join(dir, 'data'),
    ...(tokenServer ? { tokenServer } : {}),
    async stop() {
      await service.stop();
      await tokenServer?.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
