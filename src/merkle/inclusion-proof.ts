import { MerkleError } from './errors.ts';
import { assertHashSize } from './hash.ts';
import type { MerkleHash } from './hash.ts';
import {
  assertProofHashes,
  assertProofLength,
  assertRootMatches,
  chainBorderRight,
  chainInner,
} from './internal/hash-chain.ts';
import { nodesForInclusion, readProof, skipFirstNode } from './proof-nodes.ts';
import type { NodeHashReader, ProofNodes } from './proof-nodes.ts';
import { assertCount, decomposeInclusionProof } from './tree-math.ts';

/**
 * Inclusion proofs (RFC 9162 §2.1.3; RFC 6962 §2.1.1 calls them audit paths), with the exact checks of
 * transparency-dev/merkle `proof/verify.go` RootFromInclusionProof: the index MUST be below the tree
 * size, the leaf hash MUST be 32 bytes and the proof MUST have exactly the length the index and size
 * call for, so no extra or missing hash is ever tolerated.
 */

/**
 * The root of the tree of `treeSize` leaves implied by an inclusion proof for the leaf hash at
 * `leafIndex` (RFC 9162 §2.1.3.2). Throws MerkleError:
 * - MERKLE_TREE_SIZE_INVALID / MERKLE_INDEX_OUT_OF_RANGE for sizes that are not safe integers, or
 *   `leafIndex >= treeSize`;
 * - MERKLE_HASH_SIZE_INVALID when the leaf hash or a proof hash is not 32 bytes;
 * - MERKLE_INCLUSION_PROOF_INVALID when the proof has the wrong number of hashes.
 */
export function rootFromInclusionProof(
  leafIndex: number,
  treeSize: number,
  leafHash: Uint8Array,
  proof: readonly Uint8Array[],
): MerkleHash {
  assertLeafInTree(leafIndex, treeSize);
  assertHashSize(leafHash, 'inclusion proof leaf hash');
  const { inner, border } = decomposeInclusionProof(leafIndex, treeSize);
  assertProofLength(proof, inner + border, 'inclusion proof', 'MERKLE_INCLUSION_PROOF_INVALID');
  assertProofHashes(proof, 'inclusion proof');
  const hash = chainInner(leafHash, proof, 0, inner, leafIndex);
  return chainBorderRight(hash, proof, inner, proof.length);
}

/**
 * Verifies that `leafHash` is the leaf at `leafIndex` of the tree of `treeSize` leaves with root `root`
 * (RFC 9162 §2.1.3.2). Returns nothing on success; throws as {@link rootFromInclusionProof} does, and
 * MERKLE_INCLUSION_PROOF_INVALID when the computed root differs from `root`.
 */
export function verifyInclusion(
  leafIndex: number,
  treeSize: number,
  leafHash: Uint8Array,
  proof: readonly Uint8Array[],
  root: Uint8Array,
): void {
  const computed = rootFromInclusionProof(leafIndex, treeSize, leafHash, proof);
  assertRootMatches(computed, root, 'inclusion proof', 'MERKLE_INCLUSION_PROOF_INVALID');
}

/**
 * The stored nodes an inclusion proof for `leafIndex` in the tree of `treeSize` leaves is built from
 * (transparency-dev `proof.Inclusion`). Fetch their hashes, then call `rehashProof`.
 */
export function inclusionProofNodes(leafIndex: number, treeSize: number): ProofNodes {
  assertLeafInTree(leafIndex, treeSize);
  return skipFirstNode(nodesForInclusion(leafIndex, 0, treeSize));
}

/** The inclusion proof for `leafIndex` in the tree of `treeSize` leaves, read from `reader`. */
export function buildInclusionProof(
  leafIndex: number,
  treeSize: number,
  reader: NodeHashReader,
): MerkleHash[] {
  return readProof(inclusionProofNodes(leafIndex, treeSize), reader);
}

function assertLeafInTree(leafIndex: number, treeSize: number): void {
  assertCount(treeSize, 'tree size', 'MERKLE_TREE_SIZE_INVALID');
  assertCount(leafIndex, 'leaf index', 'MERKLE_INDEX_OUT_OF_RANGE');
  if (leafIndex >= treeSize) {
    throw new MerkleError(
      'MERKLE_INDEX_OUT_OF_RANGE',
      `leaf index: expected below the tree size ${treeSize}, received ${leafIndex}`,
    );
  }
}
