import { silentLogger, systemClock, type Clock, type Logger } from '../../core/index.ts';
import { CaError } from '../errors.ts';
import { describeClaim, type TokenClaims } from './claims.ts';
import { findIssuer } from './issuer-config.ts';
import type { IssuerConfig, OidcIssuer } from './issuer-config.types.ts';
import { IssuerKeys, type FetchFunction, type IssuerKeysSettings } from './issuer-keys.ts';
import { parseCompactToken, verifyTokenSignature, type ParsedToken, type TokenAlgorithm } from './jws.ts';
import { principalFromClaims } from './principal.ts';
import type { Principal } from './principal.types.ts';

export interface TokenVerifierOptions {
  /** Which issuers are trusted and how their tokens map to principals (parseIssuerConfig). */
  config: IssuerConfig;
  /** Fetches discovery documents and JWKS. Default: the global `fetch`. */
  fetch?: FetchFunction;
  /** The time tokens are checked against. Default: the system clock. */
  clock?: Clock;
  /** Tolerance for `exp`, `nbf` and `iat`, in seconds. Default 60. */
  clockSkewSeconds?: number;
  /** Least time between two JWKS fetches of one issuer (unknown `kid`s), in seconds. Default 30. */
  jwksRefreshCooldownSeconds?: number;
  /** Age after which an issuer's discovery document and keys are fetched again, in seconds. Default 3600. */
  jwksMaxAgeSeconds?: number;
  /** After a fetch failure with nothing cached, how long tokens of that issuer fail fast, in seconds. Default 5. */
  issuerRetrySeconds?: number;
  /** Timeout of one discovery or JWKS request, in milliseconds. Default 10000 (Fulcio's discovery timeout). */
  fetchTimeoutMilliseconds?: number;
  /** Largest discovery document or JWKS accepted, in bytes. Default 1 MiB. */
  maxIssuerResponseBytes?: number;
  /** Longest token accepted, in characters. Default 16384. */
  maxTokenLength?: number;
  /** Meta-issuer (wildcard) issuers whose keys are kept, least recently used dropped. Default 100 (Fulcio's LRU). */
  maxCachedMetaIssuers?: number;
  /** Default: silent. */
  logger?: Logger;
}

/** A token whose signature, issuer, validity period and audience were checked. */
export interface VerifiedToken {
  readonly issuer: OidcIssuer;
  readonly claims: TokenClaims;
  readonly algorithm: TokenAlgorithm;
  readonly keyId?: string;
}

export interface TokenVerifier {
  /** Checks a compact JWT and returns its claims. Throws CaError; never echoes the token. */
  verify(token: string): Promise<VerifiedToken>;
  /** `verify`, then the principal its issuer type maps the claims to (principalFromClaims). */
  authenticate(token: string): Promise<Principal>;
}

/**
 * The OIDC identity-token check of a Fulcio-compatible CA (sigstore/fulcio `pkg/server` +
 * coreos/go-oidc `IDTokenVerifier`), in this order: shape and algorithm, issuer allow-list (or a
 * meta-issuer match), signature by a key from the issuer's JWKS, `exp`/`nbf`/`iat` with skew, audience =
 * the issuer's client ID. Options are checked here; bad ones throw TypeError.
 */
