import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { encodeHex } from '../../src/core/index.ts';
import { compactRangeNodes } from '../../src/merkle/compact-range.ts';
import { inclusionProofNodes } from '../../src/merkle/inclusion-proof.ts';
import {
  TILE_WIDTH,
  changedTiles,
  entryBundlePath,
  formatTileIndex,
  locateNodeInTile,
  parseEntryBundlePath,
  parseTilePath,
  readNodeHashFromTile,
  splitTileHashes,
  tilePath,
  tileWidth,
} from '../../src/merkle/tiles.ts';
import type { TileId } from '../../src/merkle/tiles.ts';
import { NaiveTree, randomLeafHashes, seededRandom } from './naive-tree.ts';

describe('tile paths (C2SP tlog-tiles)', () => {
  it('write the index in 3-digit groups, all but the last prefixed with x', () => {
    assert.equal(formatTileIndex(0), '000');
    assert.equal(formatTileIndex(999), '999');
    assert.equal(formatTileIndex(1000), 'x001/000');
    assert.equal(formatTileIndex(1234067), 'x001/x234/067');
    assert.equal(tilePath({ level: 0, index: 1234067, width: 256 }), 'tile/0/x001/x234/067');
    assert.equal(tilePath({ level: 2, index: 5, width: 8 }), 'tile/2/005.p/8');
    assert.equal(entryBundlePath(1234067, 256), 'tile/entries/x001/x234/067');
    assert.equal(entryBundlePath(0, 1), 'tile/entries/000.p/1');
  });

  it('parse back to the same tile, up to index 2^53-1', () => {
    const random = seededRandom(6);
    for (let i = 0; i < 500; i++) {
      const tile: TileId = {
        level: Math.floor(random() * 64),
        index: Math.floor(random() ** 4 * Number.MAX_SAFE_INTEGER),
        width: 1 + Math.floor(random() * 256),
      };
      assert.deepEqual(parseTilePath(tilePath(tile)), tile);
      assert.deepEqual(parseEntryBundlePath(entryBundlePath(tile.index, tile.width)), {
        index: tile.index,
        width: tile.width,
      });
    }
  });

  describe('when a path is not canonical', () => {
    it('rejects it with MERKLE_TILE_INVALID', () => {
      for (const path of [
        '',
        'tile/0/1234',
        'tile/0/12',
        'tile/0/x000/001',
        'tile/0/x001',
        'tile/0/001/002',
        'tile/00/000',
        'tile/64/000',
        'tile/-1/000',
        'tile/0/000.p/0',
        'tile/0/000.p/256',
        'tile/0/000.p/08',
        'tile/0/000.p/',
        'tile/0/000.p/8/',
        '/tile/0/000',
        'tile/0/000/',
        'tile/0/000\n',
        'tile/0/X001/000',
        'tile/entries/000',
        'tile/0/x009/x007/x199/x254/x740/x992/000',
        'tile/0/x010/x000/x000/x000/x000/000',
        'tile/0/../000',
      ]) {
        assert.throws(() => parseTilePath(path), { name: 'MerkleError', code: 'MERKLE_TILE_INVALID' }, path);
      }
      for (const path of ['tile/entries/x000/001', 'tile/entries/000.p/256', 'tile/0/000', 'tile/entries/']) {
        assert.throws(() => parseEntryBundlePath(path), { code: 'MERKLE_TILE_INVALID' }, path);
      }
      assert.throws(() => parseTilePath('tile/0/0001'), {
        message: 'tile path: expected tile/<L>/<N>[.p/<W>], received "tile/0/0001"',
      });
    });
  });
});

