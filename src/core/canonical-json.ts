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
  // The common case: a copy with every object's keys inserted in JCS order, serialized by the engine's
  // JSON.stringify (whose strings and numbers are JCS's). About half the time and a third of the
  // garbage of the walk below, which runs instead whenever the copy cannot be made faithfully, and
  // names the offending path when the value is refused.
  const sorted = sortedCopy(value, 0);
  if (sorted !== CAREFUL) return JSON.stringify(sorted);
  const parts: string[] = [];
  write(value, ROOT, parts, new Set<object>(), 0);
  return parts.join('');
}

/** What sortedCopy returns when only the careful walk can serialize (or refuse) a value. */
const CAREFUL = Symbol('careful');

/**
 * `value` with every object rebuilt with its keys in JCS order, or CAREFUL for anything that is not
 * plainly JSON (the walk in `write` then refuses it) and for objects with array-index keys, which
 * JavaScript orders numerically ahead of the others whatever the insertion order. A cycle ends in
 * CAREFUL at MAX_DEPTH.
 */
function sortedCopy(value: unknown, depth: number): unknown {
  switch (typeof value) {
    case 'string':
      return value.isWellFormed() ? value : CAREFUL;
    case 'number':
      return Number.isFinite(value) ? value : CAREFUL;
    case 'boolean':
      return value;
    case 'object': {
      if (value === null) return null;
      if (depth >= MAX_DEPTH) return CAREFUL;
      if (Array.isArray(value)) {
        const copy: unknown[] = new Array(value.length);
        for (let index = 0; index < value.length; index++) {
          const item = sortedCopy(value[index] as unknown, depth + 1);
          if (item === CAREFUL) return CAREFUL;
          copy[index] = item;
        }
        return copy;
      }
      const prototype = Object.getPrototypeOf(value) as unknown;
      if (prototype !== Object.prototype && prototype !== null) return CAREFUL;
      const record = value as Record<string, unknown>;
      const copy = Object.create(null) as Record<string, unknown>; // `__proto__` is a key like any other
      for (const key of Object.keys(record).sort()) {
        if (ARRAY_INDEX.test(key) || !key.isWellFormed()) return CAREFUL;
        const item = sortedCopy(record[key], depth + 1);
        if (item === CAREFUL) return CAREFUL;
        copy[key] = item;
      }
      return copy;
    }
    case 'undefined':
    case 'function':
    case 'symbol':
    case 'bigint':
      return CAREFUL;
  }
}

/** A property name JavaScript treats as an array index (enumerated first, in numeric order). */
const ARRAY_INDEX = /^(?:0|[1-9][0-9]{0,9})$/;

/** {@link canonicalizeJson} as UTF-8 bytes, the form that is hashed and signed. */
export function canonicalizeJsonBytes(value: unknown): Uint8Array {
  return encodeUtf8(canonicalizeJson(value));
}

/** Nesting deeper than this is refused rather than risking a stack overflow on hostile input. */
const MAX_DEPTH = 512;

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/** Where a value sits, spelled out (`value.spec[0]`) only for an error message. */
interface Path {
  readonly parent: Path | undefined;
  readonly key: string | number;
}

const ROOT: Path = { parent: undefined, key: 'value' };

function formatPath(path: Path): string {
  const { parent, key } = path;
  if (parent === undefined) return String(key);
  if (typeof key === 'number') return `${formatPath(parent)}[${key}]`;
  return IDENTIFIER.test(key)
    ? `${formatPath(parent)}.${key}`
    : `${formatPath(parent)}[${JSON.stringify(key)}]`;
}

function write(value: unknown, path: Path, parts: string[], ancestors: Set<object>, depth: number): void {
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
  path: Path,
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
      write(value[index] as unknown, { parent: path, key: index }, parts, ancestors, depth + 1);
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
    for (let index = 0; index < keys.length; index++) {
      const key = keys[index]!;
      const childPath = { parent: path, key };
      if (index > 0) parts.push(',');
      parts.push(serializeString(key, childPath), ':');
      write(record[key], childPath, parts, ancestors, depth + 1);
    }
    parts.push('}');
  }
  ancestors.delete(value);
}

/**
 * RFC 8785 §3.2.2.2: the ECMAScript JSON string serialization (short escapes for \b \t \n \f \r,
 * lower-case \u00xx for other control characters, everything else verbatim). I-JSON (RFC 7493 §2.1)
 * forbids lone surrogates.
 */
function serializeString(text: string, path: Path): string {
  if (!text.isWellFormed()) throw invalid(path, 'expected well-formed UTF-16, received a lone surrogate');
  return JSON.stringify(text);
}

/** RFC 8785 §3.2.2.3: the ECMAScript Number-to-String algorithm; -0 becomes 0. */
function serializeNumber(value: number, path: Path): string {
  if (!Number.isFinite(value)) throw invalid(path, `expected a finite number, received ${String(value)}`);
  return String(value);
}

function invalid(path: Path, message: string): CoreError {
  return new CoreError('CORE_JSON_INVALID', `${formatPath(path)}: ${message}`);
}