export function createTokenVerifier(options: TokenVerifierOptions): TokenVerifier {
  const resolved = resolveOptions(options);
  const { config, clock } = resolved;
  resolved.keys.logger.info(
    {
      issuers: [...config.oidcIssuers.keys()],
      metaIssuers: config.metaIssuers.map((meta) => meta.pattern),
      clockSkewSeconds: resolved.clockSkewMs / 1000,
      jwksRefreshCooldownSeconds: resolved.keys.refreshCooldownMs / 1000,
      jwksMaxAgeSeconds: resolved.keys.maxAgeMs / 1000,
    },
    'identity token verifier configured',
  );
  const fixedKeys = new Map<string, IssuerKeys>();
  const metaKeys = new Map<string, IssuerKeys>();

  const keysOf = (issuerUrl: string): IssuerKeys => {
    if (config.oidcIssuers.has(issuerUrl)) {
      let keys = fixedKeys.get(issuerUrl);
      if (!keys) fixedKeys.set(issuerUrl, (keys = new IssuerKeys(issuerUrl, resolved.keys)));
      return keys;
    }
    let keys = metaKeys.get(issuerUrl);
    if (keys)
      metaKeys.delete(issuerUrl); // re-inserted below: most recently used last
    else keys = new IssuerKeys(issuerUrl, resolved.keys);
    metaKeys.set(issuerUrl, keys);
    if (metaKeys.size > resolved.maxCachedMetaIssuers) metaKeys.delete(metaKeys.keys().next().value!);
    return keys;
  };

  const verify = async (token: string): Promise<VerifiedToken> => {
    if (typeof token !== 'string') throw new CaError('CA_TOKEN_INVALID', 'token: expected a string');
    const parsed = parseCompactToken(token, resolved.maxTokenLength);
    const issuer = trustedIssuer(parsed.claims, config);
    await checkSignature(parsed, keysOf(issuer.issuerUrl));
    checkValidity(parsed.claims, clock.now().getTime(), resolved.clockSkewMs);
    checkAudience(parsed.claims, issuer.clientId);
    return {
      issuer,
      claims: parsed.claims,
      algorithm: parsed.algorithm,
      ...(parsed.keyId !== undefined && { keyId: parsed.keyId }),
    };
  };

  return Object.freeze({
    verify,
    async authenticate(token: string): Promise<Principal> {
      const verified = await verify(token);
      return principalFromClaims(verified.claims, verified.issuer, config);
    },
  });
}

function trustedIssuer(claims: TokenClaims, config: IssuerConfig): OidcIssuer {
  const iss = claims['iss'];
  if (typeof iss !== 'string' || iss === '')
    throw new CaError(
      'CA_TOKEN_INVALID',
      `iss: expected a non-empty string claim, received ${describeClaim(iss)}`,
    );
  const issuer = findIssuer(config, iss);
  if (!issuer)
    throw new CaError(
      'CA_ISSUER_UNKNOWN',
      `iss: expected an issuer this CA trusts, received ${describeClaim(iss)}`,
    );
  return issuer;
}

async function checkSignature(token: ParsedToken, keys: IssuerKeys): Promise<void> {
  const candidates = await keys.candidates(token.keyId, token.algorithm);
  if (candidates.length === 0)
    throw new CaError(
      'CA_TOKEN_INVALID',
      token.keyId === undefined
        ? `kid: expected a ${token.algorithm} key in the JWKS of ${keys.issuerUrl}, received a token without kid and found none`
        : `kid: expected a ${token.algorithm} key of ${keys.issuerUrl}, received ${describeClaim(token.keyId)}, which its JWKS lacks`,
    );
  if (!candidates.some((key) => verifyTokenSignature(token, key)))
    throw new CaError(
      'CA_TOKEN_INVALID',
      `signature: expected a valid ${token.algorithm} signature by ${keys.issuerUrl}`,
    );
}

/** RFC 7519 §4.1.4–4.1.6; `exp` is required, as go-oidc requires it. */
function checkValidity(claims: TokenClaims, nowMs: number, skewMs: number): void {
  const exp = numericDate(claims, 'exp', true)!;
  if (nowMs - skewMs >= exp * 1000)
    throw new CaError(
      'CA_TOKEN_EXPIRED',
      `exp: expected a time after ${isoTime(nowMs - skewMs)} (now less skew), received ${isoTime(exp * 1000)}`,
    );
  const nbf = numericDate(claims, 'nbf', false);
  if (nbf !== undefined && nbf * 1000 > nowMs + skewMs)
    throw new CaError(
      'CA_TOKEN_NOT_YET_VALID',
      `nbf: expected a time before ${isoTime(nowMs + skewMs)} (now plus skew), received ${isoTime(nbf * 1000)}`,
    );
  const iat = numericDate(claims, 'iat', false);
  if (iat !== undefined && iat * 1000 > nowMs + skewMs)
    throw new CaError(
      'CA_TOKEN_NOT_YET_VALID',
      `iat: expected a time before ${isoTime(nowMs + skewMs)} (now plus skew), received ${isoTime(iat * 1000)}`,
    );
}

