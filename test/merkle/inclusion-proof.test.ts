import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { encodeHex } from '../../src/core/index.ts';
import { hashLeaf, hashesEqual } from '../../src/merkle/hash.ts';
import {
  InclusionChecker,
  buildInclusionProof,
  inclusionProofNodes,
  rootFromInclusionProof,
  verifyInclusion,
} from '../../src/merkle/inclusion-proof.ts';
import { decomposeInclusionProof } from '../../src/merkle/tree-math.ts';
import { NaiveTree, UniformTree, randomLeafHashes, seededRandom } from './naive-tree.ts';

const tree = new NaiveTree(randomLeafHashes(300, seededRandom(1)));

describe('inclusion proofs generated from stored nodes', () => {
  it('equal RFC 6962 PATH and verify, for every leaf of every tree size from 1 to 300', () => {
    for (let size = 1; size <= 300; size++) {
      const reader = tree.readerAt(size);
      const root = tree.root(0, size);
      for (let index = 0; index < size; index++) {
        const proof = buildInclusionProof(index, size, reader);
        assert.deepEqual(
          proof.map(encodeHex),
          tree.path(index, 0, size).map(encodeHex),
          `leaf ${index} of ${size}`,
        );
        verifyInclusion(index, size, tree.leafHashes[index] as Uint8Array, proof, root);
      }
    }
  });

  it('work for indices and sizes far above 2^32', () => {
    const uniform = new UniformTree();
    for (const [index, size] of [
      [2 ** 32, 2 ** 32 + 1],
      [2 ** 40 + 12345, 2 ** 41 - 3],
      [5, Number.MAX_SAFE_INTEGER],
      [Number.MAX_SAFE_INTEGER - 1, Number.MAX_SAFE_INTEGER],
      [2 ** 52, 2 ** 52 + 2 ** 31 + 7],
    ] as const) {
      const proof = buildInclusionProof(index, size, uniform.readerAt(size));
      verifyInclusion(index, size, uniform.nodeHash(0), proof, uniform.root(size));
    }
  });
});

describe('inclusionProofNodes', () => {
  it('names the ephemeral node and the stored nodes it is hashed from', () => {
    // Leaf 0 of 7: siblings (0,1), (1,1), then the ephemeral node (2,1) over [4, 7) = (1,2) + (0,6).
    const nodes = inclusionProofNodes(0, 7);
    assert.deepEqual(nodes.ids, [
      { level: 0, index: 1 },
      { level: 1, index: 1 },
      { level: 0, index: 6 },
      { level: 1, index: 2 },
    ]);
    assert.deepEqual(nodes.ephemeral, { node: { level: 2, index: 1 }, begin: 2, end: 4 });
    assert.equal(inclusionProofNodes(3, 8).ephemeral, undefined);
  });
});

