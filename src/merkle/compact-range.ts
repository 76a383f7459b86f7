import { MerkleError } from './errors.ts';
import { assertHashSize, emptyRoot, hashChildren } from './hash.ts';
import type { MerkleHash } from './hash.ts';
import { assertCount, popCount, rangeNodes } from './tree-math.ts';
import type { NodeId } from './tree-math.ts';

/**
 * The compact range [0, size) of a log tree, also called its frontier (transparency-dev/merkle
 * `compact.Range`; docs/compact_ranges.md): the roots of the complete subtrees that cover the leaves,
 * one per one-bit of `size`, highest level first. It is all an integrator needs to keep in memory:
 *
 * - appending a leaf costs O(log n) hashes and reports every complete node it creates, so the caller
 *   can store them (tiles) as they appear;
 * - the root of the tree is the right-to-left fold of the frontier (RFC 9162 §2.1.1);
 * - after a restart the frontier is rebuilt from the O(log n) stored nodes that
 *   {@link compactRangeNodes} names, with no leaf re-read.
 */

/** Receives each complete node (level, index) and its hash as an append creates it. */
export type NodeVisitor = (node: NodeId, hash: MerkleHash) => void;

/** The nodes whose hashes make up the compact range of a tree of `size` leaves, in order. */
export function compactRangeNodes(size: number): NodeId[] {
  assertCount(size, 'tree size', 'MERKLE_TREE_SIZE_INVALID');
  return rangeNodes(0, size);
}

export class CompactRange {
  #size: number;
  readonly #hashes: MerkleHash[];

  private constructor(size: number, hashes: MerkleHash[]) {
    this.#size = size;
    this.#hashes = hashes;
  }

  /** The compact range of the empty tree. */
  static empty(): CompactRange {
    return new CompactRange(0, []);
  }

  /**
   * Rebuilds the compact range of a tree of `size` leaves from the hashes of the nodes that
   * {@link compactRangeNodes}(size) lists, in that order. Throws MERKLE_NODE_HASHES_INVALID when the
   * count differs and MERKLE_HASH_SIZE_INVALID when a hash is not 32 bytes. The hashes are copied.
   */
  static fromNodeHashes(size: number, hashes: readonly Uint8Array[]): CompactRange {
    assertCount(size, 'tree size', 'MERKLE_TREE_SIZE_INVALID');
    const expected = popCount(size);
    if (hashes.length !== expected) {
      throw new MerkleError(
        'MERKLE_NODE_HASHES_INVALID',
        `compact range of tree size ${size}: expected ${expected} node hashes, received ${hashes.length}`,
      );
    }
    hashes.forEach((hash, i) => assertHashSize(hash, `compact range node hash ${i}`));
    return new CompactRange(
      size,
      hashes.map((hash) => hash.slice()),
    );
  }

  /** Number of leaves covered. */
  get size(): number {
    return this.#size;
  }

  /** The frontier hashes, highest level first (the order {@link compactRangeNodes} gives). */
  nodeHashes(): MerkleHash[] {
    return this.#hashes.map((hash) => hash.slice());
  }

  /**
   * Appends one leaf hash at index `size`. `visit`, when given, is called for every node the append
   * completes, in order: the leaf itself (level 0), then each new parent up to the highest one. The
   * caller MUST NOT modify the hashes it is handed. Throws MERKLE_HASH_SIZE_INVALID for a leaf hash
   * that is not 32 bytes and MERKLE_TREE_SIZE_INVALID when the tree is full (2^53-1 leaves).
   */
  append(leafHash: Uint8Array, visit?: NodeVisitor): void {
    assertHashSize(leafHash, 'leaf hash');
    if (this.#size === Number.MAX_SAFE_INTEGER) {
      throw new MerkleError(
        'MERKLE_TREE_SIZE_INVALID',
        `tree size: expected below 2^53-1, received ${this.#size}`,
      );
    }
    let hash: MerkleHash = leafHash.slice();
    let index = this.#size;
    let level = 0;
    visit?.({ level, index }, hash);
    // Each trailing one-bit of the old size is a complete left sibling that now gets its right half.
    while (index % 2 === 1) {
      hash = hashChildren(this.#hashes.pop() as MerkleHash, hash);
      index = (index - 1) / 2;
      level++;
      visit?.({ level, index }, hash);
    }
    this.#hashes.push(hash);
    this.#size++;
  }

  /** Appends leaf hashes in order, as {@link append} does for each. */
  appendAll(leafHashes: Iterable<Uint8Array>, visit?: NodeVisitor): void {
    for (const leafHash of leafHashes) this.append(leafHash, visit);
  }

  /** The root of the tree of {@link size} leaves (RFC 9162 §2.1.1); the empty root for size 0. */
  rootHash(): MerkleHash {
    const hashes = this.#hashes;
    if (hashes.length === 0) return emptyRoot();
    let root = hashes[hashes.length - 1] as MerkleHash;
    for (let i = hashes.length - 2; i >= 0; i--) root = hashChildren(hashes[i] as MerkleHash, root);
    return root === hashes[hashes.length - 1] ? root.slice() : root;
  }

  /** An independent copy, e.g. to compute a root ahead without committing the appends. */
  clone(): CompactRange {
    return new CompactRange(this.#size, this.#hashes.slice());
  }
}
