/**
 * Reading protobuf JSON (https://protobuf.dev/programming-guides/json/) the way
 * google.golang.org/protobuf `encoding/protojson` decodes it, for the bundle and trusted-root parsers.
 * Every reader records what is wrong under the field's path and carries on, so one error can name every
 * bad field (STYLE.md §3). Unknown fields are ignored (what sigstore-js does), so a newer minor version
 * of a message still parses.
 */

import {
  CoreError,
  decodeUtf8,
  parseCertificate,
  parseJson,
  type ParsedCertificate,
} from '../../core/index.ts';
import type { HashAlgorithmName } from '../bundle.types.ts';
import { VerificationError, type VerificationErrorCode } from '../errors.ts';

export type JsonObject = Readonly<Record<string, unknown>>;

/** protobuf-specs HashAlgorithm (sigstore_common.proto), by name and by number. */
export const HASH_ALGORITHM_NAMES: Readonly<Record<string, HashAlgorithmName>> = {
  SHA2_256: 'SHA2_256',
  SHA2_384: 'SHA2_384',
  SHA2_512: 'SHA2_512',
  SHA3_256: 'SHA3_256',
  SHA3_384: 'SHA3_384',
};
export const HASH_ALGORITHM_NUMBERS: Readonly<Record<number, HashAlgorithmName>> = {
  1: 'SHA2_256',
  2: 'SHA2_384',
  3: 'SHA2_512',
  4: 'SHA3_256',
  5: 'SHA3_384',
};

/** A value found in a document and where: `undefined` when the field is absent (or JSON `null`). */
export interface Item {
  readonly value: unknown;
  readonly at: string;
}

/** An object found in a document and where. */
export interface Scope {
  readonly value: JsonObject;
  readonly at: string;
}

/** Problems listed in one error message at most; the rest are counted. */
const LISTED_PROBLEMS = 20;

const INT64 = /^-?[0-9]{1,20}$/;
// RFC 3339 as protojson writes google.protobuf.Timestamp (and reads it: any offset, 0–9 fraction digits).
const TIMESTAMP =
  /^([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})(?:\.([0-9]{1,9}))?(?:Z|([+-])([0-9]{2}):([0-9]{2}))$/;

export class ProtoJsonReader {
  readonly #problems: string[] = [];

  get failed(): boolean {
    return this.#problems.length > 0;
  }

  /** Records a problem, read as `at: expected …, received …`; `value` is described, not printed. */
  fail(at: string, expected: string, value?: unknown): void {
    const received = value === undefined ? 'nothing' : describeValue(value);
    this.#problems.push(`${at}: expected ${expected}, received ${received}`);
  }

  /** Like `fail`, with the received part already in words (`3 elements`, `both`). */
  failWith(at: string, expected: string, received: string): void {
    this.#problems.push(`${at}: expected ${expected}, received ${received}`);
  }

  /** Records a message that already names its field (e.g. a CoreError's). */
  report(message: string): void {
    this.#problems.push(message);
  }

  /** Every problem, `; `-separated, at most LISTED_PROBLEMS of them. */
  describe(): string {
    const listed = this.#problems.slice(0, LISTED_PROBLEMS).join('; ');
    const more = this.#problems.length - LISTED_PROBLEMS;
    return more > 0 ? `${listed}; and ${more} more` : listed;
  }

  /**
   * A field of `scope` by its JSON name (lowerCamelCase) or its proto name (snake_case): protojson
   * parsers accept both, and refuse a message that sets both.
   */
  field(scope: Scope | undefined, jsonName: string): Item | undefined {
    if (!scope) return undefined;
    const at = scope.at ? `${scope.at}.${jsonName}` : jsonName;
    const protoName = protoNameOf(jsonName);
    const json = ownValue(scope.value, jsonName);
    const proto = protoName === jsonName ? undefined : ownValue(scope.value, protoName);
    if (json !== undefined && proto !== undefined) {
      this.failWith(at, `one of ${jsonName} and ${protoName}`, 'both');
      return { value: undefined, at };
    }
    return { value: json ?? proto, at };
  }

  /** The one member of a oneof that is set; none or several is a problem when `required`. */
  oneOf(scope: Scope | undefined, jsonNames: readonly string[], required: boolean): Item | undefined {
    if (!scope) return undefined;
    const set = jsonNames.map((name) => this.field(scope, name)).filter((item) => item?.value !== undefined);
    if (set.length > 1) {
      const names = set.map((item) => item?.at).join(' and ');
      this.failWith(scope.at || 'document', `one of ${jsonNames.join(', ')}`, names);
      return undefined;
    }
    if (set.length === 0 && required) {
      this.failWith(scope.at || 'document', `one of ${jsonNames.join(', ')}`, 'none');
    }
    return set[0];
  }