describe('verifyInclusion', () => {
  const size = 13;
  const index = 6;
  const leaf = tree.leafHashes[index] as Uint8Array;
  const root = tree.root(0, size);
  const proof = tree.path(index, 0, size);

  it('returns the root the proof implies', () => {
    assert.deepEqual(rootFromInclusionProof(index, size, leaf, proof), root);
  });

  describe('when the proof has an extra hash', () => {
    it('rejects it with MERKLE_INCLUSION_PROOF_INVALID naming both lengths', () => {
      assert.throws(() => verifyInclusion(index, size, leaf, [...proof, root], root), {
        name: 'MerkleError',
        code: 'MERKLE_INCLUSION_PROOF_INVALID',
        message: `inclusion proof: expected ${proof.length} hashes, received ${proof.length + 1}`,
      });
    });
  });

  describe('when the root differs', () => {
    it('rejects it with MERKLE_INCLUSION_PROOF_INVALID showing expected and computed roots', () => {
      const other = hashLeaf(new Uint8Array([1]));
      assert.throws(() => verifyInclusion(index, size, leaf, proof, other), {
        code: 'MERKLE_INCLUSION_PROOF_INVALID',
        message: `inclusion proof: expected root ${encodeHex(other)}, computed ${encodeHex(root)}`,
      });
    });
  });

  describe('when the leaf is moved to another index with the same proof length', () => {
    it('rejects it', () => {
      assert.throws(() => verifyInclusion(index + 1, size, leaf, proof, root), {
        code: 'MERKLE_INCLUSION_PROOF_INVALID',
      });
    });
  });

  describe('when a proof hash is not 32 bytes', () => {
    it('rejects it with MERKLE_HASH_SIZE_INVALID', () => {
      const short = [...proof.slice(0, -1), new Uint8Array(31)];
      assert.throws(() => verifyInclusion(index, size, leaf, short, root), {
        code: 'MERKLE_HASH_SIZE_INVALID',
        message: `inclusion proof hash ${proof.length - 1}: expected a 32-byte hash, received 31 bytes`,
      });
    });
  });

  describe('when the index or size is out of range', () => {
    it('rejects them with MERKLE_INDEX_OUT_OF_RANGE or MERKLE_TREE_SIZE_INVALID', () => {
      assert.throws(() => verifyInclusion(size, size, leaf, proof, root), {
        code: 'MERKLE_INDEX_OUT_OF_RANGE',
        message: `leaf index: expected below the tree size ${size}, received ${size}`,
      });
      assert.throws(() => verifyInclusion(0, 0, leaf, [], root), { code: 'MERKLE_INDEX_OUT_OF_RANGE' });
      assert.throws(() => verifyInclusion(-1, size, leaf, proof, root), {
        code: 'MERKLE_INDEX_OUT_OF_RANGE',
      });
      assert.throws(() => verifyInclusion(1.5, size, leaf, proof, root), {
        code: 'MERKLE_INDEX_OUT_OF_RANGE',
      });
      assert.throws(() => verifyInclusion(0, 2 ** 64, leaf, proof, root), {
        code: 'MERKLE_TREE_SIZE_INVALID',
      });
      assert.throws(() => inclusionProofNodes(size, size), { code: 'MERKLE_INDEX_OUT_OF_RANGE' });
    });
  });
});

function proofLength(index: number, size: number): number {
  const { inner, border } = decomposeInclusionProof(index, size);
  return inner + border;
}

/** What rootFromInclusionProof says of a proof against `root`: the checker must say the same. */
function reference(index: number, size: number, leaf: Uint8Array, proof: Uint8Array[], root: Uint8Array) {
  return hashesEqual(rootFromInclusionProof(index, size, leaf, proof), root);
}

/** A copy of `proof` with one bit of hash `at` flipped. */
function flipped(proof: Uint8Array[], at: number, bit: number): Uint8Array[] {
  return proof.map((hash, i) => {
    if (i !== at) return hash;
    const copy = new Uint8Array(hash);
    copy[bit % 32]! ^= 1 << (bit % 8);
    return copy;
  });
}

