import { SigilError } from '../core/index.ts';

export type MerkleErrorCode =
  // proofs and tree arithmetic
  | 'MERKLE_HASH_SIZE_INVALID'
  | 'MERKLE_INDEX_OUT_OF_RANGE'
  | 'MERKLE_TREE_SIZE_INVALID'
  | 'MERKLE_INCLUSION_PROOF_INVALID'
  | 'MERKLE_CONSISTENCY_PROOF_INVALID'
  | 'MERKLE_SUBTREE_INVALID'
  | 'MERKLE_TILE_INVALID'
  | 'MERKLE_NODE_HASHES_INVALID'
  // signed notes and checkpoints
  | 'MERKLE_NOTE_MALFORMED'
  | 'MERKLE_NOTE_SIGNATURE_INVALID'
  | 'MERKLE_NOTE_UNKNOWN_KEY'
  | 'MERKLE_NOTE_KEY_AMBIGUOUS'
  | 'MERKLE_VERIFIER_KEY_INVALID'
  | 'MERKLE_SIGNER_KEY_INVALID'
  | 'MERKLE_CHECKPOINT_MALFORMED'
  | 'MERKLE_CHECKPOINT_ORIGIN_MISMATCH'
  | 'MERKLE_COSIGNATURE_INVALID';

export class MerkleError extends SigilError<MerkleErrorCode> {}

export function isMerkleError(error: unknown): error is MerkleError {
  return error instanceof MerkleError;
}
