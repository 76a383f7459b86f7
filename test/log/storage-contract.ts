import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { LogError } from '../../src/log/errors.ts';
import type { IndexedLeaf, LogStorage, NewLeaf } from '../../src/log/storage/storage.types.ts';

/** A storage under test and how to get a second handle on the same data (a restart, another node). */
export interface StorageFixture {
  storage: LogStorage;
  reopen(): LogStorage;
  cleanup(): Promise<void>;
}

export function leafOf(text: string, searchKeys: string[] = []): NewLeaf {
  const leaf = new TextEncoder().encode(text);
  const leafHash = createHash('sha256')
    .update(Buffer.from([0]))
    .update(leaf)
    .digest();
  return { leaf, leafHash: new Uint8Array(leafHash), searchKeys };
}

/** A leaf that names the index it is built for, as a CT entry's `leaf_index` extension does. */
export function indexedLeafOf(text: string, searchKeys: string[] = []): IndexedLeaf & { built: number[] } {
  const built: number[] = [];
  return {
    built,
    searchKeys,
    atIndex(index) {
      built.push(index);
      const { leaf, leafHash } = leafOf(`${text}@${index}`);
      return { leaf, leafHash };
    },
  };
}

/** The behaviour every LogStorage driver must have; run once per driver. */
export function describeStorageContract(driver: string, setUp: () => Promise<StorageFixture>): void {
  describe(`${driver} storage`, () => {
    let fixture: StorageFixture;
    let storage: LogStorage;

    before(async () => {
      fixture = await setUp();
      storage = fixture.storage;
      await storage.open();
      await storage.open(); // idempotent
    });

    after(() => fixture?.cleanup());

    it('starts empty', async () => {
      assert.equal(await storage.sequencedSize(), 0);
      assert.equal(await storage.readTreeState(), undefined);
      assert.equal(await storage.latestCheckpoint(), undefined);
    });

    it('assigns consecutive indices from 0 across batches', async () => {
      const first = await storage.sequence([leafOf('a'), leafOf('b')], 1_700_000_000);
      const second = await storage.sequence([leafOf('c')], 1_700_000_001);
      assert.deepEqual(first, [
        { kind: 'added', index: 0 },
        { kind: 'added', index: 1 },
      ]);
      assert.deepEqual(second, [{ kind: 'added', index: 2 }]);
      assert.equal(await storage.sequencedSize(), 3);
    });

    describe('when a leaf is already in the log or repeated in the batch', () => {
      it('answers with the existing index and spends no new index', async () => {
        const outcomes = await storage.sequence(
          [leafOf('b'), leafOf('d'), leafOf('d'), leafOf('e')],
          1_700_000_002,
        );
        assert.deepEqual(outcomes, [
          { kind: 'duplicate', index: 1 },
          { kind: 'added', index: 3 },
          { kind: 'duplicate', index: 3 },
          { kind: 'added', index: 4 },
        ]);
        assert.equal(await storage.sequencedSize(), 5);
      });
    });

    it('reads leaves back in index order with their integrated time', async () => {
      const leaves = await storage.readLeaves(1, 3);
      assert.deepEqual(
        leaves.map((leaf) => [leaf.index, new TextDecoder().decode(leaf.leaf), leaf.integratedTime]),
        [
          [1, 'b', 1_700_000_000],
          [2, 'c', 1_700_000_001],
          [3, 'd', 1_700_000_002],
        ],
      );
      assert.deepEqual(leaves[0]?.leafHash, leafOf('b').leafHash);
      assert.deepEqual(await storage.readLeaves(100, 5), []);
    });

    it('reads leaf hashes of a range in index order', async () => {
      assert.deepEqual(await storage.readLeafHashes(1, 2), [leafOf('b').leafHash, leafOf('c').leafHash]);
    });

    it('finds a leaf by its hash', async () => {
      assert.equal((await storage.findLeafByHash(leafOf('c').leafHash))?.index, 2);
      assert.equal(await storage.findLeafByHash(leafOf('zzz').leafHash), undefined);
    });

    it('files leaves under their search keys', async () => {
      await storage.sequence(
        [leafOf('f', ['sha256:aa', 'email:ada@example.com']), leafOf('g', ['sha256:aa'])],
        1,
      );
      assert.deepEqual(await storage.search('sha256:aa', 10), [5, 6]);
      assert.deepEqual(await storage.search('sha256:aa', 1), [5]);
      assert.deepEqual(await storage.search('email:ada@example.com', 10), [5]);
      assert.deepEqual(await storage.search('sha256:bb', 10), []);
    });

    it('replaces tiles and the tree state together, partial tile then wider', async () => {
      const hashes = (count: number, fill: number) => new Uint8Array(32 * count).fill(fill);
      await storage.writeIntegration(0, { size: 3, rootHash: hashes(1, 7) }, [
        { level: 0, index: 0, hashes: hashes(3, 1) },
      ]);
      await storage.writeIntegration(3, { size: 7, rootHash: hashes(1, 8) }, [
        { level: 0, index: 0, hashes: hashes(7, 2) },
        { level: 1, index: 0, hashes: hashes(1, 3) },
      ]);
      assert.deepEqual(await storage.readTreeState(), { size: 7, rootHash: hashes(1, 8) });
      const tiles = await storage.readTiles([
        { level: 0, index: 0 },
        { level: 1, index: 0 },
        { level: 0, index: 9 },
      ]);
      assert.deepEqual(
        tiles.map((tile) => [tile.level, tile.index, tile.hashes.length, tile.hashes[0]]),
        [
          [0, 0, 224, 2],
          [1, 0, 32, 3],
        ],
      );
    });

    describe('when another integrator moved the tree first', () => {
      it('refuses the write with LOG_INTEGRATION_CONFLICT and changes nothing', async () => {
        await assert.rejects(
          storage.writeIntegration(3, { size: 5, rootHash: new Uint8Array(32) }, [
            { level: 0, index: 0, hashes: new Uint8Array(5 * 32) },
          ]),
          (error: unknown) => error instanceof LogError && error.code === 'LOG_INTEGRATION_CONFLICT',
        );
        assert.equal((await storage.readTreeState())?.size, 7);
        const [tile] = await storage.readTiles([{ level: 0, index: 0 }]);
        assert.equal(tile?.hashes.length, 7 * 32);
      });
    });

    it('stores objects by key and keeps the first value of a key', async () => {
      const key = (fill: number) => new Uint8Array(32).fill(fill);
      await storage.writeObjects([
        { key: key(1), value: new TextEncoder().encode('issuer one') },
        { key: key(2), value: new TextEncoder().encode('issuer two') },
      ]);
      await storage.writeObjects([{ key: key(1), value: new TextEncoder().encode('another value') }]);
      await storage.writeObjects([]);
      assert.equal(new TextDecoder().decode(await storage.readObject(key(1))), 'issuer one');
      assert.equal(new TextDecoder().decode(await storage.readObject(key(2))), 'issuer two');
      assert.equal(await storage.readObject(key(3)), undefined);
    });

    it('keeps the newest checkpoint by size', async () => {
      await storage.writeCheckpoint({ size: 7, rootHash: new Uint8Array(32).fill(8), note: 'seven\n' });
      await storage.writeCheckpoint({ size: 3, rootHash: new Uint8Array(32).fill(7), note: 'three\n' });
      assert.equal((await storage.latestCheckpoint())?.note, 'seven\n');
    });

    describe('after a restart', () => {
      it('continues from the stored size and sees everything committed', async () => {
        await storage.close();
        storage = fixture.reopen();
        await storage.open();
        assert.equal(await storage.sequencedSize(), 7);
        assert.equal((await storage.readTreeState())?.size, 7);
        assert.deepEqual(await storage.sequence([leafOf('h'), leafOf('a')], 2), [
          { kind: 'added', index: 7 },
          { kind: 'duplicate', index: 0 },
        ]);
      });
    });

    it('keeps objects across a restart', async () => {
      const stored = await storage.readObject(new Uint8Array(32).fill(2));
      assert.equal(new TextDecoder().decode(stored), 'issuer two');
    });

    it('stores a large batch in one transaction', async () => {
      const batch = Array.from({ length: 2_000 }, (_, index) => leafOf(`bulk-${index}`, [`k:${index % 10}`]));
      const outcomes = await storage.sequence(batch, 3);
      assert.equal(outcomes.length, 2_000);
      assert.deepEqual(outcomes.at(-1), { kind: 'added', index: 8 + 1_999 });
      assert.equal(await storage.sequencedSize(), 2_008);
    });

    describe('when a leaf is built at the index it is given', () => {
      it('builds it once at its index, amid other leaves, and files it by hash and search key', async () => {
        const start = await storage.sequencedSize();
        const first = indexedLeafOf('ct', ['ct:key']);
        const second = indexedLeafOf('ct'); // the same content: a new entry all the same
        const outcomes = await storage.sequence(
          [leafOf('before-indexed'), first, leafOf('a'), second, leafOf('before-indexed')],
          4,
        );
        assert.deepEqual(outcomes, [
          { kind: 'added', index: start },
          { kind: 'added', index: start + 1 },
          { kind: 'duplicate', index: 0 },
          { kind: 'added', index: start + 2 },
          { kind: 'duplicate', index: start },
        ]);
        assert.deepEqual(first.built, [start + 1]);
        assert.deepEqual(second.built, [start + 2]);
        const [stored] = await storage.readLeaves(start + 1, 1);
        assert.equal(new TextDecoder().decode(stored?.leaf), `ct@${start + 1}`);
        assert.deepEqual(stored?.leafHash, leafOf(`ct@${start + 1}`).leafHash);
        assert.equal((await storage.findLeafByHash(leafOf(`ct@${start + 2}`).leafHash))?.index, start + 2);
        assert.deepEqual(await storage.search('ct:key', 10), [start + 1]);
        assert.equal(await storage.sequencedSize(), start + 3);
      });

      it('fails the whole batch with a LogError when the built hash is already stored', async () => {
        const size = await storage.sequencedSize();
        const repeating: IndexedLeaf = { searchKeys: [], atIndex: () => leafOf('a') };
        const innocent = leafOf('innocent', ['subject:innocent']);
        await assert.rejects(
          storage.sequence([innocent, repeating], 5),
          (error: unknown) => error instanceof LogError,
        );
        assert.equal(await storage.sequencedSize(), size);
        assert.equal(await storage.findLeafByHash(innocent.leafHash), undefined);
        assert.deepEqual(await storage.search('subject:innocent', 5), []);
        assert.deepEqual(await storage.sequence([innocent], 5), [{ kind: 'added', index: size }]);
        assert.deepEqual(await storage.search('subject:innocent', 5), [size]);
      });
    });

    describe('once closed', () => {
      it('fails with a LogError instead of crashing', async () => {
        const closed = fixture.reopen();
        await closed.open();
        await closed.close();
        await assert.rejects(closed.sequencedSize(), (error: unknown) => error instanceof LogError);
      });
    });
  });
}
