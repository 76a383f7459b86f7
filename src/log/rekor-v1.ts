import { createHash, sign, type KeyObject } from 'node:crypto';
import {
  decodeBase64,
  decodeHex,
  decodeUtf8,
  encodeBase64,
  encodeHex,
  publicKeyDer,
  publicKeyPem,
} from '../core/index.ts';
import { hashLeaf, rootFromInclusionProof } from '../merkle/index.ts';
import { admitProposal, type AdmittedEntry } from './admission.ts';
import { canonicalizeEntry, parseProposedEntry, type RekorEntry } from './entries/index.ts';
import { parsePemVerifier } from './entries/verifier-key.ts';
import { LogError } from './errors.ts';
import type { StoredCheckpoint, StoredLeaf } from './storage/storage.types.ts';
import type { TransparencyLog } from './transparency-log.ts';
import { artifactKey, publicKeyKey, subjectKey } from './search-index.ts';
import {
  rekorV1LogEntry,
  rekorV1LogEntryJson,
  signedEntryTimestampPayload,
  type RekorV1EntryParts,
  type RekorV1Identity,
  type RekorV1LogEntry,
} from './rekor-v1-entry.ts';

export type { RekorV1EntryValue, RekorV1LogEntry } from './rekor-v1-entry.ts';

export type CreateEntryResult =
  | { kind: 'created'; uuid: string; entryId: string; entry: RekorV1LogEntry }
  | { kind: 'exists'; uuid: string; entryId: string };

/** An append with what its LogEntry is made of (rendered by `logEntry` or on a worker thread). */
export type ProvenAppend =
  | { kind: 'created'; uuid: string; entryId: string; parts: RekorV1EntryParts }
  | { kind: 'exists'; uuid: string; entryId: string };

export interface RekorV1Options {
  log: TransparencyLog;
  /** The log's signing key: SignedEntryTimestamps are ECDSA-SHA256 signatures by it. */
  key: KeyObject;
  /** Tree ID, shown in `GET /api/v1/log` and as the 16-hex prefix of entry IDs. */
  treeId: bigint;
}

const UUID = /^[0-9a-f]{64}$/;
/** Most UUIDs one search returns. */
const MAX_SEARCH_RESULTS = 1000;
const ENTRY_ID = /^[0-9a-f]{80}$/;

/**
 * The Rekor v1 API over a TransparencyLog, minus HTTP: entries are validated by their kind, stored as
 * their canonical body, and returned with an inclusion proof in a checkpoint and a SignedEntryTimestamp
 * (sigstore/rekor `pkg/api/entries.go`).
 */
export class RekorV1 {
  readonly log: TransparencyLog;
  readonly treeId: bigint;
  /** Hex SHA-256 of the log key's DER SPKI (Rekor's logID). */
  readonly logId: string;
  readonly publicKeyPem: string;
  readonly #key: KeyObject;
  readonly #treeIdHex: string;

  constructor(options: RekorV1Options) {
    this.log = options.log;
    this.treeId = options.treeId;
    this.#key = options.key;
    this.#treeIdHex = options.treeId.toString(16).padStart(16, '0');
    this.logId = createHash('sha256').update(publicKeyDer(options.key)).digest('hex');
    this.publicKeyPem = publicKeyPem(options.key);
  }

  /**
   * Validates and verifies a ProposedEntry, appends its canonical body, and waits for a checkpoint
   * that covers it. An identical entry already in the log yields `exists` (HTTP 409 upstream).
   */
  createEntry(proposal: unknown): Promise<CreateEntryResult> {
    return this.append(admitProposal('v1', proposal));
  }

  /** createEntry for an entry admitted from a v1 ProposedEntry elsewhere (e.g. on a worker thread). */
  async append(entry: AdmittedEntry): Promise<CreateEntryResult> {
    const appended = await this.appendProven(entry);
    if (appended.kind === 'exists') return appended;
    const { parts, ...ids } = appended;
    return { ...ids, entry: await this.logEntry(parts) };
  }

  /** `append` up to the LogEntry: the parts it is made of, for `logEntry` or renderRekorV1LogEntry. */
  async appendProven(entry: AdmittedEntry): Promise<ProvenAppend> {
    const { leaf, leafHash } = entry;
    const uuid = encodeHex(leafHash);
    const proven = await this.log.appendAndProve({ leaf, leafHash, searchKeys: entry.searchKeys });
    const { outcome, checkpoint, proof } = proven;
    if (outcome.kind === 'duplicate') return { kind: 'exists', uuid, entryId: this.entryId(uuid) };
    const parts = {
      leaf,
      leafHash,
      index: outcome.index,
      integratedTime: outcome.integratedTime,
      checkpoint,
      proof,
    };
    return { kind: 'created', uuid, entryId: this.entryId(uuid), parts };
  }

