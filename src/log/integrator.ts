import {
  CompactRange,
  HASH_SIZE,
  TILE_HEIGHT,
  TILE_WIDTH,
  changedTiles,
  compactRangeNodes,
  hashesEqual,
  locateNodeInTile,
  readNodeHashFromTile,
  tileWidth,
} from '../merkle/index.ts';
import { LogError } from './errors.ts';
import type { LogStorage, StoredTile, TreeState } from './storage/storage.types.ts';

export interface IntegratorOptions {
  /** Most leaves integrated per storage transaction. Default 65 536. */
  maxLeavesPerStep?: number;
}

/** The rightmost, partial tile of one tile level, kept in memory so extending it needs no read. */
interface EdgeTile {
  index: number;
  hashes: Uint8Array;
}

/**
 * The second step of the append path: extends the Merkle tree over every sequenced leaf and stores the
 * C2SP tiles and the new tree state in one transaction per step. It keeps only the compact range (one
 * hash per one-bit of the size) and the right-edge tile of each level in memory; `open` rebuilds both
 * from a handful of stored tiles, so restarting a log of any size reads O(log n) hashes, not the tree.
 */
export class Integrator {
  readonly #storage: LogStorage;
  readonly #maxLeavesPerStep: number;
  #range = CompactRange.empty();
  #state: TreeState | undefined;
  #edges = new Map<number, EdgeTile>();
  #running: Promise<TreeState> | undefined;

  constructor(storage: LogStorage, options: IntegratorOptions = {}) {
    this.#storage = storage;
    this.#maxLeavesPerStep = options.maxLeavesPerStep ?? 65_536;
    if (!Number.isSafeInteger(this.#maxLeavesPerStep) || this.#maxLeavesPerStep < 1) {
      throw new TypeError(
        `maxLeavesPerStep: expected a positive integer, received ${this.#maxLeavesPerStep}`,
      );
    }
  }

  /** The integrated tree. */
  get state(): TreeState {
    return this.#state ?? { size: 0, rootHash: this.#range.rootHash() };
  }

  /**
   * Loads the compact range and edge tiles of the stored tree and checks that they reproduce the
   * stored root (LOG_STORAGE_CORRUPT otherwise).
   */
  async open(): Promise<void> {
    const stored = await this.#storage.readTreeState();
    if (!stored || stored.size === 0) return;
    const frontier = compactRangeNodes(stored.size).map((node) => locateNodeInTile(node, stored.size));
    const edgeIds = edgeTileIds(stored.size);
    const wanted = new Map<string, { level: number; index: number }>();
    for (const { tile } of frontier) wanted.set(tileKey(tile.level, tile.index), tile);
    for (const tile of edgeIds) wanted.set(tileKey(tile.level, tile.index), tile);
    const tiles = new Map(
      (await this.#storage.readTiles([...wanted.values()])).map((tile) => [
        tileKey(tile.level, tile.index),
        tile,
      ]),
    );
    const tileBytes = (level: number, index: number, width: number): Uint8Array => {
      const tile = tiles.get(tileKey(level, index));
      if (!tile || tile.hashes.length < width * HASH_SIZE) {
        throw new LogError(
          'LOG_STORAGE_CORRUPT',
          `tile ${level}/${index}: expected at least ${width} hashes for tree size ${stored.size}, received ${tile ? tile.hashes.length / HASH_SIZE : 'none'}`,
        );
      }
      return tile.hashes.subarray(0, width * HASH_SIZE);
    };
    const range = CompactRange.fromNodeHashes(
      stored.size,
      frontier.map(({ tile, nodeLevel, nodeIndex }) =>
        readNodeHashFromTile(tileBytes(tile.level, tile.index, tile.width), tile.width, nodeLevel, nodeIndex),
      ),
    );
    if (!hashesEqual(range.rootHash(), stored.rootHash)) {
      throw new LogError(
        'LOG_STORAGE_CORRUPT',
        `stored tiles do not reproduce the root of tree size ${stored.size}`,
      );
    }
    this.#edges = new Map(
      edgeIds.map(({ level, index, width }) => [
        level,
        { index, hashes: tileBytes(level, index, width).slice() },
      ]),
    );
    this.#range = range;
    this.#state = stored;
  }

  /**
   * Integrates every leaf sequenced so far and resolves with the new tree state. Calls are serialized;
   * a call made while one runs waits for it and then integrates what has arrived since.
   */
  integrate(): Promise<TreeState> {
    const previous = this.#running ?? Promise.resolve(this.state);
    const next = previous.catch(() => this.state).then(() => this.#integrateAll());
    this.#running = next;
    return next;
  }

  async #integrateAll(): Promise<TreeState> {
    const target = await this.#storage.sequencedSize();
    while (this.#range.size < target) {
      await this.#step(Math.min(this.#maxLeavesPerStep, target - this.#range.size));
    }
    return this.state;
  }

  async #step(count: number): Promise<void> {
    const from = this.#range.size;
    const leafHashes = await this.#storage.readLeafHashes(from, count);
    if (leafHashes.length !== count) {
      throw new LogError(
        'LOG_STORAGE_CORRUPT',
        `leaves ${from}..${from + count}: expected ${count} sequenced leaves, received ${leafHashes.length}`,
      );
    }
    const range = this.#range.clone();
    const added = new Map<string, Uint8Array[]>();
    range.appendAll(leafHashes, (node, hash) => {
      if (node.level % TILE_HEIGHT !== 0) return;
      const key = tileKey(node.level / TILE_HEIGHT, Math.floor(node.index / TILE_WIDTH));
      const list = added.get(key);
      if (list) list.push(hash);
      else added.set(key, [hash]);
    });
    const tiles: StoredTile[] = [];
    for (const { level, index, width } of changedTiles(from, range.size)) {
      const edge = this.#edges.get(level);
      const previous = edge?.index === index ? edge.hashes : new Uint8Array(0);
      const hashes = concat(previous, added.get(tileKey(level, index)) ?? []);
      if (hashes.length !== width * HASH_SIZE) {
        throw new LogError(
          'LOG_STORAGE_CORRUPT',
          `tile ${level}/${index}: expected ${width} hashes after integration, built ${hashes.length / HASH_SIZE}`,
        );
      }
      tiles.push({ level, index, hashes });
    }
    const state: TreeState = { size: range.size, rootHash: range.rootHash() };
    await this.#storage.writeIntegration(from, state, tiles);
    for (const tile of tiles) {
      if (tile.hashes.length < TILE_WIDTH * HASH_SIZE)
        this.#edges.set(tile.level, { index: tile.index, hashes: tile.hashes });
      else if (this.#edges.get(tile.level)?.index === tile.index) this.#edges.delete(tile.level);
    }
    this.#range = range;
    this.#state = state;
  }
}

/** The partial (width 1–255) rightmost tile of each level of a tree of `size` leaves. */
function edgeTileIds(size: number): { level: number; index: number; width: number }[] {
  const edges: { level: number; index: number; width: number }[] = [];
  for (let level = 0; Math.floor(size / TILE_WIDTH ** level) > 0; level++) {
    const index = Math.floor(size / TILE_WIDTH ** (level + 1));
    const width = tileWidth(level, index, size);
    if (width > 0 && width < TILE_WIDTH) edges.push({ level, index, width });
  }
  return edges;
}

function tileKey(level: number, index: number): string {
  return `${level}/${index}`;
}

function concat(first: Uint8Array, rest: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(first.length + rest.length * HASH_SIZE);
  out.set(first, 0);
  rest.forEach((hash, i) => out.set(hash, first.length + i * HASH_SIZE));
  return out;
}
