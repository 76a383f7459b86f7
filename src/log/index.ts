export { LogError } from './errors.ts';
export type { LogErrorCode } from './errors.ts';
export { TransparencyLog } from './transparency-log.ts';
export type { TransparencyLogOptions, ProvenEntry } from './transparency-log.ts';
export { Sequencer } from './sequencer.ts';
export type { SequencerOptions, SequencedLeaf } from './sequencer.ts';
export { Integrator } from './integrator.ts';
export type { IntegratorOptions } from './integrator.ts';
export { Publisher } from './publisher.ts';
export type { PublisherOptions } from './publisher.ts';
export { TileReader, storageTileSource } from './tile-reader.ts';
export type { TileReaderOptions, TileSource } from './tile-reader.ts';
export { RekorV1 } from './rekor-v1.ts';
export { RekorV2 } from './rekor-v2.ts';
export type { RekorV2Options, TransparencyLogEntryJson, CreateV2EntryResult } from './rekor-v2.ts';
export type {
  RekorV1Options,
  RekorV1LogEntry,
  RekorV1EntryValue,
  CreateEntryResult,
  ProvenAppend,
} from './rekor-v1.ts';
export { renderRekorV1LogEntry } from './rekor-v1-entry.ts';
export type { RekorV1EntryParts, RekorV1Identity } from './rekor-v1-entry.ts';
export { TilesClient } from './tiles-client.ts';
export type { TilesClientOptions, FetchedCheckpoint } from './tiles-client.ts';
export { SqliteStorage } from './storage/sqlite.ts';
export type { SqliteStorageOptions } from './storage/sqlite.ts';
export { PostgresStorage } from './storage/postgres.ts';
export type { PostgresStorageOptions } from './storage/postgres.ts';
export type {
  BuiltLeaf,
  IndexedLeaf,
  LeafToSequence,
  LogStorage,
  NewLeaf,
  StoredObject,
  SequenceOutcome,
  StoredLeaf,
  StoredTile,
  StoredCheckpoint,
  TreeState,
} from './storage/storage.types.ts';
export { admitProposal, admitRequestBody, inProcessAdmitter } from './admission.ts';
export type { AdmittedEntry, EntryAdmitter } from './admission.ts';
export {
  createAdmissionPool,
  startAdmissionWorker,
  type AdmissionPool,
  type AdmissionPoolOptions,
  type AdmissionPoolStats,
  type AdmissionWorkerStats,
} from './admission-pool.ts';