  /**
   * What signs and identifies this log's entries, for rendering them on worker threads
   * (renderRekorV1LogEntry): the key stays in this process.
   */
  get identity(): RekorV1Identity {
    return { key: this.#key, logId: this.logId, treeIdHex: this.#treeIdHex };
  }

  /** By 64-hex UUID or 80-hex entry ID (tree ID + UUID). */
  async getByUuid(id: string): Promise<RekorV1LogEntry> {
    const lower = id.toLowerCase();
    let uuid: string;
    if (UUID.test(lower)) uuid = lower;
    else if (ENTRY_ID.test(lower) && lower.startsWith(this.#treeIdHex)) uuid = lower.slice(16);
    else if (ENTRY_ID.test(lower)) throw notFound(`entry ${id}: no shard with tree ID ${lower.slice(0, 16)}`);
    else
      throw new LogError(
        'LOG_ENTRY_INVALID',
        `entryUUID: expected 64 or 80 hex characters, received ${JSON.stringify(id.slice(0, 100))}`,
      );
    const stored = await this.log.storage.findLeafByHash(decodeHex(uuid));
    if (!stored) throw notFound(`no entry with UUID ${uuid}`);
    return this.#provenLogEntry(stored);
  }

  async getByIndex(index: number): Promise<RekorV1LogEntry> {
    if (!Number.isSafeInteger(index) || index < 0) {
      throw new LogError('LOG_INDEX_INVALID', `logIndex: expected a non-negative integer, received ${index}`);
    }
    const [stored] = await this.log.storage.readLeaves(index, 1);
    if (!stored) throw notFound(`no entry at logIndex ${index}`);
    return this.#provenLogEntry(stored);
  }

  /** The entry ID of `proposal` if it is in the log (for `/log/entries/retrieve` by entry). */
  async findProposed(proposal: unknown): Promise<RekorV1LogEntry | undefined> {
    let entry: RekorEntry;
    try {
      entry = parseProposedEntry(proposal, 'v1');
    } catch {
      return undefined;
    }
    const stored = await this.log.storage.findLeafByHash(hashLeaf(canonicalizeEntry(entry)));
    return stored && this.#provenLogEntry(stored);
  }

  /** `GET /api/v1/log`. */
  logInfo(): {
    rootHash: string;
    treeSize: number;
    signedTreeHead: string;
    treeID: string;
    inactiveShards: [];
  } {
    const checkpoint = this.#checkpoint();
    return {
      rootHash: encodeHex(checkpoint.rootHash),
      treeSize: checkpoint.size,
      signedTreeHead: checkpoint.note,
      treeID: this.treeId.toString(),
      inactiveShards: [],
    };
  }

  /** `GET /api/v1/log/proof`: consistency from firstSize (default 1) to lastSize. */
  async consistencyProof(
    firstSize: number,
    lastSize: number,
  ): Promise<{ rootHash: string; hashes: string[] }> {
    const checkpoint = this.#checkpoint();
    if (!(firstSize >= 1 && firstSize <= lastSize && lastSize <= checkpoint.size)) {
      throw new LogError(
        'LOG_INDEX_INVALID',
        `firstSize, lastSize: expected 1 ≤ firstSize ≤ lastSize ≤ ${checkpoint.size}, received ${firstSize} and ${lastSize}`,
      );
    }
    const hashes = await this.log.consistencyProof(firstSize, lastSize);
    const root = lastSize === checkpoint.size ? checkpoint.rootHash : await this.#rootAt(lastSize);
    return { rootHash: encodeHex(root), hashes: hashes.map(encodeHex) };
  }

  /**
   * `POST /api/v1/index/retrieve` (sigstore/rekor `pkg/api/index.go`): UUIDs of entries filed under
   * the queried artifact hash, public key, email or subject, combined with `operator` (default `or`).
   */
  async search(query: unknown): Promise<string[]> {
    const keys = this.#searchQueryKeys(query);
    const operator = (query as { operator?: unknown }).operator ?? 'or';
    if (operator !== 'and' && operator !== 'or') {
      throw new LogError(
        'LOG_ENTRY_INVALID',
        `operator: expected "and" or "or", received ${JSON.stringify(operator)}`,
      );
    }
    const results = await Promise.all(keys.map((key) => this.log.storage.search(key, MAX_SEARCH_RESULTS)));
    let indexes: number[];
    if (operator === 'and') {
      indexes = results.reduce((kept, next) => kept.filter((index) => next.includes(index)));
    } else {
      indexes = [...new Set(results.flat())].sort((a, b) => a - b);
    }
    const leaves = await Promise.all(
      indexes.slice(0, MAX_SEARCH_RESULTS).map((index) => this.log.storage.readLeaves(index, 1)),
    );
    return leaves.flat().map((leaf) => encodeHex(leaf.leafHash));
  }

  #searchQueryKeys(query: unknown): string[] {
    if (typeof query !== 'object' || query === null || Array.isArray(query)) {
      throw new LogError(
        'LOG_ENTRY_INVALID',
        'request body: expected a JSON object with hash, email, subject or publicKey',
      );
    }
    const { hash, email, subject, publicKey } = query as Record<string, unknown>;
    const keys: string[] = [];
    if (hash !== undefined) {
      if (
        typeof hash !== 'string' ||
        !/^(sha256:)?[0-9a-fA-F]{64}$|^sha(384:[0-9a-fA-F]{96}|512:[0-9a-fA-F]{128})$/.test(hash)
      ) {
        throw new LogError(
          'LOG_ENTRY_INVALID',
          `hash: expected sha256:<64 hex> (or sha384/sha512), received ${JSON.stringify(hash).slice(0, 140)}`,
        );
      }
      keys.push(artifactKey(hash));
    }
    for (const [field, value] of [
      ['email', email],
      ['subject', subject],
    ] as const) {
      if (value === undefined) continue;
      if (typeof value !== 'string' || value.length === 0 || value.length > 1024) {
        throw new LogError(
          'LOG_ENTRY_INVALID',
          `${field}: expected a non-empty string of at most 1024 characters`,
        );
      }
      keys.push(subjectKey(value));
    }
    if (publicKey !== undefined) {
      const { format, content } = (publicKey ?? {}) as { format?: unknown; content?: unknown };
      if (format !== 'x509') {
        throw new LogError(
          'LOG_ENTRY_UNSUPPORTED',
          `publicKey.format: expected "x509", received ${JSON.stringify(format)}`,
        );
      }
      if (typeof content !== 'string')
        throw new LogError(
          'LOG_ENTRY_INVALID',
          'publicKey.content: expected base64 of a PEM key or certificate',
        );
      keys.push(publicKeyKey(this.publicKeyQueryHash(content)));
    }
    if (keys.length === 0) {
      throw new LogError(
        'LOG_ENTRY_INVALID',
        'request body: expected at least one of hash, email, subject, publicKey',
      );
    }
    return keys;
  }

  entryId(uuid: string): string {
    return `${this.#treeIdHex}${uuid}`;
  }

  /** Hex SHA-256 of the canonical PEM of a queried key (`/api/v1/index/retrieve`, format x509). */
  publicKeyQueryHash(content: string): string {
    const pem = decodeUtf8(decodeBase64(content, 'publicKey.content'), 'publicKey.content');
    return createHash('sha256').update(parsePemVerifier(pem, 'publicKey.content').canonicalPem).digest('hex');
  }

  async #rootAt(size: number): Promise<Uint8Array> {
    // The root of an older tree: the inclusion proof of its last leaf carries enough to rebuild it.
    const [last] = await this.log.storage.readLeaves(size - 1, 1);
    if (!last) throw notFound(`no entry at logIndex ${size - 1}`);
    const proof = await this.log.inclusionProofAt(size - 1, size);
    return rootFromInclusionProof(size - 1, size, last.leafHash, proof);
  }

  async #provenLogEntry(stored: StoredLeaf): Promise<RekorV1LogEntry> {
    const checkpoint = await this.log.waitForCheckpoint(stored.index + 1);
    const proof = await this.log.inclusionProof(stored.index, checkpoint, stored.leafHash);
    return this.logEntry({ ...stored, checkpoint, proof });
  }

