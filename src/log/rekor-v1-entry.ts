import { sign, type KeyObject } from 'node:crypto';
import { encodeBase64, encodeHex } from '../core/index.ts';

/** A Rekor v1 LogEntry: one key, the entry ID (sigstore/rekor `openapi.yaml` LogEntry). */
export type RekorV1LogEntry = Record<string, RekorV1EntryValue>;

export interface RekorV1EntryValue {
  body: string;
  integratedTime: number;
  logID: string;
  logIndex: number;
  verification: {
    inclusionProof: {
      checkpoint: string;
      hashes: string[];
      logIndex: number;
      rootHash: string;
      treeSize: number;
    };
    signedEntryTimestamp: string;
  };
}

/**
 * What a Rekor v1 LogEntry is made of: the stored leaf at its index, and its inclusion proof in a
 * checkpoint that covers it. Plain data, so it crosses a worker-thread boundary as it is.
 */
export interface RekorV1EntryParts {
  readonly leaf: Uint8Array;
  readonly leafHash: Uint8Array;
  readonly index: number;
  readonly integratedTime: number;
  readonly checkpoint: { readonly size: number; readonly rootHash: Uint8Array; readonly note: string };
  readonly proof: readonly Uint8Array[];
}

/** Who signs the SignedEntryTimestamps of a Rekor v1 log, and the identifiers its entries carry. */
export interface RekorV1Identity {
  /** The log's signing key: SignedEntryTimestamps are ECDSA-SHA256 (DER) signatures by it. */
  readonly key: KeyObject;
  /** Hex SHA-256 of the log key's DER SPKI (Rekor's logID). */
  readonly logId: string;
  /** The tree ID as 16 hex digits, the prefix of entry IDs. */
  readonly treeIdHex: string;
}

/**
 * The bytes a SignedEntryTimestamp signs (sigstore/rekor pkg/api/entries.go signEntry): JCS of
 * {body, integratedTime, logID, logIndex}. Written out: the keys are in JCS order, base64 and hex need
 * no escapes, the numbers are safe integers (what canonicalizeJson would produce, without walking the
 * body character by character).
 */
export function signedEntryTimestampPayload(parts: RekorV1EntryParts, logId: string): Buffer {
  const body = encodeBase64(parts.leaf);
  return Buffer.from(
    `{"body":"${body}","integratedTime":${parts.integratedTime},"logID":"${logId}","logIndex":${parts.index}}`,
    'utf8',
  );
}

/** The LogEntry of `parts`, given the base64 SignedEntryTimestamp over its payload. */
export function rekorV1LogEntry(
  parts: RekorV1EntryParts,
  identity: Omit<RekorV1Identity, 'key'>,
  signedEntryTimestamp: string,
): RekorV1LogEntry {
  return {
    [`${identity.treeIdHex}${encodeHex(parts.leafHash)}`]: {
      body: encodeBase64(parts.leaf),
      integratedTime: parts.integratedTime,
      logID: identity.logId,
      logIndex: parts.index,
      verification: {
        inclusionProof: {
          checkpoint: parts.checkpoint.note,
          hashes: parts.proof.map(encodeHex),
          logIndex: parts.index,
          rootHash: encodeHex(parts.checkpoint.rootHash),
          treeSize: parts.checkpoint.size,
        },
        signedEntryTimestamp,
      },
    },
  };
}

/**
 * The LogEntry of `parts` as the JSON text a response carries, its SignedEntryTimestamp signed here and
 * now: what the admission workers do for the event loop (admission-worker.ts). Written out rather than
 * built and stringified (a third of a worker's garbage per entry was JSON.stringify's): the same
 * properties in the same order as JSON.stringify(rekorV1LogEntry(…)), where only the checkpoint note
 * may need escapes; base64, hex and safe integers need none.
 */
export function renderRekorV1LogEntry(parts: RekorV1EntryParts, identity: RekorV1Identity): string {
  const signature = sign('sha256', signedEntryTimestampPayload(parts, identity.logId), {
    key: identity.key,
    dsaEncoding: 'der',
  });
  return rekorV1LogEntryJson(parts, identity, encodeBase64(signature));
}

/** JSON.stringify(rekorV1LogEntry(parts, identity, signedEntryTimestamp)), written out. */
export function rekorV1LogEntryJson(
  parts: RekorV1EntryParts,
  identity: Omit<RekorV1Identity, 'key'>,
  signedEntryTimestamp: string,
): string {
  const { index, integratedTime, checkpoint } = parts;
  const hashes = parts.proof.map((hash) => `"${encodeHex(hash)}"`).join(',');
  return (
    `{"${identity.treeIdHex}${encodeHex(parts.leafHash)}":{"body":"${encodeBase64(parts.leaf)}",` +
    `"integratedTime":${integratedTime},"logID":"${identity.logId}","logIndex":${index},` +
    `"verification":{"inclusionProof":{"checkpoint":${JSON.stringify(checkpoint.note)},` +
    `"hashes":[${hashes}],"logIndex":${index},"rootHash":"${encodeHex(checkpoint.rootHash)}",` +
    `"treeSize":${checkpoint.size}},"signedEntryTimestamp":"${signedEntryTimestamp}"}}}`
  );
}