  /** A message field; `required` makes absence a problem, described as `expected` when given. */
  object(item: Item | undefined, required = false, expected = 'an object'): Scope | undefined {
    if (!item) return undefined;
    if (item.value === undefined) {
      if (required) this.fail(item.at, expected);
      return undefined;
    }
    if (!isJsonObject(item.value)) {
      this.fail(item.at, 'an object', item.value);
      return undefined;
    }
    return { value: item.value, at: item.at };
  }

  /** A `repeated` field: absent is empty. Lengths outside `min`–`max` are problems. */
  list(item: Item | undefined, max: number, min = 0): Item[] {
    if (!item || item.value === undefined) {
      if (item && min > 0) this.fail(item.at, `at least ${min} element${min === 1 ? '' : 's'}`);
      return [];
    }
    if (!Array.isArray(item.value)) {
      this.fail(item.at, 'an array', item.value);
      return [];
    }
    const values: readonly unknown[] = item.value;
    if (values.length > max || values.length < min) {
      this.failWith(item.at, `${min}–${max} elements`, `${values.length}`);
      return [];
    }
    return values.map((value, index) => ({ value: value ?? undefined, at: `${item.at}[${index}]` }));
  }

  /** A `string` field: absent is `''`; `required` makes absent and empty problems. */
  string(item: Item | undefined, options: { required?: boolean; maxLength?: number } = {}): string {
    if (!item || item.value === undefined) {
      if (item && options.required) this.fail(item.at, 'a non-empty string');
      return '';
    }
    if (typeof item.value !== 'string') {
      this.fail(item.at, 'a string', item.value);
      return '';
    }
    if (options.required && item.value.length === 0) this.fail(item.at, 'a non-empty string', item.value);
    const maxLength = options.maxLength ?? 4096;
    if (item.value.length > maxLength) {
      this.failWith(item.at, `at most ${maxLength} characters`, `${item.value.length}`);
    }
    return item.value;
  }

  /**
   * A `bytes` field: standard base64, or URL-safe when the text holds `-` or `_`; padded when its length
   * is a multiple of four, unpadded otherwise (protojson decode.go unmarshalBytes). Absent is empty;
   * `required` makes absent and empty problems. `maxBytes` bounds the decoded length.
   */
  bytes(item: Item | undefined, options: { required?: boolean; maxBytes: number }): Uint8Array {
    if (!item || item.value === undefined) {
      if (item && options.required) this.fail(item.at, 'non-empty base64');
      return new Uint8Array(0);
    }
    const text = item.value;
    if (typeof text !== 'string') {
      this.fail(item.at, 'a base64 string', text);
      return new Uint8Array(0);
    }
    if (text.length > Math.ceil(options.maxBytes / 3) * 4) {
      this.failWith(item.at, `at most ${options.maxBytes} bytes`, `${text.length} base64 characters`);
      return new Uint8Array(0);
    }
    const bytes = decodeProtoBytes(text);
    if (!bytes) {
      this.fail(item.at, 'base64', text);
      return new Uint8Array(0);
    }
    if (options.required && bytes.length === 0) this.fail(item.at, 'non-empty base64', text);
    return bytes;
  }

  /**
   * An `int64` field, which protojson writes as a decimal string and reads as a string or a number.
   * Only non-negative safe integers are accepted here (indexes, sizes, times); absent is 0.
   */
  int64(item: Item | undefined): number {
    if (!item || item.value === undefined) return 0;
    const { value } = item;
    const number = typeof value === 'string' && INT64.test(value) ? Number(value) : value;
    if (typeof number !== 'number' || !Number.isSafeInteger(number) || number < 0) {
      this.fail(item.at, 'a non-negative integer', value);
      return 0;
    }
    return number;
  }

  /** An enum field, by name or number (protojson accepts both); absent or unknown is a problem. */
  enumeration<T extends string>(
    item: Item | undefined,
    names: Readonly<Record<string, T>>,
    numbers: Readonly<Record<number, T>>,
  ): T | undefined {
    if (!item) return undefined;
    const { value } = item;
    const known =
      typeof value === 'string'
        ? ownValue(names, value)
        : typeof value === 'number'
          ? numbers[value]
          : undefined;
    if (known === undefined) {
      this.fail(item.at, `one of ${Object.keys(names).join(', ')}`, value);
      return undefined;
    }
    return known;
  }

  /**
   * A google.protobuf.Timestamp in ms since the epoch. Nanoseconds are rounded `up` or `down` to the
   * millisecond so that a validity window never grows (start rounds up, end rounds down).
   */
  timestamp(item: Item | undefined, round: 'up' | 'down', required: boolean): number | undefined {
    if (!item || item.value === undefined) {
      if (item && required) this.fail(item.at, 'an RFC 3339 timestamp');
      return undefined;
    }
    const ms = typeof item.value === 'string' ? parseTimestamp(item.value, round) : undefined;
    if (ms === undefined) this.fail(item.at, 'an RFC 3339 timestamp', item.value);
    return ms;
  }
}

