import { MerkleError } from './errors.ts';
import { HASH_SIZE, hashChildren } from './hash.ts';
import type { MerkleHash } from './hash.ts';
import { assertCount } from './tree-math.ts';
import type { NodeId } from './tree-math.ts';

/**
 * C2SP tlog-tiles arithmetic. Tile (L, N) holds up to 256 consecutive hashes of tree level 8·L:
 * hash i is MTH(D[(N·256 + i)·256^L : (N·256 + i + 1)·256^L]). The levels in between are not stored;
 * they are rehashed from the tile (`readNodeHashFromTile`). Partial tiles (width 1–255) exist only at
 * the right edge and are never hashed into the level above. Entry bundles are laid out like level-0
 * tiles: bundle N holds entries [N·256, N·256 + width).
 *
 * Paths: `tile/<L>/<N>[.p/<W>]` and `tile/entries/<N>[.p/<W>]`, where N is written in 3-digit groups,
 * all but the last prefixed with `x` (1234067 → `x001/x234/067`). Parsing accepts the canonical form
 * only, so every tile has exactly one path (and one cache key).
 */

/** Tree levels per tile. */
export const TILE_HEIGHT = 8;
/** Hashes in a full tile (and entries in a full entry bundle). */
export const TILE_WIDTH = 256;

/** A tile: its tile level L, its index N within the level, and its width (1–256; 256 = full). */
export interface TileId {
  readonly level: number;
  readonly index: number;
  readonly width: number;
}

/** Where a tree node lives: in `tile`, at level `nodeLevel` (0–7) and index `nodeIndex` within it. */
export interface TileNodeLocation {
  readonly tile: TileId;
  readonly nodeLevel: number;
  readonly nodeIndex: number;
}

const MAX_TILE_LEVEL = 63;
const TILE_PATH = /^tile\/(0|[1-9][0-9]?)\/((?:x[0-9]{3}\/){0,5}[0-9]{3})(?:\.p\/([1-9][0-9]{0,2}))?$/;
const ENTRIES_PATH = /^tile\/entries\/((?:x[0-9]{3}\/){0,5}[0-9]{3})(?:\.p\/([1-9][0-9]{0,2}))?$/;

/** N as 3-digit path groups: 0 → `000`, 1234067 → `x001/x234/067`. */
export function formatTileIndex(index: number): string {
  assertCount(index, 'tile index', 'MERKLE_TILE_INVALID');
  let rest = Math.floor(index / 1000);
  let path = String(index % 1000).padStart(3, '0');
  while (rest > 0) {
    path = `x${String(rest % 1000).padStart(3, '0')}/${path}`;
    rest = Math.floor(rest / 1000);
  }
  return path;
}

/** The path of a tile, relative to the log prefix: `tile/<L>/<N>[.p/<W>]`. */
export function tilePath(tile: TileId): string {
  assertTileLevel(tile.level);
  return `tile/${tile.level}/${formatTileIndex(tile.index)}${widthSuffix(tile.width)}`;
}

/** The path of an entry bundle, relative to the log prefix: `tile/entries/<N>[.p/<W>]`. */
export function entryBundlePath(index: number, width: number): string {
  return `tile/entries/${formatTileIndex(index)}${widthSuffix(width)}`;
}

/**
 * Parses a canonical tile path relative to the log prefix (no leading slash). Throws
 * MERKLE_TILE_INVALID for anything else: leading zeros, a level above 63, a width of 0 or 256, an
 * index above 2^53-1 or written with extra `x000` groups.
 */
export function parseTilePath(path: string): TileId {
  const match = TILE_PATH.exec(path);
  if (match === null) throw invalidPath(path, 'tile/<L>/<N>[.p/<W>]');
  const [, level = '', index = '', width] = match;
  const tile = { level: Number(level), index: parseTileIndex(index, path), width: parseWidth(width, path) };
  if (tile.level > MAX_TILE_LEVEL || tilePath(tile) !== path) throw invalidPath(path, 'tile/<L>/<N>[.p/<W>]');
  return tile;
}

