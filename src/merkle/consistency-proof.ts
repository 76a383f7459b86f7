import { MerkleError } from './errors.ts';
import type { MerkleErrorCode } from './errors.ts';
import type { MerkleHash } from './hash.ts';
import {
  assertProofHashes,
  assertProofLength,
  assertRootMatches,
  chainBorderRight,
  chainInner,
  chainInnerRight,
} from './internal/hash-chain.ts';
import { mapProofNodes, nodesForInclusion, readProof, skipFirstNode } from './proof-nodes.ts';
import type { NodeHashReader, ProofNodes } from './proof-nodes.ts';
import {
  assertCount,
  bitLength,
  decomposeInclusionProof,
  isPowerOfTwo,
  popCount,
  shiftRight,
  trailingZeros,
  xor,
} from './tree-math.ts';

/**
 * Consistency proofs (RFC 9162 §2.1.4; RFC 6962 §2.1.2) with the exact semantics of
 * transparency-dev/merkle `proof/verify.go` RootFromConsistencyProof: size2 < size1 is an error, a
 * proof from the empty tree is meaningless and an error, equal sizes need an empty proof and equal
 * roots, and otherwise the proof MUST have exactly the expected length.
 *
 * The chaining is written for a subtree [start, end) of a tree of `size` leaves, as upstream does; a
 * plain consistency proof is the case start = 0. subtree.ts adds the checks for start > 0.
 */

const CODE: MerkleErrorCode = 'MERKLE_CONSISTENCY_PROOF_INVALID';

/**
 * The root of the tree of `size2` leaves implied by a consistency proof from the tree of `size1`
 * leaves with root `root1`; checks on the way that the proof does lead to `root1`. Throws MerkleError:
 * - MERKLE_TREE_SIZE_INVALID when a size is not a safe integer, size2 < size1, or size1 = 0;
 * - MERKLE_HASH_SIZE_INVALID when a proof hash is not 32 bytes;
 * - MERKLE_CONSISTENCY_PROOF_INVALID for a proof of the wrong length or one that does not lead to root1.
 */
export function rootFromConsistencyProof(
  size1: number,
  size2: number,
  proof: readonly Uint8Array[],
  root1: Uint8Array,
): MerkleHash {
  assertCount(size1, 'size1', 'MERKLE_TREE_SIZE_INVALID');
  assertCount(size2, 'size2', 'MERKLE_TREE_SIZE_INVALID');
  if (size2 < size1) {
    throw new MerkleError(
      'MERKLE_TREE_SIZE_INVALID',
      `size2: expected at least size1 ${size1}, received ${size2}`,
    );
  }
  if (size1 === 0) {
    throw new MerkleError(
      'MERKLE_TREE_SIZE_INVALID',
      'size1: expected above 0 (a consistency proof from the empty tree is meaningless), received 0',
    );
  }
  if (size1 === size2) {
    assertProofLength(proof, 0, 'consistency proof between equal sizes', CODE);
    return root1;
  }
  if (proof.length === 0) {
    throw new MerkleError(CODE, `consistency proof: expected hashes for ${size1} → ${size2}, received none`);
  }
  assertProofHashes(proof, 'consistency proof');
  return chainConsistency(0, size1, size2, proof, root1, 'consistency proof');
}

/**
 * Verifies that the tree of `size1` leaves with root `root1` is a prefix of the tree of `size2` leaves
 * with root `root2` (RFC 9162 §2.1.4.2). Throws as {@link rootFromConsistencyProof} does, and
 * MERKLE_CONSISTENCY_PROOF_INVALID when the proof does not lead to `root2`.
 */
export function verifyConsistency(
  size1: number,
  size2: number,
  proof: readonly Uint8Array[],
  root1: Uint8Array,
  root2: Uint8Array,
): void {
  const computed = rootFromConsistencyProof(size1, size2, proof, root1);
  assertRootMatches(computed, root2, `consistency proof at size ${size2}`, CODE);
}

/**
 * The stored nodes a consistency proof from `size1` to `size2` leaves is built from (transparency-dev
 * `proof.Consistency`). Requires 0 < size1 ≤ size2; fetch the hashes, then call `rehashProof`.
 */
