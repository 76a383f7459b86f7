import { createHash } from 'node:crypto';
import { decodeBase64, encodeBase64, encodeUtf8 } from '../core/index.ts';
import { MerkleError } from './errors.ts';
import type {
  NoteLimits,
  NoteSignature,
  NoteSigner,
  NoteVerifier,
  OpenedNote,
  SignedNote,
  VerifiedNoteSignature,
} from './signed-note.types.ts';

/**
 * C2SP signed-note (c2sp.org/signed-note): a UTF-8 text ending in a newline, a blank line, then one or
 * more lines `— <key name> <base64(key ID || signature)>`. Parsing and verification follow the reference
 * implementation, golang.org/x/mod/sumdb/note (`Open`, `Sign`), rule for rule.
 */

const DEFAULT_MAX_BYTES = 1024 * 1024;
const DEFAULT_MAX_SIGNATURES = 100;
const SIGNATURE_PREFIX = '\u2014 ';
/** Go's unicode.IsSpace: the Unicode White_Space characters (JS `\s` differs: it adds U+FEFF, lacks U+0085). */
const UNICODE_SPACE = /[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]/;
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
/** core's decodeUtf8 drops a leading BOM; the signed bytes of a note must round-trip exactly. */
const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** C2SP signed-note §Format: key names are non-empty, without Unicode spaces or `+`. */
export function isValidKeyName(name: string): boolean {
  return name !== '' && !UNICODE_SPACE.test(name) && !name.includes('+') && !LONE_SURROGATE.test(name);
}

/** The index of the first ASCII control character other than newline, or -1 (signed-note §Format). */
export function findControlCharacter(text: string): number {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x20 && code !== 0x0a) return i;
  }
  return -1;
}

/** The recommended key ID: `SHA-256(key name || 0x0A || type || public key)[:4]` (signed-note §Signatures). */
export function computeKeyId(keyName: string, type: number, publicKey: Uint8Array): number {
  const digest = createHash('sha256')
    .update(encodeUtf8(`${keyName}\n`))
    .update(Uint8Array.of(type))
    .update(publicKey)
    .digest();
  return digest.readUInt32BE(0);
}

/** A key ID as the 8 lower-case hex digits of vkeys and error messages. */
export function formatKeyId(keyId: number): string {
  return keyId.toString(16).padStart(8, '0');
}

/** `<name>+<hex key ID>+<base64(type || public key)>`, the vkey encoding of sumdb/note `NewVerifier`. */
export function formatVerifierKey(
  keyName: string,
  keyId: number,
  type: number,
  publicKey: Uint8Array,
): string {
  const material = new Uint8Array(publicKey.length + 1);
  material[0] = type;
  material.set(publicKey, 1);
  return `${keyName}+${formatKeyId(keyId)}+${encodeBase64(material)}`;
}

/**
 * Parses a signed note without checking any signature. Throws MERKLE_NOTE_MALFORMED when the input is
 * larger than the limits, not UTF-8, holds a control character, lacks the blank line or a final
 * newline, or has a line that is not a well-formed signature line.
 */
export function parseSignedNote(input: string | Uint8Array, limits: NoteLimits = {}): SignedNote {
  const { maxBytes, maxSignatures } = resolveLimits(limits);
  const note = decodeNote(input, maxBytes);
  const control = findControlCharacter(note);
  if (control >= 0) {
    throw malformed(
      `expected no control character but newline, received U+${hex4(note.charCodeAt(control))}`,
    );
  }
  // The text is separated from the signatures by the last empty line (signed-note §Format).
  const split = note.lastIndexOf('\n\n');
  if (split < 0) throw malformed('expected a blank line before the signature lines, received none');
  const text = note.slice(0, split + 1);
  const block = note.slice(split + 2);
  if (block === '' || !block.endsWith('\n')) {
    throw malformed(`expected newline-terminated signature lines, received ${preview(block)}`);
  }
  const lines = block.slice(0, -1).split('\n');
  if (lines.length > maxSignatures) {
    throw malformed(`expected at most ${maxSignatures} signature lines, received ${lines.length}`);
  }
  return { text, signatures: lines.map((line, index) => parseSignatureLine(line, index + 1)) };
}