/** Parses a canonical entry bundle path, as {@link parseTilePath} does for tiles. */
export function parseEntryBundlePath(path: string): { index: number; width: number } {
  const match = ENTRIES_PATH.exec(path);
  if (match === null) throw invalidPath(path, 'tile/entries/<N>[.p/<W>]');
  const [, index = '', width] = match;
  const bundle = { index: parseTileIndex(index, path), width: parseWidth(width, path) };
  if (entryBundlePath(bundle.index, bundle.width) !== path)
    throw invalidPath(path, 'tile/entries/<N>[.p/<W>]');
  return bundle;
}

/**
 * The width of tile (level, index) in the tree of `treeSize` leaves: 256 when full, the partial width
 * floor(treeSize / 256^level) mod 256 for the rightmost tile of the level, 0 when the tile does not exist.
 * For level 0 this is also the width of entry bundle `index`.
 */
export function tileWidth(level: number, index: number, treeSize: number): number {
  const hashes = Math.floor(treeSize / TILE_WIDTH ** level);
  const full = Math.floor(hashes / TILE_WIDTH);
  if (index < full) return TILE_WIDTH;
  return index === full ? hashes % TILE_WIDTH : 0;
}

/**
 * The tiles that are new or wider in the tree of `newSize` leaves than in the tree of `oldSize`
 * leaves, lowest level first; with oldSize 0, every tile of the tree. The level-0 entries are also the
 * entry bundles to write. Requires oldSize ≤ newSize.
 */
export function changedTiles(oldSize: number, newSize: number): Generator<TileId> {
  // Checked here, not in the generator, so a bad call fails where it is made rather than on first use.
  assertCount(oldSize, 'old tree size', 'MERKLE_TREE_SIZE_INVALID');
  assertCount(newSize, 'new tree size', 'MERKLE_TREE_SIZE_INVALID');
  if (oldSize > newSize) {
    throw new MerkleError(
      'MERKLE_TREE_SIZE_INVALID',
      `new tree size: expected at least ${oldSize}, received ${newSize}`,
    );
  }
  return generateChangedTiles(oldSize, newSize);
}

function* generateChangedTiles(oldSize: number, newSize: number): Generator<TileId> {
  for (let level = 0; ; level++) {
    const oldHashes = Math.floor(oldSize / TILE_WIDTH ** level);
    const newHashes = Math.floor(newSize / TILE_WIDTH ** level);
    // Equal counts at one level mean equal counts at every level above.
    if (newHashes === oldHashes) return;
    const last = Math.ceil(newHashes / TILE_WIDTH) - 1;
    for (let index = Math.floor(oldHashes / TILE_WIDTH); index <= last; index++) {
      yield { level, index, width: Math.min(TILE_WIDTH, newHashes - index * TILE_WIDTH) };
    }
  }
}

/**
 * The tile holding complete node (level, index) in the tree of `treeSize` leaves, with the tile's
 * width at that size, and the node's place inside it (Tessera `NodeCoordsToTileAddress`). Throws
 * MERKLE_INDEX_OUT_OF_RANGE when the node is not complete in that tree.
 */
export function locateNodeInTile(node: NodeId, treeSize: number): TileNodeLocation {
  assertCount(treeSize, 'tree size', 'MERKLE_TREE_SIZE_INVALID');
  assertCount(node.level, 'node level', 'MERKLE_INDEX_OUT_OF_RANGE');
  assertCount(node.index, 'node index', 'MERKLE_INDEX_OUT_OF_RANGE');
  const nodeLevel = node.level % TILE_HEIGHT;
  const nodesPerTile = 2 ** (TILE_HEIGHT - nodeLevel);
  const tileLevel = (node.level - nodeLevel) / TILE_HEIGHT;
  const tileIndex = Math.floor(node.index / nodesPerTile);
  const nodeIndex = node.index % nodesPerTile;
  const width = tileWidth(tileLevel, tileIndex, treeSize);
  if ((nodeIndex + 1) * 2 ** nodeLevel > width) {
    throw new MerkleError(
      'MERKLE_INDEX_OUT_OF_RANGE',
      `node (${node.level}, ${node.index}): expected a complete node of the tree of size ${treeSize}`,
    );
  }
  return { tile: { level: tileLevel, index: tileIndex, width }, nodeLevel, nodeIndex };
}

