import { decodeBase64, encodeBase64 } from '../core/index.ts';
import { MerkleError } from './errors.ts';
import { HASH_SIZE } from './hash.ts';
import { findControlCharacter, openSignedNote, signNote } from './signed-note.ts';
import type { NoteLimits, NoteSigner, NoteVerifier, OpenedNote } from './signed-note.types.ts';

/**
 * C2SP tlog-checkpoint (c2sp.org/tlog-checkpoint): the signed-note text that commits a log to a tree
 * head, and the Rekor v1 flavour of it (sigstore/rekor `pkg/util/checkpoint.go`): origin
 * `<hostname> - <tree ID>` and an optional `Timestamp: <unix nanoseconds>` extension line.
 */
export interface Checkpoint {
  /** §Note text 1: the log's identity; non-empty. Rekor v1 uses `<hostname> - <tree ID>`. */
  readonly origin: string;
  /** §Note text 2: the number of leaves. Limited to Number.MAX_SAFE_INTEGER here. */
  readonly size: number;
  /** §Note text 3: the RFC 6962 (SHA-256) root hash, 32 bytes. */
  readonly rootHash: Uint8Array;
  /** §Note text 4: opaque extension lines, each non-empty, without their newline. */
  readonly extensions: readonly string[];
}

export interface VerifyCheckpointOptions {
  /** The origin the checkpoint MUST carry; any origin when absent. */
  origin?: string;
  /** Size limits for the signed note. Defaults as in {@link NoteLimits}. */
  limits?: NoteLimits;
}

export interface VerifiedCheckpoint {
  readonly checkpoint: Checkpoint;
  /** The opened note: which keys verified, which signatures were from unknown keys. */
  readonly note: OpenedNote;
}

/** ASCII decimal with no leading zeroes, unless the tree is empty (tlog-checkpoint §Note text 2). */
const DECIMAL = /^(?:0|[1-9][0-9]*)$/;
const UINT64_MAX = (1n << 64n) - 1n;
const REKOR_V1_TIMESTAMP = /^Timestamp: (0|[1-9][0-9]*)$/;
const REKOR_V1_ORIGIN = /^(\S+) - ([1-9][0-9]*)$/;

/**
 * Parses a checkpoint body strictly: at least three lines, each newline-terminated; a non-empty origin;
 * a canonical decimal size; a padded-base64 root hash of 32 bytes; non-empty extension lines. Throws
 * MERKLE_CHECKPOINT_MALFORMED naming the first rule broken.
 */
export function parseCheckpointBody(text: string): Checkpoint {
  if (!text.endsWith('\n')) throw malformed(`expected text ending in a newline, received ${preview(text)}`);
  const control = findControlCharacter(text);
  if (control >= 0) throw malformed(`expected no control character, received one at offset ${control}`);
  const lines = text.slice(0, -1).split('\n');
  const [origin, size, rootHash, ...extensions] = lines;
  if (origin === undefined || size === undefined || rootHash === undefined) {
    throw malformed(`expected at least 3 lines, received ${lines.length}`);
  }
  if (origin === '') throw malformed('expected a non-empty origin line, received an empty line');
  const empty = extensions.indexOf('');
  if (empty >= 0)
    throw malformed(`line ${empty + 4}: expected a non-empty extension line, received an empty one`);
  return { origin, size: parseTreeSize(size), rootHash: parseRootHash(rootHash), extensions };
}

/** The checkpoint body, each line newline-terminated. Throws MERKLE_CHECKPOINT_MALFORMED on bad fields. */
export function formatCheckpointBody(checkpoint: Checkpoint): string {
  const { origin, size, rootHash, extensions } = checkpoint;
  if (!Number.isSafeInteger(size) || size < 0) {
    throw malformed(`tree size: expected a non-negative safe integer, received ${size}`);
  }
  if (rootHash.length !== HASH_SIZE) {
    throw malformed(`root hash: expected ${HASH_SIZE} bytes, received ${rootHash.length}`);
  }
  if ([origin, ...extensions].some((line) => line.includes('\n'))) {
    throw malformed('expected origin and extension lines without a newline, received one with');
  }
  const text = [origin, String(size), encodeBase64(rootHash), ...extensions].map((l) => `${l}\n`).join('');
  // Parsing what we format applies the remaining rules (non-empty lines, no control characters) once.
  parseCheckpointBody(text);
  return text;
}

/** Formats the checkpoint and signs it with every signer, giving the signed-note text. */
export function signCheckpoint(checkpoint: Checkpoint, signers: readonly NoteSigner[]): string {
  return signNote(formatCheckpointBody(checkpoint), signers);
}

