import { hash as digest } from 'node:crypto';
import { encodeHex } from '../core/index.ts';
import { MerkleError } from './errors.ts';

/**
 * RFC 6962 §2.1 / RFC 9162 §2.1.1 hashing with SHA-256 (transparency-dev/merkle `rfc6962`):
 *
 *     MTH({})      = SHA-256()
 *     leaf hash    = SHA-256(0x00 || d)
 *     node hash    = SHA-256(0x01 || left || right)
 *
 * The one-shot `crypto.hash` (Node ≥ 20.12) is about twice as fast as `createHash` for 65-byte inputs,
 * and node hashing is the hot path of every proof and of the integrator.
 */

/** Size in bytes of every Merkle tree hash. */
export const HASH_SIZE = 32;

/** A SHA-256 Merkle tree hash: a leaf hash, a node hash or a root. Always {@link HASH_SIZE} bytes. */
export type MerkleHash = Uint8Array;

const LEAF_PREFIX = 0x00;
const NODE_PREFIX = 0x01;

// One input buffer for every node hash: hashing is synchronous, so it is never shared by two calls.
const nodeInput = Buffer.alloc(1 + 2 * HASH_SIZE);
nodeInput[0] = NODE_PREFIX;

/** The leaf hash of `data` (RFC 6962 §2.1): SHA-256(0x00 || data). */
export function hashLeaf(data: Uint8Array): MerkleHash {
  const input = Buffer.allocUnsafe(1 + data.byteLength);
  input[0] = LEAF_PREFIX;
  input.set(data, 1);
  return sha256(input);
}

/**
 * The hash of an interior node (RFC 6962 §2.1): SHA-256(0x01 || left || right). Both children MUST be
 * {@link HASH_SIZE} bytes; anything else throws MERKLE_HASH_SIZE_INVALID rather than hashing a
 * concatenation that no honest tree can produce.
 */
export function hashChildren(left: Uint8Array, right: Uint8Array): MerkleHash {
  if (left.byteLength !== HASH_SIZE) assertHashSize(left, 'left child');
  if (right.byteLength !== HASH_SIZE) assertHashSize(right, 'right child');
  nodeInput.set(left, 1);
  nodeInput.set(right, 1 + HASH_SIZE);
  return sha256(nodeInput);
}

/** The root of the empty tree (RFC 6962 §2.1): SHA-256 of the empty string. A fresh copy on every call. */
export function emptyRoot(): MerkleHash {
  return sha256(Buffer.alloc(0));
}

/** Byte equality of two hashes of any length (roots handed in by callers are compared, not validated). */
export function hashesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false;
  for (let i = 0; i < a.byteLength; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Throws MERKLE_HASH_SIZE_INVALID unless `hash` is exactly {@link HASH_SIZE} bytes. */
export function assertHashSize(hash: Uint8Array, field: string): void {
  if (hash.byteLength !== HASH_SIZE) {
    throw new MerkleError(
      'MERKLE_HASH_SIZE_INVALID',
      `${field}: expected a ${HASH_SIZE}-byte hash, received ${hash.byteLength} bytes`,
    );
  }
}

/** Lower-case hex of a hash for error messages. */
export function describeHash(hash: Uint8Array): string {
  return hash.byteLength === 0 ? '(empty)' : encodeHex(hash);
}

function sha256(input: Buffer): MerkleHash {
  const out = digest('sha256', input, 'buffer');
  // A plain Uint8Array view, like every other byte value in Sigil (core's decoders return the same).
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
}
