import { chainConsistency, rangeConsistencyNodes } from './consistency-proof.ts';
import { MerkleError } from './errors.ts';
import { emptyRoot } from './hash.ts';
import type { MerkleHash } from './hash.ts';
import { rootFromInclusionProof } from './inclusion-proof.ts';
import { assertProofHashes, assertProofLength, assertRootMatches } from './internal/hash-chain.ts';
import { mapProofNodes, nodesForInclusion, skipFirstNode } from './proof-nodes.ts';
import type { ProofNodes } from './proof-nodes.ts';
import { assertCount, isValidSubtree, shiftRight } from './tree-math.ts';

/**
 * Proofs about a subtree [start, end) of a log tree (transparency-dev/merkle `proof/verify.go`
 * VerifySubtreeInclusion and VerifySubtreeConsistency; draft-ietf-plants-merkle-tree-certs §4.3–4.4).
 * A subtree is valid when start is a multiple of the smallest power of two ≥ end - start, so that one
 * node of the tree (or of a tree of size end) is its root.
 */

const INCLUSION = 'MERKLE_INCLUSION_PROOF_INVALID';
const CONSISTENCY = 'MERKLE_CONSISTENCY_PROOF_INVALID';

/**
 * The root of the subtree [start, end) implied by an inclusion proof for the leaf hash at `leafIndex`.
 * Throws MERKLE_SUBTREE_INVALID for an invalid subtree, MERKLE_INDEX_OUT_OF_RANGE unless
 * start ≤ leafIndex < end, and otherwise as `rootFromInclusionProof` does.
 */
export function rootFromSubtreeInclusionProof(
  leafIndex: number,
  start: number,
  end: number,
  leafHash: Uint8Array,
  proof: readonly Uint8Array[],
): MerkleHash {
  assertSubtree(start, end);
  assertCount(leafIndex, 'leaf index', 'MERKLE_INDEX_OUT_OF_RANGE');
  if (leafIndex < start || leafIndex >= end) {
    throw new MerkleError(
      'MERKLE_INDEX_OUT_OF_RANGE',
      `leaf index: expected within the subtree [${start}, ${end}), received ${leafIndex}`,
    );
  }
  return rootFromInclusionProof(leafIndex - start, end - start, leafHash, proof);
}

/**
 * Verifies that `leafHash` is the leaf at `leafIndex` of the subtree [start, end) whose root is
 * `subtreeRoot`. Throws as {@link rootFromSubtreeInclusionProof} does, and
 * MERKLE_INCLUSION_PROOF_INVALID when the computed root differs.
 */
export function verifySubtreeInclusion(
  leafIndex: number,
  start: number,
  end: number,
  leafHash: Uint8Array,
  proof: readonly Uint8Array[],
  subtreeRoot: Uint8Array,
): void {
  const computed = rootFromSubtreeInclusionProof(leafIndex, start, end, leafHash, proof);
  assertRootMatches(computed, subtreeRoot, `subtree [${start}, ${end}) inclusion proof`, INCLUSION);
}

/**
 * The root of the tree of `size` leaves implied by the root of its subtree [start, end) and a subtree
 * consistency proof; checks on the way that the proof leads to `subtreeRoot`. The subtree MUST NOT be
 * empty (an empty subtree implies no root). Throws MERKLE_SUBTREE_INVALID, MERKLE_TREE_SIZE_INVALID
 * (size < end), MERKLE_HASH_SIZE_INVALID or MERKLE_CONSISTENCY_PROOF_INVALID.
 */
export function rootFromSubtreeConsistencyProof(
  start: number,
  end: number,
  size: number,
  proof: readonly Uint8Array[],
  subtreeRoot: Uint8Array,
): MerkleHash {
  assertSubtreeInTree(start, end, size);
  if (start === end) {
    throw new MerkleError(
      'MERKLE_SUBTREE_INVALID',
      `subtree: expected start < end, received [${start}, ${end})`,
    );
  }
  return chainSubtreeConsistency(start, end, size, proof, subtreeRoot);
}

