import { createHash, createPublicKey, sign as signMessage, verify as verifySignature } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { decodeBase64, parseJson } from '../core/index.ts';
import { formatCheckpointBody, parseCheckpointBody } from './checkpoint.ts';
import type { Checkpoint } from './checkpoint.ts';
import { MerkleError } from './errors.ts';
import { HASH_SIZE } from './hash.ts';
import { assertKeyName, describeKey, importSpkiPublicKey, safely } from './internal/note-key-material.ts';
import { computeKeyId, formatVerifierKey, signNote } from './signed-note.ts';
import { NoteSignatureType } from './signed-note.types.ts';
import type { NoteSigner, TypedNoteVerifier } from './signed-note.types.ts';

/**
 * RFC 6962 tree head signatures as note signatures, type 0x05 (c2sp.org/static-ct-api §Checkpoints;
 * transparency-dev/formats `note/note_rfc6962.go`). The signature is
 * `uint64 timestamp (ms) || DigitallySigned(TreeHeadSignature)`. A TreeHeadSignature (RFC 6962 §3.5)
 * covers timestamp, tree size and root hash but not the origin, so the origin line MUST equal the key
 * name, and the checkpoint MUST NOT carry extension lines.
 */
export type Rfc6962NoteVerifier = TypedNoteVerifier<typeof NoteSignatureType.rfc6962TreeHead>;

const TYPE = NoteSignatureType.rfc6962TreeHead;
/** RFC 5246 §7.4.1.4.1 HashAlgorithm sha256, SignatureAlgorithm rsa / ecdsa. */
const HASH_SHA256 = 4;
const SIGNATURE_ALGORITHM = { rsa: 1, ec: 3 } as const;
const HEADER_SIZE = 8 + 2 + 2;

/**
 * The key name a static-ct-api log uses: its submission prefix as a schema-less URL without trailing
 * slash (static-ct-api §Checkpoints), lower-cased as transparency-dev/formats `rfc6962LogName` does.
 */
