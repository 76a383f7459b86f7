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

/** Codes whose status their suffix would get wrong; looked up before STATUS_BY_SUFFIX. */
const STATUS_BY_CODE: Readonly<Record<string, number>> = {
  // An identity token the CA does not accept (Fulcio answers codes.Unauthenticated).
  CA_TOKEN_EXPIRED: 401,
  CA_TOKEN_NOT_YET_VALID: 401,
  CA_TOKEN_AUDIENCE: 401,
  CA_TOKEN_ALGORITHM: 401,
  CA_ISSUER_UNKNOWN: 401,
  CA_EMAIL_UNVERIFIED: 401,
  CA_CLAIM_MISSING: 401,
  CA_CLAIM_INVALID: 401,
  // The token's issuer answered with a discovery document or JWKS the CA cannot use.
  CA_ISSUER_INVALID: 502,
  // The CA's own issuer configuration; not the caller's fault.
  CA_CONFIG_INVALID: 500,
  // The server's own TLS certificate or key files (raised at start); never the caller's fault.
  SERVER_TLS_INVALID: 500,
  // A certificate chain the CT log refuses is a bad request, whatever its suffix says (RFC 6962 §4).
  CT_CHAIN_EMPTY: 400,
  CT_CHAIN_TOO_LONG: 400,
  CT_CERTIFICATE_TOO_LARGE: 400,
  CT_CHAIN_UNTRUSTED: 400,
  CT_PRECERT_EXPECTED: 400,
  CT_PRECERT_UNEXPECTED: 400,
};

export function statusForCode(code: string): number {
  if (Object.hasOwn(STATUS_BY_CODE, code)) return STATUS_BY_CODE[code]!;
  for (const [pattern, status] of STATUS_BY_SUFFIX) if (pattern.test(code)) return status;
  return 500;
}

// express.json() and friends throw http-errors objects carrying `status` and `expose`.
function isBodyParserError(error: unknown): error is { status: number; message: string } {
  if (typeof error !== 'object' || error === null) return false;
  const { status, expose } = error as { status?: unknown; expose?: unknown };
  return typeof status === 'number' && status >= 400 && status < 500 && expose === true;
}