function numericDate(claims: TokenClaims, name: string, required: boolean): number | undefined {
  const value = claims[name];
  if (value === undefined && !required) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value))
    throw new CaError(
      'CA_TOKEN_INVALID',
      `${name}: expected a NumericDate (seconds since the epoch), received ${describeClaim(value)}`,
    );
  return value;
}

/** RFC 7519 §4.1.3: `aud` is one string or an array of strings; the client ID MUST be among them. */
function checkAudience(claims: TokenClaims, clientId: string): void {
  const aud = claims['aud'];
  const audiences = typeof aud === 'string' ? [aud] : Array.isArray(aud) ? aud : [];
  if (!audiences.includes(clientId))
    throw new CaError(
      'CA_TOKEN_AUDIENCE',
      `aud: expected ${JSON.stringify(clientId)}, received ${Array.isArray(aud) ? `[${aud.slice(0, 5).map(describeClaim).join(', ')}]` : describeClaim(aud)}`,
    );
}

function isoTime(ms: number): string {
  const date = new Date(ms);
  return Number.isNaN(date.getTime()) ? String(ms / 1000) : date.toISOString();
}

interface ResolvedOptions {
  readonly config: IssuerConfig;
  readonly clock: Clock;
  readonly clockSkewMs: number;
  readonly maxTokenLength: number;
  readonly maxCachedMetaIssuers: number;
  readonly keys: IssuerKeysSettings;
}

function resolveOptions(options: TokenVerifierOptions): ResolvedOptions {
  if (typeof options !== 'object' || options === null || typeof options.config !== 'object')
    throw new TypeError('createTokenVerifier: expected options with an issuer config');
  const seconds = (value: number | undefined, fallback: number, name: string): number => {
    const resolved = value ?? fallback;
    if (!Number.isFinite(resolved) || resolved < 0)
      throw new TypeError(`${name}: expected a non-negative number of seconds, received ${String(value)}`);
    return resolved * 1000;
  };
  const positiveInteger = (value: number | undefined, fallback: number, name: string): number => {
    const resolved = value ?? fallback;
    if (!Number.isSafeInteger(resolved) || resolved < 1)
      throw new TypeError(`${name}: expected a positive integer, received ${String(value)}`);
    return resolved;
  };
  const fetchFunction: FetchFunction | undefined =
    options.fetch ??
    (typeof globalThis.fetch === 'function' ? (url, init) => globalThis.fetch(url, init) : undefined);
  if (typeof fetchFunction !== 'function') throw new TypeError('fetch: expected a fetch function');
  return Object.freeze({
    config: options.config,
    clock: options.clock ?? systemClock,
    clockSkewMs: seconds(options.clockSkewSeconds, 60, 'clockSkewSeconds'),
    maxTokenLength: positiveInteger(options.maxTokenLength, 16 * 1024, 'maxTokenLength'),
    maxCachedMetaIssuers: positiveInteger(options.maxCachedMetaIssuers, 100, 'maxCachedMetaIssuers'),
    keys: Object.freeze({
      fetch: fetchFunction,
      clock: options.clock ?? systemClock,
      logger: options.logger ?? silentLogger,
      refreshCooldownMs: seconds(options.jwksRefreshCooldownSeconds, 30, 'jwksRefreshCooldownSeconds'),
      maxAgeMs: seconds(options.jwksMaxAgeSeconds, 3600, 'jwksMaxAgeSeconds'),
      retryAfterFailureMs: seconds(options.issuerRetrySeconds, 5, 'issuerRetrySeconds'),
      fetchTimeoutMs: positiveInteger(options.fetchTimeoutMilliseconds, 10_000, 'fetchTimeoutMilliseconds'),
      maxResponseBytes: positiveInteger(
        options.maxIssuerResponseBytes,
        1024 * 1024,
        'maxIssuerResponseBytes',
      ),
    }),
  });
}
