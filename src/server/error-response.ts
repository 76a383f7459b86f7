import { isSigilError, type Logger } from '../core/index.ts';

/** The body of every error response Sigil's own APIs return. */
export interface ErrorBody {
  code: string;
  message: string;
}

export interface ErrorResponse {
  status: number;
  body: ErrorBody;
  headers: Record<string, string>;
}

/**
 * The one place where errors become HTTP statuses. Domain code never picks a status: it throws a
 * SigilError with a code, and the code's suffix decides here. Anything that is not a SigilError is a bug,
 * logged in full and answered with a 500 that leaks nothing.
 */
export function toErrorResponse(error: unknown, log: Logger): ErrorResponse {
  if (isSigilError(error)) {
    const status = statusForCode(error.code);
    const headers: Record<string, string> = status === 503 ? { 'retry-after': '1' } : {};
    if (status >= 500) log.error({ err: error }, 'request failed');
    return { status, headers, body: { code: error.code, message: error.message } };
  }
  if (isBodyParserError(error)) {
    return {
      status: error.status,
      headers: {},
      body: {
        code: error.status === 413 ? 'REQUEST_TOO_LARGE' : 'REQUEST_BODY_INVALID',
        message: error.message,
      },
    };
  }
  log.error({ err: error }, 'unhandled error');
  return { status: 500, headers: {}, body: { code: 'INTERNAL', message: 'internal error' } };
}

const STATUS_BY_SUFFIX: readonly [RegExp, number][] = [
  [/_(NOT_FOUND)$/, 404],
  [/_(CONFLICT|DUPLICATE|EXISTS)$/, 409],
  [/_(TOO_LARGE)$/, 413],
  [/_(UNAUTHENTICATED|TOKEN_INVALID)$/, 401],
  [/_(FORBIDDEN|DENIED)$/, 403],
  [/_(OVERLOADED|UNAVAILABLE|CLOSED)$/, 503],
  [/_(INVALID|MISSING|UNSUPPORTED)$/, 400],
];

export function statusForCode(code: string): number {
  for (const [pattern, status] of STATUS_BY_SUFFIX) if (pattern.test(code)) return status;
  return 500;
}

// express.json() and friends throw http-errors objects carrying `status` and `expose`.
function isBodyParserError(error: unknown): error is { status: number; message: string } {
  if (typeof error !== 'object' || error === null) return false;
  const { status, expose } = error as { status?: unknown; expose?: unknown };
  return typeof status === 'number' && status >= 400 && status < 500 && expose === true;
}