describe('InclusionChecker', () => {
  it('agrees with rootFromInclusionProof on honest and altered proofs of every leaf, sizes 1 to 120', () => {
    const random = seededRandom(7);
    for (let size = 1; size <= 120; size++) {
      const root = tree.root(0, size);
      const checker = new InclusionChecker(size, root);
      const order = Array.from({ length: size }, (_, i) => i).sort(() => random() - 0.5);
      for (const index of order) {
        const leaf = tree.leafHashes[index] as Uint8Array;
        const proof = tree.path(index, 0, size);
        assert.equal(checker.verifies(index, leaf, proof), true, `leaf ${index} of ${size}`);
        // Altered after the honest proofs before it were remembered: every sibling, the leaf, the index.
        for (let at = 0; at < proof.length; at++) {
          const altered = flipped(proof, at, Math.floor(random() * 256));
          assert.equal(
            checker.verifies(index, leaf, altered),
            false,
            `sibling ${at} of leaf ${index} of ${size}`,
          );
        }
        const otherLeaf = tree.leafHashes[(index + 1) % 300] as Uint8Array;
        assert.equal(checker.verifies(index, otherLeaf, proof), false, `another leaf at ${index} of ${size}`);
        for (const other of [index - 1, index + 1, size - 1 - index]) {
          if (other < 0 || other >= size || other === index) continue;
          if (proofLength(other, size) === proof.length) {
            const expected = reference(other, size, leaf, proof, root);
            assert.equal(
              checker.verifies(other, leaf, proof),
              expected,
              `leaf ${index} moved to ${other} of ${size}`,
            );
          } else {
            assert.throws(() => checker.verifies(other, leaf, proof), {
              code: 'MERKLE_INCLUSION_PROOF_INVALID',
            });
          }
        }
      }
    }
  });

  it('agrees with rootFromInclusionProof where equal subtrees sit at different places (all leaves equal)', () => {
    // Every complete node of a level has the same hash here, so a remembered node is met again at
    // other positions with other steps above it.
    const uniform = new UniformTree();
    const random = seededRandom(11);
    for (const size of [2, 3, 7, 64, 100, 1000, 1023]) {
      const root = uniform.root(size);
      const reader = uniform.readerAt(size);
      const checker = new InclusionChecker(size, root);
      const leaf = uniform.nodeHash(0);
      for (let round = 0; round < 200; round++) {
        const index = Math.floor(random() * size);
        const proof = buildInclusionProof(index, size, reader);
        assert.equal(checker.verifies(index, leaf, proof), true, `leaf ${index} of ${size}`);
        const claimed = Math.floor(random() * size);
        if (proofLength(claimed, size) === proof.length) {
          const expected = reference(claimed, size, leaf, proof, root);
          assert.equal(
            checker.verifies(claimed, leaf, proof),
            expected,
            `proof of ${index} at ${claimed} of ${size}`,
          );
        }
        if (proof.length > 0) {
          const at = Math.floor(random() * proof.length);
          assert.equal(
            checker.verifies(index, leaf, flipped(proof, at, 3)),
            false,
            `altered ${at} of ${index}`,
          );
        }
      }
    }
  });

  it('keeps at most maxRemembered nodes and still agrees with rootFromInclusionProof past it', () => {
    const size = 300;
    const root = tree.root(0, size);
    const checker = new InclusionChecker(size, root, { maxRemembered: 40 });
    let most = 0;
    for (let index = 0; index < size; index++) {
      const leaf = tree.leafHashes[index] as Uint8Array;
      const proof = tree.path(index, 0, size);
      assert.equal(checker.verifies(index, leaf, proof), true, `leaf ${index}`);
      assert.equal(checker.verifies(index, leaf, flipped(proof, index % proof.length, index)), false);
      most = Math.max(most, checker.remembered);
    }
    assert.ok(most > 0 && most <= 40, `remembered up to ${most} nodes`);
  });

  it('refuses malformed proofs with the errors rootFromInclusionProof gives', () => {
    const size = 13;
    const checker = new InclusionChecker(size, tree.root(0, size));
    const leaf = tree.leafHashes[6] as Uint8Array;
    const proof = tree.path(6, 0, size);
    for (const [index, hash, hashes] of [
      [6, leaf, [...proof, leaf]],
      [6, leaf, proof.slice(1)],
      [6, leaf.subarray(1), proof],
      [6, leaf, [proof[0]!.subarray(2), ...proof.slice(1)]],
      [13, leaf, proof],
      [-1, leaf, proof],
    ] as const) {
      let expected: unknown;
      try {
        rootFromInclusionProof(index, size, hash, [...hashes]);
      } catch (error) {
        expected = error;
      }
      assert.ok(expected instanceof Error, `reference accepted ${index}`);
      assert.throws(() => checker.verifies(index, hash, [...hashes]), {
        name: 'MerkleError',
        code: (expected as Error & { code?: string }).code,
        message: expected.message,
      });
    }
  });
});
