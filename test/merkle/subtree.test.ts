import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { encodeHex } from '../../src/core/index.ts';
import { emptyRoot, hashLeaf } from '../../src/merkle/hash.ts';
import { readProof } from '../../src/merkle/proof-nodes.ts';
import {
  rootFromSubtreeConsistencyProof,
  rootFromSubtreeInclusionProof,
  subtreeConsistencyProofNodes,
  subtreeInclusionProofNodes,
  verifySubtreeConsistency,
  verifySubtreeInclusion,
} from '../../src/merkle/subtree.ts';
import { isValidSubtree } from '../../src/merkle/tree-math.ts';
import { NaiveTree, randomLeafHashes, seededRandom } from './naive-tree.ts';

const tree = new NaiveTree(randomLeafHashes(70, seededRandom(3)));

function validSubtrees(maxEnd: number): [number, number][] {
  const subtrees: [number, number][] = [];
  for (let start = 0; start < maxEnd; start++) {
    for (let end = start + 1; end <= maxEnd; end++)
      if (isValidSubtree(start, end)) subtrees.push([start, end]);
  }
  return subtrees;
}

describe('subtree inclusion proofs generated from stored nodes', () => {
  it('equal RFC 6962 PATH within the subtree and verify, for every leaf of every valid subtree up to 70', () => {
    for (const [start, end] of validSubtrees(70)) {
      const root = tree.root(start, end);
      for (let index = start; index < end; index++) {
        const proof = readProof(subtreeInclusionProofNodes(index, start, end), tree.readerAt(end));
        assert.deepEqual(proof.map(encodeHex), tree.path(index - start, start, end).map(encodeHex));
        verifySubtreeInclusion(index, start, end, tree.leafHashes[index] as Uint8Array, proof, root);
      }
    }
  });
});

describe('subtree consistency proofs generated from stored nodes', () => {
  it('verify for every valid subtree of every tree size up to 40, and fail once tampered with', () => {
    for (let size = 1; size <= 40; size++) {
      for (const [start, end] of validSubtrees(size)) {
        const proof = readProof(subtreeConsistencyProofNodes(start, end, size), tree.readerAt(size));
        const subtreeRoot = tree.root(start, end);
        const root = tree.root(0, size);
        const context = `[${start}, ${end}) in ${size}`;
        verifySubtreeConsistency(start, end, size, proof, subtreeRoot, root);
        assert.deepEqual(
          rootFromSubtreeConsistencyProof(start, end, size, proof, subtreeRoot),
          root,
          context,
        );
        for (let i = 0; i < proof.length; i++) {
          const tampered = proof.map((hash, j) => (i === j ? hashLeaf(hash) : hash));
          assert.throws(() => verifySubtreeConsistency(start, end, size, tampered, subtreeRoot, root), {
            code: 'MERKLE_CONSISTENCY_PROOF_INVALID',
          });
        }
      }
    }
  });
});

describe('verifySubtreeInclusion', () => {
  describe('when the subtree is not aligned', () => {
    it('rejects it with MERKLE_SUBTREE_INVALID', () => {
      assert.throws(
        () => verifySubtreeInclusion(3, 3, 5, tree.leafHashes[3] as Uint8Array, [], emptyRoot()),
        {
          name: 'MerkleError',
          code: 'MERKLE_SUBTREE_INVALID',
          message:
            'subtree: expected start ≤ end with start a multiple of the power of two ≥ end - start, received [3, 5)',
        },
      );
    });
  });

  describe('when the leaf is outside the subtree', () => {
    it('rejects it with MERKLE_INDEX_OUT_OF_RANGE', () => {
      assert.throws(() => rootFromSubtreeInclusionProof(7, 8, 12, new Uint8Array(32), []), {
        code: 'MERKLE_INDEX_OUT_OF_RANGE',
        message: 'leaf index: expected within the subtree [8, 12), received 7',
      });
      assert.throws(() => subtreeInclusionProofNodes(12, 8, 12), { code: 'MERKLE_INDEX_OUT_OF_RANGE' });
    });
  });
});

describe('verifySubtreeConsistency', () => {
  describe('when the subtree is empty', () => {
    it('accepts the empty root with an empty proof, whatever the tree root', () => {
      verifySubtreeConsistency(4, 4, 9, [], emptyRoot(), hashLeaf(new Uint8Array([1])));
    });

    it('rejects any other subtree root or a non-empty proof', () => {
      const root = tree.root(0, 9);
      assert.throws(() => verifySubtreeConsistency(4, 4, 9, [], root, root), {
        code: 'MERKLE_CONSISTENCY_PROOF_INVALID',
      });
      assert.throws(() => verifySubtreeConsistency(4, 4, 9, [emptyRoot()], emptyRoot(), root), {
        code: 'MERKLE_CONSISTENCY_PROOF_INVALID',
      });
      assert.throws(() => rootFromSubtreeConsistencyProof(4, 4, 9, [], emptyRoot()), {
        code: 'MERKLE_SUBTREE_INVALID',
      });
    });
  });

  describe('when the tree is smaller than the subtree end', () => {
    it('rejects it with MERKLE_TREE_SIZE_INVALID', () => {
      assert.throws(() => subtreeConsistencyProofNodes(8, 12, 11), {
        code: 'MERKLE_TREE_SIZE_INVALID',
        message: 'tree size: expected at least the subtree end 12, received 11',
      });
    });
  });

  describe('when the subtree is the whole tree', () => {
    it('needs an empty proof and equal roots', () => {
      const root = tree.root(0, 9);
      verifySubtreeConsistency(0, 9, 9, [], root, root);
      assert.throws(() => verifySubtreeConsistency(0, 9, 9, [], root, emptyRoot()), {
        code: 'MERKLE_CONSISTENCY_PROOF_INVALID',
      });
    });
  });
});
