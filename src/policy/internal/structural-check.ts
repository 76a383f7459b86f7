import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import type { FieldProblems } from './field-problems.ts';

/**
 * The structural half of admission: what the apiserver checks against a CRD's openAPIV3Schema before
 * the webhook sees the object. The ajv schema is derived from the CRD schema itself; the one change is
 * that unknown fields are errors (kubectl's default strict field validation) instead of being pruned.
 * Problems are worded as the apiserver words them (`spec.mode: Invalid value: "integer": ...`).
 */

const ajv = new Ajv({ allErrors: true, verbose: true, strict: true });
ajv.addKeyword({ keyword: 'x-kubernetes-preserve-unknown-fields', schemaType: 'boolean' });
ajv.addKeyword({ keyword: 'x-kubernetes-validations', schemaType: 'array' });

export type StructuralCheck = (document: unknown, problems: FieldProblems) => boolean;

/** A check for documents of one CRD version; `true` when the document has the declared structure. */
export function compileStructuralCheck(crdSchema: Record<string, unknown>): StructuralCheck {
  const validate: ValidateFunction = ajv.compile(closeObjects(crdSchema) as Record<string, unknown>);
  return (document, problems) => {
    if (validate(document)) return true;
    for (const error of validate.errors ?? []) problems.raw(describe(error));
    return false;
  };
}

/** Objects that list their properties get `additionalProperties: false`, except where unknown fields are kept. */
function closeObjects(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(closeObjects);
  if (schema === null || typeof schema !== 'object') return schema;
  const copy: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(schema)) {
    // x-kubernetes-validations holds CEL rules, not schemas.
    copy[key] = key === 'x-kubernetes-validations' ? value : closeObjects(value);
  }
  if ('properties' in copy && copy['x-kubernetes-preserve-unknown-fields'] !== true) {
    copy['additionalProperties'] = false;
  }
  return copy;
}

function describe(error: ErrorObject): string {
  const path = fieldPath(error.instancePath);
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'required':
      return `${join(path, String(params['missingProperty']))}: Required value`;
    case 'additionalProperties':
      return `unknown field "${join(path, String(params['additionalProperty']))}"`;
    case 'type': {
      const received = typeName(error.data);
      return `${path}: Invalid value: "${received}": ${path} in body must be of type ${String(params['type'])}: "${received}"`;
    }
    case 'maxItems':
    case 'maxProperties':
      return `${path}: Too many: must have at most ${String(params['limit'])} ${error.keyword === 'maxItems' ? 'items' : 'properties'}`;
    default:
      return `${path}: Invalid value: ${error.message ?? error.keyword}`;
  }
}

function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}

/** `/spec/authorities/0/key` → `spec.authorities[0].key`. */
function fieldPath(pointer: string): string {
  let path = '';
  for (const raw of pointer.split('/').slice(1)) {
    const step = raw.replaceAll('~1', '/').replaceAll('~0', '~');
    path = /^\d+$/.test(step) ? `${path}[${step}]` : join(path, step);
  }
  return path === '' ? '<root>' : path;
}

function join(path: string, field: string): string {
  return path === '' || path === '<root>' ? field : `${path}.${field}`;
}
