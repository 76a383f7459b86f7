import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { silentLogger } from '../../src/core/index.ts';
import { SqliteStorage, TransparencyLog } from '../../src/log/index.ts';
import {
  CompactRange,
  createNoteSigner,
  createNoteVerifier,
  hashLeaf,
  verifyCheckpoint,
} from '../../src/merkle/index.ts';
import {
  createApp,
  createServerMetrics,
  createTlogTilesRouter,
  listen,
  type RunningServer,
} from '../../src/server/index.ts';

const signer = createNoteSigner('tiles.sigil.test', generateKeyPairSync('ed25519').privateKey);

describe('C2SP tlog-tiles reads', () => {
  let dir: string;
  let log: TransparencyLog;
  let server: RunningServer;
  const leaves = Array.from({ length: 600 }, (_, i) => new TextEncoder().encode(`tile entry ${i}`));

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sigil-tiles-'));
    log = await TransparencyLog.open({
      storage: new SqliteStorage({ path: join(dir, 'log.db') }),
      origin: 'tiles.sigil.test',
      signers: [signer],
      sequencer: { maxBatchAgeMs: 1 },
    });
    for (const leaf of leaves) await log.append({ leaf, leafHash: hashLeaf(leaf), searchKeys: [] });
    await log.waitForCheckpoint(600);
    const app = createApp({
      logger: silentLogger,
      metrics: createServerMetrics({ collectProcessMetrics: false }),
      routers: [createTlogTilesRouter(log)],
    });
    server = await listen(app);
  });

  after(async () => {
    await server.close();
    await log.close();
    await rm(dir, { recursive: true, force: true });
  });

  const get = (path: string) => fetch(`${server.url}/${path}`);
  const bytes = async (path: string) => {
    const response = await get(path);
    assert.equal(response.status, 200, `${path}: ${await response.clone().text()}`);
    return new Uint8Array(await response.arrayBuffer());
  };

  it('lets a client rebuild the checkpoint root from the level-0 tiles', async () => {
    const note = await (await get('checkpoint')).text();
    const { checkpoint } = verifyCheckpoint(note, [createNoteVerifier(signer.verifierKey)], {
      origin: 'tiles.sigil.test',
    });
    assert.equal(checkpoint.size, 600);
    const range = CompactRange.empty();
    for (const path of ['tile/0/000', 'tile/0/001', 'tile/0/002.p/88']) {
      const tile = await bytes(path);
      for (let offset = 0; offset < tile.length; offset += 32)
        range.append(tile.subarray(offset, offset + 32));
    }
    assert.equal(range.size, 600);
    assert.deepEqual(range.rootHash(), checkpoint.rootHash);
  });

  it('serves level-1 tiles holding the roots of full level-0 tiles', async () => {
    const level1 = await bytes('tile/1/000.p/2');
    const first = CompactRange.empty();
    const tile0 = await bytes('tile/0/000');
    for (let offset = 0; offset < tile0.length; offset += 32)
      first.append(tile0.subarray(offset, offset + 32));
    assert.deepEqual(level1.subarray(0, 32), first.rootHash());
  });

  it('serves entry bundles as u16-length-prefixed entries whose hashes are the tile hashes', async () => {
    const bundle = await bytes('tile/entries/002.p/88');
    const tile = await bytes('tile/0/002.p/88');
    let offset = 0;
    for (let i = 0; i < 88; i++) {
      const length = (bundle[offset]! << 8) | bundle[offset + 1]!;
      const entry = bundle.subarray(offset + 2, offset + 2 + length);
      assert.deepEqual(entry, leaves[512 + i]);
      assert.deepEqual(hashLeaf(entry), tile.subarray(i * 32, (i + 1) * 32));
      offset += 2 + length;
    }
    assert.equal(offset, bundle.length);
  });

  it('marks tiles immutable and the checkpoint uncacheable', async () => {
    assert.equal(
      (await get('tile/0/000')).headers.get('cache-control'),
      'public, max-age=31536000, immutable',
    );
    assert.equal((await get('checkpoint')).headers.get('cache-control'), 'no-cache');
  });

  it('answers 404 for a tile beyond the published tree and 400 for a malformed path', async () => {
    for (const path of ['tile/0/002.p/89', 'tile/0/003', 'tile/2/000.p/1', 'tile/entries/003']) {
      const response = await get(path);
      assert.equal(response.status, 404, path);
      assert.equal(((await response.json()) as { code: string }).code, 'SERVER_TILE_NOT_FOUND');
    }
    for (const path of ['tile/0/x000/001', 'tile/0/2', 'tile/0/000.p/256', 'tile/entries/000.p/0']) {
      const response = await get(path);
      assert.equal(response.status, 400, path);
      assert.equal(((await response.json()) as { code: string }).code, 'SERVER_PATH_INVALID');
    }
  });
});
