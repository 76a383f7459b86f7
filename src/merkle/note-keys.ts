import {
  createHash,
  createPrivateKey,
  createPublicKey,
  sign as signMessage,
  verify as verifySignature,
} from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { decodeBase64, decodeBase64Url, encodeBase64 } from '../core/index.ts';
import { createCosignatureVerifier } from './cosignature.ts';
import type { CosignatureVerifier } from './cosignature.ts';
import { MerkleError } from './errors.ts';
import {
  assertKeyName,
  describeKey,
  importEd25519PublicKey,
  importSpkiPublicKey,
  safely,
} from './internal/note-key-material.ts';
import { createRfc6962Verifier } from './rfc6962-note.ts';
import type { Rfc6962NoteVerifier } from './rfc6962-note.ts';
import { computeKeyId, formatKeyId, formatVerifierKey, isValidKeyName } from './signed-note.ts';
import { NoteSignatureType } from './signed-note.types.ts';
import type { NoteSigner, TypedNoteVerifier } from './signed-note.types.ts';

/**
 * Note keys: verifier keys (vkeys) `<name>+<hex key ID>+<base64(type || public key)>` and the signer keys
 * `PRIVATE+KEY+<name>+<hex key ID>+<base64(type || seed)>` of golang.org/x/mod/sumdb/note, and the
 * Ed25519 (0x01) and ECDSA (0x02) note signatures of C2SP signed-note §Signature types. Keys are
 * node:crypto KeyObjects; all signing and verification is done by node:crypto.
 */
export type Ed25519NoteVerifier = TypedNoteVerifier<typeof NoteSignatureType.ed25519>;
export type EcdsaNoteVerifier = TypedNoteVerifier<typeof NoteSignatureType.ecdsa>;
/** Every verifier a vkey can describe, tagged by its signature type. */
export type KnownNoteVerifier =
  Ed25519NoteVerifier | EcdsaNoteVerifier | CosignatureVerifier | Rfc6962NoteVerifier;

/** A signer that can also say how verifiers should be configured for it. */
export interface PublishedNoteSigner extends NoteSigner {
  readonly verifierKey: string;
}

/** A vkey, split into its parts; `publicKey` is the key material after the type byte. */
export interface VerifierKey {
  readonly keyName: string;
  readonly keyId: number;
  readonly type: number;
  readonly publicKey: Uint8Array;
}

/** The parts of an Ed25519 signer key (skey). */
export interface SignerKey {
  readonly keyName: string;
  readonly keyId: number;
  readonly privateKey: KeyObject;
}

const HEX_KEY_ID = /^[0-9a-fA-F]{8}$/;
/** The curves C2SP signed-note allows for type 0x02, as OpenSSL names them. */
const ECDSA_CURVES = new Set(['prime256v1', 'secp384r1', 'secp521r1']);
/** PKCS #8 DER prefix of an Ed25519 private key (RFC 8410 §7); the 32-byte seed follows. */
const ED25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

/**
 * Splits a vkey into its parts, checking its syntax only: a valid key name, 8 hex digits, padded base64
 * of at least a type byte and one byte of key. Throws MERKLE_VERIFIER_KEY_INVALID.
 */
export function parseVerifierKey(vkey: string): VerifierKey {
  const [keyName = '', keyIdHex, encoded] = chop(vkey, 3);
  if (keyIdHex === undefined || encoded === undefined)
    throw invalidVerifier(`expected <name>+<key ID>+<key>`, vkey);
  if (!isValidKeyName(keyName)) throw invalidVerifier('expected a key name without spaces or "+"', vkey);
  if (!HEX_KEY_ID.test(keyIdHex)) throw invalidVerifier('expected a key ID of 8 hex digits', vkey);
  let material: Uint8Array;
  try {
    material = decodeBase64(encoded, 'verifier key');
  } catch (cause) {
    throw invalidVerifier('expected padded base64 key material', vkey, cause);
  }
  const [type] = material;
  if (type === undefined || material.length < 2)
    throw invalidVerifier('expected a type byte and a key', vkey);
  return { keyName, keyId: Number.parseInt(keyIdHex, 16), type, publicKey: material.subarray(1) };
}

/**
 * The verifier a vkey describes, for types 0x01 (Ed25519), 0x02 (ECDSA), 0x04 (Ed25519 cosignature) and
 * 0x05 (RFC 6962). Throws MERKLE_VERIFIER_KEY_INVALID for another type, a key that does not parse, or a
 * key ID that does not match the one the type's rule computes.
 */
