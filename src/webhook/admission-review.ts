import { decodeUtf8, describeError, encodeBase64, encodeUtf8 } from '../core/index.ts';
import type { JsonPatchOperation } from './digest-patch.ts';
import { WebhookError, expected } from './errors.ts';

/**
 * AdmissionReview in and out (k8s.io/api admission/v1 `types.go`). The API server posts a review with a
 * `request`; the webhook answers with the same apiVersion and kind, the request's uid and a `response`
 * (apiserver `webhook/request/admissionreview.go` `VerifyAdmissionResponse`). v1beta1 has the same
 * fields and is still accepted for old webhook configurations.
 *
 * This runs for every admission (≥ 4,000 reviews/s), so the request is checked by hand after one
 * `JSON.parse`, not by a schema validator. `object`, `oldObject` and `options` stay `unknown`: the
 * workload step (workload.ts) reads what it needs from them and names the fields it rejects.
 */

export const ADMISSION_REVIEW_V1 = 'admission.k8s.io/v1';
export const ADMISSION_REVIEW_V1BETA1 = 'admission.k8s.io/v1beta1';
export type AdmissionReviewApiVersion = typeof ADMISSION_REVIEW_V1 | typeof ADMISSION_REVIEW_V1BETA1;

export type AdmissionOperation = 'CREATE' | 'UPDATE' | 'DELETE' | 'CONNECT';
const OPERATIONS: ReadonlySet<string> = new Set<AdmissionOperation>([
  'CREATE',
  'UPDATE',
  'DELETE',
  'CONNECT',
]);

export interface GroupVersionKind {
  /** `''` for the core group (Pod, ReplicationController). */
  readonly group: string;
  readonly version: string;
  readonly kind: string;
}

export interface GroupVersionResource {
  readonly group: string;
  readonly version: string;
  /** Plural, lower-case: `pods`, `deployments`. */
  readonly resource: string;
}

/** authentication/v1 UserInfo of whoever made the request. */
export interface AdmissionUserInfo {
  readonly username?: string;
  readonly uid?: string;
  readonly groups?: readonly string[];
  readonly extra?: Readonly<Record<string, readonly string[]>>;
}

export interface AdmissionRequest {
  /** The apiVersion of the review this came in; the answer MUST use the same one. */
  readonly apiVersion: AdmissionReviewApiVersion;
  /** Echoed in the response; the API server rejects an answer with another uid. */
  readonly uid: string;
  /** The kind as the webhook registered for it (after conversion), e.g. apps/v1 Deployment. */
  readonly kind: GroupVersionKind;
  readonly resource: GroupVersionResource;
  /** `status`, `scale`, `ephemeralcontainers`, ...; absent for the resource itself. */
  readonly subResource?: string;
  /** The kind, resource and subresource the client actually sent, when they differ. */
  readonly requestKind?: GroupVersionKind;
  readonly requestResource?: GroupVersionResource;
  readonly requestSubResource?: string;
  /** Absent on a CREATE whose object has only `generateName`. */
  readonly name?: string;
  readonly namespace?: string;
  readonly operation: AdmissionOperation;
  readonly userInfo?: AdmissionUserInfo;
  /** The object after the change (absent for DELETE); unchecked JSON. */
  readonly object?: unknown;
  /** The object before the change (UPDATE, DELETE); unchecked JSON. */
  readonly oldObject?: unknown;
  /** A dry run MUST NOT have side effects; it is still checked. */
  readonly dryRun: boolean;
  readonly options?: unknown;
}

type JsonRecord = Record<string, unknown>;

/**
 * Parses an AdmissionReview body. MUST reject, with WEBHOOK_REVIEW_INVALID naming the field, anything
 * that is not JSON, not an AdmissionReview v1/v1beta1, has no request, no uid, or a field of the wrong
 * type. Unknown fields are ignored, as the API server's decoder does.
 */
