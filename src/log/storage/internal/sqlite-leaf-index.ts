import type Database from 'better-sqlite3';
import { EpochFilters } from './epoch-filters.ts';

/**
 * The SQLite log's index from leaf hash to leaf index: what finds duplicates and entries by UUID.
 *
 * Leaf hashes arrive in random order, so one B-tree over all of them takes each insert to a random page:
 * at a million entries a batch of 4,096 dirtied ~2,800 index pages, and appends ran at half the rate
 * they had at 10,000 (bench/log-scale). Here the index is cut into epochs of consecutive leaf indices,
 * keyed (epoch, hash prefix): inserts land only in the current epoch's part of the tree, a few hundred
 * pages that stay hot, so their cost does not grow with the log. A lookup asks a Bloom filter per epoch
 * in memory, all epochs at once (epoch-filters.ts; ~1 % false "maybe" per epoch), then the index only
 * where a filter says maybe. A closed epoch's filter is stored with the batch that opens the next one;
 * the open epoch's is rebuilt from its leaves on open.
 *
 * Even in one epoch a small batch's inserts each dirty a page of their own, and every dirty page is
 * written to the WAL at each commit. So the index rows lag: a filed leaf is held in memory (and found
 * there) until the storage writes the rows of many batches at once (`writeRows`), which share pages.
 * Nothing is lost in a crash: the leaves table holds every leaf hash, and `load` takes the leaves the
 * index does not have yet back into memory.
 *
 * The key holds the first 6 bytes of the leaf hash (a safe JavaScript integer, a third of the width of
 * the hash). The leaf that shares its prefix with a different leaf of the same epoch (about
 * epochSize²/2^49 such pairs per epoch) goes to `leaf_index_overflow`, keyed by its full hash.
 */
export const LEAF_INDEX_SCHEMA = `
CREATE TABLE IF NOT EXISTS leaf_index (
  epoch INTEGER NOT NULL,
  hash_prefix INTEGER NOT NULL,
  idx INTEGER NOT NULL,
  PRIMARY KEY (epoch, hash_prefix)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS leaf_index_overflow (
  leaf_hash BLOB PRIMARY KEY,
  idx INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS leaf_filters (
  epoch INTEGER PRIMARY KEY,
  bits BLOB NOT NULL
);
`;

/** The first 6 bytes of a leaf hash as an integer. */
function hashPrefix(leafHash: Uint8Array): number {
  return Buffer.from(leafHash.buffer, leafHash.byteOffset, leafHash.byteLength).readUIntBE(0, 6);
}

export class SqliteLeafIndex {
  readonly #epochBits: number;
  readonly #statements: ReturnType<typeof prepare>;
  /** May hold values of rolled-back batches: only more "maybe", never a missed leaf. */
  #filters: EpochFilters;
  /** Epochs the filters cover: 0 to the open one. */
  #epochs = 0;
  /** Committed leaves not yet in `leaf_index` (from `indexedTo` on), by leaf hash (latin1). */
  #recent = new Map<string, number>();
  /** Leaves filed in the running transaction, by leaf hash: `recent` once it commits. */
  #staged = new Map<string, number>();
  /** The leaves of `recent` and then `staged`, in index order: what `writeRows` writes. */
  #unwritten: { index: number; leafHash: Uint8Array }[] = [];
  /** How many of `unwritten` are committed (in `recent`). */
  #committedUnwritten = 0;

  /** `epochBits`: each epoch covers 2^epochBits consecutive leaf indices. */
  constructor(db: Database.Database, epochBits: number) {
    this.#epochBits = epochBits;
    this.#statements = prepare(db);
    this.#filters = new EpochFilters(this.epochSize);
  }

  get epochSize(): number {
    return 2 ** this.#epochBits;
  }

  epochOf(index: number): number {
    return Math.floor(index / this.epochSize);
  }