  /** The LogEntry of `parts` as UTF-8 JSON, its SignedEntryTimestamp signed on libuv's thread pool. */
  async logEntryJson(parts: RekorV1EntryParts): Promise<Uint8Array> {
    const signature = await signOnPool(signedEntryTimestampPayload(parts, this.logId), this.#key);
    return Buffer.from(rekorV1LogEntryJson(parts, this.identity, encodeBase64(signature)), 'utf8');
  }

  /** The LogEntry of `parts`, its SignedEntryTimestamp signed on libuv's thread pool. */
  async logEntry(parts: RekorV1EntryParts): Promise<RekorV1LogEntry> {
    const signature = await signOnPool(signedEntryTimestampPayload(parts, this.logId), this.#key);
    return rekorV1LogEntry(parts, this.identity, encodeBase64(signature));
  }

  #checkpoint(): StoredCheckpoint {
    const checkpoint = this.log.latestCheckpoint();
    if (!checkpoint)
      throw new LogError('LOG_INCLUSION_UNAVAILABLE', 'the log has not published a checkpoint yet');
    return checkpoint;
  }
}

/**
 * ECDSA-SHA256 (DER) of `payload` by `key`, on libuv's thread pool: ~45 µs per SignedEntryTimestamp
 * that the event loop, which serves every request of the log, does not spend (measured with
 * bench/log-http: dsse 425 → 346 µs of main-thread CPU per entry).
 */
function signOnPool(payload: Buffer, key: KeyObject): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    sign('sha256', payload, { key, dsaEncoding: 'der' }, (error, signature) =>
      error ? reject(error) : resolve(signature),
    );
  });
}

function notFound(message: string): LogError {
  return new LogError('LOG_ENTRY_NOT_FOUND', message);
}
