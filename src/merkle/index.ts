export { MerkleError, isMerkleError } from './errors.ts';
export type { MerkleErrorCode } from './errors.ts';
export { HASH_SIZE, emptyRoot, hashChildren, hashLeaf, hashesEqual } from './hash.ts';
export type { MerkleHash } from './hash.ts';
export {
  decomposeInclusionProof,
  isValidSubtree,
  largestPowerOfTwoBelow,
  nodeCoverage,
  rangeNodes,
} from './tree-math.ts';
export type { NodeId } from './tree-math.ts';
export { readProof, rehashProof } from './proof-nodes.ts';
export type { EphemeralNode, NodeHashReader, ProofNodes } from './proof-nodes.ts';
export {
  InclusionChecker,
  buildInclusionProof,
  inclusionProofNodes,
  rootFromInclusionProof,
  verifyInclusion,
} from './inclusion-proof.ts';
export {
  buildConsistencyProof,
  consistencyProofNodes,
  rootFromConsistencyProof,
  verifyConsistency,
} from './consistency-proof.ts';
export {
  rootFromSubtreeConsistencyProof,
  rootFromSubtreeInclusionProof,
  subtreeConsistencyProofNodes,
  subtreeInclusionProofNodes,
  verifySubtreeConsistency,
  verifySubtreeInclusion,
} from './subtree.ts';
export { CompactRange, compactRangeNodes } from './compact-range.ts';
export type { NodeVisitor } from './compact-range.ts';
export {
  TILE_HEIGHT,
  TILE_WIDTH,
  changedTiles,
  entryBundlePath,
  formatTileIndex,
  locateNodeInTile,
  parseEntryBundlePath,
  parseTilePath,
  readNodeHashFromTile,
  splitTileHashes,
  tilePath,
  tileWidth,
} from './tiles.ts';
export type { TileId, TileNodeLocation } from './tiles.ts';
export { NoteSignatureType } from './signed-note.types.ts';
export type {
  NoteLimits,
  NoteSignature,
  NoteSigner,
  NoteVerifier,
  OpenedNote,
  SignedNote,
  TypedNoteVerifier,
  VerifiedNoteSignature,
} from './signed-note.types.ts';
export {
  isValidKeyName,
  computeKeyId,
  formatKeyId,
  formatVerifierKey,
  parseSignedNote,
  openSignedNote,
  signNote,
  formatSignedNote,
  formatSignatureLine,
} from './signed-note.ts';
export {
  parseVerifierKey,
  createNoteVerifier,
  createEd25519Verifier,
  createEcdsaVerifier,
  createEd25519Signer,
  createEcdsaSigner,
  createNoteSigner,
  parseSignerKey,
  formatSignerKey,
  ecdsaKeyId,
} from './note-keys.ts';
export type {
  Ed25519NoteVerifier,
  EcdsaNoteVerifier,
  KnownNoteVerifier,
  PublishedNoteSigner,
  VerifierKey,
  SignerKey,
} from './note-keys.ts';
export {
  parseCheckpointBody,
  formatCheckpointBody,
  signCheckpoint,
  verifyCheckpoint,
  formatRekorV1Origin,
  parseRekorV1Origin,
  readRekorV1Timestamp,
  withRekorV1Timestamp,
} from './checkpoint.ts';
export type { Checkpoint, VerifiedCheckpoint, VerifyCheckpointOptions } from './checkpoint.ts';
export {
  formatCosignedMessage,
  createCosignatureVerifier,
  createCosignatureSigner,
  readCosignatureTimestamp,
  cosignCheckpoint,
  verifyCosignedCheckpoint,
} from './cosignature.ts';
export type {
  CosignatureVerifier,
  CosignatureSigner,
  Cosignature,
  CosignedCheckpoint,
  VerifyCosignedCheckpointOptions,
} from './cosignature.ts';
export {
  rfc6962LogName,
  rfc6962KeyId,
  createRfc6962Verifier,
  createRfc6962Signer,
  signedTreeHeadToCheckpoint,
  readRfc6962Timestamp,
} from './rfc6962-note.ts';
export type { Rfc6962NoteVerifier } from './rfc6962-note.ts';
