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
   * that is not stored (the open epoch always, every epoch after a migration).
   */
  load(nextIndex: number): void {
    this.#filters = new EpochFilters(this.epochSize);
    this.#epochs = this.epochOf(nextIndex) + 1;
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
  }

  /**
   * Files the leaf at `index` (the next one, inside the caller's transaction) unless a leaf with the
   * same hash is stored: then returns that leaf's index and files nothing. The first leaf of an epoch
   * stores the filter of the epoch it closes.
   */
  file(index: number, leafHash: Uint8Array): number | undefined {
    const epoch = this.epochOf(index);
    const existing = this.find(leafHash, epoch);
    if (existing !== undefined) return existing;
    this.#epochs = Math.max(this.#epochs, epoch + 1);
    if (epoch > 0 && index % this.epochSize === 0) {
      this.#statements.storeFilter.run(epoch - 1, this.#filters.epochBytes(epoch - 1));
    }
    const prefix = hashPrefix(leafHash);
    // The epoch's own duplicates show as a conflict on its key: one insert, no lookup, for a new leaf.
    if (this.#statements.insert.run(epoch, prefix, index).changes === 0) {
      const holder = this.#statements.byPrefix.get(epoch, prefix) as { idx: number };
      if (this.#hashEquals(holder.idx, leafHash)) return holder.idx;
      const overflow = this.#statements.overflow.get(leafHash) as { idx: number } | undefined;
      if (overflow) return overflow.idx;
      this.#statements.insertOverflow.run(leafHash, index);
    }
    this.#filters.add(epoch, leafHash);
    return undefined;
  }

  /**
   * The index of the stored leaf whose hash is `leafHash`, looking in epochs before `beforeEpoch` (all by
   * default). Sees the caller's uncommitted writes; the caller bounds what counts as sequenced.
   */
  find(leafHash: Uint8Array, beforeEpoch = Infinity): number | undefined {
    const prefix = hashPrefix(leafHash);
    let prefixTaken = false;
    for (const epoch of this.#filters.candidates(leafHash, Math.min(beforeEpoch, this.#epochs))) {
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
    filters: db.prepare('SELECT epoch, bits FROM leaf_filters WHERE epoch <= ?'),
    storeFilter: db.prepare('INSERT OR REPLACE INTO leaf_filters (epoch, bits) VALUES (?, ?)'),
  };
}