/**
 * The JSON object a parser reads: `input` as UTF-8 bytes, JSON text (at most `maxLength` UTF-16 code
 * units) or an already parsed value. Anything else throws VerificationError `code` naming `field`.
 */
export function readJsonDocument(
  input: string | Uint8Array | object,
  field: string,
  maxLength: number,
  code: VerificationErrorCode,
): JsonObject {
  let document: unknown = input;
  try {
    if (input instanceof Uint8Array) document = decodeUtf8(input, field);
    if (typeof document === 'string') document = parseJson(document, { field, maxLength });
  } catch (cause) {
    if (cause instanceof CoreError) throw new VerificationError(code, cause.message, { cause });
    throw cause;
  }
  if (!isJsonObject(document)) throw new VerificationError(code, `${field}: expected a JSON object`);
  return document;
}

/** An X509Certificate message (`{ rawBytes }`) cut with parseCertificate; a bad one is a problem. */
export function readCertificateMessage(
  reader: ProtoJsonReader,
  item: Item,
  maxBytes: number,
): ParsedCertificate | undefined {
  const rawBytes = reader.field(reader.object(item, true), 'rawBytes');
  const der = reader.bytes(rawBytes, { required: true, maxBytes });
  if (!rawBytes || der.length === 0) return undefined;
  try {
    return parseCertificate(der, rawBytes.at);
  } catch (error) {
    if (!(error instanceof CoreError)) throw error;
    reader.report(error.message);
    return undefined;
  }
}

export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Decoded protojson bytes, or undefined when `text` is not base64 in protojson's sense. Line breaks are
 * skipped first, as Go's encoding/base64 and Python's b64decode do: `base64` wraps its output at 76
 * columns, and conformance bundles carry such values (rekor2-timestamp-with-incorrect-time_fail).
 */
function decodeProtoBytes(text: string): Uint8Array | undefined {
  const joined = text.includes('\n') || text.includes('\r') ? text.replace(/\r?\n/g, '') : text;
  const urlSafe = joined.includes('-') || joined.includes('_');
  let body = joined;
  if (joined.length % 4 === 0) {
    body = joined.endsWith('==') ? joined.slice(0, -2) : joined.endsWith('=') ? joined.slice(0, -1) : joined;
  }
  if (body.length % 4 === 1 || (urlSafe && (body.includes('+') || body.includes('/')))) return undefined;
  const buffer = Buffer.from(body, urlSafe ? 'base64url' : 'base64');
  // Node's decoder skips what is not in its alphabet (either alphabet, both ways) and stops at `=`;
  // with the other alphabet ruled out above, every skipped character makes the output shorter than
  // the length of the text implies. Cheaper than a regex over a certificate's or a body's text.
  if (buffer.byteLength !== Math.floor((body.length * 3) / 4)) return undefined;
  return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
}

function parseTimestamp(text: string, round: 'up' | 'down'): number | undefined {
  const match = TIMESTAMP.exec(text);
  if (!match) return undefined;
  const [year, month, day, hour, minute, second] = match.slice(1, 7).map(Number);
  const [fraction = '', sign, offsetHours = '0', offsetMinutes = '0'] = match.slice(7);
  if (year === undefined || month === undefined || day === undefined) return undefined;
  if (hour === undefined || minute === undefined || second === undefined) return undefined;
  if (hour > 23 || minute > 59 || second > 59 || Number(offsetHours) > 23 || Number(offsetMinutes) > 59) {
    return undefined;
  }
  const base = Date.UTC(year, month - 1, day, hour, minute, second);
  const date = new Date(base);
  // Date.UTC rolls 2023-02-30 over into March: a rolled-over date was not a real one.
  if (
    year < 1 ||
    date.getUTCFullYear() !== year ||
    date.getUTCMonth() !== month - 1 ||
    date.getUTCDate() !== day
  ) {
    return undefined;
  }
  const offset = (sign === '-' ? 1 : -1) * (Number(offsetHours) * 60 + Number(offsetMinutes)) * 60_000;
  const nanos = Number(fraction.padEnd(9, '0'));
  const ms = round === 'up' ? Math.ceil(nanos / 1e6) : Math.floor(nanos / 1e6);
  return base + offset + ms;
}

const protoNames = new Map<string, string>();

/** The proto field name behind a JSON name: `tlogEntries` → `tlog_entries`. */
function protoNameOf(jsonName: string): string {
  let protoName = protoNames.get(jsonName);
  if (protoName === undefined) {
    protoName = jsonName.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`);
    protoNames.set(jsonName, protoName);
  }
  return protoName;
}

function ownValue<T>(object: Readonly<Record<string, T>>, key: string): T | undefined {
  // JSON `null` means "not set" in protojson, for every field that is not a google.protobuf.Value.
  return Object.hasOwn(object, key) ? (object[key] ?? undefined) : undefined;
}

function describeValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (Array.isArray(value)) return 'an array';
  if (value === null) return 'null';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return typeof value;
}
