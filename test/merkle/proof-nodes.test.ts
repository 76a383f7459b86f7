import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { hashChildren, hashLeaf } from '../../src/merkle/hash.ts';
import { inclusionProofNodes } from '../../src/merkle/inclusion-proof.ts';
import { readProof, rehashProof } from '../../src/merkle/proof-nodes.ts';
import { NaiveTree, randomLeafHashes, seededRandom } from './naive-tree.ts';

const tree = new NaiveTree(randomLeafHashes(21, seededRandom(5)));

describe('rehashProof', () => {
  it('folds the stored nodes under the ephemeral node into its hash, lowest level first', () => {
    // Leaf 3 of 21: the ephemeral node (4, 1) covers [16, 21) = (2, 4) over [16, 20) + (0, 20).
    const nodes = inclusionProofNodes(3, 21);
    assert.deepEqual(nodes.ephemeral, { node: { level: 4, index: 1 }, begin: 4, end: 6 });
    assert.deepEqual(nodes.ids.slice(4, 6), [
      { level: 0, index: 20 },
      { level: 2, index: 4 },
    ]);
    const hashes = nodes.ids.map((id) => tree.readerAt(21).nodeHash(id.level, id.index));
    const proof = rehashProof(nodes, hashes);
    assert.equal(proof.length, nodes.ids.length - 1);
    assert.deepEqual(proof[4], hashChildren(tree.root(16, 20), tree.root(20, 21)));
    assert.deepEqual(proof, tree.path(3, 0, 21));
  });

  it('returns a copy of the hashes when there is no ephemeral node', () => {
    const nodes = inclusionProofNodes(3, 16);
    assert.equal(nodes.ephemeral, undefined);
    const hashes = nodes.ids.map((id) => tree.readerAt(16).nodeHash(id.level, id.index));
    const proof = rehashProof(nodes, hashes);
    assert.notEqual(proof, hashes);
    assert.deepEqual(proof, hashes);
  });

  describe('when storage returns a different number of hashes', () => {
    it('rejects them with MERKLE_NODE_HASHES_INVALID', () => {
      const nodes = inclusionProofNodes(3, 21);
      assert.throws(() => rehashProof(nodes, [hashLeaf(new Uint8Array(0))]), {
        name: 'MerkleError',
        code: 'MERKLE_NODE_HASHES_INVALID',
        message: `proof nodes: expected ${nodes.ids.length} hashes, received 1`,
      });
    });
  });
});

describe('readProof', () => {
  it('asks the reader for complete nodes only', () => {
    const asked: string[] = [];
    const reader = tree.readerAt(21);
    const proof = readProof(inclusionProofNodes(20, 21), {
      nodeHash: (level, index) => {
        asked.push(`${level}/${index}`);
        return reader.nodeHash(level, index);
      },
    });
    assert.deepEqual(asked, ['2/4', '4/0']);
    assert.deepEqual(proof, tree.path(20, 0, 21));
  });
});
