import { MerkleError } from './errors.ts';
import { assertHashSize, hashChildren, hashesEqual } from './hash.ts';
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

/** A proof's hashing steps from one node up: each sibling, and whether it is the left child. */
interface ProofSteps {
  readonly siblings: readonly Uint8Array[];
  readonly leftSiblings: readonly boolean[];
}

/** A node a checked proof passed through: from it, `steps` from `from` on reach the root. */
interface ProvenNode {
  readonly steps: ProofSteps;
  readonly from: number;
}

/**
 * Checks many inclusion proofs against one tree head, each as {@link rootFromInclusionProof} would,
 * but without hashing twice what two proofs share. Proofs of neighbouring leaves meet a few levels up
 * and hash the same nodes from there to the root; the checker remembers every node a checked proof
 * passed through with the steps that took it to the root, and a later proof that reaches a remembered
 * node with byte-equal remaining steps is proven there (the rest of its hashing is the same
 * computation). A proof that differs anywhere is hashed all the way up and refused if it misses.
 * The checker keeps the hashes of the proofs it accepted: they must not be changed afterwards.
 */
export class InclusionChecker {
  readonly treeSize: number;
  readonly root: Uint8Array;
  /** Proven nodes by their hash (as a binary string). */
  readonly #proven = new Map<string, ProvenNode>();
  readonly #maxRemembered: number;

  /**
   * `maxRemembered` bounds the nodes kept (default 65,536, a few MB): past it the checker forgets them
   * all and starts again, so checking every proof of a large tree against one checkpoint (readers
   * walking the log while nothing is appended) does not keep the whole tree.
   */
  constructor(treeSize: number, root: Uint8Array, options: { maxRemembered?: number } = {}) {
    assertCount(treeSize, 'tree size', 'MERKLE_TREE_SIZE_INVALID');
    this.treeSize = treeSize;
    this.root = new Uint8Array(root);
    this.#maxRemembered = options.maxRemembered ?? 65_536;
  }

  /** How many proven nodes the checker keeps now. */
  get remembered(): number {
    return this.#proven.size;
  }

  /**
   * Whether `proof` proves `leafHash` at `leafIndex` in this tree. Throws as rootFromInclusionProof
   * for a malformed proof (wrong length, hashes that are not 32 bytes, an index out of range).
   */
  verifies(leafIndex: number, leafHash: Uint8Array, proof: readonly Uint8Array[]): boolean {
    assertLeafInTree(leafIndex, this.treeSize);
    assertHashSize(leafHash, 'inclusion proof leaf hash');
    const { inner, border } = decomposeInclusionProof(leafIndex, this.treeSize);
    assertProofLength(proof, inner + border, 'inclusion proof', 'MERKLE_INCLUSION_PROOF_INVALID');
    assertProofHashes(proof, 'inclusion proof');
    // The same steps chainInner and chainBorderRight take: inner siblings by the index bits, then
    // every border sibling on the left.
    const leftSiblings: boolean[] = [];
    for (let i = 0, path = leafIndex; i < proof.length; i++, path = Math.floor(path / 2)) {
      leftSiblings.push(i >= inner || path % 2 === 1);
    }
    const steps: ProofSteps = { siblings: [...proof], leftSiblings };
    const passed: [string, number][] = [];
    let hash = leafHash;
    // Only nodes below the root are remembered, so the computed root is compared, not looked up.
    for (let i = 0; i < proof.length; i++) {
      const key = Buffer.from(hash.buffer, hash.byteOffset, hash.byteLength).toString('latin1');
      const known = this.#proven.get(key);
      if (known !== undefined && sameSteps(known, steps, i)) {
        this.#remember(passed, steps);
        return true;
      }
      passed.push([key, i]);
      const sibling = proof[i] as Uint8Array;
      hash = leftSiblings[i] ? hashChildren(sibling, hash) : hashChildren(hash, sibling);
    }
    if (!hashesEqual(hash, this.root)) return false;
    this.#remember(passed, steps);
    return true;
  }

  #remember(passed: readonly [string, number][], steps: ProofSteps): void {
    if (this.#proven.size + passed.length > this.#maxRemembered) this.#proven.clear();
    for (const [key, from] of passed) if (!this.#proven.has(key)) this.#proven.set(key, { steps, from });
  }
}

/** Whether the steps of `steps` from `from` on are the same as those `known` was proven with. */
function sameSteps(known: ProvenNode, steps: ProofSteps, from: number): boolean {
  const count = steps.siblings.length - from;
  if (known.steps.siblings.length - known.from !== count) return false;
  for (let i = 0; i < count; i++) {
    if (known.steps.leftSiblings[known.from + i] !== steps.leftSiblings[from + i]) return false;
    const a = known.steps.siblings[known.from + i] as Uint8Array;
    const b = steps.siblings[from + i] as Uint8Array;
    if (a !== b && Buffer.compare(a, b) !== 0) return false;
  }
  return true;
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
