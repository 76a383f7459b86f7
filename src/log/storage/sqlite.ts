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

const SCHEMA = `
CREATE TABLE IF NOT EXISTS leaves (
  idx INTEGER PRIMARY KEY,
  leaf_hash BLOB NOT NULL UNIQUE,
  leaf BLOB NOT NULL,
  integrated_time INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS search_keys (
  key TEXT NOT NULL,
  idx INTEGER NOT NULL,
  PRIMARY KEY (key, idx)
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
 * The embedded default: one SQLite file in WAL mode. `sequence` commits with `synchronous=FULL`, so a
 * leaf is on disk when it resolves; the derived state (tiles, tree, checkpoints) commits without an
 * fsync of its own, since integration rebuilds it from the leaves after a crash. better-sqlite3 is synchronous; each call holds the event loop for one
 * transaction, which is short because the sequencer hands it whole batches.
 */
export class SqliteStorage implements LogStorage {
  readonly driver = 'sqlite';
  readonly #path: string;
  #db: Database.Database | undefined;
  #statements: ReturnType<typeof prepare> | undefined;
  #nextIndex = 0;

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
      db.exec(SCHEMA);
      this.#db = db;
      this.#statements = prepare(db);
      const row = this.#statements.maxIndex.get() as { next: number | null };
      this.#nextIndex = row.next ?? 0;
    });
  }

  close(): Promise<void> {
    return wrap('close', () => {
      this.#db?.close();
      this.#db = undefined;
      this.#statements = undefined;
    });
  }

  sequence(leaves: readonly NewLeaf[], integratedTime: number): Promise<SequenceOutcome[]> {
    return wrap('sequence', () => {
      const { db, statements } = this.#open();
      const run = db.transaction((): SequenceOutcome[] => {
        const outcomes: SequenceOutcome[] = [];
        let next = this.#nextIndex;
        for (const { leaf, leafHash, searchKeys } of leaves) {
          const inserted = statements.insertLeaf.run(next, leafHash, leaf, integratedTime);
          if (inserted.changes === 0) {
            const existing = statements.indexByHash.get(leafHash) as { idx: number };
            outcomes.push({ kind: 'duplicate', index: existing.idx });
            continue;
          }
          for (const key of searchKeys) statements.insertKey.run(key, next);
          outcomes.push({ kind: 'added', index: next });
          next += 1;
        }
        return outcomes;
      });
      // Only sequencing must reach the disk before it answers: tiles, tree state and checkpoints are
      // recomputed from durable leaves after a crash, so their commits skip the fsync (WAL NORMAL).
      db.pragma('synchronous = FULL');
      let outcomes: SequenceOutcome[];
      try {
        outcomes = run.immediate();
      } finally {
        db.pragma('synchronous = NORMAL');
      }
      this.#nextIndex += outcomes.filter((outcome) => outcome.kind === 'added').length;
      return outcomes;
    });
  }

  sequencedSize(): Promise<number> {
    return wrap('read size', () => {
      this.#open();
      return this.#nextIndex;
    });
  }

  readLeaves(start: number, count: number): Promise<StoredLeaf[]> {
    return wrap('read leaves', () =>
      (this.#open().statements.leavesInRange.all(start, start + count) as LeafRow[]).map(toStoredLeaf),
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
      const row = this.#open().statements.leafByHash.get(leafHash) as LeafRow | undefined;
      return row && toStoredLeaf(row);
    });
  }

  search(key: string, limit: number): Promise<number[]> {
    return wrap('search', () =>
      (this.#open().statements.searchKey.all(key, limit) as { idx: number }[]).map((row) => row.idx),
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

  #open(): { db: Database.Database; statements: ReturnType<typeof prepare> } {
    if (!this.#db || !this.#statements) throw new LogError('LOG_CLOSED', 'sqlite storage is not open');
    return { db: this.#db, statements: this.#statements };
  }
}

function prepare(db: Database.Database) {
  return {
    maxIndex: db.prepare('SELECT MAX(idx) + 1 AS next FROM leaves'),
    insertLeaf: db.prepare(
      'INSERT INTO leaves (idx, leaf_hash, leaf, integrated_time) VALUES (?, ?, ?, ?) ON CONFLICT (leaf_hash) DO NOTHING',
    ),
    indexByHash: db.prepare('SELECT idx FROM leaves WHERE leaf_hash = ?'),
    insertKey: db.prepare('INSERT OR IGNORE INTO search_keys (key, idx) VALUES (?, ?)'),
    leavesInRange: db.prepare(
      'SELECT idx, leaf_hash, leaf, integrated_time FROM leaves WHERE idx >= ? AND idx < ? ORDER BY idx',
    ),
    leafHashesInRange: db.prepare('SELECT leaf_hash FROM leaves WHERE idx >= ? AND idx < ? ORDER BY idx'),
    leafByHash: db.prepare('SELECT idx, leaf_hash, leaf, integrated_time FROM leaves WHERE leaf_hash = ?'),
    searchKey: db.prepare('SELECT idx FROM search_keys WHERE key = ? ORDER BY idx LIMIT ?'),
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
