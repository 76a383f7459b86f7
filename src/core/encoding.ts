import { CoreError } from './errors.ts';

/**
 * Strict encoders and decoders. Every decoder here treats its input as attacker-controlled: it rejects
 * anything that is not canonical for its alphabet instead of skipping characters the way
 * `Buffer.from(s, 'base64')` does, and names the field in its error.
 */

const BASE64URL = /^[A-Za-z0-9_-]*$/;
const HEX = /^(?:[0-9a-fA-F]{2})*$/;

export function encodeBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}

/** Decodes standard, padded base64 (RFC 4648 §4). `field` names the input in the error message. */
export function decodeBase64(text: string, field = 'input'): Uint8Array {
  const buffer = Buffer.from(text, 'base64');
  // Node's decoder skips what is not in either base64 alphabet and stops at `=`: any such character
  // leaves the output shorter than a padded text of this length decodes to. The URL-safe alphabet,
  // which it also takes, is ruled out by hand. A regex over the text costs several times more on
  // certificate-sized inputs (measured: bench/verify).
  const padding = text.endsWith('==') ? 2 : text.endsWith('=') ? 1 : 0;
  if (
    text.length % 4 !== 0 ||
    buffer.byteLength !== (text.length / 4) * 3 - padding ||
    text.includes('-') ||
    text.includes('_')
  ) {
    throw new CoreError(
      'CORE_ENCODING_INVALID',
      `${field}: expected padded base64, received ${preview(text)}`,
    );
  }
  return toUint8Array(buffer);
}

export function encodeBase64Url(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64url');
}

/** Decodes unpadded base64url (RFC 4648 §5), as used by JWTs and JWKs. */
export function decodeBase64Url(text: string, field = 'input'): Uint8Array {
  if (!BASE64URL.test(text) || text.length % 4 === 1) {
    throw new CoreError(
      'CORE_ENCODING_INVALID',
      `${field}: expected unpadded base64url, received ${preview(text)}`,
    );
  }
  return toUint8Array(Buffer.from(text, 'base64url'));
}

export function encodeHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

/** Decodes hex of either case; an odd length or a non-hex character is an error. */
export function decodeHex(text: string, field = 'input'): Uint8Array {
  if (!HEX.test(text)) {
    throw new CoreError(
      'CORE_ENCODING_INVALID',
      `${field}: expected hex with an even length, received ${preview(text)}`,
    );
  }
  return toUint8Array(Buffer.from(text, 'hex'));
}

export function encodeUtf8(text: string): Uint8Array {
  return toUint8Array(Buffer.from(text, 'utf8'));
}

/** One decoder for every call: a whole-input `decode` keeps no state, and making one costs microseconds. */
const STRICT_UTF8 = new TextDecoder('utf-8', { fatal: true });

/** Decodes UTF-8, rejecting invalid sequences rather than replacing them with U+FFFD. */
export function decodeUtf8(bytes: Uint8Array, field = 'input'): string {
  try {
    return STRICT_UTF8.decode(bytes);
  } catch (cause) {
    throw new CoreError('CORE_ENCODING_INVALID', `${field}: expected UTF-8, received invalid byte sequence`, {
      cause,
    });
  }
}

/** A PEM block (RFC 7468): its label and DER contents. */
export interface PemBlock {
  label: string;
  der: Uint8Array;
}

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----\r?\n([A-Za-z0-9+/=\r\n]*?)-----END \1-----/g;

export function encodePem(label: string, der: Uint8Array): string {
  const base64 = encodeBase64(der);
  let body = '';
  for (let start = 0; start < base64.length; start += 64) body += base64.slice(start, start + 64) + '\n';
  return `-----BEGIN ${label}-----\n${body}-----END ${label}-----\n`;
}

/** Every PEM block in `text`, in order. Text between blocks is ignored, as RFC 7468 §2 allows. */
export function decodePem(text: string, field = 'input'): PemBlock[] {
  const blocks: PemBlock[] = [];
  for (const match of text.matchAll(PEM_BLOCK)) {
    const [, label = '', body = ''] = match;
    blocks.push({ label, der: decodeBase64(body.replace(/\r?\n/g, ''), `${field} (PEM ${label})`) });
  }
  if (blocks.length === 0) {
    throw new CoreError(
      'CORE_ENCODING_INVALID',
      `${field}: expected at least one PEM block, received ${preview(text)}`,
    );
  }
  return blocks;
}

/** Limits for {@link parseJson}. */
export interface ParseJsonOptions {
  /** Name of the input in error messages. Default `input`. */
  field?: string;
  /** Largest accepted input, in UTF-16 code units. Default 10 MiB. */
  maxLength?: number;
}

/** `JSON.parse` that fails with a CoreError naming the field instead of a bare SyntaxError. */
export function parseJson(text: string, options: ParseJsonOptions = {}): unknown {
  const field = options.field ?? 'input';
  const maxLength = options.maxLength ?? 10 * 1024 * 1024;
  if (text.length > maxLength) {
    throw new CoreError(
      'CORE_INPUT_TOO_LARGE',
      `${field}: expected at most ${maxLength} characters, received ${text.length}`,
    );
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (cause) {
    throw new CoreError('CORE_JSON_INVALID', `${field}: expected JSON, ${(cause as Error).message}`, {
      cause,
    });
  }
}

function toUint8Array(buffer: Buffer): Uint8Array {
  return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
}

function preview(text: string): string {
  return JSON.stringify(text.length > 40 ? `${text.slice(0, 40)}…` : text);
}
