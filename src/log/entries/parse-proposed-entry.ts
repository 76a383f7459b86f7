import { assertNever } from '../../core/index.ts';
import { LogError } from '../errors.ts';
import { parseDsseV001 } from './dsse-v001.ts';
import { parseDsseV002, type DsseRequestJson } from './dsse-v002.ts';
import {
  assertEnvelopeLength,
  resolveEntryLimits,
  type ParseEntryOptions,
  type ResolvedEntryLimits,
} from './entry-limits.ts';
import { createEntryRequestSchema } from './entry-schemas.ts';
import type { EntryApi, RekorEntry } from './entry.types.ts';
import { parseHashedRekordV001 } from './hashedrekord-v001.ts';
import { parseHashedRekordV002, type HashedRekordRequestJson } from './hashedrekord-v002.ts';
import { parseIntotoV002 } from './intoto-v002.ts';
import { compileAssertion, preview } from './schema-validation.ts';

/**
 * The entry-kind registry: turns a request body into a validated, verified {@link RekorEntry}.
 *
 * - `v1`: a Rekor v1 ProposedEntry `{"apiVersion","kind","spec"}` (sigstore/rekor `openapi.yaml`,
 *   `pkg/types/entries.go` NewEntry) of kind hashedrekord 0.0.1, dsse 0.0.1 or intoto 0.0.2.
 * - `v2`: a Rekor v2 CreateEntryRequest in protojson (sigstore/rekor-tiles `api/proto/rekor/v2/
 *   rekor_service.proto`) holding exactly one of `hashedRekordRequestV002` or `dsseRequestV002`;
 *   unknown fields are refused, as the upstream HTTP gateway refuses them.
 *
 * Throws LogError: LOG_ENTRY_INVALID (malformed, every schema error in one message with its field
 * path), LOG_ENTRY_TOO_LARGE (a field over its bound), LOG_ENTRY_UNSUPPORTED (unknown kind or version,
 * key type or key/digest pairing not permitted), LOG_SIGNATURE_INVALID (a signature does not verify).
 * Options are validated first and misuse throws TypeError.
 */
export function parseProposedEntry(body: unknown, api: EntryApi, options?: ParseEntryOptions): RekorEntry {
  const limits = resolveEntryLimits(options);
  switch (api) {
    case 'v1':
      return parseV1(body, limits);
    case 'v2':
      return parseV2(body, limits);
    default:
      return assertNever(api, 'entry api');
  }
}

const V1_KINDS = ['hashedrekord 0.0.1', 'dsse 0.0.1', 'intoto 0.0.2'];

function parseV1(body: unknown, limits: ResolvedEntryLimits): RekorEntry {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new LogError(
      'LOG_ENTRY_INVALID',
      `(root): expected a ProposedEntry object, received ${describe(body)}`,
    );
  }
  const { kind, apiVersion } = body as Record<string, unknown>;
  const problems = [
    typeof kind === 'string' ? undefined : `kind: expected string, received ${describe(kind)}`,
    typeof apiVersion === 'string'
      ? undefined
      : `apiVersion: expected string, received ${describe(apiVersion)}`,
  ].filter((problem) => problem !== undefined);
  if (problems.length > 0) throw new LogError('LOG_ENTRY_INVALID', problems.join('; '));
  const type = `${String(kind)}/${String(apiVersion)}`;
  switch (type) {
    case 'hashedrekord/0.0.1':
      return parseHashedRekordV001(body);
    case 'dsse/0.0.1':
      return parseDsseV001(body, limits);
    case 'intoto/0.0.2':
      return parseIntotoV002(body, limits);
    default:
      throw new LogError(
        'LOG_ENTRY_UNSUPPORTED',
        `kind: expected one of ${V1_KINDS.join(', ')}, received ${preview(kind)} ${preview(apiVersion)}`,
      );
  }
}

interface CreateEntryRequestJson {
  hashedRekordRequestV002?: HashedRekordRequestJson;
  dsseRequestV002?: DsseRequestJson;
}

const assertCreateEntryRequest = compileAssertion<CreateEntryRequestJson>(createEntryRequestSchema);

function parseV2(body: unknown, limits: ResolvedEntryLimits): RekorEntry {
  assertEnvelopeLength(body, ['dsseRequestV002', 'envelope', 'payload'], limits);
  const request = assertCreateEntryRequest(body);
  const { hashedRekordRequestV002: hashedRekord, dsseRequestV002: dsse } = request;
  if (hashedRekord !== undefined && dsse !== undefined) {
    throw new LogError(
      'LOG_ENTRY_INVALID',
      '(root): expected one of hashedRekordRequestV002 or dsseRequestV002, received both',
    );
  }
  if (hashedRekord !== undefined) return parseHashedRekordV002(hashedRekord, 'hashedRekordRequestV002');
  if (dsse !== undefined) return parseDsseV002(dsse, 'dsseRequestV002');
  throw new LogError(
    'LOG_ENTRY_INVALID',
    '(root): expected one of hashedRekordRequestV002 or dsseRequestV002, received neither',
  );
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}
