import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { silentLogger } from '../../src/core/index.ts';
import { SqliteStorage, TransparencyLog } from '../../src/log/index.ts';
import { createNoteSigner, hashLeaf } from '../../src/merkle/index.ts';
import {
  createApp,
  createServerMetrics,
  createTlogTilesRouter,
  listen,
  type RunningServer,
} from '../../src/server/index.ts';

const sigil = fileURLToPath(new URL('../../src/cli/sigil.ts', import.meta.url));

async function runSigil(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', sigil, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const [code] = (await once(child, 'close')) as [number | null];
  return { code, stdout, stderr };
}

/** A log with its tiles served over HTTP, as `sigil up` runs it. */
async function serveLog(
  dir: string,
  key: KeyObject,
): Promise<{ log: TransparencyLog; server: RunningServer; vkey: string }> {
  const signer = createNoteSigner('monitor.sigil.test', key);
  const log = await TransparencyLog.open({
    storage: new SqliteStorage({ path: join(dir, 'log.db') }),
    origin: 'monitor.sigil.test',
    signers: [signer],
    sequencer: { maxBatchAgeMs: 1 },
  });
  const app = createApp({
    logger: silentLogger,
    metrics: createServerMetrics({ collectProcessMetrics: false }),
    routers: [createTlogTilesRouter(log)],
  });
  return { log, server: await listen(app), vkey: signer.verifierKey };
}

async function append(log: TransparencyLog, texts: string[]): Promise<void> {
  let last = 0;
  for (const text of texts) {
    const leaf = new TextEncoder().encode(text);
    last = (await log.append({ leaf, leafHash: hashLeaf(leaf), searchKeys: [] })).index;
  }
  await log.waitForCheckpoint(last + 1);
}

describe('sigil log', () => {
  const key = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
  let dir: string;
  let served: Awaited<ReturnType<typeof serveLog>>;
  let flags: string[];

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sigil-log-cli-'));
    served = await serveLog(join(dir), key);
    await append(
      served.log,
      Array.from({ length: 300 }, (_, i) => `{"entry":${i}}`),
    );
    flags = ['--url', served.server.url, '--key', served.vkey];
  });

  after(async () => {
    await served.server.close();
    await served.log.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('info prints the verified checkpoint', async () => {
    const result = await runSigil(['log', 'info', ...flags, '--json']);
    assert.equal(result.code, 0, result.stderr);
    const info = JSON.parse(result.stdout) as { origin: string; size: number; rootHash: string };
    assert.equal(info.origin, 'monitor.sigil.test');
    assert.equal(info.size, 300);
    assert.equal(info.rootHash, Buffer.from(served.log.latestCheckpoint()!.rootHash).toString('hex'));
  });

  it('get prints entry INDEX after proving it is included', async () => {
    const result = await runSigil(['log', 'get', '260', ...flags]);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, '{"entry":260}\n');
    assert.match(result.stderr, /entry 260 is included in tree size 300/);
  });

  it('verify-inclusion checks the entry against a file', async () => {
    const file = join(dir, 'entry.json');
    await writeFile(file, '{"entry":5}');
    const ok = await runSigil(['log', 'verify-inclusion', '5', ...flags, '--entry-file', file]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /^verified: entry 5 is included in tree size 300/);
    const differs = await runSigil(['log', 'verify-inclusion', '6', ...flags, '--entry-file', file]);
    assert.equal(differs.code, 1);
    assert.match(differs.stderr, /CLI_CHECK_FAILED: entry 6 differs/);
  });

  it('refuses a checkpoint signed by another key', async () => {
    const other = createNoteSigner('monitor.sigil.test', generateKeyPairSync('ed25519').privateKey);
    const result = await runSigil(['log', 'info', '--url', served.server.url, '--key', other.verifierKey]);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /LOG_REMOTE_INVALID: checkpoint from/);
  });

  it('says how to get a key when none is given', async () => {
    const result = await runSigil(['log', 'info', '--url', served.server.url]);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /--key: required; pass the `log key` line that `sigil up` prints/);
  });

  describe('monitor', () => {
    it('proves each new checkpoint consistent with the last one it saw', async () => {
      const state = join(dir, 'monitor-state');
      const first = await runSigil(['log', 'monitor', ...flags, '--state-file', state, '--once']);
      assert.equal(first.code, 0, first.stderr);
      assert.match(first.stdout, /^size 300: first checkpoint/);
      await append(
        served.log,
        Array.from({ length: 77 }, (_, i) => `{"more":${i}}`),
      );
      const second = await runSigil(['log', 'monitor', ...flags, '--state-file', state, '--once']);
      assert.equal(second.code, 0, second.stderr);
      assert.equal(second.stdout, 'size 377: consistent with size 300\n');
    });

    it('exits non-zero when the log shows a history that does not extend what it saw', async () => {
      // A second log with the same key and origin but other entries: a split view.
      const forkDir = await mkdtemp(join(tmpdir(), 'sigil-log-fork-'));
      const fork = await serveLog(forkDir, key);
      try {
        await append(
          fork.log,
          Array.from({ length: 400 }, (_, i) => `{"forked":${i}}`),
        );
        const state = join(dir, 'monitor-state');
        const result = await runSigil([
          'log',
          'monitor',
          '--url',
          fork.server.url,
          '--key',
          fork.vkey,
          '--state-file',
          state,
          '--once',
        ]);
        assert.equal(result.code, 1);
        assert.match(
          result.stderr,
          /LOG_INCONSISTENT: tree of size 400 is not an extension of tree of size 377/,
        );
      } finally {
        await fork.server.close();
        await fork.log.close();
        await rm(forkDir, { recursive: true, force: true });
      }
    });
  });
});
