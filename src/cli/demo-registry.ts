import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { accessSync, constants } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { describeError } from '../core/index.ts';
import { parseImageReference, withTag, type RegistryClient } from '../oci/index.ts';
import { CliError } from './errors.ts';

/**
 * The registry `sigil demo` pushes to: the one `--registry HOST:PORT` names, or the distribution
 * registry of the Debian package (`docker-registry`) started on a free loopback port with throwaway
 * storage, configured as test/tools/registry.ts configures it. And the two small images pushed there.
 */

/** Where Debian's `docker-registry` package installs the distribution registry. */
export const DEBIAN_REGISTRY_BINARY = '/usr/bin/docker-registry';

const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const OCI_CONFIG = 'application/vnd.oci.image.config.v1+json';
const OCI_LAYER_TAR = 'application/vnd.oci.image.layer.v1.tar';
/** How long the started registry may take to answer `GET /v2/`, ms. */
const REGISTRY_START_MS = 15_000;

export interface DemoRegistry {
  /** `HOST:PORT`, as image references name it. */
  readonly host: string;
  /** Whether the demo started it (and stops it at the end). */
  readonly started: boolean;
  stop(): Promise<void>;
}

/** A registry chosen before anything starts: the policy names its host before it runs. */
export interface PlannedRegistry {
  readonly host: string;
  readonly started: boolean;
  /** What step 2 prints. */
  readonly description: string;
  /** Starts it (the Debian registry), or checks that the given one answers. */
  start(client: RegistryClient): Promise<DemoRegistry>;
}

/**
 * `--registry HOST:PORT` when given; else the Debian registry at `binary` on a free port. Fails with
 * CLI_OPTION_INVALID for a malformed `--registry`, and when neither is available says what to do.
 */
export async function planRegistry(
  given: string | undefined,
  binary: string = DEBIAN_REGISTRY_BINARY,
): Promise<PlannedRegistry> {
  if (given !== undefined) return givenRegistry(given);
  try {
    accessSync(binary, constants.X_OK);
  } catch {
    throw new CliError(
      'CLI_OPTION_INVALID',
      `--registry: the demo needs a registry; install the distribution registry (apt-get install docker-registry, which provides ${binary}) or pass --registry HOST:PORT`,
    );
  }
  const port = await freeLoopbackPort();
  const host = `127.0.0.1:${port}`;
  return {
    host,
    started: true,
    description: `starting a registry (${binary} on ${host}, throwaway storage)`,
    start: () => startDebianRegistry(binary, port),
  };
}

function givenRegistry(given: string): PlannedRegistry {
  let host: string;
  try {
    host = parseImageReference(`${given}/demo/probe`).registry;
  } catch (error) {
    throw new CliError('CLI_OPTION_INVALID', `--registry: expected HOST:PORT, ${describeError(error)}`);
  }
  if (host !== given.toLowerCase() || given.includes('/')) {
    throw new CliError(
      'CLI_OPTION_INVALID',
      `--registry: expected HOST:PORT of a registry, received ${JSON.stringify(given)}`,
    );
  }
  return {
    host,
    started: false,
    description: `using the registry at ${host}`,
    async start(client) {
      try {
        await client.findManifest(parseImageReference(`${host}/demo/signed`), 'v1');
      } catch (error) {
        throw new CliError(
          'CLI_CHECK_FAILED',
          `--registry ${host}: unreachable (${describeError(error)}); check the address, or leave --registry out to start the Debian registry`,
          { cause: error },
        );
      }
      return { host, started: false, stop: () => Promise.resolve() };
    },
  };
}