export function rfc6962LogName(submissionPrefix: string): string {
  return submissionPrefix
    .toLowerCase()
    .replace(/^https?:\/\//, '')
    .replace(/\/+$/, '');
}

/** Key ID `SHA-256(key name || 0x0A || 0x05 || LogID)[:4]`, LogID = SHA-256(DER SPKI) (RFC 6962 §3.2). */
export function rfc6962KeyId(keyName: string, spki: Uint8Array): number {
  return computeKeyId(keyName, TYPE, createHash('sha256').update(spki).digest());
}

/**
 * A verifier for a log's RFC 6962 note signatures. `publicKey` is an ECDSA or RSA public key, as a
 * KeyObject or DER SPKI. Throws MERKLE_VERIFIER_KEY_INVALID for another key type or an invalid name.
 */
export function createRfc6962Verifier(
  keyName: string,
  publicKey: KeyObject | Uint8Array,
): Rfc6962NoteVerifier {
  const { key, spki } = importSpkiPublicKey(publicKey);
  const algorithm = signatureAlgorithmOf(key, 'MERKLE_VERIFIER_KEY_INVALID');
  assertKeyName(keyName, 'MERKLE_VERIFIER_KEY_INVALID');
  const keyId = rfc6962KeyId(keyName, spki);
  return {
    keyName,
    keyId,
    signatureType: TYPE,
    verifierKey: formatVerifierKey(keyName, keyId, TYPE, spki),
    // parseCheckpointBody throws on anything but a checkpoint, and safely turns that into false.
    verify: (text, signature) =>
      safely(() => {
        if (signature.length < HEADER_SIZE) return false;
        const view = new DataView(signature.buffer, signature.byteOffset, signature.byteLength);
        const digitallySigned = signature.subarray(HEADER_SIZE);
        if (signature[8] !== HASH_SHA256 || signature[9] !== algorithm) return false;
        if (view.getUint16(10) !== digitallySigned.length) return false;
        const checkpoint = parseCheckpointBody(text);
        if (checkpoint.origin !== keyName || checkpoint.extensions.length > 0) return false;
        const input = treeHeadSignatureInput(view.getBigUint64(0), checkpoint);
        return verifySignature('sha256', input, key, digitallySigned);
      }),
  };
}

/**
 * A signer for RFC 6962 note signatures. The tree head timestamp (milliseconds since the epoch) is
 * given, since this module has no clock: a fixed number, or a function asked once per signature (a
 * log's clock). Signing throws
 * MERKLE_CHECKPOINT_MALFORMED unless the text is a checkpoint whose origin is the key name, with no
 * extension lines.
 */
export function createRfc6962Signer(
  keyName: string,
  privateKey: KeyObject,
  timestamp: number | (() => number),
): NoteSigner {
  if (privateKey.type !== 'private') {
    throw new MerkleError(
      'MERKLE_SIGNER_KEY_INVALID',
      `expected a private key, received ${describeKey(privateKey)}`,
    );
  }
  const timestampOf = (value: number): bigint => {
    if (!Number.isSafeInteger(value) || value < 0) {
      throw new TypeError(`timestamp: expected milliseconds since the epoch, received ${value}`);
    }
    return BigInt(value);
  };
  if (typeof timestamp === 'number') timestampOf(timestamp);
  const algorithm = signatureAlgorithmOf(privateKey, 'MERKLE_SIGNER_KEY_INVALID');
  const spki = new Uint8Array(createPublicKey(privateKey).export({ type: 'spki', format: 'der' }));
  return {
    keyName,
    keyId: rfc6962KeyId(keyName, spki),
    sign(text) {
      const checkpoint = parseCheckpointBody(text);
      if (checkpoint.origin !== keyName || checkpoint.extensions.length > 0) {
        throw new MerkleError(
          'MERKLE_CHECKPOINT_MALFORMED',
          `rfc 6962 note signature: expected origin ${JSON.stringify(keyName)} and no extension lines, ` +
            `received ${JSON.stringify(checkpoint.origin)} and ${checkpoint.extensions.length}`,
        );
      }
      const at = timestampOf(typeof timestamp === 'number' ? timestamp : timestamp());
      const digitallySigned = signMessage('sha256', treeHeadSignatureInput(at, checkpoint), privateKey);
      return encodeNoteSignature(at, algorithm, digitallySigned);
    },
  };
}

/**
 * Converts an RFC 6962 `get-sth` response (RFC 6962 §4.3) into a signed checkpoint whose origin and
 * signature line carry the verifier's key name and ID; the private key is not needed
 * (static-ct-api §Checkpoints). Throws MERKLE_CHECKPOINT_MALFORMED for anything but a well-formed STH.
 * The result still has to be verified.
 */
export function signedTreeHeadToCheckpoint(sthJson: string, verifier: Rfc6962NoteVerifier): string {
  let value: unknown;
  try {
    value = parseJson(sthJson, { field: 'signed tree head', maxLength: 64 * 1024 });
  } catch (cause) {
    throw sthError('expected JSON', cause);
  }
  if (typeof value !== 'object' || value === null) throw sthError('expected a JSON object');
  const fields = value as Record<string, unknown>;
  const size = fields.tree_size;
  const timestamp = fields.timestamp;
  if (!isUint(size)) throw sthError(`tree_size: expected a non-negative integer, received ${String(size)}`);
  if (!isUint(timestamp))
    throw sthError(`timestamp: expected a non-negative integer, received ${String(timestamp)}`);
  const rootHash = decodeField(fields.sha256_root_hash, 'sha256_root_hash');
  const treeHeadSignature = decodeField(fields.tree_head_signature, 'tree_head_signature');
  const view = new DataView(
    treeHeadSignature.buffer,
    treeHeadSignature.byteOffset,
    treeHeadSignature.byteLength,
  );
  if (treeHeadSignature.length < 4 || view.getUint16(2) !== treeHeadSignature.length - 4) {
    throw sthError(
      `tree_head_signature: expected a DigitallySigned struct, received ${treeHeadSignature.length} bytes`,
    );
  }
  const body = formatCheckpointBody({ origin: verifier.keyName, size, rootHash, extensions: [] });
  const signature = new Uint8Array(8 + treeHeadSignature.length);
  new DataView(signature.buffer).setBigUint64(0, BigInt(timestamp));
  signature.set(treeHeadSignature, 8);
  return signNote(body, [], [{ keyName: verifier.keyName, keyId: verifier.keyId, signature }]);
}

/** The timestamp (milliseconds since the epoch) an RFC 6962 note signature carries. */
export function readRfc6962Timestamp(signature: Uint8Array): number {
  if (signature.length < HEADER_SIZE) {
    throw new MerkleError(
      'MERKLE_NOTE_MALFORMED',
      `rfc 6962 note signature: expected at least ${HEADER_SIZE} bytes, received ${signature.length}`,
    );
  }
  return Number(new DataView(signature.buffer, signature.byteOffset, 8).getBigUint64(0));
}

/** RFC 6962 §3.5 TreeHeadSignature: version v1(0), signature_type tree_hash(1), timestamp, size, root. */
function treeHeadSignatureInput(timestamp: bigint, checkpoint: Checkpoint): Uint8Array {
  const input = new Uint8Array(2 + 8 + 8 + HASH_SIZE);
  const view = new DataView(input.buffer);
  input[1] = 1;
  view.setBigUint64(2, timestamp);
  view.setBigUint64(10, BigInt(checkpoint.size));
  input.set(checkpoint.rootHash, 18);
  return input;
}

function encodeNoteSignature(timestamp: bigint, algorithm: number, digitallySigned: Uint8Array): Uint8Array {
  const out = new Uint8Array(HEADER_SIZE + digitallySigned.length);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, timestamp);
  out[8] = HASH_SHA256;
  out[9] = algorithm;
  view.setUint16(10, digitallySigned.length);
  out.set(digitallySigned, HEADER_SIZE);
  return out;
}

function signatureAlgorithmOf(
  key: KeyObject,
  code: 'MERKLE_VERIFIER_KEY_INVALID' | 'MERKLE_SIGNER_KEY_INVALID',
): number {
  const type = key.asymmetricKeyType;
  if (type === 'ec' || type === 'rsa') return SIGNATURE_ALGORITHM[type];
  throw new MerkleError(code, `rfc 6962 key: expected an ec or rsa key, received ${describeKey(key)}`);
}

function decodeField(value: unknown, field: string): Uint8Array {
  if (typeof value !== 'string')
    throw sthError(`${field}: expected a base64 string, received ${typeof value}`);
  try {
    return decodeBase64(value, field);
  } catch (cause) {
    throw sthError(`${field}: expected padded base64`, cause);
  }
}

function isUint(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

function sthError(message: string, cause?: unknown): MerkleError {
  return new MerkleError(
    'MERKLE_CHECKPOINT_MALFORMED',
    `signed tree head: ${message}`,
    cause === undefined ? undefined : { cause },
  );
}
