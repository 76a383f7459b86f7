import { hash } from 'node:crypto';
import { open, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { LogError } from '../errors.ts';
import type {
  LogStorage,
  NewLeaf,
  SequenceOutcome,
  StoredCheckpoint,
  StoredLeaf,
  StoredTile,
  TreeState,
} from './storage.types.ts';

/**
 * Schema version 2. The two random-order indexes — leaf hash (deduplication, lookup by UUID) and search
 * key — hold 48-bit integers (the first 6 bytes of the leaf hash, of SHA-256 of the key) instead of
 * 32-byte blobs and ~80-character strings: a third of the pages, so inserts at a million entries touch a
 * third as many (measured with 2 search keys per entry at 300,000 entries: 23,000 appends/s against
 * 12,000 with the full-width indexes). The leaf-hash prefix is UNIQUE, so a new leaf costs one insert
 * and no lookup; the leaf that collides on the prefix with a different leaf (about n²/2^49 such pairs in a log of n leaves)
 * is stored with a NULL prefix and found by its full hash. A search may in principle return an entry
 * whose key shares the 48-bit hash of the searched one (about n/2^48 per search). 48 bits are a safe
 * JavaScript integer: binding one costs less than a BigInt.
 */
const SCHEMA_VERSION = 2;
const SCHEMA = `
CREATE TABLE IF NOT EXISTS leaves (
  idx INTEGER PRIMARY KEY,
  hash_prefix INTEGER UNIQUE,
  leaf_hash BLOB NOT NULL,
  leaf BLOB NOT NULL,
  integrated_time INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS search_index (
  key_hash INTEGER NOT NULL,
  idx INTEGER NOT NULL,
  PRIMARY KEY (key_hash, idx)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS tiles (
  level INTEGER NOT NULL,
  idx INTEGER NOT NULL,
  hashes BLOB NOT NULL,
  PRIMARY KEY (level, idx)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS tree_state (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  size INTEGER NOT NULL,
  root_hash BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS checkpoints (
  size INTEGER PRIMARY KEY,
  root_hash BLOB NOT NULL,
  note TEXT NOT NULL
);
`;

/**
 * Version 1 had full-width `leaves.leaf_hash UNIQUE` and `search_keys(key TEXT)`. The leaves are copied
 * by `migrate` (a prefix collision needs the same care as in `sequence`); the search keys here.
 */
const MIGRATE_SEARCH_KEYS_FROM_1 = `
INSERT OR IGNORE INTO search_index (key_hash, idx) SELECT sigil_key_hash(key), idx FROM search_keys;
DROP TABLE search_keys;
`;

/** The first 6 bytes of a leaf hash as an integer. */
function hashPrefix(leafHash: Uint8Array): number {
  return Buffer.from(leafHash.buffer, leafHash.byteOffset, leafHash.byteLength).readUIntBE(0, 6);
}

/** A search key's index value: the first 6 bytes of its SHA-256. */
function keyHash(key: string): number {
  return hash('sha256', key, 'buffer').readUIntBE(0, 6); // one-shot: half the cost of createHash here
}

export interface SqliteStorageOptions {
  /** Database file; `:memory:` for a throwaway log. */
  path: string;
}

interface LeafRow {
  idx: number;
  leaf_hash: Buffer;
  leaf: Buffer;
  integrated_time: number;
}

/**
 * The embedded default: one SQLite file in WAL mode. `sequence` resolves only once its commit is on
 * disk (an fdatasync of the WAL file after the commit, on the thread pool); the derived state (tiles,
 * tree, checkpoints) commits without a flush of its own, since integration rebuilds it from the leaves
 * after a crash. better-sqlite3 is synchronous: each statement holds the event loop, briefly, because
 * the sequencer hands it whole batches.
 */
export class SqliteStorage implements LogStorage {
  readonly driver = 'sqlite';
  readonly #path: string;
  #db: Database.Database | undefined;
  #statements: ReturnType<typeof prepare> | undefined;
  #nextIndex = 0;
  #wal: FileHandle | undefined;
  #failure: LogError | undefined;

  constructor(options: SqliteStorageOptions) {
    this.#path = options.path;
  }

  open(): Promise<void> {
    return wrap('open', () => {
      if (this.#db) return;
      const db = new Database(this.#path);
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
      db.pragma('busy_timeout = 5000');
      // Random inserts into the leaf-hash and search indexes dirty one page each; a large cache and fewer,
      // larger WAL checkpoints let big batches share those page writes (measured: bench/log-storage).
      db.pragma('cache_size = -262144');
      db.pragma('wal_autocheckpoint = 16384');
      migrate(db);
      this.#db = db;
      this.#statements = prepare(db);
      const row = this.#statements.maxIndex.get() as { next: number | null };
      this.#nextIndex = row.next ?? 0;
    });
  }

  async close(): Promise<void> {
    const wal = this.#wal;
    this.#wal = undefined;
    await wal?.close();
    return wrap('close', () => {
      this.#db?.close();
      this.#db = undefined;
      this.#statements = undefined;
    });
  }

  async sequence(leaves: readonly NewLeaf[], integratedTime: number): Promise<SequenceOutcome[]> {
    const outcomes = await wrap('sequence', () => {
      const { db, statements } = this.#open();
      const run = db.transaction((): SequenceOutcome[] => {
        const outcomes: SequenceOutcome[] = [];
        const keyRows: number[] = []; // key hash, index, key hash, index, …
        let next = this.#nextIndex;
        for (const { leaf, leafHash, searchKeys } of leaves) {
          const prefix = hashPrefix(leafHash);
          // A conflict is a leaf stored before, or earlier in this batch (the transaction sees its own
          // writes) — or, about never, a different leaf with the same prefix.
          if (statements.insertLeaf.run(next, prefix, leafHash, leaf, integratedTime).changes === 0) {
            const existing = findLeaf(statements, prefix, leafHash);
            if (existing) {
              outcomes.push({ kind: 'duplicate', index: existing.idx });
              continue;
            }
            statements.insertLeaf.run(next, null, leafHash, leaf, integratedTime);
          }
          for (const key of searchKeys) keyRows.push(keyHash(key), next);
          outcomes.push({ kind: 'added', index: next });
          next += 1;
        }
        insertKeys(db, statements, keyRows);
        return outcomes;
      });
      return run.immediate();
    });
    // The commit is in the WAL file but not yet on disk (WAL with synchronous=NORMAL). Flushing that file
    // is what synchronous=FULL would do inside the commit; done here on libuv's thread pool, the event
    // loop keeps serving while the disk works (measured: ~1 ms per batch held the loop before). The
    // leaves count as sequenced — integrated, checkpointed, acknowledged — only once it returns.
    await this.#flushWal();
    this.#nextIndex += outcomes.filter((outcome) => outcome.kind === 'added').length;
    return outcomes;
  }

  sequencedSize(): Promise<number> {
    return wrap('read size', () => {
      this.#open();
      return this.#nextIndex;
    });
  }

  // Readers see only sequenced leaves: a committed batch whose WAL flush is still running is not there.

  readLeaves(start: number, count: number): Promise<StoredLeaf[]> {
    return wrap('read leaves', () =>
      (
        this.#open().statements.leavesInRange.all(
          start,
          Math.min(start + count, this.#nextIndex),
        ) as LeafRow[]
      ).map(toStoredLeaf),
    );
  }

  readLeafHashes(start: number, count: number): Promise<Uint8Array[]> {
    return wrap('read leaf hashes', () =>
      (this.#open().statements.leafHashesInRange.all(start, start + count) as { leaf_hash: Buffer }[]).map(
        (row) => new Uint8Array(row.leaf_hash),
      ),
    );
  }

  findLeafByHash(leafHash: Uint8Array): Promise<StoredLeaf | undefined> {
    return wrap('find leaf', () => {
      const row = findLeaf(this.#open().statements, hashPrefix(leafHash), leafHash);
      return row && row.idx < this.#nextIndex ? toStoredLeaf(row) : undefined;
    });
  }

  search(key: string, limit: number): Promise<number[]> {
    return wrap('search', () =>
      (this.#open().statements.searchKey.all(keyHash(key), this.#nextIndex, limit) as { idx: number }[]).map(
        (row) => row.idx,
      ),
    );
  }

  readTreeState(): Promise<TreeState | undefined> {
    return wrap('read tree state', () => {
      const row = this.#open().statements.treeState.get() as { size: number; root_hash: Buffer } | undefined;
      return row && { size: row.size, rootHash: new Uint8Array(row.root_hash) };
    });
  }

  readTiles(ids: readonly { level: number; index: number }[]): Promise<StoredTile[]> {
    return wrap('read tiles', () => {
      const { statements } = this.#open();
      const tiles: StoredTile[] = [];
      for (const { level, index } of ids) {
        const row = statements.tile.get(level, index) as { hashes: Buffer } | undefined;
        if (row) tiles.push({ level, index, hashes: new Uint8Array(row.hashes) });
      }
      return tiles;
    });
  }

  writeIntegration(previousSize: number, state: TreeState, tiles: readonly StoredTile[]): Promise<void> {
    return wrap('write integration', () => {
      const { db, statements } = this.#open();
      db.transaction(() => {
        const current = statements.treeState.get() as { size: number } | undefined;
        if ((current?.size ?? 0) !== previousSize)
          throw integrationConflict(previousSize, current?.size ?? 0);
        for (const tile of tiles) statements.upsertTile.run(tile.level, tile.index, tile.hashes);
        statements.upsertTreeState.run(state.size, state.rootHash);
      }).immediate();
    });
  }

  writeCheckpoint(checkpoint: StoredCheckpoint): Promise<void> {
    return wrap('write checkpoint', () => {
      this.#open().statements.upsertCheckpoint.run(checkpoint.size, checkpoint.rootHash, checkpoint.note);
    });
  }

  latestCheckpoint(): Promise<StoredCheckpoint | undefined> {
    return wrap('read checkpoint', () => {
      const row = this.#open().statements.latestCheckpoint.get() as
        { size: number; root_hash: Buffer; note: string } | undefined;
      return row && { size: row.size, rootHash: new Uint8Array(row.root_hash), note: row.note };
    });
  }

  /**
   * fdatasync of the WAL file (and, the first time, of its folder, so the file itself survives a crash).
   * A failed flush leaves it unknown what reached the disk: the storage refuses every later call, and a
   * restart recovers whatever SQLite finds committed.
   */
  async #flushWal(): Promise<void> {
    if (this.#path === ':memory:' || this.#path === '') return;
    try {
      if (!this.#wal) {
        const wal = await open(`${this.#path}-wal`, 'r');
        const folder = await open(dirname(this.#path), 'r');
        try {
          await folder.sync();
        } finally {
          await folder.close();
        }
        this.#wal = wal;
      }
      await this.#wal.datasync();
    } catch (cause) {
      this.#failure = new LogError(
        'LOG_STORAGE_FAILED',
        `sqlite: flushing the write-ahead log failed (${(cause as Error).message}); restart Sigil to recover the log from disk`,
        { cause },
      );
      throw this.#failure;
    }
  }

  #open(): { db: Database.Database; statements: ReturnType<typeof prepare> } {
    if (this.#failure) throw this.#failure;
    if (!this.#db || !this.#statements) throw new LogError('LOG_CLOSED', 'sqlite storage is not open');
    return { db: this.#db, statements: this.#statements };
  }
}

function prepare(db: Database.Database) {
  return {
    maxIndex: db.prepare('SELECT MAX(idx) + 1 AS next FROM leaves'),
    insertLeaf: db.prepare(
      'INSERT INTO leaves (idx, hash_prefix, leaf_hash, leaf, integrated_time) VALUES (?, ?, ?, ?, ?) ON CONFLICT (hash_prefix) DO NOTHING',
    ),
    insertKey: db.prepare('INSERT OR IGNORE INTO search_index (key_hash, idx) VALUES (?, ?)'),
    leavesInRange: db.prepare(
      'SELECT idx, leaf_hash, leaf, integrated_time FROM leaves WHERE idx >= ? AND idx < ? ORDER BY idx',
    ),
    leafHashesInRange: db.prepare('SELECT leaf_hash FROM leaves WHERE idx >= ? AND idx < ? ORDER BY idx'),
    leafByPrefix: db.prepare(
      'SELECT idx, leaf_hash, leaf, integrated_time FROM leaves WHERE hash_prefix = ? AND leaf_hash = ?',
    ),
    // The (about never) leaves stored without a prefix because another leaf held theirs.
    leafWithoutPrefix: db.prepare(
      'SELECT idx, leaf_hash, leaf, integrated_time FROM leaves WHERE hash_prefix IS NULL AND leaf_hash = ?',
    ),
    searchKey: db.prepare('SELECT idx FROM search_index WHERE key_hash = ? AND idx < ? ORDER BY idx LIMIT ?'),
    treeState: db.prepare('SELECT size, root_hash FROM tree_state WHERE id = 1'),
    tile: db.prepare('SELECT hashes FROM tiles WHERE level = ? AND idx = ?'),
    upsertTile: db.prepare(
      'INSERT INTO tiles (level, idx, hashes) VALUES (?, ?, ?) ON CONFLICT (level, idx) DO UPDATE SET hashes = excluded.hashes',
    ),
    upsertTreeState: db.prepare(
      'INSERT INTO tree_state (id, size, root_hash) VALUES (1, ?, ?) ON CONFLICT (id) DO UPDATE SET size = excluded.size, root_hash = excluded.root_hash',
    ),
    upsertCheckpoint: db.prepare(
      'INSERT OR REPLACE INTO checkpoints (size, root_hash, note) VALUES (?, ?, ?)',
    ),
    latestCheckpoint: db.prepare('SELECT size, root_hash, note FROM checkpoints ORDER BY size DESC LIMIT 1'),
  };
}

/**
 * Brings the database to SCHEMA_VERSION: creates it when empty, migrates version 1 in place. A newer
 * version than this build knows is refused rather than misread.
 */
function migrate(db: Database.Database): void {
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version > SCHEMA_VERSION) {
    throw new LogError(
      'LOG_STORAGE_FAILED',
      `sqlite schema version ${version} is newer than this Sigil understands (${SCHEMA_VERSION}); run a newer Sigil`,
    );
  }
  if (version === SCHEMA_VERSION) return;
  const hasV1 =
    db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'search_keys'").get() !==
    undefined;
  db.function('sigil_key_hash', { deterministic: true }, (key: unknown) => keyHash(String(key)));
  db.transaction(() => {
    if (hasV1) db.exec('ALTER TABLE leaves RENAME TO leaves_v1');
    db.exec(SCHEMA);
    if (hasV1) {
      const insert = prepare(db).insertLeaf;
      // In slices: better-sqlite3 cannot write while a statement iterates.
      const slice = db.prepare(
        'SELECT idx, leaf_hash, leaf, integrated_time FROM leaves_v1 WHERE idx >= ? ORDER BY idx LIMIT 10000',
      );
      for (let from = 0; ;) {
        const rows = slice.all(from) as LeafRow[];
        if (rows.length === 0) break;
        for (const row of rows) {
          const args = [row.leaf_hash, row.leaf, row.integrated_time] as const;
          if (insert.run(row.idx, hashPrefix(row.leaf_hash), ...args).changes === 0) {
            insert.run(row.idx, null, ...args);
          }
        }
        from = rows.at(-1)!.idx + 1;
      }
      db.exec('DROP TABLE leaves_v1');
      db.exec(MIGRATE_SEARCH_KEYS_FROM_1);
    }
    db.pragma(`user_version = ${SCHEMA_VERSION}`);
  }).immediate();
}

/** Rows of the search index per INSERT: one statement for many rows costs less than a call per row. */
const KEY_ROWS_PER_INSERT = 256;
const keyInserts = new WeakMap<Database.Database, Map<number, Database.Statement>>();

/** Inserts the (key hash, index) pairs flattened in `rows`, KEY_ROWS_PER_INSERT rows per statement. */
function insertKeys(db: Database.Database, statements: ReturnType<typeof prepare>, rows: number[]): void {
  let byCount = keyInserts.get(db);
  if (!byCount) keyInserts.set(db, (byCount = new Map<number, Database.Statement>()));
  for (let start = 0; start < rows.length; start += 2 * KEY_ROWS_PER_INSERT) {
    const chunk = rows.slice(start, start + 2 * KEY_ROWS_PER_INSERT);
    const count = chunk.length / 2;
    if (count === 1) {
      statements.insertKey.run(chunk[0], chunk[1]);
      continue;
    }
    let statement = byCount.get(count);
    if (!statement) {
      const values = Array.from({ length: count }, () => '(?, ?)').join(', ');
      statement = db.prepare(`INSERT OR IGNORE INTO search_index (key_hash, idx) VALUES ${values}`);
      byCount.set(count, statement);
    }
    statement.run(chunk);
  }
}

function findLeaf(
  statements: ReturnType<typeof prepare>,
  prefix: number,
  leafHash: Uint8Array,
): LeafRow | undefined {
  return (statements.leafByPrefix.get(prefix, leafHash) ?? statements.leafWithoutPrefix.get(leafHash)) as
    LeafRow | undefined;
}

function integrationConflict(expected: number, stored: number): LogError {
  return new LogError(
    'LOG_INTEGRATION_CONFLICT',
    `tree state: expected stored size ${expected}, received ${stored}; another integrator moved the tree`,
  );
}

function toStoredLeaf(row: LeafRow): StoredLeaf {
  return {
    index: row.idx,
    leaf: new Uint8Array(row.leaf),
    leafHash: new Uint8Array(row.leaf_hash),
    integratedTime: row.integrated_time,
  };
}

/** Runs a synchronous storage step as a promise, turning driver failures into LOG_STORAGE_FAILED. */
function wrap<T>(step: string, body: () => T): Promise<T> {
  try {
    return Promise.resolve(body());
  } catch (cause) {
    if (cause instanceof LogError) return Promise.reject(cause);
    return Promise.reject(
      new LogError('LOG_STORAGE_FAILED', `sqlite ${step} failed: ${(cause as Error).message}`, { cause }),
    );
  }
}