export function createNoteVerifier(vkey: string): KnownNoteVerifier {
  const { keyName, keyId, type, publicKey } = parseVerifierKey(vkey);
  let verifier: KnownNoteVerifier;
  switch (type) {
    case NoteSignatureType.ed25519:
      verifier = createEd25519Verifier(keyName, publicKey);
      break;
    case NoteSignatureType.ecdsa:
      verifier = createEcdsaVerifier(keyName, publicKey);
      break;
    case NoteSignatureType.cosignatureEd25519:
      verifier = createCosignatureVerifier(keyName, publicKey);
      break;
    case NoteSignatureType.rfc6962TreeHead:
      verifier = createRfc6962Verifier(keyName, publicKey);
      break;
    default:
      throw invalidVerifier(
        `expected signature type 0x01, 0x02, 0x04 or 0x05, received 0x${hex2(type)}`,
        vkey,
      );
  }
  if (verifier.keyId !== keyId) {
    throw invalidVerifier(
      `expected key ID ${formatKeyId(verifier.keyId)}, received ${formatKeyId(keyId)}`,
      vkey,
    );
  }
  return verifier;
}

/** Ed25519 note verifier (signed-note §Ed25519 signatures): key ID over `0x01 || 32-byte key`. */
export function createEd25519Verifier(
  keyName: string,
  publicKey: KeyObject | Uint8Array,
): Ed25519NoteVerifier {
  assertKeyName(keyName, 'MERKLE_VERIFIER_KEY_INVALID');
  const { key, raw } = importEd25519PublicKey(publicKey);
  const keyId = computeKeyId(keyName, NoteSignatureType.ed25519, raw);
  return {
    keyName,
    keyId,
    signatureType: NoteSignatureType.ed25519,
    verifierKey: formatVerifierKey(keyName, keyId, NoteSignatureType.ed25519, raw),
    verify: (text, signature) =>
      safely(() => verifySignature(null, Buffer.from(text, 'utf8'), key, signature)),
  };
}

/**
 * ECDSA note verifier (signed-note type 0x02, as Rekor v1 signs checkpoints): an ASN.1 DER signature
 * over SHA-256 of the text; key ID = `SHA-256(DER SPKI)[:4]`. Curves P-256, P-384 and P-521.
 */
export function createEcdsaVerifier(keyName: string, publicKey: KeyObject | Uint8Array): EcdsaNoteVerifier {
  assertKeyName(keyName, 'MERKLE_VERIFIER_KEY_INVALID');
  const { key, spki } = importSpkiPublicKey(publicKey);
  assertEcdsaKey(key, 'public', 'MERKLE_VERIFIER_KEY_INVALID');
  const keyId = ecdsaKeyId(spki);
  return {
    keyName,
    keyId,
    signatureType: NoteSignatureType.ecdsa,
    verifierKey: formatVerifierKey(keyName, keyId, NoteSignatureType.ecdsa, spki),
    verify: (text, signature) =>
      safely(() =>
        verifySignature('sha256', Buffer.from(text, 'utf8'), { key, dsaEncoding: 'der' }, signature),
      ),
  };
}

/** Signs notes with an Ed25519 private key (deterministic, RFC 8032). */
export function createEd25519Signer(keyName: string, privateKey: KeyObject): PublishedNoteSigner {
  assertKeyName(keyName, 'MERKLE_SIGNER_KEY_INVALID');
  if (privateKey.type !== 'private' || privateKey.asymmetricKeyType !== 'ed25519') {
    throw invalidSigner(`expected an ed25519 private key, received ${describeKey(privateKey)}`);
  }
  const { keyId, verifierKey } = createEd25519Verifier(keyName, createPublicKey(privateKey));
  return {
    keyName,
    keyId,
    verifierKey,
    sign: (text) => signMessage(null, Buffer.from(text, 'utf8'), privateKey),
  };
}

/** Signs notes with an ECDSA private key: SHA-256, ASN.1 DER signature, as Rekor v1 does. */
export function createEcdsaSigner(keyName: string, privateKey: KeyObject): PublishedNoteSigner {
  assertKeyName(keyName, 'MERKLE_SIGNER_KEY_INVALID');
  assertEcdsaKey(privateKey, 'private', 'MERKLE_SIGNER_KEY_INVALID');
  const { keyId, verifierKey } = createEcdsaVerifier(keyName, createPublicKey(privateKey));
  return {
    keyName,
    keyId,
    verifierKey,
    sign: (text) => signMessage('sha256', Buffer.from(text, 'utf8'), { key: privateKey, dsaEncoding: 'der' }),
  };
}