/**
 * Parses a note and checks its signatures, as sumdb/note `Open`: a signature by a key not among
 * `verifiers` is ignored (MUST, signed-note §Signatures); a signature by a known key MUST verify, or the
 * whole note is rejected (MERKLE_NOTE_SIGNATURE_INVALID); two verifiers for one name and key ID are
 * ambiguous (MERKLE_NOTE_KEY_AMBIGUOUS, raised only when a signature needs that key); and at least one
 * signature by a known key must verify (MERKLE_NOTE_UNKNOWN_KEY).
 */
export function openSignedNote(
  input: string | Uint8Array,
  verifiers: readonly NoteVerifier[],
  limits: NoteLimits = {},
): OpenedNote {
  const note = parseSignedNote(input, limits);
  const known = new Map<string, NoteVerifier[]>();
  for (const verifier of verifiers) {
    const slot = slotOf(verifier.keyName, verifier.keyId);
    known.set(slot, [...(known.get(slot) ?? []), verifier]);
  }
  const verified: VerifiedNoteSignature[] = [];
  const unverified: NoteSignature[] = [];
  const seen = new Set<string>();
  const seenUnverified = new Set<string>();
  for (const signature of note.signatures) {
    const slot = slotOf(signature.keyName, signature.keyId);
    const candidates = known.get(slot);
    const key = `${signature.keyName}+${formatKeyId(signature.keyId)}`;
    if (candidates === undefined) {
      // sumdb/note drops repeats by the line as received; re-encoding also folds base64 that differs
      // only in its unused trailing bits, which carries the same bytes.
      const line = formatSignatureLine(signature);
      if (!seenUnverified.has(line)) unverified.push(signature);
      seenUnverified.add(line);
      continue;
    }
    const [verifier, ...others] = candidates;
    if (verifier === undefined || others.length > 0) {
      throw new MerkleError(
        'MERKLE_NOTE_KEY_AMBIGUOUS',
        `ambiguous key ${key}: expected one verifier, received ${candidates.length}`,
      );
    }
    if (seen.has(slot)) continue;
    seen.add(slot);
    if (!safeVerify(verifier, note.text, signature.signature)) {
      throw new MerkleError('MERKLE_NOTE_SIGNATURE_INVALID', `invalid signature for key ${key}`);
    }
    verified.push({ ...signature, verifier });
  }
  if (verified.length === 0) {
    const names = unverified.slice(0, 5).map((s) => `${s.keyName}+${formatKeyId(s.keyId)}`);
    if (unverified.length > 5) names.push(`${unverified.length - 5} more`);
    throw new MerkleError(
      'MERKLE_NOTE_UNKNOWN_KEY',
      `note has no verifiable signatures: expected one by a known key, received ${names.join(', ') || 'none'}`,
    );
  }
  return { text: note.text, verified, unverified };
}

/**
 * Signs `text` (which MUST end in a newline) with each signer, after the `existing` signatures, as
 * sumdb/note `Sign`: an existing signature by the same name and key ID as a signer is replaced.
 */
export function signNote(
  text: string,
  signers: readonly NoteSigner[],
  existing: readonly NoteSignature[] = [],
): string {
  assertNoteText(text);
  const replaced = new Set(signers.map((signer) => slotOf(signer.keyName, signer.keyId)));
  const lines: string[] = [];
  for (const signature of existing) {
    if (!replaced.has(slotOf(signature.keyName, signature.keyId))) lines.push(formatSignatureLine(signature));
  }
  for (const signer of signers) {
    const { keyName, keyId } = signer;
    lines.push(formatSignatureLine({ keyName, keyId, signature: signer.sign(text) }));
  }
  if (lines.length === 0) throw new TypeError('expected at least one signer or existing signature');
  return `${text}\n${lines.join('')}`;
}

/** Formats a parsed note back into its wire form. */
export function formatSignedNote(note: SignedNote): string {
  return signNote(note.text, [], note.signatures);
}

