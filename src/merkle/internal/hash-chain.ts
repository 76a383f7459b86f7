import { MerkleError } from '../errors.ts';
import type { MerkleErrorCode } from '../errors.ts';
import { HASH_SIZE, assertHashSize, describeHash, hashChildren, hashesEqual } from '../hash.ts';
import type { MerkleHash } from '../hash.ts';

/**
 * The hash-chaining steps shared by every proof verifier (transparency-dev/merkle `proof/verify.go`
 * chainInner, chainInnerRight, chainBorderRight). Each takes a slice [from, to) of the proof instead
 * of a copy of it. Not part of the public API of the merkle context.
 */

/**
 * Hashes `seed` up through the inner proof hashes: bit i of `index` says whether `seed` is the right
 * child (1) or the left child (0) at the i-th step.
 */
export function chainInner(
  seed: MerkleHash,
  proof: readonly MerkleHash[],
  from: number,
  to: number,
  index: number,
): MerkleHash {
  let hash = seed;
  let path = index;
  for (let i = from; i < to; i++) {
    const sibling = proof[i] as MerkleHash;
    hash = path % 2 === 0 ? hashChildren(hash, sibling) : hashChildren(sibling, hash);
    path = Math.floor(path / 2);
  }
  return hash;
}

/**
 * Like {@link chainInner}, but takes only the siblings to the left of the path: the result is the hash
 * of the same subtree as it was before anything was appended to its right.
 */
export function chainInnerRight(
  seed: MerkleHash,
  proof: readonly MerkleHash[],
  from: number,
  to: number,
  index: number,
): MerkleHash {
  let hash = seed;
  let path = index;
  for (let i = from; i < to; i++) {
    if (path % 2 === 1) hash = hashChildren(proof[i] as MerkleHash, hash);
    path = Math.floor(path / 2);
  }
  return hash;
}

/** Hashes `seed` up the right border of the tree, where every proof hash is a left sibling. */
export function chainBorderRight(
  seed: MerkleHash,
  proof: readonly MerkleHash[],
  from: number,
  to: number,
): MerkleHash {
  let hash = seed;
  for (let i = from; i < to; i++) hash = hashChildren(proof[i] as MerkleHash, hash);
  return hash;
}

/** Throws MERKLE_HASH_SIZE_INVALID naming the first proof hash that is not 32 bytes. */
export function assertProofHashes(proof: readonly Uint8Array[], what: string): void {
  for (let i = 0; i < proof.length; i++) {
    const hash = proof[i] as Uint8Array;
    if (hash.byteLength !== HASH_SIZE) assertHashSize(hash, `${what} hash ${i}`);
  }
}

/** Throws `code` unless the proof has exactly `expected` hashes. */
export function assertProofLength(
  proof: readonly Uint8Array[],
  expected: number,
  what: string,
  code: MerkleErrorCode,
): void {
  if (proof.length !== expected) {
    throw new MerkleError(code, `${what}: expected ${expected} hashes, received ${proof.length}`);
  }
}

/** Throws `code` unless the computed root equals the expected one. */
export function assertRootMatches(
  computed: MerkleHash,
  expected: Uint8Array,
  what: string,
  code: MerkleErrorCode,
): void {
  if (!hashesEqual(computed, expected)) {
    throw new MerkleError(
      code,
      `${what}: expected root ${describeHash(expected)}, computed ${describeHash(computed)}`,
    );
  }
}
