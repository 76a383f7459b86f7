import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { LogError } from '../../src/log/errors.ts';
import { SqliteStorage } from '../../src/log/storage/sqlite.ts';
import { describeStorageContract, leafOf } from './storage-contract.ts';

function sqliteFixture(options: { indexEpochSize?: number; indexLag?: number } = {}) {
  return async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sigil-sqlite-'));
    const path = join(dir, 'log.db');
    let current = new SqliteStorage({ path, ...options });
    return {
      storage: current,
      // The epoch size is read from the file; the index lag is the process's own.
      reopen: () =>
        (current = new SqliteStorage({
          path,
          ...(options.indexLag === undefined ? {} : { indexLag: options.indexLag }),
        })),
      cleanup: async () => {
        await current.close();
        await rm(dir, { recursive: true, force: true });
      },
    };
  };
}

describeStorageContract('sqlite', sqliteFixture());
// Every batch of the contract crosses index epochs: lookups and searches span several of them.
describeStorageContract('sqlite (2-leaf index epochs)', sqliteFixture({ indexEpochSize: 2 }));
// Index rows written every batch (as before version 5), and every few batches across epochs.
describeStorageContract('sqlite (index lag 1)', sqliteFixture({ indexLag: 1 }));
describeStorageContract('sqlite (index lag 3)', sqliteFixture({ indexEpochSize: 2, indexLag: 3 }));

