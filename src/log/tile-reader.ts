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
  /** Tiles kept in memory with their inner levels hashed, least recently used dropped. Default 8192. */
  cachedTiles?: number;
}

/**
 * Builds proofs from tiles (C2SP tlog-tiles), wherever they come from. A tile at a given width never
 * changes (a wider one is another tile path), so tiles are cached by level, index and width together
 * with the seven levels of nodes inside them (computed once); a proof then costs only lookups.
 */
export class TileReader {
  readonly #source: TileSource;
  readonly #capacity: number;
  readonly #full = new Map<string, Promise<TileLevels>>();
  /** The widest levels computed so far of each partial tile, by `level/index`. */
  readonly #edges = new Map<string, TileLevels>();

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
    const pending = new Map<string, Promise<TileLevels>>();
    const missing: { key: string; tile: { level: number; index: number; width: number } }[] = [];
    for (const { tile } of locations) {
      const key = `${tile.level}/${tile.index}`;
      if (pending.has(key)) continue;
      // A tile at a given width never changes (a wider one has another path), so partial tiles cache
      // too. The cache holds promises, so proofs asked for at once share one read and one hashing.
      const cacheKey = `${key}/${tile.width}`;
      const cached = this.#full.get(cacheKey);
      if (cached) {
        // Refresh its place in the LRU order.
        this.#full.delete(cacheKey);
        this.#full.set(cacheKey, cached);
        pending.set(key, cached);
      } else if (!missing.some((other) => other.key === key)) {
        missing.push({ key, tile }); // several nodes of a proof often lie in one tile
      }
    }
    if (missing.length > 0) {
      const fetched = this.#source.readTiles(missing.map(({ tile }) => tile));
      for (const [position, { key, tile }] of missing.entries()) {
        const levels = fetched.then((all) => {
          const bytes = all[position];
          if (!bytes || bytes.length < tile.width * HASH_SIZE) {
            throw new LogError(
              'LOG_STORAGE_CORRUPT',
              `tile ${key} has fewer than ${tile.width} hashes for tree size ${treeSize}`,
            );
          }
          // The right-edge tile grows with every checkpoint: its narrower self already holds every
          // complete node the wider one shares, so only the new nodes are hashed.
          const computed = tileLevels(bytes.subarray(0, tile.width * HASH_SIZE), this.#edges.get(key));
          this.#edges.delete(key);
          if (computed[0]!.length < TILE_WIDTH) {
            this.#edges.set(key, computed);
            // Proofs at old tree sizes make partial tiles anywhere; the right edge is what recurs.
            if (this.#edges.size > MAX_EDGES) this.#edges.delete(this.#edges.keys().next().value!);
          }
          return computed;
        });
        const cacheKey = `${key}/${tile.width}`;
        this.#remember(cacheKey, levels);
        // A failed read is not remembered: the next proof reads the tile again.
        levels.catch(() => {
          if (this.#full.get(cacheKey) === levels) this.#full.delete(cacheKey);
        });
        pending.set(key, levels);
      }
    }
    const resolved = new Map<string, TileLevels>();
    for (const [key, levels] of pending) resolved.set(key, await levels);
    const hashes = locations.map(({ tile, nodeLevel, nodeIndex }) => {
      const hash = resolved.get(`${tile.level}/${tile.index}`)?.[nodeLevel]?.[nodeIndex];
      if (!hash)
        throw new LogError('LOG_STORAGE_CORRUPT', `node missing from tile ${tile.level}/${tile.index}`);
      return hash;
    });
    return rehashProof(nodes, hashes);
  }

  #remember(key: string, levels: Promise<TileLevels>): void {
    this.#full.set(key, levels);
    if (this.#full.size > this.#capacity) {
      const oldest = this.#full.keys().next().value;
      if (oldest !== undefined) this.#full.delete(oldest);
    }
  }
}

/** Partial tiles whose levels are kept for extending: the right edge of each level, and some slack. */
const MAX_EDGES = 64;

/** levels[k][i] = hash of the complete node at level k, index i inside the tile (k = 0 … 7). */
type TileLevels = readonly (readonly MerkleHash[])[];

/**
 * The node levels of a tile of `bytes`. `narrower`, the levels of the same tile at a smaller width, lends
 * its nodes: a complete node is the same in every wider version of the tile.
 */
function tileLevels(bytes: Uint8Array, narrower?: TileLevels): TileLevels {
  const base: MerkleHash[] = [];
  for (let offset = 0; offset < bytes.length; offset += HASH_SIZE)
    base.push(bytes.subarray(offset, offset + HASH_SIZE));
  const reusable = narrower !== undefined && (narrower[0]?.length ?? 0) <= base.length ? narrower : undefined;
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
