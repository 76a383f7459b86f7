import {
  HASH_SIZE,
  TILE_HEIGHT,
  TILE_WIDTH,
  consistencyProofNodes,
  hashChildren,
  inclusionProofNodes,
  locateNodeInTile,
  rehashProof,
  type MerkleHash,
  type ProofNodes,
} from '../merkle/index.ts';
import { LogError } from './errors.ts';
import type { LogStorage } from './storage/storage.types.ts';

/** Where tiles come from: the log's own storage, or a log's tiles over HTTP. */
export interface TileSource {
  /**
   * The bytes of each tile, at least `width` hashes long (a wider stored tile is fine), or undefined
   * where the source has no such tile.
   */
  readTiles(
    ids: readonly { level: number; index: number; width: number }[],
  ): Promise<(Uint8Array | undefined)[]>;
}

/** Tiles straight from a storage driver. */
export function storageTileSource(storage: LogStorage): TileSource {
  return {
    async readTiles(ids) {
      const stored = new Map(
        (await storage.readTiles(ids)).map((tile) => [`${tile.level}/${tile.index}`, tile.hashes]),
      );
      return ids.map((id) => stored.get(`${id.level}/${id.index}`));
    },
  };
}

export interface TileReaderOptions {
  /** Complete tiles kept in memory with their inner levels hashed, least recently used dropped. Default 8192. */
  cachedTiles?: number;
}

/**
 * Builds proofs from tiles (C2SP tlog-tiles), wherever they come from. Tiles are kept in memory with
 * the seven levels of nodes inside them (computed once), so a proof costs only lookups: complete tiles
 * in an LRU cache, partial ones as the widest version read so far. A complete node is the same in every
 * width of its tile, so a proof at an older tree size is served from a wider version, and a wider
 * version hashes only the nodes the narrower one lacked. (Keeping every width of the right-edge tile,
 * as one tile path each, retained ~60 KB per checkpoint until the LRU let it go: most of what the
 * log's event loop promoted to the old generation.)
 */
export class TileReader {
  readonly #source: TileSource;
  readonly #capacity: number;
  /** Complete tiles by `level/index`, least recently used first. */
  readonly #full = new Map<string, TileLevels>();
  /** The widest levels computed so far of each partial tile, by `level/index`. */
  readonly #edges = new Map<string, TileLevels>();
  /** Reads in progress by `level/index`, with the width asked: proofs asked at once share one read. */
  readonly #reading = new Map<string, { width: number; levels: Promise<TileLevels> }>();

  constructor(source: TileSource, options: TileReaderOptions = {}) {
    this.#source = source;
    this.#capacity = options.cachedTiles ?? 8192;
  }

  /** RFC 9162 §2.1.3 inclusion proof of `leafIndex` in the tree of `treeSize` leaves. */
  async inclusionProof(leafIndex: number, treeSize: number): Promise<MerkleHash[]> {
    return this.#prove(inclusionProofNodes(leafIndex, treeSize), treeSize);
  }

  /** RFC 9162 §2.1.4 consistency proof from `size1` to `size2`; empty when the sizes are equal. */
  async consistencyProof(size1: number, size2: number): Promise<MerkleHash[]> {
    return this.#prove(consistencyProofNodes(size1, size2), size2);
  }

  /**
   * The bytes of tile (level, index) at `width` hashes as of a tree of at least that width (C2SP
   * tlog-tiles), or undefined when the log has no such tile yet.
   */
  async readTile(level: number, index: number, width: number): Promise<Uint8Array | undefined> {
    const [tile] = await this.#source.readTiles([{ level, index, width }]);
    if (!tile || tile.length < width * HASH_SIZE) return undefined;
    return tile.subarray(0, width * HASH_SIZE);
  }

