import { CoreError } from './errors.ts';
import { encodeUtf8 } from './encoding.ts';

/**
 * RFC 8785 JSON Canonicalization Scheme (JCS): the one serialization two parties can hash or sign and
 * agree on byte for byte. Rekor stores every log entry as the JCS of its canonical struct and signs
 * `{body, integratedTime, logID, logIndex}` in JCS for the SET (sigstore/rekor `pkg/types/entries.go`
 * CanonicalizeEntry → cyberphone/json-canonicalization `jsoncanonicalizer.Transform`).
 *
 * The input MUST be JSON data (RFC 8785 §3.1 requires I-JSON, RFC 7493): plain objects, arrays,
 * strings, finite numbers, booleans and null. Anything else — undefined, functions, symbols, bigints,
 * class instances such as Date or Uint8Array, non-finite numbers, strings with lone surrogates,
 * cycles — is refused with a CoreError (`CORE_JSON_INVALID`) whose message names the path.
 */
export function canonicalizeJson(value: unknown): string {
  const parts: string[] = [];
  write(value, 'value', parts, new Set<object>(), 0);
  return parts.join('');
}

/** {@link canonicalizeJson} as UTF-8 bytes, the form that is hashed and signed. */
export function canonicalizeJsonBytes(value: unknown): Uint8Array {
  return encodeUtf8(canonicalizeJson(value));
}

/** Nesting deeper than this is refused rather than risking a stack overflow on hostile input. */
const MAX_DEPTH = 512;

/** A UTF-16 surrogate that is not part of a pair (I-JSON, RFC 7493 §2.1, forbids them). */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

function write(value: unknown, path: string, parts: string[], ancestors: Set<object>, depth: number): void {
  if (typeof value === 'string') parts.push(serializeString(value, path));
  else if (typeof value === 'number') parts.push(serializeNumber(value, path));
  else if (typeof value === 'boolean') parts.push(value ? 'true' : 'false');
  else if (value === null) parts.push('null');
  else if (typeof value === 'object') writeContainer(value, path, parts, ancestors, depth);
  // undefined, function, symbol, bigint
  else throw invalid(path, `expected a JSON value, received ${typeof value}`);
}

function writeContainer(
  value: object,
  path: string,
  parts: string[],
  ancestors: Set<object>,
  depth: number,
): void {
  if (depth >= MAX_DEPTH) throw invalid(path, `expected at most ${MAX_DEPTH} levels of nesting`);
  if (ancestors.has(value)) throw invalid(path, 'expected a tree, received a cycle');
  ancestors.add(value);
  if (Array.isArray(value)) {
    parts.push('[');
    for (let index = 0; index < value.length; index++) {
      if (index > 0) parts.push(',');
      write(value[index] as unknown, `${path}[${index}]`, parts, ancestors, depth + 1);
    }
    parts.push(']');
  } else {
    const prototype = Object.getPrototypeOf(value) as unknown;
    if (prototype !== Object.prototype && prototype !== null) {
      const name = (value as { constructor?: { name?: string } }).constructor?.name ?? 'object';
      throw invalid(path, `expected a plain object, received ${name}`);
    }
    // RFC 8785 §3.2.3: properties sorted by their names as arrays of UTF-16 code units, which is
    // exactly what the default Array.prototype.sort comparison does.
    const record = value as Record<string, unknown>;
    const keys = Object.keys(record).sort();
    parts.push('{');
    keys.forEach((key, index) => {
      const childPath = IDENTIFIER.test(key) ? `${path}.${key}` : `${path}[${JSON.stringify(key)}]`;
      if (index > 0) parts.push(',');
      parts.push(serializeString(key, childPath), ':');
      write(record[key], childPath, parts, ancestors, depth + 1);
    });
    parts.push('}');
  }
  ancestors.delete(value);
}

/**
 * RFC 8785 §3.2.2.2: the ECMAScript JSON string serialization (short escapes for \b \t \n \f \r,
 * lower-case \u00xx for other control characters, everything else verbatim).
 */
function serializeString(text: string, path: string): string {
  if (LONE_SURROGATE.test(text))
    throw invalid(path, 'expected well-formed UTF-16, received a lone surrogate');
  return JSON.stringify(text);
}

/** RFC 8785 §3.2.2.3: the ECMAScript Number-to-String algorithm; -0 becomes 0. */
function serializeNumber(value: number, path: string): string {
  if (!Number.isFinite(value)) throw invalid(path, `expected a finite number, received ${String(value)}`);
  return String(value);
}

function invalid(path: string, message: string): CoreError {
  return new CoreError('CORE_JSON_INVALID', `${path}: ${message}`);
}
