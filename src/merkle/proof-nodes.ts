import { MerkleError } from './errors.ts';
import { HASH_SIZE, assertHashSize, hashChildren } from './hash.ts';
import type { MerkleHash } from './hash.ts';
import { bitLength, nodeCoverage, rangeNodes, shiftRight, siblingOf, xor } from './tree-math.ts';
import type { NodeId } from './tree-math.ts';

/**
 * Proof generation from stored nodes (transparency-dev/merkle `proof.Nodes`; RFC 9162 §2.1.3.1 PATH and
 * §2.1.4.1 SUBPROOF computed without the leaves).
 *
 * A log stores the hashes of complete subtrees only (tiles, C2SP tlog-tiles). A proof may also need the
 * hash of one node on the right border that is not complete yet: the ephemeral node. Generation is
 * therefore two steps, so storage can fetch in one batch:
 *
 *   1. `inclusionProofNodes` / `consistencyProofNodes` list the complete nodes to read;
 *   2. `rehashProof` folds the nodes under the ephemeral node into its hash, giving the proof.
 *
 * `readProof` does both against a synchronous {@link NodeHashReader}.
 */

/** Where, in {@link ProofNodes.ids}, the nodes under the ephemeral node are. */
export interface EphemeralNode {
  /** The incomplete node whose hash the proof carries. */
  readonly node: NodeId;
  /** ids[begin, end) cover the ephemeral node, lowest level first; end - begin ≥ 2. */
  readonly begin: number;
  readonly end: number;
}

/** The complete nodes a proof is built from, in proof order. */
export interface ProofNodes {
  readonly ids: readonly NodeId[];
  /** Absent when every proof hash is the hash of a stored complete node. */
  readonly ephemeral: EphemeralNode | undefined;
}

/** Reads the hash of a complete subtree (level, index), e.g. from tiles or from an in-memory tree. */
export interface NodeHashReader {
  nodeHash(level: number, index: number): MerkleHash;
}

/**
 * Builds the proof from the hashes of `nodes.ids`, given in the same order: the hashes under the
 * ephemeral node, if any, are hashed into one. Throws MERKLE_NODE_HASHES_INVALID when the count differs
 * and MERKLE_HASH_SIZE_INVALID when a stored hash is not 32 bytes (corrupt storage).
 */
export function rehashProof(nodes: ProofNodes, hashes: readonly MerkleHash[]): MerkleHash[] {
  if (hashes.length !== nodes.ids.length) {
    throw new MerkleError(
      'MERKLE_NODE_HASHES_INVALID',
      `proof nodes: expected ${nodes.ids.length} hashes, received ${hashes.length}`,
    );
  }
  hashes.forEach((hash, i) => {
    if (hash.byteLength !== HASH_SIZE) assertHashSize(hash, `proof node hash ${i}`);
  });
  const ephemeral = nodes.ephemeral;
  if (ephemeral === undefined) return hashes.slice();
  let folded = hashes[ephemeral.begin] as MerkleHash;
  // Lowest level first: each next hash is the left neighbour of what has been folded so far.
  for (let i = ephemeral.begin + 1; i < ephemeral.end; i++) {
    folded = hashChildren(hashes[i] as MerkleHash, folded);
  }
  return [...hashes.slice(0, ephemeral.begin), folded, ...hashes.slice(ephemeral.end)];
}

/** Reads every node of `nodes` from `reader` and returns the proof. */
export function readProof(nodes: ProofNodes, reader: NodeHashReader): MerkleHash[] {
  return rehashProof(
    nodes,
    nodes.ids.map((id) => reader.nodeHash(id.level, id.index)),
  );
}

/**
 * The nodes proving that node (level, index) is included in the tree of `size` leaves, starting with
 * that node itself (transparency-dev `proof.nodes`). The node MUST lie within the tree. Not part of the
 * public API; callers use the `...ProofNodes` functions, which check their arguments.
 */
export function nodesForInclusion(index: number, level: number, size: number): ProofNodes {
  // The fork is where the path from the root to (level, index) leaves the path to leaf `size`. Its
  // sibling is the ephemeral node: the root of the incomplete subtree at the right border.
  const inner = bitLength(xor(index, shiftRight(size, level))) - 1;
  const fork: NodeId = { level: level + inner, index: shiftRight(index, inner) };
  const { begin, end } = nodeCoverage(fork);

  const ids: NodeId[] = [{ level, index }];
  let node: NodeId = { level, index };
  for (; node.level < fork.level; node = { level: node.level + 1, index: Math.floor(node.index / 2) }) {
    ids.push(siblingOf(node));
  }
  // The nodes covering [end, size) stand for the ephemeral node, lowest level first for rehashing.
  const rightBegin = ids.length;
  ids.push(...rangeNodes(end, size).reverse());
  const rightEnd = ids.length;
  // Then the nodes covering [0, begin), lowest level first, closing the path to the root.
  ids.push(...rangeNodes(0, begin).reverse());

  const ephemeral =
    rightEnd - rightBegin >= 2 ? { node: siblingOf(fork), begin: rightBegin, end: rightEnd } : undefined;
  return { ids, ephemeral };
}

/** Drops the first node (the one being proven, which the verifier already holds). Not public. */
export function skipFirstNode(nodes: ProofNodes): ProofNodes {
  const ephemeral = nodes.ephemeral;
  return {
    ids: nodes.ids.slice(1),
    ephemeral: ephemeral && { node: ephemeral.node, begin: ephemeral.begin - 1, end: ephemeral.end - 1 },
  };
}

/** Moves every node by `map`, for proofs computed in a shifted coordinate system. Not public. */
export function mapProofNodes(nodes: ProofNodes, map: (node: NodeId) => NodeId): ProofNodes {
  const ephemeral = nodes.ephemeral;
  return {
    ids: nodes.ids.map(map),
    ephemeral: ephemeral && { node: map(ephemeral.node), begin: ephemeral.begin, end: ephemeral.end },
  };
}
