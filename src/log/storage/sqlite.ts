import { hash } from 'node:crypto';
import { open, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { LogError } from '../errors.ts';
import { LEAF_INDEX_SCHEMA, SqliteLeafIndex } from './internal/sqlite-leaf-index.ts';
import type {
  LeafToSequence,
  LogStorage,
  SequenceOutcome,
  StoredCheckpoint,
  StoredLeaf,
  StoredObject,
  StoredTile,
  TreeState,
} from './storage.types.ts';

/**
 * Schema version 5. Both random-order indexes — leaf hash (deduplication, lookup by UUID) and search key —
 * are cut into epochs of consecutive leaf indices so that inserts stay in a small, hot part of each
 * B-tree however large the log grows (see internal/sqlite-leaf-index.ts; measured: bench/log-scale).
 * Search keys are stored as 48-bit integers, the first 6 bytes of SHA-256 of the key: a search may in
 * principle return an entry whose key shares that hash with the searched one (about n/2^48 per search).
 * 48 bits are a safe JavaScript integer: binding one costs less than a BigInt. Version 4 added the
 * `objects` table (content-addressed objects served beside the leaves, e.g. CT issuer certificates).
 *
 * Version 5 lets both indexes lag the leaves: each leaf row carries its search keys' hashes
 * (`search_keys`, 6 bytes each), the index rows of leaves from the setting `indexed_to` on are held in
 * memory, and one transaction writes those of many batches at once (see `indexLag`).
 */
const SCHEMA_VERSION = 5;
const OBJECTS_SCHEMA = `
CREATE TABLE IF NOT EXISTS objects (
  key BLOB PRIMARY KEY,
  value BLOB NOT NULL
);
`;
const SCHEMA = `
CREATE TABLE IF NOT EXISTS settings (
  name TEXT PRIMARY KEY,
  value INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS leaves (
  idx INTEGER PRIMARY KEY,
  leaf_hash BLOB NOT NULL,
  leaf BLOB NOT NULL,
  integrated_time INTEGER NOT NULL,
  search_keys BLOB
);
${LEAF_INDEX_SCHEMA}
CREATE TABLE IF NOT EXISTS search_index (
  epoch INTEGER NOT NULL,
  key_hash INTEGER NOT NULL,
  idx INTEGER NOT NULL,
  PRIMARY KEY (epoch, key_hash, idx)
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
${OBJECTS_SCHEMA}
`;

/** Default leaf indices per index epoch: 2^16, a few hundred index pages per epoch. */
const DEFAULT_INDEX_EPOCH_SIZE = 65_536;

/** Default most leaves whose index rows wait in memory before they are written. */
const DEFAULT_INDEX_LAG = 8192;

/** A search key's index value: the first 6 bytes of its SHA-256. */
function keyHash(key: string): number {
  return hash('sha256', key, 'buffer').readUIntBE(0, 6); // one-shot: half the cost of createHash here
}

const KEY_HASH_BYTES = 6;

/** A leaf's search key hashes as its `search_keys` column: 6 bytes each, big-endian; null for none. */
function packKeyHashes(hashes: readonly number[]): Buffer | null {
  if (hashes.length === 0) return null;
  const packed = Buffer.allocUnsafe(hashes.length * KEY_HASH_BYTES);
  hashes.forEach((value, i) => packed.writeUIntBE(value, i * KEY_HASH_BYTES, KEY_HASH_BYTES));
  return packed;
}

function unpackKeyHashes(packed: Buffer | null): number[] {
  const hashes: number[] = [];
  for (let offset = 0; packed && offset < packed.length; offset += KEY_HASH_BYTES) {
    hashes.push(packed.readUIntBE(offset, KEY_HASH_BYTES));
  }
  return hashes;
}

export interface SqliteStorageOptions {
  /** Database file; `:memory:` for a throwaway log. */
  path: string;
  /**
   * Consecutive leaf indices per epoch of the leaf-hash and search indexes: a power of two. Read only when
   * the database is created (it is stored in it). Default 65,536; tests use small epochs.
   */
  indexEpochSize?: number;
  /**
   * Most leaves whose leaf-hash and search index rows wait in memory: the batch that reaches it writes
   * them all in its transaction. A small batch's index inserts each dirty a page of their own (a
   * 30-entry batch with 4 search keys each wrote ~23 KB to the WAL per entry); thousands at once share
   * their pages. Until then lookups and searches read the rows from memory. Default 8192; 1 writes
   * every batch's rows with it.
   */
  indexLag?: number;
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
  readonly #indexEpochSize: number;
  readonly #indexLag: number;
  #db: Database.Database | undefined;
  #statements: ReturnType<typeof prepare> | undefined;
  #leafIndex: SqliteLeafIndex | undefined;
  #nextIndex = 0;
  /** Leaves below this index are in `search_index` (and `leaf_index`); the others' rows are in memory. */
  #indexedTo = 0;
  /** Search key hash → indices of the committed leaves from `indexedTo` on that have it, ascending. */
  #recentKeys = new Map<number, number[]>();
  #wal: Promise<FileHandle> | undefined;
  #failure: LogError | undefined;

  constructor(options: SqliteStorageOptions) {
    this.#path = options.path;
    this.#indexEpochSize = options.indexEpochSize ?? DEFAULT_INDEX_EPOCH_SIZE;
    this.#indexLag = options.indexLag ?? DEFAULT_INDEX_LAG;
    if (!Number.isSafeInteger(this.#indexLag) || this.#indexLag < 1) {
      throw new TypeError(`indexLag: expected a positive integer, received ${options.indexLag}`);
    }
    if (!(Number.isInteger(Math.log2(this.#indexEpochSize)) && this.#indexEpochSize >= 2)) {
      throw new TypeError(
        `indexEpochSize: expected a power of two of at least 2, received ${options.indexEpochSize}`,
      );
    }
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
      const epochBits = migrate(db, Math.log2(this.#indexEpochSize));
      this.#db = db;
      this.#statements = prepare(db);
      const row = this.#statements.maxIndex.get() as { next: number | null };
      this.#nextIndex = row.next ?? 0;
      this.#indexedTo = this.#statements.indexedTo.get() as number;
      this.#leafIndex = new SqliteLeafIndex(db, epochBits);
      this.#leafIndex.load(this.#nextIndex, this.#indexedTo);
      this.#recentKeys = new Map();
      const unindexed = this.#statements.searchKeysFrom.iterate(this.#indexedTo) as Iterable<{
        idx: number;
        search_keys: Buffer | null;
      }>;
      for (const { idx, search_keys } of unindexed) {
        for (const value of unpackKeyHashes(search_keys)) this.#rememberKey(value, idx);
      }
    });
  }

  async close(): Promise<void> {
    const wal = this.#wal;
    this.#wal = undefined;
    await (await wal?.catch(() => undefined))?.close();
    return wrap('close', () => {
      this.#db?.close();
      this.#db = undefined;
      this.#statements = undefined;
      this.#leafIndex = undefined;
    });
  }

  async sequence(leaves: readonly LeafToSequence[], integratedTime: number): Promise<SequenceOutcome[]> {
    const outcomes = await wrap('sequence', () => {
      const { db, statements, leafIndex } = this.#open();
      const batchKeys: number[] = []; // key hash, index, key hash, index, …
      let next = this.#nextIndex;
      let indexed = false;
      const run = db.transaction((): SequenceOutcome[] => {
        const outcomes: SequenceOutcome[] = [];
        for (const item of leaves) {
          const { leaf, leafHash } = 'atIndex' in item ? item.atIndex(next) : item;
          // Finds a leaf stored before or filed earlier in this batch.
          const existing = leafIndex.file(next, leafHash);
          if (existing !== undefined) {
            if ('atIndex' in item) throw indexedLeafExists(next, existing);
            outcomes.push({ kind: 'duplicate', index: existing });
            continue;
          }
          const hashes = [...new Set(item.searchKeys.map(keyHash))];
          statements.insertLeaf.run(next, leafHash, leaf, integratedTime, packKeyHashes(hashes));
          for (const value of hashes) batchKeys.push(value, next);
          outcomes.push({ kind: 'added', index: next });
          next += 1;
        }
        if (next - this.#indexedTo >= this.#indexLag) {
          leafIndex.writeRows();
          writeSearchRows(db, leafIndex, this.#recentKeys, batchKeys);
          statements.setIndexedTo.run(next);
          indexed = true;
        }
        return outcomes;
      });
      let outcomes: SequenceOutcome[];
      try {
        outcomes = run.immediate();
      } catch (error) {
        leafIndex.rolledBack();
        throw error;
      }
      leafIndex.committed(indexed);
      if (indexed) {
        this.#indexedTo = next;
        this.#recentKeys = new Map();
      } else {
        for (let i = 0; i < batchKeys.length; i += 2) this.#rememberKey(batchKeys[i]!, batchKeys[i + 1]!);
      }
      return outcomes;
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
      const { statements, leafIndex } = this.#open();
      const index = leafIndex.find(leafHash);
      if (index === undefined || index >= this.#nextIndex) return undefined;
      return toStoredLeaf(statements.leafAt.get(index) as LeafRow);
    });
  }

  search(key: string, limit: number): Promise<number[]> {
    return wrap('search', () => {
      const { statements, leafIndex } = this.#open();
      const wanted = keyHash(key);
      const found: number[] = [];
      // A written batch whose WAL flush is still running may have put rows past `nextIndex` there.
      const indexed = Math.min(this.#indexedTo, this.#nextIndex);
      const epochs = indexed === 0 ? 0 : leafIndex.epochOf(indexed - 1) + 1;
      for (let epoch = 0; epoch < epochs && found.length < limit; epoch++) {
        found.push(...(statements.searchKey.all(epoch, wanted, indexed, limit - found.length) as number[]));
      }
      for (const index of this.#recentKeys.get(wanted) ?? []) {
        if (found.length >= limit || index >= this.#nextIndex) break;
        found.push(index);
      }
      return found;
    });
  }

  #rememberKey(value: number, index: number): void {
    const indices = this.#recentKeys.get(value);
    if (indices) indices.push(index);
    else this.#recentKeys.set(value, [index]);
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

  async writeObjects(objects: readonly StoredObject[]): Promise<void> {
    if (objects.length === 0) return;
    await wrap('write objects', () => {
      const { db, statements } = this.#open();
      db.transaction(() => {
        for (const { key, value } of objects) statements.insertObject.run(key, value);
      }).immediate();
    });
    await this.#flushWal();
  }

  readObject(key: Uint8Array): Promise<Uint8Array | undefined> {
    return wrap('read object', () => {
      const value = this.#open().statements.object.get(key) as Buffer | undefined;
      return value && new Uint8Array(value);
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
      // Opened once; concurrent first flushes (a batch and an object write) share the one opening.
      this.#wal ??= this.#openWal();
      await (await this.#wal).datasync();
    } catch (cause) {
      this.#failure = new LogError(
        'LOG_STORAGE_FAILED',
        `sqlite: flushing the write-ahead log failed (${(cause as Error).message}); restart Sigil to recover the log from disk`,
        { cause },
      );
      throw this.#failure;
    }
  }

  /** The WAL file for fdatasync, after syncing the folder so the WAL file's own entry is durable. */
  async #openWal(): Promise<FileHandle> {
    const wal = await open(`${this.#path}-wal`, 'r');
    const folder = await open(dirname(this.#path), 'r');
    try {
      await folder.sync();
    } finally {
      await folder.close();
    }
    return wal;
  }

  #open(): { db: Database.Database; statements: ReturnType<typeof prepare>; leafIndex: SqliteLeafIndex } {
    if (this.#failure) throw this.#failure;
    if (!this.#db || !this.#statements || !this.#leafIndex) {
      throw new LogError('LOG_CLOSED', 'sqlite storage is not open');
    }
    return { db: this.#db, statements: this.#statements, leafIndex: this.#leafIndex };
  }
}

function prepare(db: Database.Database) {
  return {
    maxIndex: db.prepare('SELECT MAX(idx) + 1 AS next FROM leaves'),
    insertLeaf: db.prepare(
      'INSERT INTO leaves (idx, leaf_hash, leaf, integrated_time, search_keys) VALUES (?, ?, ?, ?, ?)',
    ),
    searchKeysFrom: db.prepare('SELECT idx, search_keys FROM leaves WHERE idx >= ? ORDER BY idx'),
    indexedTo: db.prepare("SELECT value FROM settings WHERE name = 'indexed_to'").pluck(),
    setIndexedTo: db.prepare("UPDATE settings SET value = ? WHERE name = 'indexed_to'"),
    leavesInRange: db.prepare(
      'SELECT idx, leaf_hash, leaf, integrated_time FROM leaves WHERE idx >= ? AND idx < ? ORDER BY idx',
    ),
    leafHashesInRange: db.prepare('SELECT leaf_hash FROM leaves WHERE idx >= ? AND idx < ? ORDER BY idx'),
    leafAt: db.prepare('SELECT idx, leaf_hash, leaf, integrated_time FROM leaves WHERE idx = ?'),
    searchKey: db
      .prepare(
        'SELECT idx FROM search_index WHERE epoch = ? AND key_hash = ? AND idx < ? ORDER BY idx LIMIT ?',
      )
      .pluck(),
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
    insertObject: db.prepare('INSERT OR IGNORE INTO objects (key, value) VALUES (?, ?)'),
    object: db.prepare('SELECT value FROM objects WHERE key = ?').pluck(),
  };
}

/**
 * Brings the database to SCHEMA_VERSION — creates it when empty, migrates versions 1 to 3 in place —
 * and returns its index epoch size as a power of two (`epochBits` for a new database). A newer version
 * than this build knows is refused rather than misread.
 *
 * Version 1 had `leaves.leaf_hash UNIQUE` and `search_keys(key TEXT, idx)`; version 2 a UNIQUE 48-bit
 * `leaves.hash_prefix` and `search_index(key_hash, idx)`. Both keep their leaves, which are indexed
 * again by the same code that indexes new ones, and their search keys. Version 3 lacked only `objects`.
 */
function migrate(db: Database.Database, epochBits: number): number {
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version > SCHEMA_VERSION) {
    throw new LogError(
      'LOG_STORAGE_FAILED',
      `sqlite schema version ${version} is newer than this Sigil understands (${SCHEMA_VERSION}); run a newer Sigil`,
    );
  }
  const readEpochBits = () =>
    db.prepare("SELECT value FROM settings WHERE name = 'index_epoch_bits'").pluck().get() as number;
  if (version === SCHEMA_VERSION) return readEpochBits();
  if (version === 3 || version === 4) {
    db.transaction(() => {
      if (version === 3) db.exec(OBJECTS_SCHEMA);
      // Every leaf so far is in both indexes.
      db.exec(`
        ALTER TABLE leaves ADD COLUMN search_keys BLOB;
        INSERT INTO settings (name, value) SELECT 'indexed_to', COALESCE(MAX(idx) + 1, 0) FROM leaves;
      `);
      db.pragma(`user_version = ${SCHEMA_VERSION}`);
    }).immediate();
    return readEpochBits();
  }
  const tables = new Set(db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").pluck().all());
  db.function('sigil_key_hash', { deterministic: true }, (key: unknown) => keyHash(String(key)));
  db.transaction(() => {
    if (tables.has('leaves')) db.exec('ALTER TABLE leaves RENAME TO leaves_old');
    if (tables.has('search_index')) db.exec('ALTER TABLE search_index RENAME TO search_index_old');
    db.exec(SCHEMA);
    db.prepare("INSERT INTO settings (name, value) VALUES ('index_epoch_bits', ?)").run(epochBits);
    if (tables.has('leaves')) {
      db.exec(`
        INSERT INTO leaves (idx, leaf_hash, leaf, integrated_time)
          SELECT idx, leaf_hash, leaf, integrated_time FROM leaves_old;
        DROP TABLE leaves_old;
      `);
      const leafIndex = new SqliteLeafIndex(db, epochBits);
      leafIndex.load(0);
      // In slices: better-sqlite3 cannot write while a statement iterates.
      const slice = db
        .prepare('SELECT idx, leaf_hash FROM leaves WHERE idx >= ? ORDER BY idx LIMIT 10000')
        .raw();
      for (let from = 0; ;) {
        const rows = slice.all(from) as [number, Buffer][];
        if (rows.length === 0) break;
        for (const [idx, leafHash] of rows) leafIndex.file(idx, leafHash);
        leafIndex.writeRows();
        leafIndex.committed(true);
        from = rows.at(-1)![0] + 1;
      }
    }
    if (tables.has('search_keys')) {
      db.exec(`
        INSERT OR IGNORE INTO search_index (epoch, key_hash, idx)
          SELECT idx >> ${epochBits}, sigil_key_hash(key), idx FROM search_keys;
        DROP TABLE search_keys;
      `);
    }
    if (tables.has('search_index')) {
      db.exec(`
        INSERT OR IGNORE INTO search_index (epoch, key_hash, idx)
          SELECT idx >> ${epochBits}, key_hash, idx FROM search_index_old;
        DROP TABLE search_index_old;
      `);
    }
    // Every leaf copied is in both indexes now.
    db.exec("INSERT INTO settings (name, value) SELECT 'indexed_to', COALESCE(MAX(idx) + 1, 0) FROM leaves");
    db.pragma(`user_version = ${SCHEMA_VERSION}`);
  }).immediate();
  return readEpochBits();
}

/**
 * Writes the search rows held in memory (`recentKeys`) and `batchKeys` (key hash, index pairs of the
 * running batch). Their order does not matter: the pages they dirty are written once, at the commit.
 */
function writeSearchRows(
  db: Database.Database,
  leafIndex: SqliteLeafIndex,
  recentKeys: ReadonlyMap<number, readonly number[]>,
  batchKeys: readonly number[],
): void {
  const rows: number[] = []; // epoch, key hash, index, epoch, key hash, index, …
  for (const [value, indices] of recentKeys) {
    for (const index of indices) rows.push(leafIndex.epochOf(index), value, index);
  }
  for (let i = 0; i < batchKeys.length; i += 2) {
    rows.push(leafIndex.epochOf(batchKeys[i + 1]!), batchKeys[i]!, batchKeys[i + 1]!);
  }
  insertKeys(db, rows);
}

/** Rows of the search index per INSERT: one statement for many rows costs less than a call per row. */
const KEY_ROWS_PER_INSERT = 256;
const keyInserts = new WeakMap<Database.Database, Map<number, Database.Statement>>();

/** Inserts the (epoch, key hash, index) triples flattened in `rows`, KEY_ROWS_PER_INSERT rows a statement. */
function insertKeys(db: Database.Database, rows: number[]): void {
  let byCount = keyInserts.get(db);
  if (!byCount) keyInserts.set(db, (byCount = new Map<number, Database.Statement>()));
  for (let start = 0; start < rows.length; start += 3 * KEY_ROWS_PER_INSERT) {
    const chunk = rows.slice(start, start + 3 * KEY_ROWS_PER_INSERT);
    const count = chunk.length / 3;
    let statement = byCount.get(count);
    if (!statement) {
      const values = Array.from({ length: count }, () => '(?, ?, ?)').join(', ');
      statement = db.prepare(`INSERT OR IGNORE INTO search_index (epoch, key_hash, idx) VALUES ${values}`);
      byCount.set(count, statement);
    }
    statement.run(chunk);
  }
}

function indexedLeafExists(index: number, existing: number): LogError {
  return new LogError(
    'LOG_ENTRY_INVALID',
    `leaf built for index ${index}: expected a leaf hash new to the log, received the hash of entry ${existing}`,
  );
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
