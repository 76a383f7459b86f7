import { encodeBase64 } from '../core/index.ts';
import {
  MerkleError,
  createEcdsaVerifier,
  createEd25519Verifier,
  formatKeyId,
  hashLeaf,
  hashesEqual,
  parseCheckpointBody,
  parseRekorV1Origin,
  parseSignedNote,
  verifyCheckpoint,
  verifyInclusion,
} from '../merkle/index.ts';
import type { Checkpoint, NoteVerifier } from '../merkle/index.ts';
import type { InclusionProof, TlogEntry } from './bundle.types.ts';
import { VerificationError } from './errors.ts';
import type { TransparencyLogInstance } from './trust.types.ts';

/**
 * Inclusion of a tlog entry in its log (Sigstore client spec, "Transparency log inclusion"): the
 * RFC 6962 leaf hash of the canonicalized body, the inclusion proof up to the proof's root, and the
 * checkpoint — a C2SP signed note (c2sp.org/tlog-checkpoint) — signed by the log's key and committing
 * to that same size and root. Rekor v1 signs checkpoints with ECDSA (signed-note type 0x02), Rekor v2
 * with Ed25519 (type 0x01); in both the key name is the log's host name.
 */

export interface VerifyTlogInclusionOptions {
  /**
   * Witness cosignature verifiers (c2sp.org/tlog-cosignature). A cosignature by one of them MUST
   * verify when present; none is required here (a witness quorum is a policy decision). Default: none,
   * so every signature line but the log's is ignored, as C2SP signed-note requires of unknown keys.
   */
  readonly cosignatureVerifiers?: readonly NoteVerifier[];
}

/** Verified checkpoints kept per log: many bundles are proven against one checkpoint. */
const CHECKPOINT_CACHE_ENTRIES = 1024;
/** Checkpoints are a few hundred bytes; a larger note is verified but not kept. */
const CHECKPOINT_CACHE_MAX_TEXT = 8 * 1024;
/** A log signs under one name; a few more slots absorb origins an attacker makes up. */
const VERIFIER_CACHE_ENTRIES = 8;

const checkpointCache = new WeakMap<TransparencyLogInstance, Map<string, Checkpoint>>();
const verifierCache = new WeakMap<TransparencyLogInstance, Map<string, NoteVerifier>>();

/**
 * Verifies that `entry` is in `log`: the inclusion proof MUST lead from the entry's leaf hash to the
 * proof's root hash (VERIFY_TLOG_INCLUSION_PROOF_ERROR, also when the proof is missing or its index
 * does not belong to the entry), and the checkpoint MUST be a well-formed checkpoint signed by the
 * log's key whose size and root equal the proof's (VERIFY_TLOG_CHECKPOINT_ERROR). `log` MUST be the
 * log `findTlog` chose for this entry.
 */
export function verifyTlogInclusion(
  entry: TlogEntry,
  log: TransparencyLogInstance,
  options: VerifyTlogInclusionOptions = {},
): void {
  const proof = entry.inclusionProof;
  if (proof === undefined) {
    throw inclusionError(entry, 'inclusion proof: expected one, received none');
  }
  try {
    verifyInclusion(
      proof.logIndex,
      proof.treeSize,
      hashLeaf(entry.canonicalizedBody),
      proof.hashes,
      proof.rootHash,
    );
  } catch (cause) {
    if (cause instanceof MerkleError) throw inclusionError(entry, cause.message, cause);
    throw cause;
  }
  const checkpoint = verifiedCheckpoint(entry, proof, log, options.cosignatureVerifiers ?? []);
  if (checkpoint.size !== proof.treeSize) {
    throw checkpointError(
      entry,
      `checkpoint tree size: expected the proof's ${proof.treeSize}, received ${checkpoint.size}`,
    );
  }
  if (!hashesEqual(checkpoint.rootHash, proof.rootHash)) {
    throw checkpointError(
      entry,
      `checkpoint root hash: expected the proof's ${encodeBase64(proof.rootHash)}, received ${encodeBase64(checkpoint.rootHash)}`,
    );
  }
  // Rekor v1 is sharded: the entry's logIndex counts across shards, the proof's within its shard
  // (sigstore/rekor pkg/api/entries.go), so the proof's index can only be lower. Logs with any other
  // origin (Rekor v2, tlog-tiles) have one index space.
  const sharded = parseRekorV1Origin(checkpoint.origin) !== undefined;
  if (sharded ? proof.logIndex > entry.logIndex : proof.logIndex !== entry.logIndex) {
    throw inclusionError(
      entry,
      `inclusion proof log index: expected ${sharded ? `at most ${entry.logIndex}` : entry.logIndex}, received ${proof.logIndex}`,
    );
  }
}