export function consistencyProofNodes(size1: number, size2: number): ProofNodes {
  assertCount(size1, 'size1', 'MERKLE_TREE_SIZE_INVALID');
  assertCount(size2, 'size2', 'MERKLE_TREE_SIZE_INVALID');
  if (size1 === 0 || size1 > size2) {
    throw new MerkleError(
      'MERKLE_TREE_SIZE_INVALID',
      `consistency proof sizes: expected 0 < size1 ≤ size2, received ${size1} and ${size2}`,
    );
  }
  return rangeConsistencyNodes(0, size1, size2);
}

/** The consistency proof from `size1` to `size2` leaves, read from `reader`. */
export function buildConsistencyProof(size1: number, size2: number, reader: NodeHashReader): MerkleHash[] {
  return readProof(consistencyProofNodes(size1, size2), reader);
}

/**
 * The nodes of a consistency proof for the subtree [start, end) in the tree of `size` leaves
 * (transparency-dev `proof.subtreeConsistency`). The caller has checked 0 ≤ start ≤ end ≤ size and
 * that the subtree is valid. Not part of the public API.
 */
export function rangeConsistencyNodes(start: number, end: number, size: number): ProofNodes {
  if ((start === 0 && end === size) || start === end) return { ids: [], ephemeral: undefined };
  if (end === size) {
    // Prove the subtree's root into the tree: shift the tree down until that root is a leaf.
    const level = bitLength(xor(end - 1, start));
    const index = shiftRight(end - 1, level);
    const nodes = skipFirstNode(nodesForInclusion(index, 0, index + 1));
    return mapProofNodes(nodes, (node) => ({ level: node.level + level, index: node.index }));
  }
  // The root of the largest complete subtree of [start, end) ending at `end`, then its inclusion proof.
  // When [start, end) is itself complete the verifier holds that root already.
  const level = trailingZeros(end - start);
  const nodes = nodesForInclusion(shiftRight(end - 1, level), level, size);
  return isPowerOfTwo(end - start) ? skipFirstNode(nodes) : nodes;
}

/**
 * transparency-dev `rootFromSubtreeConsistencyProof`: the root of the tree of `size` leaves from the
 * root of the subtree [start, end) and a non-empty proof of checked hash sizes. The caller has checked
 * 0 ≤ start < end ≤ size, the subtree's validity and the trivial cases. Not part of the public API.
 */
export function chainConsistency(
  start: number,
  end: number,
  size: number,
  proof: readonly Uint8Array[],
  subtreeRoot: Uint8Array,
  what: string,
): MerkleHash {
  if (end === size) {
    // The subtree's root lies on the right border: one left sibling per level where it is a right child.
    const height = bitLength(xor(end - 1, start));
    assertProofLength(proof, popCount(shiftRight(start, height)), what, CODE);
    return chainBorderRight(subtreeRoot, proof, 0, proof.length);
  }
  const { inner: forkLevel, border } = decomposeInclusionProof(end - 1, size);
  // The proof starts at the root of the rightmost complete subtree of [start, end), whose height is
  // `shift`; it is proof[0] unless [start, end) is complete itself, when the verifier holds it.
  const shift = trailingZeros(end - start);
  const inner = forkLevel - shift;
  const seedIsSubtreeRoot = isPowerOfTwo(end - start);
  const first = seedIsSubtreeRoot ? 0 : 1;
  assertProofLength(proof, first + inner + border, what, CODE);
  const seed = seedIsSubtreeRoot ? subtreeRoot : (proof[0] as MerkleHash);
  const mask = shiftRight(end - 1, shift);

  if (!seedIsSubtreeRoot) {
    // Rebuild the subtree root from the hashes that lie inside it (transparency-dev decompSubtreeProof):
    // left siblings of the inner part up to the subtree's height, then the border part below it.
    const height = bitLength(xor(end - 1, start));
    const subInner = Math.min(height, forkLevel) - shift;
    const subBorder = Math.max(0, border - popCount(shiftRight(end - 1, height)));
    let hash1 = chainInnerRight(seed, proof, first, first + subInner, mask);
    hash1 = chainBorderRight(hash1, proof, first + inner, first + inner + subBorder);
    assertRootMatches(hash1, subtreeRoot, `${what} at size ${end}`, CODE);
  }

  const hash2 = chainInner(seed, proof, first, first + inner, mask);
  return chainBorderRight(hash2, proof, first + inner, proof.length);
}
