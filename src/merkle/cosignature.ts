import { createPublicKey, sign as signMessage, verify as verifySignature } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { decodeBase64, encodeUtf8 } from '../core/index.ts';
import { parseCheckpointBody, verifyCheckpoint } from './checkpoint.ts';
import type { Checkpoint, VerifyCheckpointOptions } from './checkpoint.ts';
import { MerkleError } from './errors.ts';
import { assertKeyName, describeKey, importEd25519PublicKey, safely } from './internal/note-key-material.ts';
import { computeKeyId, formatVerifierKey, openSignedNote, parseSignedNote, signNote } from './signed-note.ts';
import { NoteSignatureType } from './signed-note.types.ts';
import type {
  NoteLimits,
  NoteSignature,
  NoteSigner,
  NoteVerifier,
  OpenedNote,
  TypedNoteVerifier,
} from './signed-note.types.ts';

/**
 * C2SP tlog-cosignature, Ed25519 (signature type 0x04): a witness states that, as of a time, the
 * checkpoint is the largest consistent tree head it has seen for the origin. It signs
 * `cosignature/v1\ntime <t>\n` followed by the checkpoint body, and its signature is
 * `u64 timestamp (seconds, big-endian) || Ed25519 signature`. The time is an argument, never read from
 * a clock: this module has none.
 */
export type CosignatureVerifier = TypedNoteVerifier<typeof NoteSignatureType.cosignatureEd25519>;

export interface CosignatureSigner extends NoteSigner {
  /** The POSIX timestamp, in seconds, every signature by this signer carries. */
  readonly timestamp: number;
  readonly verifierKey: string;
}

/** A verified cosignature. */
export interface Cosignature {
  readonly keyName: string;
  readonly keyId: number;
  /** POSIX seconds at which the witness cosigned. */
  readonly timestamp: number;
}

export interface VerifyCosignedCheckpointOptions extends VerifyCheckpointOptions {
  /** How many distinct cosigners MUST have cosigned. Default: all of them. */
  quorum?: number;
}

export interface CosignedCheckpoint {
  readonly checkpoint: Checkpoint;
  readonly cosignatures: readonly Cosignature[];
  readonly note: OpenedNote;
}

const TYPE = NoteSignatureType.cosignatureEd25519;
const TIMESTAMP_SIZE = 8;
const ED25519_SIGNATURE_SIZE = 64;
const SIGNATURE_SIZE = TIMESTAMP_SIZE + ED25519_SIGNATURE_SIZE;

/** tlog-cosignature §Ed25519 signed message: header line, timestamp line, then the checkpoint body. */
export function formatCosignedMessage(timestamp: number, checkpointBody: string): string {
  return `cosignature/v1\ntime ${timestamp}\n${checkpointBody}`;
}

/**
 * A verifier for one witness. Key ID = `SHA-256(name || 0x0A || 0x04 || public key)[:4]`. `publicKey`
 * is an Ed25519 KeyObject or its 32 raw bytes. A signature verifies only over a well-formed checkpoint.
 */
export function createCosignatureVerifier(
  keyName: string,
  publicKey: KeyObject | Uint8Array,
): CosignatureVerifier {
  const { key, raw } = importEd25519PublicKey(publicKey);
  assertKeyName(keyName, 'MERKLE_VERIFIER_KEY_INVALID');
  const keyId = computeKeyId(keyName, TYPE, raw);
  return {
    keyName,
    keyId,
    signatureType: TYPE,
    verifierKey: formatVerifierKey(keyName, keyId, TYPE, raw),
    // Only a well-formed checkpoint can be cosigned: parseCheckpointBody throws, and safely says false.
    verify: (text, signature) =>
      safely(() => {
        if (signature.length !== SIGNATURE_SIZE) return false;
        const timestamp = new DataView(signature.buffer, signature.byteOffset, 8).getBigUint64(0);
        if (timestamp > BigInt(Number.MAX_SAFE_INTEGER)) return false;
        parseCheckpointBody(text);
        const message = encodeUtf8(formatCosignedMessage(Number(timestamp), text));
        return verifySignature(null, message, key, signature.subarray(TIMESTAMP_SIZE));
      }),
  };
}

/**
 * A witness's signer, bound to one timestamp (POSIX seconds): create one per cosigning. Signing throws
 * MERKLE_CHECKPOINT_MALFORMED when the text is not a checkpoint.
 */