/** The checkpoint of `proof`, verified with the log's key (and the configured witnesses), or cached. */
function verifiedCheckpoint(
  entry: TlogEntry,
  proof: InclusionProof,
  log: TransparencyLogInstance,
  cosigners: readonly NoteVerifier[],
): Checkpoint {
  const text = proof.checkpoint;
  if (text === '') throw checkpointError(entry, 'checkpoint: expected a signed note, received none');
  // A note verified without witnesses says nothing about witnesses, so only that case is cached.
  const cache = cosigners.length === 0 && text.length <= CHECKPOINT_CACHE_MAX_TEXT ? cacheOf(log) : undefined;
  const hit = cache?.get(text);
  if (hit !== undefined) return hit;
  let checkpoint: Checkpoint;
  try {
    // The key name is the host the origin names (Rekor v1 `<host> - <tree ID>`, Rekor v2 `<host>`): a
    // log signature filed under any other name finds no key (for Ed25519 the name is in the key ID).
    const origin = parseCheckpointBody(parseSignedNote(text).text).origin;
    const logVerifier = logNoteVerifier(log, parseRekorV1Origin(origin)?.hostname ?? origin);
    const verified = verifyCheckpoint(text, [logVerifier, ...cosigners]);
    if (!verified.note.verified.some(({ verifier }) => verifier === logVerifier)) {
      throw checkpointError(
        entry,
        `checkpoint: expected a signature by the log key ${logVerifier.keyName}+${formatKeyId(logVerifier.keyId)}, received only witness signatures`,
      );
    }
    checkpoint = verified.checkpoint;
  } catch (cause) {
    if (cause instanceof MerkleError) throw checkpointError(entry, `checkpoint: ${cause.message}`, cause);
    throw cause;
  }
  if (cache !== undefined) remember(cache, text, checkpoint, CHECKPOINT_CACHE_ENTRIES);
  return checkpoint;
}

/** The note verifier for `log`'s key under `keyName`, made once per name. */
function logNoteVerifier(log: TransparencyLogInstance, keyName: string): NoteVerifier {
  let verifiers = verifierCache.get(log);
  if (verifiers === undefined) {
    verifiers = new Map();
    verifierCache.set(log, verifiers);
  }
  const cached = verifiers.get(keyName);
  if (cached !== undefined) return cached;
  const { key } = log.publicKey;
  let verifier: NoteVerifier;
  if (key.asymmetricKeyType === 'ed25519') verifier = createEd25519Verifier(keyName, key);
  else if (key.asymmetricKeyType === 'ec') verifier = createEcdsaVerifier(keyName, key);
  else {
    throw new VerificationError(
      'VERIFY_TLOG_CHECKPOINT_ERROR',
      `checkpoint: expected an ed25519 or ecdsa key for ${log.baseUrl}, received ${key.asymmetricKeyType ?? 'an unknown key type'}`,
    );
  }
  remember(verifiers, keyName, verifier, VERIFIER_CACHE_ENTRIES);
  return verifier;
}

function cacheOf(log: TransparencyLogInstance): Map<string, Checkpoint> {
  let cache = checkpointCache.get(log);
  if (cache === undefined) {
    cache = new Map();
    checkpointCache.set(log, cache);
  }
  return cache;
}

/** Adds to a map bounded to `limit` entries, dropping the oldest. */
function remember<V>(map: Map<string, V>, key: string, value: V, limit: number): void {
  if (map.size >= limit) {
    const oldest = map.keys().next();
    if (oldest.done !== true) map.delete(oldest.value);
  }
  map.set(key, value);
}

function inclusionError(entry: TlogEntry, message: string, cause?: unknown): VerificationError {
  return new VerificationError(
    'VERIFY_TLOG_INCLUSION_PROOF_ERROR',
    `tlog entry ${entry.logIndex}: ${message}`,
    cause === undefined ? undefined : { cause },
  );
}

function checkpointError(entry: TlogEntry, message: string, cause?: unknown): VerificationError {
  return new VerificationError(
    'VERIFY_TLOG_CHECKPOINT_ERROR',
    `tlog entry ${entry.logIndex}: ${message}`,
    cause === undefined ? undefined : { cause },
  );
}