/** `— <key name> <base64(key ID || signature)>\n`. */
export function formatSignatureLine(signature: NoteSignature): string {
  if (!isValidKeyName(signature.keyName)) {
    throw new TypeError(`expected a key name without spaces or "+", received ${preview(signature.keyName)}`);
  }
  const bytes = new Uint8Array(4 + signature.signature.length);
  new DataView(bytes.buffer).setUint32(0, signature.keyId);
  bytes.set(signature.signature, 4);
  return `${SIGNATURE_PREFIX}${signature.keyName} ${encodeBase64(bytes)}\n`;
}

function parseSignatureLine(line: string, number: number): NoteSignature {
  if (!line.startsWith(SIGNATURE_PREFIX)) {
    throw malformed(`signature line ${number}: expected "— <name> <signature>", received ${preview(line)}`);
  }
  const rest = line.slice(SIGNATURE_PREFIX.length);
  const space = rest.indexOf(' ');
  const keyName = space < 0 ? rest : rest.slice(0, space);
  const encoded = space < 0 ? '' : rest.slice(space + 1);
  if (!isValidKeyName(keyName)) {
    throw malformed(`signature line ${number}: expected a key name, received ${preview(keyName)}`);
  }
  let bytes: Uint8Array;
  try {
    bytes = decodeBase64(encoded, `signature line ${number}`);
  } catch (cause) {
    throw malformed(`signature line ${number}: expected base64, received ${preview(encoded)}`, cause);
  }
  if (bytes.length < 5) {
    throw malformed(`signature line ${number}: expected at least 5 bytes, received ${bytes.length}`);
  }
  const keyId = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(0);
  return { keyName, keyId, signature: bytes.slice(4) };
}

function decodeNote(input: string | Uint8Array, maxBytes: number): string {
  if (typeof input === 'string') {
    // A UTF-16 code unit never takes less than one byte of UTF-8, so the cheap test comes first.
    const size = input.length > maxBytes ? input.length : Buffer.byteLength(input, 'utf8');
    if (size > maxBytes) throw malformed(`expected at most ${maxBytes} bytes, received ${size}`);
    if (LONE_SURROGATE.test(input))
      throw malformed('expected well-formed unicode, received a lone surrogate');
    return input;
  }
  if (input.byteLength > maxBytes)
    throw malformed(`expected at most ${maxBytes} bytes, received ${input.byteLength}`);
  try {
    return UTF8.decode(input);
  } catch (cause) {
    throw malformed('expected UTF-8, received an invalid byte sequence', cause);
  }
}

function assertNoteText(text: string): void {
  if (!text.endsWith('\n')) throw malformed(`expected text ending in a newline, received ${preview(text)}`);
  if (LONE_SURROGATE.test(text)) throw malformed('expected well-formed unicode, received a lone surrogate');
  const control = findControlCharacter(text);
  if (control >= 0) {
    throw malformed(
      `expected no control character but newline, received U+${hex4(text.charCodeAt(control))}`,
    );
  }
}

function resolveLimits(limits: NoteLimits): Required<NoteLimits> {
  const maxBytes = limits.maxBytes ?? DEFAULT_MAX_BYTES;
  const maxSignatures = limits.maxSignatures ?? DEFAULT_MAX_SIGNATURES;
  if (!Number.isSafeInteger(maxBytes) || maxBytes < 1) {
    throw new TypeError(`maxBytes: expected a positive integer, received ${maxBytes}`);
  }
  if (!Number.isSafeInteger(maxSignatures) || maxSignatures < 16) {
    throw new TypeError(`maxSignatures: expected an integer of at least 16, received ${maxSignatures}`);
  }
  return { maxBytes, maxSignatures };
}

function safeVerify(verifier: NoteVerifier, text: string, signature: Uint8Array): boolean {
  try {
    return verifier.verify(text, signature);
  } catch {
    return false;
  }
}

function slotOf(keyName: string, keyId: number): string {
  return `${keyId}:${keyName}`;
}

function malformed(message: string, cause?: unknown): MerkleError {
  return new MerkleError('MERKLE_NOTE_MALFORMED', `malformed note: ${message}`, withCause(cause));
}

function withCause(cause: unknown): { cause: unknown } | undefined {
  return cause === undefined ? undefined : { cause };
}

function hex4(code: number): string {
  return code.toString(16).toUpperCase().padStart(4, '0');
}

function preview(text: string): string {
  return JSON.stringify(text.length > 40 ? `${text.slice(0, 40)}…` : text);
}
