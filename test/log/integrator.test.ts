import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { hashLeaf, verifyConsistency, verifyInclusion } from '../../src/merkle/index.ts';
import { LogError } from '../../src/log/errors.ts';
import { Integrator } from '../../src/log/integrator.ts';
import { SqliteStorage } from '../../src/log/storage/sqlite.ts';
import { TileReader, storageTileSource } from '../../src/log/tile-reader.ts';
import { NaiveTree } from '../merkle/naive-tree.ts';

const leafData = (i: number) => new TextEncoder().encode(`entry ${i}`);

describe('Integrator and TileReader over SQLite', () => {
  let dir: string;
  let path: string;
  let storage: SqliteStorage;
  const leafHashes: Uint8Array[] = [];

  /** Sequences `count` more leaves, as the Sequencer would. */
  async function sequence(count: number): Promise<void> {
    const batch = Array.from({ length: count }, (_, i) => {
      const data = leafData(leafHashes.length + i);
      return { leaf: data, leafHash: hashLeaf(data), searchKeys: [] };
    });
    await storage.sequence(batch, 1);
    leafHashes.push(...batch.map((leaf) => leaf.leafHash));
  }

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sigil-integrator-'));
    path = join(dir, 'log.db');
    storage = new SqliteStorage({ path });
    await storage.open();
  });

  after(async () => {
    await storage.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('starts at the empty tree', async () => {
    const integrator = new Integrator(storage);
    await integrator.open();
    assert.equal(integrator.state.size, 0);
    assert.deepEqual(integrator.state.rootHash, new NaiveTree([]).root());
  });

  it('integrates in steps across tile boundaries and matches the RFC 6962 root at every size', async () => {
    const integrator = new Integrator(storage, { maxLeavesPerStep: 100 });
    await integrator.open();
    for (const count of [1, 254, 1, 1, 300, 65_536 - 557, 3]) {
      await sequence(count);
      const state = await integrator.integrate();
      assert.equal(state.size, leafHashes.length);
      assert.deepEqual(state.rootHash, new NaiveTree(leafHashes).root(), `root at size ${state.size}`);
    }
    assert.equal(leafHashes.length, 65_539);
  });

  it('stores C2SP tiles: level 0 holds the leaf hashes, level 1 the roots of 256-leaf subtrees', async () => {
    const reader = new TileReader(storageTileSource(storage));
    const tree = new NaiveTree(leafHashes);
    const level0 = await reader.readTile(0, 1, 256);
    assert.deepEqual(level0?.subarray(0, 32), leafHashes[256]);
    const level1 = await reader.readTile(1, 0, 256);
    assert.deepEqual(level1?.subarray(32 * 5, 32 * 6), tree.root(5 * 256, 6 * 256));
    const partial = await reader.readTile(0, 256, 3);
    assert.equal(partial?.length, 3 * 32);
    assert.equal(await reader.readTile(0, 256, 4), undefined);
  });

  it('serves inclusion proofs that verify, for sampled leaves at several tree sizes', async () => {
    const reader = new TileReader(storageTileSource(storage), { cachedTiles: 4 });
    for (const size of [1, 256, 257, 1_000, 65_536, leafHashes.length]) {
      const tree = new NaiveTree(leafHashes.slice(0, size));
      for (const index of [0, 1, 255, 256, size - 1, Math.floor(size / 3)].filter((i) => i < size)) {
        const proof = await reader.inclusionProof(index, size);
        assert.deepEqual(proof, tree.path(index), `proof of ${index} in ${size}`);
        verifyInclusion(index, size, leafHashes[index]!, proof, tree.root());
      }
    }
  });

  it('serves consistency proofs that verify between sizes', async () => {
    const reader = new TileReader(storageTileSource(storage));
    const sizes = [1, 2, 255, 256, 257, 4_000, 65_536, leafHashes.length];
    for (const size1 of sizes) {
      for (const size2 of sizes.filter((size) => size >= size1)) {
        const proof = await reader.consistencyProof(size1, size2);
        verifyConsistency(
          size1,
          size2,
          proof,
          new NaiveTree(leafHashes.slice(0, size1)).root(),
          new NaiveTree(leafHashes.slice(0, size2)).root(),
        );
      }
    }
  });

  it('serves proofs at older sizes from the wider tiles it keeps, and reads a tile once for proofs asked at once', async () => {
    const reads: string[] = [];
    const source = storageTileSource(storage);
    const reader = new TileReader({
      readTiles(ids) {
        reads.push(...ids.map(({ level, index, width }) => `${level}/${index}.${width}`));
        return source.readTiles(ids);
      },
    });
    const size = leafHashes.length;
    const tree = new NaiveTree(leafHashes);
    const indices = Array.from({ length: 13 }, (_, i) => size - 1 - i);
    const proofs = await Promise.all(indices.map((index) => reader.inclusionProof(index, size)));
    proofs.forEach((proof, i) => assert.deepEqual(proof, tree.path(indices[i]!)));
    assert.equal(new Set(reads).size, reads.length, `each tile read once: ${reads.join(' ')}`);
    // Narrower versions of the right-edge tiles: the complete nodes of the wider ones serve them.
    reads.length = 0;
    for (const older of [size - 1, size - 2, 65_537]) {
      const olderTree = new NaiveTree(leafHashes.slice(0, older));
      for (const index of [older - 1, 65_536, 0].filter((i) => i < older)) {
        assert.deepEqual(await reader.inclusionProof(index, older), olderTree.path(index));
      }
    }
    assert.deepEqual(
      reads.filter((read) => read.startsWith('0/256.')),
      [],
    );
  });

  describe('after a restart', () => {
    it('rebuilds from stored tiles and catches up leaves sequenced but not integrated', async () => {
      await sequence(77); // sequenced before the "crash", never integrated
      const restarted = new Integrator(storage);
      await restarted.open();
      assert.equal(restarted.state.size, 65_539);
      const state = await restarted.integrate();
      assert.equal(state.size, leafHashes.length);
      assert.deepEqual(state.rootHash, new NaiveTree(leafHashes).root());
    });
  });

  describe('when a stored tile was altered', () => {
    it('refuses to open with LOG_STORAGE_CORRUPT when the tile is on the right edge', async () => {
      const db = new Database(path);
      db.prepare('UPDATE tiles SET hashes = zeroblob(length(hashes)) WHERE level = 0 AND idx = 256').run();
      db.close();
      await assert.rejects(new Integrator(storage).open(), (error: unknown) => {
        assert.ok(error instanceof LogError);
        assert.equal(error.code, 'LOG_STORAGE_CORRUPT');
        return true;
      });
    });
  });
});