async function startDebianRegistry(binary: string, port: number): Promise<DemoRegistry> {
  const dir = await mkdtemp(join(tmpdir(), 'sigil-demo-registry-'));
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
      'http:',
      `  addr: 127.0.0.1:${port}`,
      '',
    ].join('\n'),
  );
  const child = spawn(binary, ['serve', config], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const keep = (chunk: Buffer) => (output = (output + chunk.toString('utf8')).slice(-4_000));
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const exited = once(child, 'exit');
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    }
    await rm(dir, { recursive: true, force: true });
  };
  const url = `http://127.0.0.1:${port}/v2/`;
  const deadline = Date.now() + REGISTRY_START_MS;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      await stop();
      throw new CliError(
        'CLI_CHECK_FAILED',
        `${binary} exited (${child.exitCode ?? child.signalCode}) before answering on 127.0.0.1:${port}: ${output.trim() || 'no output'}`,
      );
    }
    const status = await fetch(url, { signal: AbortSignal.timeout(1_000) }).then(
      (response) => response.status,
      () => 0,
    );
    if (status === 200) break;
    if (Date.now() > deadline) {
      await stop();
      throw new CliError(
        'CLI_CHECK_FAILED',
        `${binary}: expected GET ${url} to answer 200 within ${REGISTRY_START_MS} ms, received ${status || 'no answer'}`,
      );
    }
    await delay(100);
  }
  return { host: `127.0.0.1:${port}`, started: true, stop };
}

/** A TCP port on 127.0.0.1 that was free a moment ago, for servers that must know theirs in advance. */
export async function freeLoopbackPort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * Pushes `<host>/<repository>:<tag>`: an OCI image manifest with a config and one layer (a tar of one
 * file saying what it is). The config records when it was pushed, so every run pushes a new digest
 * and signatures of an earlier run never apply. Returns the manifest digest.
 */
export async function pushDemoImage(
  client: RegistryClient,
  host: string,
  repository: string,
  tag: string,
  now: Date,
): Promise<string> {
  const reference = withTag(parseImageReference(`${host}/${repository}`), tag);
  const layerBytes = tarOneFile(
    'demo.txt',
    `${repository}:${tag}, pushed by sigil demo at ${now.toISOString()}\n`,
  );
  const layer = await client.pushBlob(reference, layerBytes, OCI_LAYER_TAR);
  const config = await client.pushBlob(
    reference,
    Buffer.from(
      JSON.stringify({
        created: now.toISOString(),
        architecture: 'amd64',
        os: 'linux',
        config: { Cmd: ['cat', '/demo.txt'], Labels: { 'dev.sigil.demo': repository } },
        // An uncompressed layer's diff ID is its digest.
        rootfs: { type: 'layers', diff_ids: [layer.digest] },
      }),
    ),
    OCI_CONFIG,
  );
  const manifest = Buffer.from(
    JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, config, layers: [layer] }),
  );
  return client.pushManifest(reference, manifest, OCI_MANIFEST, tag);
}

/** A ustar archive (POSIX.1-1988) holding one regular file: a layer any runtime can unpack. */
function tarOneFile(name: string, text: string): Uint8Array {
  const content = Buffer.from(text, 'utf8');
  const header = Buffer.alloc(512);
  const field = (value: string, offset: number, length: number) =>
    header.write(value.slice(0, length), offset, length, 'ascii');
  const octal = (value: number, length: number) => value.toString(8).padStart(length - 1, '0');
  field(name, 0, 100);
  field(octal(0o644, 8), 100, 8);
  field(octal(0, 8), 108, 8);
  field(octal(0, 8), 116, 8);
  field(octal(content.byteLength, 12), 124, 12);
  field(octal(0, 12), 136, 12);
  field('        ', 148, 8); // the checksum is computed over the header with this field as spaces
  field('0', 156, 1);
  field('ustar\u000000', 257, 8);
  let sum = 0;
  for (const byte of header) sum += byte;
  field(`${octal(sum, 7)}\u0000 `, 148, 8);
  const padding = (512 - (content.byteLength % 512)) % 512;
  return Buffer.concat([header, content, Buffer.alloc(padding), Buffer.alloc(1024)]);
}