export function parseAdmissionReview(body: Uint8Array | string): AdmissionRequest {
  let text: string;
  try {
    text = typeof body === 'string' ? body : decodeUtf8(body, 'admission review');
  } catch (cause) {
    throw invalid(describeError(cause), undefined, cause);
  }
  let review: unknown;
  try {
    review = JSON.parse(text) as unknown;
  } catch (cause) {
    throw invalid(`admission review: expected JSON, ${describeError(cause)}`, undefined, cause);
  }
  if (!isRecord(review)) throw invalid(`admission review: ${expected('an object', review)}`);
  const apiVersion = review['apiVersion'];
  if (apiVersion !== ADMISSION_REVIEW_V1 && apiVersion !== ADMISSION_REVIEW_V1BETA1) {
    throw invalid(
      `apiVersion: expected ${ADMISSION_REVIEW_V1} or ${ADMISSION_REVIEW_V1BETA1}, received ${preview(apiVersion)}`,
    );
  }
  if (review['kind'] !== 'AdmissionReview') {
    throw invalid(`kind: expected AdmissionReview, received ${preview(review['kind'])}`);
  }
  const request = review['request'];
  if (!isRecord(request)) throw invalid(`request: ${expected('an object', request)}`);
  const uid = request['uid'];
  if (typeof uid !== 'string' || uid === '') {
    throw invalid(`request.uid: ${expected('a non-empty string', uid)}`);
  }
  return readRequest(apiVersion, uid, request);
}

function readRequest(
  apiVersion: AdmissionReviewApiVersion,
  uid: string,
  request: JsonRecord,
): AdmissionRequest {
  const fail = failingWith(uid);
  const operation = request['operation'];
  if (typeof operation !== 'string' || !OPERATIONS.has(operation)) {
    fail(`request.operation: expected CREATE, UPDATE, DELETE or CONNECT, received ${preview(operation)}`);
  }
  const dryRun = request['dryRun'] ?? false;
  if (typeof dryRun !== 'boolean') fail(`request.dryRun: ${expected('a boolean', dryRun)}`);
  const parsed: Record<string, unknown> = {
    apiVersion,
    uid,
    kind: readGroupVersion(request['kind'], 'request.kind', 'kind', fail),
    resource: readGroupVersion(request['resource'], 'request.resource', 'resource', fail),
    operation,
    dryRun,
  };
  // Optional fields: Go's encoder writes empty strings and null objects; both mean "absent".
  for (const key of ['subResource', 'requestSubResource', 'name', 'namespace'] as const) {
    const value = request[key] ?? '';
    if (typeof value !== 'string') fail(`request.${key}: ${expected('a string', value)}`);
    if (value !== '') parsed[key] = value;
  }
  if (request['requestKind'] != null) {
    parsed['requestKind'] = readGroupVersion(request['requestKind'], 'request.requestKind', 'kind', fail);
  }
  if (request['requestResource'] != null) {
    const field = 'request.requestResource';
    parsed['requestResource'] = readGroupVersion(request['requestResource'], field, 'resource', fail);
  }
  if (request['userInfo'] != null) parsed['userInfo'] = readUserInfo(request['userInfo'], fail);
  for (const key of ['object', 'oldObject', 'options'] as const) {
    if (request[key] != null) parsed[key] = request[key];
  }
  return parsed as unknown as AdmissionRequest;
}

/**
 * A thrower of WEBHOOK_REVIEW_INVALID for review `uid`. Returned rather than declared where it is used:
 * under tsx (`npm start`) every named closure is renamed per call, microseconds per review.
 */
function failingWith(uid: string): (message: string) => never {
  return (message) => {
    throw invalid(message, uid);
  };
}

function readGroupVersion<K extends 'kind' | 'resource'>(
  value: unknown,
  field: string,
  last: K,
  fail: (message: string) => never,
): K extends 'kind' ? GroupVersionKind : GroupVersionResource {
  if (!isRecord(value)) fail(`${field}: ${expected('an object', value)}`);
  const result: Record<string, string> = {};
  for (const key of ['group', 'version', last]) {
    // metav1.GroupVersionKind has no omitempty, but a missing group is the core group all the same.
    const item = value[key] ?? (key === 'group' ? '' : undefined);
    if (typeof item !== 'string') fail(`${field}.${key}: ${expected('a string', item)}`);
    result[key] = item;
  }
  return result as unknown as K extends 'kind' ? GroupVersionKind : GroupVersionResource;
}

