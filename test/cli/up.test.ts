import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { createNoteVerifier, verifyCheckpoint } from '../../src/merkle/index.ts';
import { readFileSync } from 'node:fs';

const sigil = fileURLToPath(new URL('../../src/cli/sigil.ts', import.meta.url));

function startSigil(args: string[], env: NodeJS.ProcessEnv = {}): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', sigil, ...args], {
    env: { ...process.env, SIGIL_LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

async function runSigil(
  args: string[],
  env: NodeJS.ProcessEnv = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = startSigil(args, env);
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const [code] = (await once(child, 'close')) as [number | null];
  return { code, stdout, stderr };
}

interface UpSummary {
  version: string;
  stateDir: string;
  endpoints: { name: string; url: string }[];
  log: { origin: string; verifierKey: string; publicKeyPem: string; storage: string };
}

async function startUp(stateDir: string): Promise<{ child: ChildProcess; summary: UpSummary }> {
  const child = startSigil(['up', '--port', '0', '--json'], { SIGIL_STATE: stateDir });
  const lines = createInterface({ input: child.stdout! });
  const [line] = (await once(lines, 'line')) as [string];
  return { child, summary: JSON.parse(line) as UpSummary };
}

describe('sigil up', () => {
  let dir: string;
  let child: ChildProcess;
  let summary: UpSummary;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sigil-up-'));
    ({ child, summary } = await startUp(join(dir, 'state')));
  });

  after(async () => {
    if (child.exitCode === null) child.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
  });

  it('creates the state folder from SIGIL_STATE, readable only by its owner', async () => {
    assert.equal(summary.stateDir, join(dir, 'state'));
    const info = await stat(summary.stateDir);
    assert.ok(info.isDirectory());
    assert.equal(info.mode & 0o777, 0o700);
  });

  it('prints health, readiness and metrics URLs that answer', async () => {
    const urls = Object.fromEntries(summary.endpoints.map((endpoint) => [endpoint.name, endpoint.url]));
    assert.equal(await (await fetch(urls.health!)).text(), 'ok\n');
    assert.equal((await fetch(urls.ready!)).status, 200);
    assert.match(await (await fetch(urls.metrics!)).text(), /sigil_process_cpu_seconds_total/);
  });

  it('runs the transparency log on SQLite in the state folder, publishing a signed checkpoint', async () => {
    const url = summary.endpoints.find((endpoint) => endpoint.name === 'log')?.url;
    assert.ok(url);
    const note = await (await fetch(url)).text();
    const { checkpoint } = verifyCheckpoint(note, [createNoteVerifier(summary.log.verifierKey)], {
      origin: summary.log.origin,
    });
    assert.equal(checkpoint.size, 0);
    assert.equal(summary.log.storage, join(dir, 'state', 'log', 'log.db'));
    assert.equal((await stat(join(dir, 'state', 'log', 'signing-key.pem'))).mode & 0o777, 0o600);
  });

  it('stops cleanly with exit code 0 on SIGTERM', async () => {
    child.kill('SIGTERM');
    const [code] = (await once(child, 'exit')) as [number | null];
    assert.equal(code, 0);
  });

  it('keeps the log key and origin across a restart', async () => {
    const restarted = await startUp(join(dir, 'state'));
    try {
      assert.equal(restarted.summary.log.verifierKey, summary.log.verifierKey);
      assert.equal(restarted.summary.log.origin, summary.log.origin);
    } finally {
      restarted.child.kill('SIGTERM');
      await once(restarted.child, 'exit');
    }
  });
});

describe('sigil up, when it cannot start', () => {
  it('names --database and hides the password when the URL is not PostgreSQL', async () => {
    const result = await runSigil(['up', '--database', 'mysql://root:hunter2@db/log']);
    assert.equal(result.code, 1);
    assert.match(
      result.stderr,
      /--database: expected a postgres:\/\/ URL, received "mysql:\/\/root:\*\*\*@db\/log"/,
    );
    assert.doesNotMatch(result.stderr, /hunter2/);
  });

  it('names --port and exits 1 when the port is not a number', async () => {
    const result = await runSigil(['up', '--port', 'eighty']);
    assert.equal(result.code, 1);
    assert.match(
      result.stderr,
      /CLI_OPTION_INVALID: --port: expected a port number from 0 to 65535, received "eighty"/,
    );
  });

  it('says what to do when the state folder is a file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sigil-up-'));
    const file = join(dir, 'file');
    await writeFile(file, '');
    const result = await runSigil(['up', '--port', '0', '--state', file]);
    await rm(dir, { recursive: true, force: true });
    assert.equal(result.code, 1);
    assert.match(
      result.stderr,
      /CLI_STATE_UNUSABLE: state folder .* cannot be used .*; pass --state with a writable folder/,
    );
  });

  it('exits 2 with usage help on an unknown command', async () => {
    const result = await runSigil(['fly']);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /unknown command 'fly'/);
  });
});

describe('sigil --help and version', () => {
  it('lists the subcommands', async () => {
    const result = await runSigil(['--help']);
    assert.equal(result.code, 0);
    assert.match(result.stdout, /up \[options\]\s+run every Sigil service/);
  });

  it('prints the package version as JSON', async () => {
    const result = await runSigil(['version', '--json']);
    const manifest = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
      version: string;
    };
    assert.deepEqual(JSON.parse(result.stdout), { version: manifest.version });
  });
});