  async #prove(nodes: ProofNodes, treeSize: number): Promise<MerkleHash[]> {
    const locations = nodes.ids.map((node) => locateNodeInTile(node, treeSize));
    const tiles = new Map<string, TileLevels | Promise<TileLevels>>();
    const missing: { key: string; tile: { level: number; index: number; width: number } }[] = [];
    for (const { tile } of locations) {
      const key = `${tile.level}/${tile.index}`;
      if (tiles.has(key)) continue; // several nodes of a proof often lie in one tile
      const known = this.#cached(key, tile.width) ?? this.#readingAtLeast(key, tile.width);
      if (known) {
        tiles.set(key, known);
      } else {
        missing.push({ key, tile });
        tiles.set(key, EMPTY_LEVELS); // replaced below
      }
    }
    if (missing.length > 0) {
      const fetched = this.#source.readTiles(missing.map(({ tile }) => tile));
      for (const [position, { key, tile }] of missing.entries()) {
        const levels = fetched.then((all) => this.#keep(key, tile.width, all[position], treeSize));
        this.#reading.set(key, { width: tile.width, levels });
        // A failed read is not remembered: the next proof reads the tile again.
        const done = () => {
          if (this.#reading.get(key)?.levels === levels) this.#reading.delete(key);
        };
        levels.then(done, done);
        tiles.set(key, levels);
      }
    }
    const resolved = new Map<string, TileLevels>();
    for (const [key, levels] of tiles) resolved.set(key, await levels);
    const hashes = locations.map(({ tile, nodeLevel, nodeIndex }) => {
      const hash = resolved.get(`${tile.level}/${tile.index}`)?.[nodeLevel]?.[nodeIndex];
      if (!hash)
        throw new LogError('LOG_STORAGE_CORRUPT', `node missing from tile ${tile.level}/${tile.index}`);
      return hash;
    });
    return rehashProof(nodes, hashes);
  }

  /** The levels of tile `key` at `width` hashes or wider, if in memory. */
  #cached(key: string, width: number): TileLevels | undefined {
    const full = this.#full.get(key);
    if (full) {
      // Refresh its place in the LRU order.
      this.#full.delete(key);
      this.#full.set(key, full);
      return full;
    }
    const edge = this.#edges.get(key);
    return edge && edge[0]!.length >= width ? edge : undefined;
  }

  #readingAtLeast(key: string, width: number): Promise<TileLevels> | undefined {
    const reading = this.#reading.get(key);
    return reading && reading.width >= width ? reading.levels : undefined;
  }

  /**
   * Hashes the levels of tile `key` from the bytes read for it (at least `width` hashes; every hash the
   * source gave is used) and keeps them: in the LRU when complete, else as the tile's widest version.
   */
  #keep(key: string, width: number, bytes: Uint8Array | undefined, treeSize: number): TileLevels {
    if (!bytes || bytes.length < width * HASH_SIZE) {
      throw new LogError(
        'LOG_STORAGE_CORRUPT',
        `tile ${key} has fewer than ${width} hashes for tree size ${treeSize}`,
      );
    }
    const read = Math.min(TILE_WIDTH, Math.floor(bytes.length / HASH_SIZE));
    const known = this.#cached(key, read);
    if (known) return known; // another read got there first
    const narrower = this.#edges.get(key);
    const levels = tileLevels(bytes.subarray(0, read * HASH_SIZE), narrower);
    this.#edges.delete(key);
    if (read === TILE_WIDTH) {
      this.#full.set(key, levels);
      if (this.#full.size > this.#capacity) this.#full.delete(this.#full.keys().next().value!);
    } else {
      this.#edges.set(key, levels);
      // Proofs at old tree sizes make partial tiles anywhere; the right edge is what recurs.
      if (this.#edges.size > MAX_EDGES) this.#edges.delete(this.#edges.keys().next().value!);
    }
    return levels;
  }
}

const EMPTY_LEVELS: TileLevels = [];

/** Partial tiles whose levels are kept for extending: the right edge of each level, and some slack. */
const MAX_EDGES = 64;

/** levels[k][i] = hash of the complete node at level k, index i inside the tile (k = 0 … 7). */
type TileLevels = readonly (readonly MerkleHash[])[];

/**
 * The node levels of a tile of `bytes`. `narrower`, the levels of the same tile at a smaller width, lends
 * its nodes: a complete node is the same in every wider version of the tile.
 */
function tileLevels(bytes: Uint8Array, narrower?: TileLevels): TileLevels {
  const count = bytes.length / HASH_SIZE;
  const reusable = narrower !== undefined && (narrower[0]?.length ?? 0) <= count ? narrower : undefined;
  // The narrower version's leaves are the same hashes: only the new ones are cut from `bytes`.
  const base: MerkleHash[] = reusable?.[0]?.slice() ?? [];
  for (let offset = base.length * HASH_SIZE; offset < bytes.length; offset += HASH_SIZE)
    base.push(bytes.subarray(offset, offset + HASH_SIZE));
  const levels: MerkleHash[][] = [base];
  for (let level = 1; level < TILE_HEIGHT; level++) {
    const below = levels[level - 1]!;
    const above: MerkleHash[] = reusable?.[level]?.slice() ?? [];
    for (let i = 2 * above.length; i + 1 < below.length; i += 2) {
      above.push(hashChildren(below[i]!, below[i + 1]!));
    }
    levels.push(above);
  }
  return levels;
}