  /**
   * Loads the stored filters of epochs up to the one holding `nextIndex`, rebuilding from the leaves any
   * that is not stored (the open epoch always, every epoch after a migration), and holds the leaves from
   * `indexedTo` on, which `leaf_index` does not have yet, in memory.
   */
  load(nextIndex: number, indexedTo = nextIndex): void {
    this.#filters = new EpochFilters(this.epochSize);
    this.#epochs = this.epochOf(nextIndex) + 1;
    this.#recent = new Map();
    this.#staged = new Map();
    this.#unwritten = [];
    this.#committedUnwritten = 0;
    const loaded = new Set<number>();
    const rows = this.#statements.filters.iterate(this.#epochs - 1) as Iterable<{
      epoch: number;
      bits: Buffer;
    }>;
    for (const { epoch, bits } of rows) {
      if (this.#filters.loadEpoch(epoch, bits)) loaded.add(epoch);
    }
    for (let epoch = 0; epoch < this.#epochs; epoch++) {
      if (!loaded.has(epoch)) this.#rebuildFilter(epoch);
    }
    if (indexedTo >= nextIndex) return;
    const unindexed = this.#statements.leafHashesFrom.iterate(indexedTo) as Iterable<{
      idx: number;
      leaf_hash: Buffer;
    }>;
    for (const { idx, leaf_hash } of unindexed) {
      this.#recent.set(leaf_hash.toString('latin1'), idx);
      this.#unwritten.push({ index: idx, leafHash: leaf_hash });
    }
    this.#committedUnwritten = this.#unwritten.length;
  }

  /**
   * Files the leaf at `index` (the next one, inside the caller's transaction) unless a leaf with the
   * same hash is stored or filed: then returns that leaf's index and files nothing. The leaf is held in
   * memory until `writeRows`; the caller ends the transaction with `committed` or `rolledBack`. The
   * first leaf of an epoch stores the filter of the epoch it closes.
   */
  file(index: number, leafHash: Uint8Array): number | undefined {
    const key = hashKey(leafHash);
    const existing = this.#staged.get(key) ?? this.#find(leafHash, key);
    if (existing !== undefined) return existing;
    const epoch = this.epochOf(index);
    this.#epochs = Math.max(this.#epochs, epoch + 1);
    if (epoch > 0 && index % this.epochSize === 0) {
      this.#statements.storeFilter.run(epoch - 1, this.#filters.epochBytes(epoch - 1));
    }
    this.#filters.add(epoch, leafHash);
    this.#staged.set(key, index);
    this.#unwritten.push({ index, leafHash });
    return undefined;
  }

  /**
   * Writes every leaf held in memory to `leaf_index` (inside the caller's transaction). Their order
   * does not matter: the pages they dirty are written once, at the commit. A leaf whose 6-byte prefix
   * another leaf of its epoch holds goes to `leaf_index_overflow`. The caller's `committed(true)` then
   * forgets them.
   */
  writeRows(): void {
    for (const { index, leafHash } of this.#unwritten) {
      // The epoch's own prefix twins show as a conflict on its key: one insert, no lookup, for most leaves.
      if (this.#statements.insert.run(this.epochOf(index), hashPrefix(leafHash), index).changes === 0) {
        this.#statements.insertOverflow.run(leafHash, index);
      }
    }
  }

  /** The running transaction committed; `written`: it included `writeRows`. */
  committed(written: boolean): void {
    if (written) {
      this.#recent = new Map();
      this.#unwritten = [];
    } else {
      for (const [key, index] of this.#staged) this.#recent.set(key, index);
    }
    this.#committedUnwritten = this.#unwritten.length;
    this.#staged = new Map();
  }

  /** The running transaction rolled back: forgets what it filed (its filter bits stay, as "maybe"). */
  rolledBack(): void {
    this.#staged = new Map();
    this.#unwritten.length = this.#committedUnwritten;
  }

  /**
   * The index of the committed leaf whose hash is `leafHash`, in memory or in `leaf_index` (any epoch).
   * The caller bounds what counts as sequenced.
   */
  find(leafHash: Uint8Array): number | undefined {
    return this.#find(leafHash, hashKey(leafHash));
  }

  #find(leafHash: Uint8Array, key: string): number | undefined {
    const recent = this.#recent.get(key);
    if (recent !== undefined) return recent;
    const prefix = hashPrefix(leafHash);
    let prefixTaken = false;
    for (const epoch of this.#filters.candidates(leafHash, this.#epochs)) {
      const row = this.#statements.byPrefix.get(epoch, prefix) as { idx: number } | undefined;
      if (!row) continue;
      if (this.#hashEquals(row.idx, leafHash)) return row.idx;
      prefixTaken = true;
    }
    if (!prefixTaken) return undefined;
    return (this.#statements.overflow.get(leafHash) as { idx: number } | undefined)?.idx;
  }

  #hashEquals(index: number, leafHash: Uint8Array): boolean {
    const stored = this.#statements.leafHashAt.get(index) as Buffer | undefined;
    return stored !== undefined && Buffer.compare(stored, leafHash) === 0;
  }

  #rebuildFilter(epoch: number): void {
    const start = epoch * this.epochSize;
    const leafHashes = this.#statements.leafHashes.iterate(start, start + this.epochSize) as Iterable<Buffer>;
    for (const leafHash of leafHashes) this.#filters.add(epoch, leafHash);
  }
}

/** A leaf hash as a Map key: one character per byte. */
function hashKey(leafHash: Uint8Array): string {
  return Buffer.from(leafHash.buffer, leafHash.byteOffset, leafHash.byteLength).toString('latin1');
}

function prepare(db: Database.Database) {
  return {
    insert: db.prepare(
      'INSERT INTO leaf_index (epoch, hash_prefix, idx) VALUES (?, ?, ?) ON CONFLICT (epoch, hash_prefix) DO NOTHING',
    ),
    byPrefix: db.prepare('SELECT idx FROM leaf_index WHERE epoch = ? AND hash_prefix = ?'),
    overflow: db.prepare('SELECT idx FROM leaf_index_overflow WHERE leaf_hash = ?'),
    insertOverflow: db.prepare('INSERT INTO leaf_index_overflow (leaf_hash, idx) VALUES (?, ?)'),
    leafHashAt: db.prepare('SELECT leaf_hash FROM leaves WHERE idx = ?').pluck(),
    leafHashes: db.prepare('SELECT leaf_hash FROM leaves WHERE idx >= ? AND idx < ?').pluck(),
    leafHashesFrom: db.prepare('SELECT idx, leaf_hash FROM leaves WHERE idx >= ? ORDER BY idx'),
    filters: db.prepare('SELECT epoch, bits FROM leaf_filters WHERE epoch <= ?'),
    storeFilter: db.prepare('INSERT OR REPLACE INTO leaf_filters (epoch, bits) VALUES (?, ?)'),
  };
}