export function createCosignatureSigner(
  keyName: string,
  privateKey: KeyObject,
  timestamp: number,
): CosignatureSigner {
  if (privateKey.type !== 'private' || privateKey.asymmetricKeyType !== 'ed25519') {
    throw new MerkleError(
      'MERKLE_SIGNER_KEY_INVALID',
      `expected an ed25519 private key, received ${describeKey(privateKey)}`,
    );
  }
  if (!Number.isSafeInteger(timestamp) || timestamp < 0) {
    throw new TypeError(`timestamp: expected POSIX seconds, received ${timestamp}`);
  }
  const verifier = createCosignatureVerifier(keyName, createPublicKey(privateKey));
  return {
    keyName,
    keyId: verifier.keyId,
    timestamp,
    verifierKey: verifier.verifierKey,
    sign(text) {
      parseCheckpointBody(text);
      const message = encodeUtf8(formatCosignedMessage(timestamp, text));
      const signature = new Uint8Array(SIGNATURE_SIZE);
      new DataView(signature.buffer).setBigUint64(0, BigInt(timestamp));
      signature.set(signMessage(null, message, privateKey), TIMESTAMP_SIZE);
      return signature;
    },
  };
}

/**
 * The timestamp a cosignature carries, without verifying it: from a parsed signature, or from the
 * base64 of a signature line (key ID included), as transparency-dev/formats `CoSigV1Timestamp`. Throws
 * MERKLE_COSIGNATURE_INVALID for anything but a 4 + 8 + 64 byte cosignature.
 */
export function readCosignatureTimestamp(signature: NoteSignature | string): number {
  let bytes: Uint8Array;
  if (typeof signature === 'string') {
    try {
      bytes = decodeBase64(signature, 'cosignature').subarray(4);
    } catch (cause) {
      throw new MerkleError('MERKLE_COSIGNATURE_INVALID', 'cosignature: expected padded base64', { cause });
    }
  } else {
    bytes = signature.signature;
  }
  if (bytes.length !== SIGNATURE_SIZE) {
    throw new MerkleError(
      'MERKLE_COSIGNATURE_INVALID',
      `cosignature: expected ${4 + SIGNATURE_SIZE} bytes with key ID, received ${bytes.length + 4}`,
    );
  }
  const timestamp = new DataView(bytes.buffer, bytes.byteOffset, TIMESTAMP_SIZE).getBigUint64(0);
  if (timestamp > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new MerkleError(
      'MERKLE_COSIGNATURE_INVALID',
      `cosignature: expected a timestamp below 2^53, received ${timestamp}`,
    );
  }
  return Number(timestamp);
}

/**
 * Cosigns a signed checkpoint: the log's signature MUST verify with one of `logVerifiers` first (a
 * witness never cosigns what the log did not sign), then the cosignature is added after the existing
 * signature lines, replacing an earlier one by the same key. Checking that the checkpoint is consistent
 * with the last one the witness cosigned for this origin is the caller's job (c2sp.org/tlog-witness).
 */
export function cosignCheckpoint(
  noteText: string,
  logVerifiers: readonly NoteVerifier[],
  signer: CosignatureSigner,
  limits: NoteLimits = {},
): string {
  const opened = openSignedNote(noteText, logVerifiers, limits);
  parseCheckpointBody(opened.text);
  return signNote(opened.text, [signer], parseSignedNote(noteText, limits).signatures);
}

/**
 * Verifies a checkpoint signed by the log and cosigned by at least `quorum` of `cosigners`. Signatures
 * by other keys are ignored; a signature by a known key that fails rejects the note. Throws
 * MERKLE_NOTE_UNKNOWN_KEY without a log signature, MERKLE_COSIGNATURE_INVALID below the quorum.
 */
export function verifyCosignedCheckpoint(
  noteText: string | Uint8Array,
  logVerifiers: readonly NoteVerifier[],
  cosigners: readonly CosignatureVerifier[],
  options: VerifyCosignedCheckpointOptions = {},
): CosignedCheckpoint {
  const quorum = options.quorum ?? cosigners.length;
  if (!Number.isSafeInteger(quorum) || quorum < 0 || quorum > cosigners.length) {
    throw new TypeError(`quorum: expected an integer from 0 to ${cosigners.length}, received ${quorum}`);
  }
  const { checkpoint, note } = verifyCheckpoint(noteText, [...logVerifiers, ...cosigners], options);
  if (!note.verified.some((signature) => logVerifiers.includes(signature.verifier))) {
    throw new MerkleError(
      'MERKLE_NOTE_UNKNOWN_KEY',
      `checkpoint: expected a signature by the log, received only ${note.verified.length} cosignatures`,
    );
  }
  const witnesses: readonly NoteVerifier[] = cosigners;
  const cosignatures = note.verified
    .filter((signature) => witnesses.includes(signature.verifier))
    .map((signature) => ({
      keyName: signature.keyName,
      keyId: signature.keyId,
      timestamp: readCosignatureTimestamp(signature),
    }));
  if (cosignatures.length < quorum) {
    throw new MerkleError(
      'MERKLE_COSIGNATURE_INVALID',
      `checkpoint: expected cosignatures by at least ${quorum} witnesses, received ${cosignatures.length}`,
    );
  }
  return { checkpoint, cosignatures, note };
}