/**
 * Opens a signed checkpoint with the log's verifiers (signature lines by other keys, such as witness
 * cosignatures, are ignored) and parses its body. Throws the MERKLE_NOTE_* errors of openSignedNote,
 * MERKLE_CHECKPOINT_MALFORMED, or MERKLE_CHECKPOINT_ORIGIN_MISMATCH when `options.origin` differs.
 */
export function verifyCheckpoint(
  noteText: string | Uint8Array,
  verifiers: readonly NoteVerifier[],
  options: VerifyCheckpointOptions = {},
): VerifiedCheckpoint {
  const note = openSignedNote(noteText, verifiers, options.limits);
  const checkpoint = parseCheckpointBody(note.text);
  if (options.origin !== undefined && checkpoint.origin !== options.origin) {
    throw new MerkleError(
      'MERKLE_CHECKPOINT_ORIGIN_MISMATCH',
      `checkpoint origin: expected ${preview(options.origin)}, received ${preview(checkpoint.origin)}`,
    );
  }
  return { checkpoint, note };
}

/** The Rekor v1 origin `<hostname> - <tree ID>` (sigstore/rekor `pkg/api/tlog.go`). */
export function formatRekorV1Origin(hostname: string, treeId: bigint): string {
  if (!/^\S+$/.test(hostname))
    throw new TypeError(`hostname: expected no spaces, received ${preview(hostname)}`);
  if (treeId <= 0n || treeId >= 1n << 63n)
    throw new TypeError(`treeId: expected a positive int64, received ${treeId}`);
  return `${hostname} - ${treeId}`;
}

/** The hostname and Trillian tree ID of a Rekor v1 origin, or undefined for any other origin. */
export function parseRekorV1Origin(origin: string): { hostname: string; treeId: bigint } | undefined {
  const match = REKOR_V1_ORIGIN.exec(origin);
  if (!match?.[1] || !match[2]) return undefined;
  const treeId = BigInt(match[2]);
  return treeId < 1n << 63n ? { hostname: match[1], treeId } : undefined;
}

/**
 * The `Timestamp: <unix nanoseconds>` extension Rekor v1 adds (`RekorSTH.GetTimestamp`), or undefined
 * when there is none. The first such line counts. Throws MERKLE_CHECKPOINT_MALFORMED when it is not a
 * canonical uint64.
 */
export function readRekorV1Timestamp(checkpoint: Checkpoint): bigint | undefined {
  const line = checkpoint.extensions.find((l) => l.startsWith('Timestamp: '));
  if (line === undefined) return undefined;
  const match = REKOR_V1_TIMESTAMP.exec(line);
  const value = match?.[1] === undefined ? undefined : BigInt(match[1]);
  if (value === undefined || value > UINT64_MAX) {
    throw malformed(`rekor timestamp: expected "Timestamp: <uint64>", received ${preview(line)}`);
  }
  return value;
}

/** The checkpoint with its Rekor v1 timestamp line replaced, as `RekorSTH.SetTimestamp` does. */
export function withRekorV1Timestamp(checkpoint: Checkpoint, unixNanoseconds: bigint): Checkpoint {
  if (unixNanoseconds < 0n || unixNanoseconds > UINT64_MAX) {
    throw new TypeError(`unixNanoseconds: expected a uint64, received ${unixNanoseconds}`);
  }
  const others = checkpoint.extensions.filter((l) => !REKOR_V1_TIMESTAMP.test(l));
  return { ...checkpoint, extensions: [...others, `Timestamp: ${unixNanoseconds}`] };
}

function parseTreeSize(line: string): number {
  if (!DECIMAL.test(line)) {
    throw malformed(`tree size: expected decimal digits without leading zeroes, received ${preview(line)}`);
  }
  const value = BigInt(line);
  if (value > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw malformed(`tree size: expected at most ${Number.MAX_SAFE_INTEGER}, received ${line}`);
  }
  return Number(value);
}

function parseRootHash(line: string): Uint8Array {
  let hash: Uint8Array;
  try {
    hash = decodeBase64(line, 'root hash');
  } catch (cause) {
    throw malformed(`root hash: expected padded base64, received ${preview(line)}`, cause);
  }
  if (hash.length !== HASH_SIZE) {
    throw malformed(`root hash: expected ${HASH_SIZE} bytes, received ${hash.length}`);
  }
  return hash;
}

function malformed(message: string, cause?: unknown): MerkleError {
  return new MerkleError(
    'MERKLE_CHECKPOINT_MALFORMED',
    `malformed checkpoint: ${message}`,
    cause === undefined ? undefined : { cause },
  );
}

function preview(text: string): string {
  return JSON.stringify(text.length > 40 ? `${text.slice(0, 40)}…` : text);
}