/** Splits a tile's bytes into its hashes. Throws MERKLE_TILE_INVALID unless it holds `width` hashes. */
export function splitTileHashes(tile: Uint8Array, width: number): MerkleHash[] {
  assertTileBytes(tile, width);
  const hashes: MerkleHash[] = [];
  for (let offset = 0; offset < tile.byteLength; offset += HASH_SIZE) {
    hashes.push(tile.slice(offset, offset + HASH_SIZE));
  }
  return hashes;
}

/**
 * The hash of the node at `nodeLevel` (0–7) and `nodeIndex` inside a tile of `width` hashes, rehashing
 * the 2^nodeLevel tile hashes under it (C2SP tlog-tiles: the levels between tiles are reconstructed).
 * Throws MERKLE_TILE_INVALID when the bytes do not hold `width` hashes or the node is not complete.
 */
export function readNodeHashFromTile(
  tile: Uint8Array,
  width: number,
  nodeLevel: number,
  nodeIndex: number,
): MerkleHash {
  assertTileBytes(tile, width);
  const count = 2 ** nodeLevel;
  const first = nodeIndex * count;
  if (!Number.isInteger(nodeLevel) || nodeLevel < 0 || nodeLevel >= TILE_HEIGHT || first + count > width) {
    throw new MerkleError(
      'MERKLE_TILE_INVALID',
      `tile of width ${width}: expected a complete node inside, received node (${nodeLevel}, ${nodeIndex})`,
    );
  }
  let level: MerkleHash[] = [];
  for (let i = first; i < first + count; i++) level.push(tile.slice(i * HASH_SIZE, (i + 1) * HASH_SIZE));
  while (level.length > 1) {
    const parents: MerkleHash[] = [];
    for (let i = 0; i < level.length; i += 2) {
      parents.push(hashChildren(level[i] as MerkleHash, level[i + 1] as MerkleHash));
    }
    level = parents;
  }
  return level[0] as MerkleHash;
}

function assertTileBytes(tile: Uint8Array, width: number): void {
  if (!Number.isInteger(width) || width < 1 || width > TILE_WIDTH || tile.byteLength !== width * HASH_SIZE) {
    throw new MerkleError(
      'MERKLE_TILE_INVALID',
      `tile: expected ${String(width)} hashes (${width * HASH_SIZE} bytes, width 1–256), received ${tile.byteLength} bytes`,
    );
  }
}

function assertTileLevel(level: number): void {
  if (!Number.isInteger(level) || level < 0 || level > MAX_TILE_LEVEL) {
    throw new MerkleError('MERKLE_TILE_INVALID', `tile level: expected 0 to 63, received ${String(level)}`);
  }
}

function widthSuffix(width: number): string {
  if (!Number.isInteger(width) || width < 1 || width > TILE_WIDTH) {
    throw new MerkleError('MERKLE_TILE_INVALID', `tile width: expected 1 to 256, received ${String(width)}`);
  }
  return width === TILE_WIDTH ? '' : `.p/${width}`;
}

function parseTileIndex(groups: string, path: string): number {
  const index = Number(groups.replaceAll('x', '').replaceAll('/', ''));
  if (!Number.isSafeInteger(index)) throw invalidPath(path, 'a tile index below 2^53');
  return index;
}

function parseWidth(width: string | undefined, path: string): number {
  if (width === undefined) return TILE_WIDTH;
  const value = Number(width);
  if (value >= TILE_WIDTH) throw invalidPath(path, 'a partial width from 1 to 255');
  return value;
}

function invalidPath(path: string, expected: string): MerkleError {
  const shown = path.length > 80 ? `${path.slice(0, 80)}…` : path;
  return new MerkleError(
    'MERKLE_TILE_INVALID',
    `tile path: expected ${expected}, received ${JSON.stringify(shown)}`,
  );
}