function readUserInfo(value: unknown, fail: (message: string) => never): AdmissionUserInfo {
  if (!isRecord(value)) return fail(`request.userInfo: ${expected('an object', value)}`);
  const info: { -readonly [K in keyof AdmissionUserInfo]: AdmissionUserInfo[K] } = {};
  for (const key of ['username', 'uid'] as const) {
    const item = value[key];
    if (item == null) continue;
    if (typeof item !== 'string') fail(`request.userInfo.${key}: ${expected('a string', item)}`);
    info[key] = item;
  }
  if (value['groups'] != null) info.groups = readStrings(value['groups'], 'request.userInfo.groups', fail);
  const extra = value['extra'];
  if (extra != null) {
    if (!isRecord(extra)) fail(`request.userInfo.extra: ${expected('an object', extra)}`);
    const entries: Record<string, readonly string[]> = {};
    for (const [key, item] of Object.entries(extra)) {
      entries[key] = readStrings(item, `request.userInfo.extra[${JSON.stringify(key)}]`, fail);
    }
    info.extra = entries;
  }
  return info;
}

function readStrings(value: unknown, field: string, fail: (message: string) => never): readonly string[] {
  if (!Array.isArray(value)) return fail(`${field}: ${expected('an array of strings', value)}`);
  value.forEach((item, index) => {
    if (typeof item !== 'string') fail(`${field}[${index}]: ${expected('a string', item)}`);
  });
  return value as string[];
}

/** What the webhook answers: the API server reads `response` only. */
export interface AdmissionReviewResponse {
  readonly apiVersion: AdmissionReviewApiVersion;
  readonly kind: 'AdmissionReview';
  readonly response: AdmissionResponse;
}

export interface AdmissionResponse {
  readonly uid: string;
  readonly allowed: boolean;
  /** metav1.Status; the API server shows `message` to the client and uses `code` as the HTTP status. */
  readonly status?: AdmissionStatus;
  readonly warnings?: readonly string[];
  readonly patchType?: 'JSONPatch';
  /** Base64 of the JSON Patch (RFC 6902) document. */
  readonly patch?: string;
}

export interface AdmissionStatus {
  readonly code: number;
  readonly message?: string;
  readonly reason?: string;
}

export interface ReviewResponseOptions {
  readonly uid: string;
  readonly allowed: boolean;
  /** Shown to the client; for a denial, why. */
  readonly message?: string;
  /** HTTP status of a denial. Default 403; 200 for an allowed response that carries a message. */
  readonly code?: number;
  /** metav1.StatusReason. Default `Forbidden` for a denial; none for an allowed response. */
  readonly reason?: string;
  /** Passed through {@link normalizeWarnings}. */
  readonly warnings?: readonly string[];
  /**
   * Mutating webhooks only: the API server fails a validating webhook's answer that carries a patch.
   * Left out of a denial, which nothing would apply.
   */
  readonly patch?: readonly JsonPatchOperation[];
}

/**
 * Builds the AdmissionReview answer. A denial always carries a status (403 Forbidden unless told);
 * an allowed response carries one only when it has a message; warnings and patch are omitted when
 * empty, and `patchType` appears exactly when `patch` does (the API server rejects one without the other).
 */
export function reviewResponse(
  apiVersion: AdmissionReviewApiVersion,
  options: ReviewResponseOptions,
): AdmissionReviewResponse {
  const { uid, allowed, message, reason } = options;
  const response: { -readonly [K in keyof AdmissionResponse]: AdmissionResponse[K] } = { uid, allowed };
  if (!allowed) {
    response.status = {
      code: options.code ?? 403,
      ...(message === undefined ? {} : { message }),
      reason: reason ?? 'Forbidden',
    };
  } else if (message !== undefined) {
    response.status = { code: options.code ?? 200, message, ...(reason === undefined ? {} : { reason }) };
  }
  const warnings = normalizeWarnings(options.warnings ?? []);
  if (warnings.length > 0) response.warnings = warnings;
  if (allowed && options.patch !== undefined && options.patch.length > 0) {
    response.patchType = 'JSONPatch';
    response.patch = encodeBase64(encodeUtf8(JSON.stringify(options.patch)));
  }
  return { apiVersion, kind: 'AdmissionReview', response };
}