/** Runs `body` with the path of a database file in a fresh folder, removed afterwards. */
async function withDatabase(body: (path: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'sigil-sqlite-'));
  try {
    await body(join(dir, 'log.db'));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

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
      assertCurrentSchema(path);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('migrates a version 2 database in place', async () => {
    await withDatabase(async (path) => {
      // The version 2 schema as it shipped: one UNIQUE 48-bit prefix index, search keys as 48-bit hashes.
      const v2 = new Database(path);
      v2.exec(`
        CREATE TABLE leaves (idx INTEGER PRIMARY KEY, hash_prefix INTEGER UNIQUE, leaf_hash BLOB NOT NULL,
          leaf BLOB NOT NULL, integrated_time INTEGER NOT NULL);
        CREATE TABLE search_index (key_hash INTEGER NOT NULL, idx INTEGER NOT NULL,
          PRIMARY KEY (key_hash, idx)) WITHOUT ROWID;
        CREATE TABLE tiles (level INTEGER NOT NULL, idx INTEGER NOT NULL, hashes BLOB NOT NULL,
          PRIMARY KEY (level, idx)) WITHOUT ROWID;
        CREATE TABLE tree_state (id INTEGER PRIMARY KEY CHECK (id = 1), size INTEGER NOT NULL, root_hash BLOB NOT NULL);
        CREATE TABLE checkpoints (size INTEGER PRIMARY KEY, root_hash BLOB NOT NULL, note TEXT NOT NULL);
        PRAGMA user_version = 2;
      `);
      const keyHash = (key: string) => createHash('sha256').update(key).digest().readUIntBE(0, 6);
      const old = Array.from({ length: 70 }, (_, i) => leafOf(`v2-${i}`, [`subject:${i % 3}`]));
      old.forEach(({ leaf, leafHash, searchKeys }, idx) => {
        v2.prepare('INSERT INTO leaves VALUES (?, ?, ?, ?, ?)').run(
          idx,
          Buffer.from(leafHash).readUIntBE(0, 6),
          leafHash,
          leaf,
          1_700_000_000 + idx,
        );
        v2.prepare('INSERT INTO search_index VALUES (?, ?)').run(keyHash(searchKeys[0]!), idx);
      });
      v2.prepare('INSERT INTO checkpoints VALUES (?, ?, ?)').run(70, Buffer.alloc(32), 'note');
      v2.close();

      const storage = new SqliteStorage({ path, indexEpochSize: 16 });
      await storage.open();
      try {
        assert.equal(await storage.sequencedSize(), 70);
        for (const [index, { leafHash }] of old.entries()) {
          assert.equal((await storage.findLeafByHash(leafHash))?.index, index);
        }
        const thirds = old.map((_, i) => i).filter((i) => i % 3 === 1);
        assert.deepEqual(await storage.search('subject:1', 100), thirds);
        assert.deepEqual(await storage.search('subject:1', 5), thirds.slice(0, 5));
        assert.equal((await storage.latestCheckpoint())?.note, 'note');
        assert.deepEqual(await storage.sequence([old[69]!, old[0]!, leafOf('new')], 2), [
          { kind: 'duplicate', index: 69 },
          { kind: 'duplicate', index: 0 },
          { kind: 'added', index: 70 },
        ]);
      } finally {
        await storage.close();
      }
      assertCurrentSchema(path);
    });
  });

  it('finds duplicates and search keys across index epochs, before and after a restart', async () => {
    await withDatabase(async (path) => {
      const leaves = Array.from({ length: 23 }, (_, i) =>
        leafOf(`epoch-${i}`, [`subject:${i % 2}`, `artifact:${i}`]),
      );
      let storage = new SqliteStorage({ path, indexEpochSize: 4 });
      await storage.open();
      try {
        // Batches of 5 cross an epoch boundary each time; the last batch repeats leaves of every epoch.
        for (let start = 0; start < 20; start += 5) {
          const outcomes = await storage.sequence(leaves.slice(start, start + 5), 1);
          assert.deepEqual(
            outcomes,
            [0, 1, 2, 3, 4].map((i) => ({ kind: 'added', index: start + i })),
          );
        }
        const repeatInBatch = [leaves[20]!, leaves[3]!, leaves[21]!, leaves[20]!, leaves[22]!, leaves[19]!];
        const expected = [
          { kind: 'added', index: 20 },
          { kind: 'duplicate', index: 3 },
          { kind: 'added', index: 21 },
          { kind: 'duplicate', index: 20 },
          { kind: 'added', index: 22 },
          { kind: 'duplicate', index: 19 },
        ];
        assert.deepEqual(await storage.sequence(repeatInBatch, 2), expected);
        await storage.close();

        storage = new SqliteStorage({ path, indexEpochSize: 1024 }); // ignored: the file keeps 4
        await storage.open();
        for (const [index, { leafHash }] of leaves.entries()) {
          assert.equal((await storage.findLeafByHash(leafHash))?.index, index);
        }
        assert.equal(await storage.findLeafByHash(leafOf('absent').leafHash), undefined);
        const evens = leaves.map((_, i) => i).filter((i) => i % 2 === 0);
        assert.deepEqual(await storage.search('subject:0', 100), evens);
        assert.deepEqual(await storage.search('subject:0', 7), evens.slice(0, 7));
        assert.deepEqual(await storage.search('artifact:17', 100), [17]);
        assert.deepEqual(await storage.sequence(leaves.slice(0, 4).concat(leafOf('epoch-23')), 3), [
          { kind: 'duplicate', index: 0 },
          { kind: 'duplicate', index: 1 },
          { kind: 'duplicate', index: 2 },
          { kind: 'duplicate', index: 3 },
          { kind: 'added', index: 23 },
        ]);
      } finally {
        await storage.close();
      }
      const db = new Database(path, { readonly: true });
      // Epochs 0–4 are closed (leaf 23 is in epoch 5); each stored its filter when the next one opened.
      assert.deepEqual(
        db.prepare('SELECT epoch FROM leaf_filters ORDER BY epoch').pluck().all(),
        [0, 1, 2, 3, 4],
      );
      db.close();
    });
  });

  it('holds index rows in memory until the lag is reached, and takes them back from the leaves after a crash', async () => {
    await withDatabase(async (path) => {
      const leaves = Array.from({ length: 10 }, (_, i) => leafOf(`lag-${i}`, [`subject:${i % 2}`]));
      const indexRows = () => {
        const db = new Database(path, { readonly: true });
        try {
          return {
            leafIndex: db.prepare('SELECT COUNT(*) FROM leaf_index').pluck().get(),
            searchIndex: db.prepare('SELECT idx FROM search_index ORDER BY idx').pluck().all(),
            indexedTo: db.prepare("SELECT value FROM settings WHERE name = 'indexed_to'").pluck().get(),
          };
        } finally {
          db.close();
        }
      };
      let storage = new SqliteStorage({ path, indexEpochSize: 4, indexLag: 6 });
      await storage.open();
      await storage.sequence(leaves.slice(0, 4), 1);
      assert.deepEqual(indexRows(), { leafIndex: 0, searchIndex: [], indexedTo: 0 });
      assert.deepEqual(await storage.search('subject:0', 10), [0, 2]);
      // A crash: the process ends without writing anything more (better-sqlite3 closes the file).
      await storage.close();

      storage = new SqliteStorage({ path, indexLag: 6 });
      await storage.open();
      try {
        assert.deepEqual(await storage.search('subject:0', 10), [0, 2]);
        assert.equal((await storage.findLeafByHash(leaves[3]!.leafHash))?.index, 3);
        assert.deepEqual(await storage.sequence([leaves[1]!, leaves[4]!], 2), [
          { kind: 'duplicate', index: 1 },
          { kind: 'added', index: 4 },
        ]);
        assert.deepEqual(indexRows(), { leafIndex: 0, searchIndex: [], indexedTo: 0 });
        // Leaf 5 brings six leaves without index rows: this batch writes all of them.
        await storage.sequence([leaves[5]!], 3);
        assert.deepEqual(indexRows(), { leafIndex: 6, searchIndex: [0, 1, 2, 3, 4, 5], indexedTo: 6 });
        await storage.sequence(leaves.slice(6), 4);
        assert.deepEqual(await storage.search('subject:1', 10), [1, 3, 5, 7, 9]);
        assert.deepEqual(await storage.search('subject:1', 4), [1, 3, 5, 7]);
        assert.deepEqual(
          await storage.sequence(leaves, 5),
          leaves.map((_, index) => ({ kind: 'duplicate', index })),
        );
      } finally {
        await storage.close();
      }
    });
  });

  it('refuses an index lag that is not a positive integer', () => {
    for (const indexLag of [0, -1, 1.5, Number.NaN]) {
      assert.throws(
        () => new SqliteStorage({ path: ':memory:', indexLag }),
        /indexLag: expected a positive integer/,
      );
    }
  });

  it('rebuilds filters that are not stored from the leaves', async () => {
    await withDatabase(async (path) => {
      const leaves = Array.from({ length: 12 }, (_, i) => leafOf(`filter-${i}`));
      let storage = new SqliteStorage({ path, indexEpochSize: 4 });
      await storage.open();
      await storage.sequence(leaves, 1);
      await storage.close();
      const db = new Database(path);
      db.exec('DELETE FROM leaf_filters');
      db.close();
      storage = new SqliteStorage({ path });
      await storage.open();
      try {
        assert.deepEqual(
          await storage.sequence(leaves, 2),
          leaves.map((_, index) => ({ kind: 'duplicate', index })),
        );
      } finally {
        await storage.close();
      }
    });
  });

  it('refuses an index epoch size that is not a power of two', () => {
    for (const indexEpochSize of [0, 1, 3, 1000, -4, Number.NaN]) {
      assert.throws(
        () => new SqliteStorage({ path: ':memory:', indexEpochSize }),
        /indexEpochSize: expected a power of two/,
      );
    }
  });

  for (const indexEpochSize of [65_536, 2]) {
    it(`keeps leaves whose hashes share the indexed 6-byte prefix apart (${indexEpochSize}-leaf epochs)`, async () => {
      const storage = new SqliteStorage({ path: ':memory:', indexEpochSize });
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
  }

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

  for (const version of [3, 4]) {
    it(`migrates a version ${version} database in place: its leaves stay indexed, new ones lag`, async () => {
      await withDatabase(async (path) => {
        // Written with every batch's index rows (index lag 1), as versions 3 and 4 wrote them.
        const old = new SqliteStorage({ path, indexLag: 1 });
        await old.open();
        await old.sequence([leafOf('old-a', ['subject:old']), leafOf('old-b', ['subject:old'])], 1);
        await old.close();
        // Version 4 as it shipped: no search_keys column, no indexed_to setting; version 3 also lacked
        // the objects table.
        const db = new Database(path);
        db.exec(`
          ALTER TABLE leaves DROP COLUMN search_keys;
          DELETE FROM settings WHERE name = 'indexed_to';
          ${version === 3 ? 'DROP TABLE objects;' : ''}
          PRAGMA user_version = ${version};
        `);
        db.close();

        const storage = new SqliteStorage({ path });
        await storage.open();
        try {
          assert.equal(await storage.sequencedSize(), 2);
          assert.deepEqual(await storage.sequence([leafOf('old-b'), leafOf('new', ['subject:old'])], 2), [
            { kind: 'duplicate', index: 1 },
            { kind: 'added', index: 2 },
          ]);
          assert.deepEqual(await storage.search('subject:old', 10), [0, 1, 2]);
          await storage.writeObjects([{ key: new Uint8Array(32), value: new Uint8Array([1, 2, 3]) }]);
          assert.deepEqual(await storage.readObject(new Uint8Array(32)), new Uint8Array([1, 2, 3]));
        } finally {
          await storage.close();
        }
        assertCurrentSchema(path);
        const migrated = new Database(path, { readonly: true });
        try {
          // Leaves 0 and 1 were indexed before; leaf 2 waits in its row for the next index write.
          assert.equal(
            migrated.prepare("SELECT value FROM settings WHERE name = 'indexed_to'").pluck().get(),
            2,
          );
          assert.deepEqual(
            migrated.prepare('SELECT idx FROM search_index ORDER BY idx').pluck().all(),
            [0, 1],
          );
        } finally {
          migrated.close();
        }
      });
    });
  }

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
          /schema version 9 is newer than this Sigil understands \(5\)/.test(error.message),
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

/** The tables of schema version 5, and nothing left of an older one. */
function assertCurrentSchema(path: string): void {
  const db = new Database(path, { readonly: true });
  try {
    assert.equal(db.pragma('user_version', { simple: true }), 5);
    const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").pluck().all();
    assert.deepEqual(tables.sort(), [
      'checkpoints',
      'leaf_filters',
      'leaf_index',
      'leaf_index_overflow',
      'leaves',
      'objects',
      'search_index',
      'settings',
      'tiles',
      'tree_state',
    ]);
  } finally {
    db.close();
  }
}
