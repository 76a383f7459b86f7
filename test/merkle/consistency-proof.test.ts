import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { encodeHex } from '../../src/core/index.ts';
import {
  buildConsistencyProof,
  consistencyProofNodes,
  rootFromConsistencyProof,
  verifyConsistency,
} from '../../src/merkle/consistency-proof.ts';
import { hashLeaf } from '../../src/merkle/hash.ts';
import { NaiveTree, UniformTree, randomLeafHashes, seededRandom } from './naive-tree.ts';

const random = seededRandom(2);
const tree = new NaiveTree(randomLeafHashes(300, random));

/** Every pair of sizes up to 64, then 12 random older sizes for each size from 65 to 300. */
function sizePairs(): [number, number][] {
  const pairs: [number, number][] = [];
  for (let size2 = 1; size2 <= 300; size2++) {
    if (size2 <= 64) {
      for (let size1 = 1; size1 <= size2; size1++) pairs.push([size1, size2]);
    } else {
      for (let i = 0; i < 12; i++) pairs.push([1 + Math.floor(random() * size2), size2]);
    }
  }
  return pairs;
}

describe('consistency proofs generated from stored nodes', () => {
  it('equal RFC 6962 PROOF and verify, for all size pairs up to 64 and a sample up to 300', () => {
    for (const [size1, size2] of sizePairs()) {
      const proof = buildConsistencyProof(size1, size2, tree.readerAt(size2));
      const context = `${size1} → ${size2}`;
      assert.deepEqual(proof.map(encodeHex), tree.consistency(size1, size2).map(encodeHex), context);
      verifyConsistency(size1, size2, proof, tree.root(0, size1), tree.root(0, size2));
    }
  });

  it('fail against the root of a different older tree', () => {
    const forked = new NaiveTree([...tree.leafHashes.slice(0, 20), hashLeaf(new Uint8Array([9]))]);
    const proof = buildConsistencyProof(21, 40, tree.readerAt(40));
    assert.throws(() => verifyConsistency(21, 40, proof, forked.root(), tree.root(0, 40)), {
      name: 'MerkleError',
      code: 'MERKLE_CONSISTENCY_PROOF_INVALID',
      message: `consistency proof at size 21: expected root ${encodeHex(forked.root())}, computed ${encodeHex(tree.root(0, 21))}`,
    });
  });

  it('work for sizes far above 2^32', () => {
    const uniform = new UniformTree();
    for (const [size1, size2] of [
      [2 ** 32, 2 ** 32 + 1],
      [2 ** 40 + 12345, 2 ** 41 - 3],
      [5, Number.MAX_SAFE_INTEGER],
      [Number.MAX_SAFE_INTEGER - 2, Number.MAX_SAFE_INTEGER],
    ] as const) {
      const proof = buildConsistencyProof(size1, size2, uniform.readerAt(size2));
      verifyConsistency(size1, size2, proof, uniform.root(size1), uniform.root(size2));
    }
  });
});

describe('consistencyProofNodes', () => {
  it('lists nothing between equal sizes and refuses a proof from the empty tree', () => {
    assert.deepEqual(consistencyProofNodes(5, 5), { ids: [], ephemeral: undefined });
    assert.throws(() => consistencyProofNodes(0, 5), { code: 'MERKLE_TREE_SIZE_INVALID' });
    assert.throws(() => consistencyProofNodes(6, 5), { code: 'MERKLE_TREE_SIZE_INVALID' });
  });
});

describe('verifyConsistency', () => {
  const root6 = tree.root(0, 6);
  const root8 = tree.root(0, 8);
  const proof = tree.consistency(6, 8);

  it('returns the newer root the proof implies', () => {
    assert.deepEqual(rootFromConsistencyProof(6, 8, proof, root6), root8);
  });

  describe('when size1 is 0', () => {
    it('rejects it with MERKLE_TREE_SIZE_INVALID, even between two empty trees', () => {
      assert.throws(() => verifyConsistency(0, 0, [], root6, root6), {
        code: 'MERKLE_TREE_SIZE_INVALID',
        message:
          'size1: expected above 0 (a consistency proof from the empty tree is meaningless), received 0',
      });
    });
  });

  describe('when the sizes are equal', () => {
    it('needs an empty proof and equal roots', () => {
      verifyConsistency(6, 6, [], root6, root6);
      assert.throws(() => verifyConsistency(6, 6, [], root6, root8), {
        code: 'MERKLE_CONSISTENCY_PROOF_INVALID',
      });
      assert.throws(() => verifyConsistency(6, 6, [root6], root6, root6), {
        code: 'MERKLE_CONSISTENCY_PROOF_INVALID',
        message: 'consistency proof between equal sizes: expected 0 hashes, received 1',
      });
    });
  });

  describe('when size2 is below size1', () => {
    it('rejects it with MERKLE_TREE_SIZE_INVALID', () => {
      assert.throws(() => verifyConsistency(8, 6, proof, root8, root6), {
        code: 'MERKLE_TREE_SIZE_INVALID',
        message: 'size2: expected at least size1 8, received 6',
      });
    });
  });

  describe('when the proof is empty, short or long', () => {
    it('rejects it with MERKLE_CONSISTENCY_PROOF_INVALID', () => {
      for (const bad of [[], proof.slice(1), [...proof, root8], [root6, ...proof]]) {
        assert.throws(() => verifyConsistency(6, 8, bad, root6, root8), {
          code: 'MERKLE_CONSISTENCY_PROOF_INVALID',
        });
      }
    });
  });

  describe('when a proof hash is not 32 bytes', () => {
    it('rejects it with MERKLE_HASH_SIZE_INVALID', () => {
      assert.throws(() => verifyConsistency(6, 8, [new Uint8Array(0), ...proof.slice(1)], root6, root8), {
        code: 'MERKLE_HASH_SIZE_INVALID',
      });
    });
  });
});