/**
 * The answer to a review that could not be handled (WEBHOOK_REVIEW_INVALID and the like): denied with
 * 400 BadRequest and the error's message. `uid` is `''` when the review had none; the API server then
 * treats the call as failed and applies the webhook's failurePolicy. v1 is the default apiVersion
 * because the API server checks the answer's apiVersion only for v1 reviews.
 */
export function errorReviewResponse(
  uid: string | undefined,
  error: unknown,
  apiVersion: AdmissionReviewApiVersion = ADMISSION_REVIEW_V1,
): AdmissionReviewResponse {
  return reviewResponse(apiVersion, {
    uid: uid ?? '',
    allowed: false,
    code: 400,
    reason: 'BadRequest',
    message: describeError(error),
  });
}

// apiserver endpoints/filters/warning.go: once the warnings of one request exceed 4 Ki runes, each is
// cut to 256 runes and those past the total are dropped without a trace.
const WARNING_TOTAL_RUNES = 4 * 1024;
const WARNING_ITEM_RUNES = 256;
/** Room kept for the "N more warnings omitted" line. */
const OMITTED_NOTE_RUNES = 40;
// Go's unicode.IsControl: C0, DEL and C1. util/net NewWarningHeader drops a warning containing one.
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f-\u009f]/g;

/**
 * Warnings as the API server will pass them on, so that none is lost silently: control characters
 * (which make the API server drop the warning) become spaces, empty and duplicate warnings go (it
 * dedupes too), and when the total exceeds 4 Ki runes each warning is cut to 256 runes (ending in `…`)
 * and those that still do not fit are replaced by one `N more warnings omitted` line.
 */
export function normalizeWarnings(warnings: readonly string[]): string[] {
  const seen = new Set<string>();
  let length = 0;
  for (const warning of warnings) {
    const text = warning.toWellFormed().replace(CONTROL_CHARACTERS, ' ').trim();
    if (text === '' || seen.has(text)) continue;
    seen.add(text);
    length += text.length;
  }
  const cleaned = [...seen];
  // UTF-16 length bounds the rune count from above, so the exact count is needed only near the limit.
  if (length <= WARNING_TOTAL_RUNES || runeCount(cleaned.join('')) <= WARNING_TOTAL_RUNES) return cleaned;

  const fitted: string[] = [];
  let written = 0;
  for (const [index, warning] of cleaned.entries()) {
    const runes = Array.from(warning);
    const text =
      runes.length > WARNING_ITEM_RUNES ? `${runes.slice(0, WARNING_ITEM_RUNES - 1).join('')}…` : warning;
    const size = Math.min(runes.length, WARNING_ITEM_RUNES);
    const reserve = index < cleaned.length - 1 ? OMITTED_NOTE_RUNES : 0;
    if (written + size + reserve > WARNING_TOTAL_RUNES) {
      const omitted = cleaned.length - index;
      fitted.push(`${omitted} more warning${omitted === 1 ? '' : 's'} omitted`);
      break;
    }
    fitted.push(text);
    written += size;
  }
  return fitted;
}

function runeCount(text: string): number {
  let count = 0;
  for (const _ of text) count += 1;
  return count;
}

function invalid(message: string, uid?: string, cause?: unknown): WebhookError {
  return new WebhookError('WEBHOOK_REVIEW_INVALID', message, {
    ...(uid === undefined ? {} : { uid }),
    ...(cause === undefined ? {} : { cause }),
  });
}

function isRecord(value: unknown): value is JsonRecord {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function preview(value: unknown): string {
  if (value === undefined) return 'nothing';
  const text = JSON.stringify(value) ?? typeof value;
  return text.length > 80 ? `${text.slice(0, 80)}…` : text;
}
