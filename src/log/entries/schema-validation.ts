import { Ajv, type ErrorObject } from 'ajv';
import { LogError } from '../errors.ts';

/**
 * Request schemas are checked by ajv with every error collected, then reported as one LogError whose
 * message lists each bad field by its JSON path (`spec.signature.content: expected base64, received
 * "a!"`). A schema may say what a field should hold with the `x-expected` annotation; without it the
 * message falls back to ajv's wording.
 */

const ajv = new Ajv({ allErrors: true, verbose: true, strict: true });
ajv.addKeyword({ keyword: 'x-expected', schemaType: 'string' });

/**
 * A compiled schema that narrows `unknown` to `T` or throws LOG_ENTRY_INVALID / LOG_ENTRY_TOO_LARGE.
 * `prefix` names where the value sits when it is not the request body itself.
 */
export type SchemaAssertion<T> = (value: unknown, prefix?: string) => T;

export function compileAssertion<T>(schema: object): SchemaAssertion<T> {
  const validate = ajv.compile(schema);
  return (value: unknown, prefix = ''): T => {
    if (validate(value)) return value as T;
    throw schemaError(validate.errors ?? [], prefix);
  };
}

const SIZE_KEYWORDS = new Set(['maxLength', 'maxItems', 'maxProperties']);

function schemaError(errors: readonly ErrorObject[], prefix: string): LogError {
  const messages = [...new Set(errors.map((error) => describe(error, prefix)))];
  const tooLarge = errors.some((error) => SIZE_KEYWORDS.has(error.keyword));
  return new LogError(tooLarge ? 'LOG_ENTRY_TOO_LARGE' : 'LOG_ENTRY_INVALID', messages.join('; '));
}

function describe(error: ErrorObject, prefix: string): string {
  const path = fieldPath(error.instancePath, prefix);
  const expected: unknown = error.parentSchema?.['x-expected'];
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'required':
      return `${joinPath(path, String(params['missingProperty']))}: expected a value, received nothing`;
    case 'additionalProperties':
      return `${joinPath(path, String(params['additionalProperty']))}: expected no such field`;
    case 'type':
      return `${path}: expected ${String(params['type'])}, received ${describeType(error.data)}`;
    case 'pattern':
      return `${path}: expected ${typeof expected === 'string' ? expected : String(error.message)}, received ${preview(error.data)}`;
    case 'enum':
      return `${path}: expected one of ${(params['allowedValues'] as unknown[]).map((v) => JSON.stringify(v)).join(', ')}, received ${preview(error.data)}`;
    case 'const':
      return `${path}: expected ${JSON.stringify(params['allowedValue'])}, received ${preview(error.data)}`;
    case 'maxLength':
      return `${path}: expected at most ${String(params['limit'])} characters, received ${lengthOf(error.data)}`;
    case 'minLength':
      return `${path}: expected at least ${String(params['limit'])} characters, received ${lengthOf(error.data)}`;
    case 'maxItems':
      return `${path}: expected at most ${String(params['limit'])} items, received ${lengthOf(error.data)}`;
    case 'minItems':
      return `${path}: expected at least ${String(params['limit'])} items, received ${lengthOf(error.data)}`;
    case 'false schema':
      return `${path}: expected no such field in a proposed entry, the log computes it`;
    default:
      return `${path}: ${String(error.message)}`;
  }
}

/** `/spec/signatures/0/sig` → `spec.signatures[0].sig` (RFC 6901 escapes undone). */
export function fieldPath(pointer: string, prefix = ''): string {
  if (pointer === '') return prefix === '' ? '(root)' : prefix;
  let path = prefix;
  for (const raw of pointer.slice(1).split('/')) {
    const segment = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    path = /^\d+$/.test(segment) ? `${path}[${segment}]` : joinPath(path, segment);
  }
  return path;
}

export function joinPath(parent: string, child: string): string {
  return parent === '' || parent === '(root)' ? child : `${parent}.${child}`;
}

function describeType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

function lengthOf(value: unknown): string {
  return Array.isArray(value) || typeof value === 'string' ? String(value.length) : describeType(value);
}

/** A short, safe rendering of an attacker-controlled value for an error message. */
export function preview(value: unknown): string {
  if (typeof value !== 'string') return describeType(value);
  return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
}
