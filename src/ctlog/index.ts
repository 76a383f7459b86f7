export { CtError } from './errors.ts';
export type { CtErrorCode } from './errors.ts';
export { CtLog } from './ct-log.ts';
export type { CtLogOptions, AddChainResult } from './ct-log.ts';
export { openCtLog } from './open-ct-log.ts';
export type { OpenCtLogOptions } from './open-ct-log.ts';
export { parseAddChainRequest } from './add-chain-request.ts';
export { ChainValidator } from './chain-validation.ts';
export type { ChainValidatorOptions, SubmissionKind, VerifiedChain } from './chain-validation.ts';
export {
  CT_POISON_OID,
  CT_PRECERT_SIGNING_EKU,
  CT_SCT_LIST_OID,
  EKU_CODE_SIGNING,
  parseCertificate,
  tbsWithoutExtension,
} from './certificate.ts';
export type { CertificateExtension, ParsedCertificate } from './certificate.ts';
export {
  computeLogId,
  encodeDigitallySigned,
  encodeSignedCertificateTimestamp,
  parseAddChainResponse,
  parseDigitallySigned,
  parseSignedCertificateTimestamp,
  sctSignatureInput,
  signSct,
  toAddChainResponse,
  verifySct,
} from './sct.ts';
export type { AddChainResponse, DigitallySigned, SignedCertificateTimestamp } from './sct.ts';
export {
  encodeLeafIndexExtension,
  encodeTileLeaf,
  encodeTimestampedEntry,
  merkleLeafHash,
  parseDataTile,
  readLeafIndexExtension,
  timestampedEntryOf,
} from './tile-leaf.ts';
export type { SignedEntry, TileLeaf, TimestampedEntry } from './tile-leaf.ts';
export { CtTimestamps, checkpointTimestamp, createCtCheckpointSigner } from './timestamps.ts';
