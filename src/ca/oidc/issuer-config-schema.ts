import { Ajv, type ErrorObject } from 'ajv';
import { TEMPLATED_EXTENSIONS } from './extensions.ts';
import type { IssuerConfigDocument } from './issuer-config.types.ts';
import { ISSUER_TYPES } from './principal.types.ts';

/**
 * The JSON schema of a Fulcio issuer config (YAML names), checked by ajv with every error collected.
 * Each problem is reported with its field path, e.g. `oidc-issuers["https://example.com"].type`.
 */

const text = (maxLength: number) => ({ type: 'string', maxLength });

const issuerSettings = {
  type: 'object',
  properties: {
    'issuer-url': { type: 'string', minLength: 1, maxLength: 2048 },
    'client-id': { type: 'string', minLength: 1, maxLength: 256 },
    type: { enum: [...ISSUER_TYPES] },
    'ci-provider': { type: 'string', minLength: 1, maxLength: 256 },
    'issuer-claim': { type: 'string', minLength: 1, maxLength: 256 },
    'subject-domain': { type: 'string', minLength: 1, maxLength: 2048 },
    'spiffe-trust-domain': { type: 'string', minLength: 1, maxLength: 255 },
    'challenge-claim': { type: 'string', minLength: 1, maxLength: 256 },
    'skip-email-verification': { type: 'boolean' },
    contact: text(1024),
    description: text(4096),
    'ca-cert': text(1024 * 1024),
  },
  required: ['type'],
  additionalProperties: false,
};

const ciIssuerMetadata = {
  type: 'object',
  properties: {
    'default-template-values': {
      type: 'object',
      maxProperties: 1000,
      additionalProperties: { type: ['string', 'number', 'boolean'], maxLength: 4096 },
    },
    'extension-templates': {
      type: 'object',
      properties: Object.fromEntries<object>([
        // Fulcio never templates the issuer (it is always the token's); accepted and ignored.
        ['issuer', text(4096)],
        ...TEMPLATED_EXTENSIONS.map((definition): [string, object] => [definition.templateKey!, text(4096)]),
      ]),
      additionalProperties: false,
    },
    'subject-alternative-name-template': { type: 'string', minLength: 1, maxLength: 4096 },
  },
  required: ['subject-alternative-name-template'],
  additionalProperties: false,
};

const issuerMap = { type: 'object', maxProperties: 10_000, additionalProperties: issuerSettings };

const configSchema = {
  type: 'object',
  properties: {
    'oidc-issuers': issuerMap,
    'meta-issuers': issuerMap,
    'ci-issuer-metadata': { type: 'object', maxProperties: 1000, additionalProperties: ciIssuerMetadata },
    // YAML anchors are commonly declared under a throwaway key (config/identity/config.yaml `define`).
    define: {},
  },
  additionalProperties: false,
};

const ajv = new Ajv({ allErrors: true, verbose: true, strict: true, allowUnionTypes: true });
const validate = ajv.compile<IssuerConfigDocument>(configSchema);

/** Narrows a parsed config to its document type, or returns every problem with its field path. */
export function checkIssuerConfigSchema(
  value: unknown,
): { ok: true; document: IssuerConfigDocument } | { ok: false; problems: string[] } {
  if (validate(value)) return { ok: true, document: value };
  return { ok: false, problems: [...new Set((validate.errors ?? []).map(describe))] };
}

function describe(error: ErrorObject): string {
  const path = fieldPath(error.instancePath);
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'required':
      return `${childPath(path, String(params['missingProperty']))}: expected a value, received nothing`;
    case 'additionalProperties':
      return `${childPath(path, String(params['additionalProperty']))}: expected no such field`;
    case 'type':
      return `${path}: expected ${String(params['type']).replace(',', ' or ')}, received ${typeName(error.data)}`;
    case 'enum':
      return `${path}: expected one of ${(params['allowedValues'] as unknown[]).join(', ')}, received ${preview(error.data)}`;
    case 'minLength':
      return `${path}: expected a non-empty string, received ""`;
    case 'maxLength':
      return `${path}: expected at most ${String(params['limit'])} characters`;
    case 'maxProperties':
      return `${path}: expected at most ${String(params['limit'])} entries`;
    default:
      return `${path}: ${String(error.message)}`;
  }
}

/** `/oidc-issuers/https:~1~1a.example/type` → `oidc-issuers["https://a.example"].type`. */
export function fieldPath(pointer: string): string {
  if (pointer === '') return '(root)';
  let path = '';
  for (const raw of pointer.slice(1).split('/')) {
    path = childPath(path, raw.replace(/~1/g, '/').replace(/~0/g, '~'));
  }
  return path;
}

export function childPath(parent: string, name: string): string {
  if (parent === '' || parent === '(root)')
    return /^[A-Za-z0-9_-]+$/.test(name) ? name : JSON.stringify(name);
  return /^[A-Za-z0-9_-]+$/.test(name) ? `${parent}.${name}` : `${parent}[${JSON.stringify(name)}]`;
}

function typeName(value: unknown): string {
  if (value === null) return 'null';
  return Array.isArray(value) ? 'array' : typeof value;
}

function preview(value: unknown): string {
  if (typeof value !== 'string') return typeName(value);
  return JSON.stringify(value.length > 60 ? `${value.slice(0, 60)}…` : value);
}
