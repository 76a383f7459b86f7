/**
 * The one interface every storage driver implements (SQLite for the embedded default, PostgreSQL to
 * scale out). Drivers store bytes; they know nothing of hashing, signing or entry kinds. Every method
 * that writes is atomic: it either commits all it was given or nothing.
 */

/** An entry on its way into the log, already validated and canonicalized. */
export interface NewLeaf {
  /**
   * The leaf data as stored: the RFC 6962 leaf input, or a record that contains it (a static-ct-api
   * TileLeaf holds the TimestampedEntry and its chain fingerprints).
   */
  leaf: Uint8Array;
  /** RFC 6962 leaf hash of the leaf input; the identity used to find duplicates. */
  leafHash: Uint8Array;
  /** Search keys (e.g. `sha256:<hex>` of the artifact, a key fingerprint, an email). */
  searchKeys: readonly string[];
}

/**
 * An entry whose bytes depend on the index it is given, e.g. a certificate-transparency entry whose
 * SCT extensions carry its `leaf_index` (c2sp.org/static-ct-api §SCT Extension). The storage calls
 * `atIndex` inside the transaction that assigns the index. Such a leaf is never a duplicate: it is
 * stored at the index it was built for without a lookup by hash.
 */
export interface IndexedLeaf {
  /**
   * Builds the leaf for `index`. MUST be deterministic and cheap, and the leaf hash MUST commit to the
   * index (so it is new to the log); a hash already stored fails the batch with a LogError.
   */
  atIndex(index: number): BuiltLeaf;
  searchKeys: readonly string[];
}

export interface BuiltLeaf {
  leaf: Uint8Array;
  leafHash: Uint8Array;
}

/** What the sequencer hands to storage. */
export type LeafToSequence = NewLeaf | IndexedLeaf;

/** A content-addressed object served beside the leaves, e.g. a static-ct-api issuer certificate. */
export interface StoredObject {
  /** The caller's digest of `value`, e.g. its SHA-256. */
  key: Uint8Array;
  value: Uint8Array;
}

/** What sequencing did with one leaf. */
export type SequenceOutcome =
  | { kind: 'added'; index: number }
  /** The same leaf hash is already in the log (or earlier in the same batch) at `index`. */
  | { kind: 'duplicate'; index: number };

export interface StoredLeaf {
  index: number;
  leaf: Uint8Array;
  leafHash: Uint8Array;
  /** Seconds since the Unix epoch when the leaf was sequenced. */
  integratedTime: number;
}

/** One tile of the C2SP tlog-tiles layout: up to 256 consecutive node hashes of one tile level. */
export interface StoredTile {
  /** Tile level L: holds tree nodes of level 8·L. */
  level: number;
  /** Tile index N at that level. */
  index: number;
  /** Concatenated 32-byte hashes; its length / 32 is the tile's width (1–256). */
  hashes: Uint8Array;
}

/** The integrated tree: how many leaves the stored tiles cover, and their root. */
export interface TreeState {
  size: number;
  rootHash: Uint8Array;
}

export interface StoredCheckpoint {
  size: number;
  rootHash: Uint8Array;
  /** The signed note, exactly as published. */
  note: string;
}

export interface LogStorage {
  /** `sqlite` or `postgres`, for logs and metrics. */
  readonly driver: string;

  /** Creates the schema if absent. Idempotent. */
  open(): Promise<void>;
  close(): Promise<void>;

  /**
   * Assigns the next consecutive indices to new leaves in one transaction and resolves only once it is
   * durable. A leaf whose hash is already stored, or repeated earlier in `leaves`, is not stored again.
   */
  sequence(leaves: readonly LeafToSequence[], integratedTime: number): Promise<SequenceOutcome[]>;
  /** Number of leaves sequenced (durable), integrated or not. */
  sequencedSize(): Promise<number>;
  /** Leaves [start, start + count) that exist, in index order. */
  readLeaves(start: number, count: number): Promise<StoredLeaf[]>;
  /** Leaf hashes of [start, start + count), in index order; what integration reads. */
  readLeafHashes(start: number, count: number): Promise<Uint8Array[]>;
  findLeafByHash(leafHash: Uint8Array): Promise<StoredLeaf | undefined>;
  /** Indices of leaves filed under `key`, ascending, at most `limit`. */
  search(key: string, limit: number): Promise<number[]>;

  /** The integrated tree, or undefined before the first integration. */
  readTreeState(): Promise<TreeState | undefined>;
  /** The stored tiles among `ids` (missing ones are left out). */
  readTiles(ids: readonly { level: number; index: number }[]): Promise<StoredTile[]>;
  /**
   * Replaces the given tiles and sets the tree state, atomically, provided the stored tree still has
   * `previousSize` leaves (0 when none is stored); otherwise fails with LOG_INTEGRATION_CONFLICT and
   * writes nothing, so an integrator that fell behind another one never moves the tree backwards.
   */
  writeIntegration(previousSize: number, state: TreeState, tiles: readonly StoredTile[]): Promise<void>;

  /**
   * Stores objects by key, durably when it resolves; a key already stored keeps its value. Write the
   * objects a leaf refers to before sequencing the leaf, so that readers never miss one.
   */
  writeObjects(objects: readonly StoredObject[]): Promise<void>;
  readObject(key: Uint8Array): Promise<Uint8Array | undefined>;

  /** Records a published checkpoint; the newest by size is the log's current one. */
  writeCheckpoint(checkpoint: StoredCheckpoint): Promise<void>;
  latestCheckpoint(): Promise<StoredCheckpoint | undefined>;
}
