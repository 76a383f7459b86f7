import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { LogError } from '../../src/log/errors.ts';
import { SqliteStorage } from '../../src/log/storage/sqlite.ts';
import { describeStorageContract, leafOf } from './storage-contract.ts';

describeStorageContract('sqlite', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'sigil-sqlite-'));
  const path = join(dir, 'log.db');
  let current = new SqliteStorage({ path });
  return {
    storage: current,
    reopen: () => (current = new SqliteStorage({ path })),
    cleanup: async () => {
      await current.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
});

describe('sqlite storage schema', () => {
  it('migrates a version 1 database in place: leaves, lookups, search and deduplication carry over', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sigil-sqlite-v1-'));
    try {
      const path = join(dir, 'log.db');
      // The version 1 schema as it shipped: full-width leaf hash and search key indexes.
      const v1 = new Database(path);
      v1.exec(`
        CREATE TABLE leaves (idx INTEGER PRIMARY KEY, leaf_hash BLOB NOT NULL UNIQUE, leaf BLOB NOT NULL,
          integrated_time INTEGER NOT NULL);
        CREATE TABLE search_keys (key TEXT NOT NULL, idx INTEGER NOT NULL, PRIMARY KEY (key, idx)) WITHOUT ROWID;
      `);
      const old = ['a', 'b', 'c'].map((text) => leafOf(text, [`artifact:sha256:${text}`, 'subject:shared']));
      old.forEach(({ leaf, leafHash, searchKeys }, idx) => {
        v1.prepare('INSERT INTO leaves VALUES (?, ?, ?, ?)').run(idx, leafHash, leaf, 1_700_000_000 + idx);
        for (const key of searchKeys) v1.prepare('INSERT INTO search_keys VALUES (?, ?)').run(key, idx);
      });
      v1.close();

      const storage = new SqliteStorage({ path });
      await storage.open();
      try {
        assert.equal(await storage.sequencedSize(), 3);
        assert.deepEqual((await storage.findLeafByHash(old[1]!.leafHash))?.integratedTime, 1_700_000_001);
        assert.deepEqual(await storage.search('artifact:sha256:c', 10), [2]);
        assert.deepEqual(await storage.search('subject:shared', 10), [0, 1, 2]);
        assert.deepEqual(await storage.sequence([leafOf('b'), leafOf('d', ['subject:shared'])], 2), [
          { kind: 'duplicate', index: 1 },
          { kind: 'added', index: 3 },
        ]);
        assert.deepEqual(await storage.search('subject:shared', 10), [0, 1, 2, 3]);
      } finally {
        await storage.close();
      }
      const migrated = new Database(path, { readonly: true });
      assert.equal(migrated.pragma('user_version', { simple: true }), 2);
      const tables = migrated.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").pluck().all();
      assert.deepEqual(tables.sort(), ['checkpoints', 'leaves', 'search_index', 'tiles', 'tree_state']);
      migrated.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('keeps leaves whose hashes share the indexed 6-byte prefix apart', async () => {
    const storage = new SqliteStorage({ path: ':memory:' });
    await storage.open();
    try {
      const prefix = Buffer.alloc(6, 0xab);
      const colliding = ['first', 'second', 'third'].map((text, i) => ({
        leaf: Buffer.from(text),
        leafHash: new Uint8Array(Buffer.concat([prefix, Buffer.alloc(26, i + 1)])),
        searchKeys: [`subject:${text}`],
      }));
      assert.deepEqual(await storage.sequence(colliding, 5), [
        { kind: 'added', index: 0 },
        { kind: 'added', index: 1 },
        { kind: 'added', index: 2 },
      ]);
      assert.deepEqual(await storage.sequence([colliding[2]!, colliding[0]!, colliding[1]!], 6), [
        { kind: 'duplicate', index: 2 },
        { kind: 'duplicate', index: 0 },
        { kind: 'duplicate', index: 1 },
      ]);
      for (const [index, leaf] of colliding.entries()) {
        assert.equal((await storage.findLeafByHash(leaf.leafHash))?.index, index);
      }
      assert.deepEqual(await storage.search('subject:second', 5), [1]);
      assert.equal(
        await storage.findLeafByHash(new Uint8Array(Buffer.concat([prefix, Buffer.alloc(26)]))),
        undefined,
      );
    } finally {
      await storage.close();
    }
  });

  it('shows a committed batch to readers only once its write-ahead log is flushed', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sigil-sqlite-flush-'));
    const storage = new SqliteStorage({ path: join(dir, 'log.db') });
    try {
      await storage.open();
      const leaf = leafOf('flushed', ['subject:flushed']);
      const sequencing = storage.sequence([leaf], 7); // commits now; the flush runs on the thread pool
      const [before, found, size] = await Promise.all([
        storage.readLeaves(0, 1),
        storage.findLeafByHash(leaf.leafHash),
        storage.sequencedSize(),
      ]);
      assert.deepEqual([before, found, size], [[], undefined, 0]);
      assert.deepEqual(await storage.search('subject:flushed', 5), []);
      assert.deepEqual(await sequencing, [{ kind: 'added', index: 0 }]);
      assert.equal((await storage.findLeafByHash(leaf.leafHash))?.index, 0);
      assert.deepEqual(await storage.search('subject:flushed', 5), [0]);
      assert.equal(await storage.sequencedSize(), 1);
    } finally {
      await storage.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('refuses a database written by a newer Sigil', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sigil-sqlite-v9-'));
    try {
      const path = join(dir, 'log.db');
      const future = new Database(path);
      future.pragma('user_version = 9');
      future.close();
      await assert.rejects(
        new SqliteStorage({ path }).open(),
        (error: unknown) =>
          error instanceof LogError &&
          error.code === 'LOG_STORAGE_FAILED' &&
          /schema version 9 is newer than this Sigil understands \(2\)/.test(error.message),
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
