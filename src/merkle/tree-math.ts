import { MerkleError } from './errors.ts';
import type { MerkleErrorCode } from './errors.ts';

/**
 * Tree arithmetic over leaf indices and tree sizes (RFC 9162 §2.1; transparency-dev/merkle `compact`
 * and `proof`).
 *
 * Indices and sizes are JavaScript numbers, limited to safe integers (< 2^53): a log would need
 * 285 years at a million entries a second to get there, while bigint would slow down every proof.
 * JavaScript's bit operators work on 32 bits only, so the helpers below split values above 2^32 into
 * two halves instead of using `>>`, `^` or `&` directly.
 */

/**
 * A node of the tree. Level 0 holds the leaf hashes; node (level, index) is the root of the complete
 * subtree over leaves [index·2^level, (index+1)·2^level).
 */
export interface NodeId {
  readonly level: number;
  readonly index: number;
}

const TWO_POW_32 = 0x1_0000_0000;

/**
 * Throws `code` unless `value` is a safe non-negative integer. Proof inputs come from the network, so a
 * size of 2^64-1 parsed into a float is an error, not a misuse.
 */
export function assertCount(value: number, field: string, code: MerkleErrorCode): void {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new MerkleError(code, `${field}: expected an integer from 0 to 2^53-1, received ${String(value)}`);
  }
}

/** Number of bits needed to represent `x` (Go `bits.Len64`); 0 for 0. */
export function bitLength(x: number): number {
  if (x < TWO_POW_32) return 32 - Math.clz32(x);
  return 64 - Math.clz32(Math.floor(x / TWO_POW_32));
}

/** Number of one bits in `x` (Go `bits.OnesCount64`). */
export function popCount(x: number): number {
  return popCount32(x >>> 0) + popCount32(Math.floor(x / TWO_POW_32));
}

/** Number of trailing zero bits in `x` (Go `bits.TrailingZeros64`); 64 for 0. */
export function trailingZeros(x: number): number {
  const low = x >>> 0;
  if (low !== 0) return 31 - Math.clz32(low & -low);
  const high = Math.floor(x / TWO_POW_32);
  if (high === 0) return 64;
  return 32 + 31 - Math.clz32(high & -high);
}

/** Bitwise exclusive or of two safe non-negative integers. */
export function xor(a: number, b: number): number {
  if (a < TWO_POW_32 && b < TWO_POW_32) return (a ^ b) >>> 0;
  const high = Math.floor(a / TWO_POW_32) ^ Math.floor(b / TWO_POW_32);
  return high * TWO_POW_32 + ((a ^ b) >>> 0);
}

/** `x >> k` for safe non-negative integers and any shift. */
export function shiftRight(x: number, k: number): number {
  return Math.floor(x / 2 ** k);
}

/** Whether `x` is a power of two (1, 2, 4, …). */
export function isPowerOfTwo(x: number): boolean {
  return x > 0 && popCount(x) === 1;
}

/**
 * The k of RFC 6962 §2.1: the largest power of two smaller than `n`, so that k < n ≤ 2k. `n` MUST be
 * at least 2.
 */
export function largestPowerOfTwoBelow(n: number): number {
  return 2 ** (bitLength(n - 1) - 1);
}

/** The smallest power of two greater than or equal to `n` (C++ `bit_ceil`); 1 for 0 and 1. */
export function bitCeil(n: number): number {
  return n <= 1 ? 1 : 2 ** bitLength(n - 1);
}

/**
 * Number of inner hashes in the inclusion proof of leaf `index` in a tree of `size` leaves: the height
 * of the node where the paths to `index` and to `size-1` diverge (transparency-dev `innerProofSize`).
 */
export function innerProofSize(index: number, size: number): number {
  return bitLength(xor(index, size - 1));
}

/**
 * Splits the inclusion proof of leaf `index` in a tree of `size` leaves (0 ≤ index < size) into its
 * inner part (siblings on either side, below the divergence point) and its border part (left siblings
 * along the right border). Their sum is the proof length (transparency-dev `decompInclProof`).
 */
export function decomposeInclusionProof(index: number, size: number): { inner: number; border: number } {
  const inner = innerProofSize(index, size);
  return { inner, border: popCount(shiftRight(index, inner)) };
}

/** The leaves [begin, end) covered by a node. */
export function nodeCoverage(node: NodeId): { begin: number; end: number } {
  const width = 2 ** node.level;
  return { begin: node.index * width, end: (node.index + 1) * width };
}

/** The other child of the node's parent. */
export function siblingOf(node: NodeId): NodeId {
  return { level: node.level, index: node.index % 2 === 0 ? node.index + 1 : node.index - 1 };
}

/**
 * The minimal list of complete subtrees covering leaves [begin, end), left to right (transparency-dev
 * `compact.RangeNodes`). For begin = 0 these are the nodes of the compact range (the frontier) of a
 * tree of `end` leaves, ordered from the highest level down.
 */
export function rangeNodes(begin: number, end: number): NodeId[] {
  const nodes: NodeId[] = [];
  let position = begin;
  while (position < end) {
    // The largest subtree that starts at `position` (alignment) and does not pass `end` (fit).
    const level = Math.min(trailingZeros(position), bitLength(end - position) - 1);
    const width = 2 ** level;
    nodes.push({ level, index: position / width });
    position += width;
  }
  return nodes;
}

/**
 * Whether [start, end) is a subtree that proofs can be made for: start MUST be a multiple of the
 * smallest power of two ≥ end - start (transparency-dev `isSubtreeValid`; MTC draft §4.5). Empty ranges
 * with start ≤ end are valid.
 */
export function isValidSubtree(start: number, end: number): boolean {
  if (start > end) return false;
  if (start === 0 || start === end) return true;
  return start % bitCeil(end - start) === 0;
}

function popCount32(v: number): number {
  v = v - ((v >>> 1) & 0x55555555);
  v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
  return Math.imul((v + (v >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24;
}