/**
 * Verifies that the subtree [start, end) with root `subtreeRoot` is part of the tree of `size` leaves
 * with root `root`. An empty subtree is part of every tree: it verifies when its root is the empty
 * tree's root and the proof is empty, whatever `root` is (as the upstream vectors require). Throws as
 * {@link rootFromSubtreeConsistencyProof} does, and MERKLE_CONSISTENCY_PROOF_INVALID when the proof
 * does not lead to `root`.
 */
export function verifySubtreeConsistency(
  start: number,
  end: number,
  size: number,
  proof: readonly Uint8Array[],
  subtreeRoot: Uint8Array,
  root: Uint8Array,
): void {
  assertSubtreeInTree(start, end, size);
  const what = `subtree [${start}, ${end}) consistency proof`;
  if (start === end) {
    assertProofLength(proof, 0, `${what} for an empty subtree`, CONSISTENCY);
    assertRootMatches(emptyRoot(), subtreeRoot, `${what} for an empty subtree`, CONSISTENCY);
    return;
  }
  const computed = chainSubtreeConsistency(start, end, size, proof, subtreeRoot);
  assertRootMatches(computed, root, `${what} at size ${size}`, CONSISTENCY);
}

/**
 * The stored nodes of an inclusion proof for `leafIndex` in the subtree [start, end)
 * (transparency-dev `proof.SubtreeInclusion`).
 */
export function subtreeInclusionProofNodes(leafIndex: number, start: number, end: number): ProofNodes {
  assertSubtree(start, end);
  assertCount(leafIndex, 'leaf index', 'MERKLE_INDEX_OUT_OF_RANGE');
  if (leafIndex < start || leafIndex >= end) {
    throw new MerkleError(
      'MERKLE_INDEX_OUT_OF_RANGE',
      `leaf index: expected within the subtree [${start}, ${end}), received ${leafIndex}`,
    );
  }
  // Work in a tree that starts at `start`, then move every node back right by start >> level.
  const nodes = skipFirstNode(nodesForInclusion(leafIndex - start, 0, end - start));
  return mapProofNodes(nodes, (node) => ({
    level: node.level,
    index: node.index + shiftRight(start, node.level),
  }));
}

/**
 * The stored nodes of a consistency proof for the subtree [start, end) in the tree of `size` leaves
 * (transparency-dev `proof.SubtreeConsistency`).
 */
export function subtreeConsistencyProofNodes(start: number, end: number, size: number): ProofNodes {
  assertSubtreeInTree(start, end, size);
  return rangeConsistencyNodes(start, end, size);
}

function chainSubtreeConsistency(
  start: number,
  end: number,
  size: number,
  proof: readonly Uint8Array[],
  subtreeRoot: Uint8Array,
): MerkleHash {
  const what = `subtree [${start}, ${end}) consistency proof`;
  if (start === 0 && end === size) {
    assertProofLength(proof, 0, `${what} for the whole tree`, CONSISTENCY);
    return subtreeRoot;
  }
  if (proof.length === 0) {
    throw new MerkleError(CONSISTENCY, `${what}: expected hashes for tree size ${size}, received none`);
  }
  assertProofHashes(proof, what);
  return chainConsistency(start, end, size, proof, subtreeRoot, what);
}

function assertSubtree(start: number, end: number): void {
  assertCount(start, 'subtree start', 'MERKLE_SUBTREE_INVALID');
  assertCount(end, 'subtree end', 'MERKLE_SUBTREE_INVALID');
  if (!isValidSubtree(start, end)) {
    throw new MerkleError(
      'MERKLE_SUBTREE_INVALID',
      `subtree: expected start ≤ end with start a multiple of the power of two ≥ end - start, received [${start}, ${end})`,
    );
  }
}

function assertSubtreeInTree(start: number, end: number, size: number): void {
  assertSubtree(start, end);
  assertCount(size, 'tree size', 'MERKLE_TREE_SIZE_INVALID');
  if (size < end) {
    throw new MerkleError(
      'MERKLE_TREE_SIZE_INVALID',
      `tree size: expected at least the subtree end ${end}, received ${size}`,
    );
  }
}