/** An Ed25519 or ECDSA note signer, chosen by the key's type. */
export function createNoteSigner(keyName: string, privateKey: KeyObject): PublishedNoteSigner {
  return privateKey.asymmetricKeyType === 'ed25519'
    ? createEd25519Signer(keyName, privateKey)
    : createEcdsaSigner(keyName, privateKey);
}

/**
 * Parses an Ed25519 signer key `PRIVATE+KEY+<name>+<hex key ID>+<base64(0x01 || 32-byte seed)>`
 * (sumdb/note `NewSigner`), checking the key ID against the derived public key. Throws
 * MERKLE_SIGNER_KEY_INVALID. The message never echoes the key.
 */
export function parseSignerKey(skey: string): SignerKey {
  const [private1, private2, keyName = '', keyIdHex = '', encoded] = chop(skey, 5);
  if (private1 !== 'PRIVATE' || private2 !== 'KEY' || encoded === undefined) {
    throw invalidSigner('expected PRIVATE+KEY+<name>+<key ID>+<key>');
  }
  if (!isValidKeyName(keyName) || !HEX_KEY_ID.test(keyIdHex)) {
    throw invalidSigner('expected a key name and a key ID of 8 hex digits');
  }
  let material: Uint8Array;
  try {
    material = decodeBase64(encoded, 'signer key');
  } catch {
    throw invalidSigner('expected padded base64 key material');
  }
  if (material[0] !== NoteSignatureType.ed25519 || material.length !== 33) {
    throw invalidSigner(`expected type 0x01 and a 32-byte seed, received ${material.length} bytes`);
  }
  const der = Buffer.concat([ED25519_PKCS8_PREFIX, material.subarray(1)]);
  const privateKey = createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
  const { keyId } = createEd25519Verifier(keyName, createPublicKey(privateKey));
  if (keyId !== Number.parseInt(keyIdHex, 16)) {
    throw invalidSigner(`expected key ID ${formatKeyId(keyId)}, received ${keyIdHex}`);
  }
  return { keyName, keyId, privateKey };
}

/** Formats an Ed25519 private key as a signer key (sumdb/note `GenerateKey`). Keep the result secret. */
export function formatSignerKey(keyName: string, privateKey: KeyObject): string {
  const { keyId } = createEd25519Signer(keyName, privateKey);
  const seed = decodeBase64Url(privateKey.export({ format: 'jwk' }).d ?? '');
  const material = Buffer.concat([Uint8Array.of(NoteSignatureType.ed25519), seed]);
  return `PRIVATE+KEY+${keyName}+${formatKeyId(keyId)}+${encodeBase64(material)}`;
}

/** Type 0x02 key ID: `SHA-256(DER SPKI)[:4]`, which is also the first 4 bytes of Rekor's log ID. */
export function ecdsaKeyId(spki: Uint8Array): number {
  return createHash('sha256').update(spki).digest().readUInt32BE(0);
}

function assertEcdsaKey(
  key: KeyObject,
  type: 'public' | 'private',
  code: 'MERKLE_VERIFIER_KEY_INVALID' | 'MERKLE_SIGNER_KEY_INVALID',
): void {
  const curve = key.asymmetricKeyDetails?.namedCurve;
  if (
    key.type !== type ||
    key.asymmetricKeyType !== 'ec' ||
    curve === undefined ||
    !ECDSA_CURVES.has(curve)
  ) {
    throw new MerkleError(
      code,
      `expected an ecdsa p-256, p-384 or p-521 ${type} key, received ${describeKey(key)}`,
    );
  }
}

/** Splits at the first `count - 1` plus signs, as sumdb/note `chop` does; base64 may hold more. */
function chop(text: string, count: number): string[] {
  const parts: string[] = [];
  let rest = text;
  while (parts.length < count - 1) {
    const plus = rest.indexOf('+');
    if (plus < 0) break;
    parts.push(rest.slice(0, plus));
    rest = rest.slice(plus + 1);
  }
  parts.push(rest);
  return parts;
}

function hex2(value: number): string {
  return value.toString(16).padStart(2, '0');
}

function invalidVerifier(message: string, vkey: string, cause?: unknown): MerkleError {
  const shown = JSON.stringify(vkey.length > 60 ? `${vkey.slice(0, 60)}…` : vkey);
  return new MerkleError(
    'MERKLE_VERIFIER_KEY_INVALID',
    `verifier key: ${message}, received ${shown}`,
    cause === undefined ? undefined : { cause },
  );
}

function invalidSigner(message: string): MerkleError {
  return new MerkleError('MERKLE_SIGNER_KEY_INVALID', `signer key: ${message}`);
}
