import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { encodeHex } from '../../src/core/index.ts';
import { CompactRange, compactRangeNodes } from '../../src/merkle/compact-range.ts';
import { emptyRoot } from '../../src/merkle/hash.ts';
import { trailingZeros } from '../../src/merkle/tree-math.ts';
import { NaiveTree, randomLeafHashes, seededRandom } from './naive-tree.ts';

const leafHashes = randomLeafHashes(300, seededRandom(4));
const tree = new NaiveTree(leafHashes);

describe('CompactRange', () => {
  it('has the root of the naive recursive MTH at every size from 0 to 300', () => {
    const range = CompactRange.empty();
    assert.deepEqual(range.rootHash(), emptyRoot());
    for (let size = 1; size <= 300; size++) {
      range.append(leafHashes[size - 1] as Uint8Array);
      assert.equal(range.size, size);
      assert.equal(encodeHex(range.rootHash()), encodeHex(tree.root(0, size)), `size ${size}`);
    }
  });

  it('reports every complete node exactly once, with its hash, in the append that completes it', () => {
    const range = CompactRange.empty();
    const seen = new Map<string, string>();
    for (let size = 1; size <= 300; size++) {
      const created: string[] = [];
      range.append(leafHashes[size - 1] as Uint8Array, (node, hash) => {
        const key = `${node.level}/${node.index}`;
        assert.ok(!seen.has(key), `node ${key} reported twice`);
        const start = node.index * 2 ** node.level;
        assert.equal(start + 2 ** node.level, size, `node ${key} reported at size ${size}`);
        seen.set(key, encodeHex(hash));
        created.push(key);
        assert.equal(encodeHex(hash), encodeHex(tree.root(start, size)), `hash of node ${key}`);
      });
      // The leaf, then one parent per trailing one-bit of the old size (= trailing zero of the new one).
      assert.equal(created.length, 1 + trailingZeros(size), `nodes created at size ${size}`);
    }
    // A tree of n leaves has 2n - popcount(n) complete nodes.
    assert.equal(seen.size, 2 * 300 - 4);
  });

  it('is rebuilt after a restart from the stored frontier nodes and carries on', () => {
    for (const size of [0, 1, 2, 7, 64, 100, 255, 256, 257]) {
      const frontier = compactRangeNodes(size).map((node) =>
        tree.root(node.index * 2 ** node.level, (node.index + 1) * 2 ** node.level),
      );
      const range = CompactRange.fromNodeHashes(size, frontier);
      assert.deepEqual(range.nodeHashes(), frontier);
      range.appendAll(leafHashes.slice(size, 300));
      assert.deepEqual(range.rootHash(), tree.root(0, 300), `restarted at ${size}`);
    }
  });

  it('hands out copies and clones that do not share appends', () => {
    const range = CompactRange.empty();
    range.appendAll(leafHashes.slice(0, 3));
    range.nodeHashes()[0]?.fill(0);
    range.rootHash().fill(0);
    assert.deepEqual(range.rootHash(), tree.root(0, 3));
    const clone = range.clone();
    clone.append(leafHashes[3] as Uint8Array);
    assert.equal(range.size, 3);
    assert.deepEqual(clone.rootHash(), tree.root(0, 4));
    assert.deepEqual(range.rootHash(), tree.root(0, 3));
  });

  describe('when restored with the wrong number of hashes', () => {
    it('rejects them with MERKLE_NODE_HASHES_INVALID', () => {
      assert.throws(() => CompactRange.fromNodeHashes(7, [tree.root(0, 4), tree.root(4, 6)]), {
        name: 'MerkleError',
        code: 'MERKLE_NODE_HASHES_INVALID',
        message: 'compact range of tree size 7: expected 3 node hashes, received 2',
      });
    });
  });

  describe('when given a hash that is not 32 bytes', () => {
    it('rejects it with MERKLE_HASH_SIZE_INVALID', () => {
      assert.throws(() => CompactRange.empty().append(new Uint8Array(20)), {
        code: 'MERKLE_HASH_SIZE_INVALID',
      });
      assert.throws(() => CompactRange.fromNodeHashes(1, [new Uint8Array(31)]), {
        code: 'MERKLE_HASH_SIZE_INVALID',
      });
    });
  });
});