describe('tiles of a tree', () => {
  it('match the example of the spec for a tree of 70,000 leaves', () => {
    const tiles = [...changedTiles(0, 70_000)];
    const describeTiles = (level: number) => tiles.filter((t) => t.level === level).map((t) => t.width);
    assert.deepEqual(describeTiles(0), [...Array<number>(273).fill(256), 112]);
    assert.deepEqual(describeTiles(1), [256, 17]);
    assert.deepEqual(describeTiles(2), [1]);
    assert.equal(tiles.length, 273 + 1 + 2 + 1);
    assert.deepEqual(
      [...changedTiles(0, 256)],
      [
        { level: 0, index: 0, width: 256 },
        { level: 1, index: 0, width: 1 },
      ],
    );
  });

  it('changes exactly where the width at the new size differs from the old one', () => {
    const random = seededRandom(8);
    for (let i = 0; i < 300; i++) {
      const oldSize = Math.floor(random() * 200_000);
      const newSize = oldSize + Math.floor(random() ** 3 * 100_000);
      const changed = [...changedTiles(oldSize, newSize)];
      for (const tile of changed) {
        assert.equal(tile.width, tileWidth(tile.level, tile.index, newSize));
        assert.notEqual(tileWidth(tile.level, tile.index, oldSize), tile.width);
      }
      // Nothing else changed: the last tile of each level at the new size is unchanged or listed.
      for (let level = 0; level < 4; level++) {
        const last = Math.ceil(Math.floor(newSize / TILE_WIDTH ** level) / TILE_WIDTH) - 1;
        for (const index of [last - 1, last]) {
          if (index < 0) continue;
          const moved = tileWidth(level, index, oldSize) !== tileWidth(level, index, newSize);
          assert.equal(
            moved,
            changed.some((t) => t.level === level && t.index === index),
          );
        }
      }
    }
    assert.deepEqual([...changedTiles(500, 500)], []);
    assert.throws(() => changedTiles(5, 4), { code: 'MERKLE_TREE_SIZE_INVALID' });
  });
});

describe('node hashes read from tiles', () => {
  const size = 70_000;
  const tree = new NaiveTree(randomLeafHashes(size, seededRandom(9)));
  const hashOf = (level: number, index: number) => tree.root(index * 2 ** level, (index + 1) * 2 ** level);
  const tileBytes = (tile: TileId) =>
    Buffer.concat(Array.from({ length: tile.width }, (_, i) => hashOf(8 * tile.level, tile.index * 256 + i)));

  it('equal the naive node hashes for the nodes of proofs and of the frontier', () => {
    const nodes = [
      ...compactRangeNodes(size),
      ...inclusionProofNodes(12_345, size).ids,
      ...inclusionProofNodes(69_999, size).ids,
      { level: 16, index: 0 },
      { level: 7, index: 545 },
    ];
    for (const node of nodes) {
      const { tile, nodeLevel, nodeIndex } = locateNodeInTile(node, size);
      const hash = readNodeHashFromTile(tileBytes(tile), tile.width, nodeLevel, nodeIndex);
      assert.equal(
        encodeHex(hash),
        encodeHex(hashOf(node.level, node.index)),
        `node (${node.level}, ${node.index})`,
      );
    }
  });

  it('place nodes in their tiles as Tessera does', () => {
    // Node (9, 130) covers leaves [66560, 67072): level-8 hashes 260 and 261, in the partial tile 1/1.
    assert.deepEqual(locateNodeInTile({ level: 9, index: 130 }, size), {
      tile: { level: 1, index: 1, width: 17 },
      nodeLevel: 1,
      nodeIndex: 2,
    });
    assert.throws(() => locateNodeInTile({ level: 4, index: 4375 }, size), {
      code: 'MERKLE_INDEX_OUT_OF_RANGE',
      message: 'node (4, 4375): expected a complete node of the tree of size 70000',
    });
  });

  describe('when the tile bytes or the node do not fit', () => {
    it('rejects them with MERKLE_TILE_INVALID', () => {
      const tile = tileBytes({ level: 0, index: 273, width: 112 });
      assert.equal(splitTileHashes(tile, 112).length, 112);
      assert.throws(() => splitTileHashes(tile.subarray(1), 112), { code: 'MERKLE_TILE_INVALID' });
      assert.throws(() => splitTileHashes(new Uint8Array(0), 0), { code: 'MERKLE_TILE_INVALID' });
      assert.throws(() => readNodeHashFromTile(tile, 112, 4, 7), {
        code: 'MERKLE_TILE_INVALID',
        message: 'tile of width 112: expected a complete node inside, received node (4, 7)',
      });
      assert.throws(() => readNodeHashFromTile(tile, 112, 8, 0), { code: 'MERKLE_TILE_INVALID' });
      assert.deepEqual(readNodeHashFromTile(tile, 112, 4, 6), hashOf(4, 273 * 16 + 6));
    });
  });
});
