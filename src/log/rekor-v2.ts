import { createHash } from 'node:crypto';
import { encodeBase64, publicKeyDer } from '../core/index.ts';
import type { KeyObject } from 'node:crypto';
import { admitProposal, type AdmittedEntry } from './admission.ts';
import type { TransparencyLog } from './transparency-log.ts';

/**
 * A protobuf-specs `dev.sigstore.rekor.v1.TransparencyLogEntry` in protojson: int64 as decimal
 * strings, bytes as standard base64, zero values left out (sigstore/rekor-tiles `internal/server`).
 */
export interface TransparencyLogEntryJson {
  logIndex: string;
  logId: { keyId: string };
  kindVersion: { kind: string; version: string };
  inclusionProof: {
    logIndex: string;
    rootHash: string;
    treeSize: string;
    hashes: string[];
    checkpoint: { envelope: string };
  };
  canonicalizedBody: string;
}

export type CreateV2EntryResult =
  { kind: 'created'; entry: TransparencyLogEntryJson } | { kind: 'exists'; logIndex: number };

export interface RekorV2Options {
  log: TransparencyLog;
  /** The checkpoint key; `logId.keyId` is SHA-256 of its DER SPKI (the C2SP ECDSA key hash). */
  key: KeyObject;
}

/**
 * The Rekor v2 write API over a TransparencyLog, minus HTTP (sigstore/rekor-tiles `CreateEntry`):
 * hashedRekordRequestV002 and dsseRequestV002 are verified, appended, and answered once a checkpoint
 * covers them, with an inclusion proof the log checked against that checkpoint. No SET: v2 entries
 * carry `integratedTime` 0, and clients get their time from a timestamp authority.
 */
export class RekorV2 {
  readonly log: TransparencyLog;
  /** Base64 of the 32-byte checkpoint key hash, as TrustedRoot `logId`/`checkpointKeyId` name it. */
  readonly keyId: string;

  constructor(options: RekorV2Options) {
    this.log = options.log;
    this.keyId = createHash('sha256').update(publicKeyDer(options.key)).digest('base64');
  }

  createEntry(request: unknown): Promise<CreateV2EntryResult> {
    return this.append(admitProposal('v2', request));
  }

  /** createEntry for an entry admitted from a v2 CreateEntryRequest elsewhere (e.g. on a worker thread). */
  async append(entry: AdmittedEntry): Promise<CreateV2EntryResult> {
    const { leaf, leafHash } = entry;
    const proven = await this.log.appendAndProve({ leaf, leafHash, searchKeys: entry.searchKeys });
    if (proven.outcome.kind === 'duplicate') return { kind: 'exists', logIndex: proven.outcome.index };
    const index = String(proven.outcome.index);
    return {
      kind: 'created',
      entry: {
        logIndex: index,
        logId: { keyId: this.keyId },
        kindVersion: { ...entry.kindVersion },
        inclusionProof: {
          logIndex: index,
          rootHash: encodeBase64(proven.checkpoint.rootHash),
          treeSize: String(proven.checkpoint.size),
          hashes: proven.proof.map(encodeBase64),
          checkpoint: { envelope: proven.checkpoint.note },
        },
        canonicalizedBody: encodeBase64(leaf),
      },
    };
  }
}
