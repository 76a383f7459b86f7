import { describeError, timeoutSignal, type Clock, type Logger } from '../../core/index.ts';
import { CaError } from '../errors.ts';
import { importVerificationKey, keyFits, type TokenAlgorithm, type VerificationKey } from './jws.ts';

/** The subset of WHATWG `fetch` the verifier uses; inject one to control transport in tests and proxies. */
export type FetchFunction = (
  url: string,
  init: { signal: AbortSignal; headers: Record<string, string>; redirect: 'follow' },
) => Promise<Response>;

export interface IssuerKeysSettings {
  readonly fetch: FetchFunction;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Least time between two JWKS fetches, in ms; bounds refetches caused by unknown `kid`s. */
  readonly refreshCooldownMs: number;
  /** Keys older than this are refetched (discovery too) on next use, in ms. */
  readonly maxAgeMs: number;
  /** After a failed fetch with no keys to fall back on, how long to answer with that failure, in ms. */
  readonly retryAfterFailureMs: number;
  readonly fetchTimeoutMs: number;
  readonly maxResponseBytes: number;
}

const MAX_KEYS = 100;

/**
 * One issuer's signing keys: OIDC Discovery 1.0 §4 (`<iss>/.well-known/openid-configuration`, whose
 * `issuer` MUST equal the token's) and its `jwks_uri`, fetched once and cached as decoded KeyObjects.
 * A `kid` not in the cache refetches the JWKS — at most once per cooldown, one fetch in flight — so key
 * rotation is picked up and a flood of made-up kids costs the issuer nothing. Stale keys keep serving
 * while the issuer is unreachable.
 */
export class IssuerKeys {
  #keys: readonly VerificationKey[] | undefined;
  #jwksUri: string | undefined;
  #fetchedAt = -Infinity;
  #attemptedAt = -Infinity;
  #failure: { error: CaError; at: number } | undefined;
  #inFlight: Promise<void> | undefined;

  constructor(
    readonly issuerUrl: string,
    private readonly settings: IssuerKeysSettings,
  ) {}

  /** The cached keys that may have signed a token with this `kid` and algorithm, refreshing as needed. */
  async candidates(keyId: string | undefined, algorithm: TokenAlgorithm): Promise<VerificationKey[]> {
    const now = this.settings.clock.now().getTime();
    if (this.#keys === undefined || now - this.#fetchedAt >= this.settings.maxAgeMs)
      await this.#refresh(now, true);
    let found = select(this.#keys ?? [], keyId, algorithm);
    if (found.length === 0 && now - this.#attemptedAt >= this.settings.refreshCooldownMs) {
      await this.#refresh(now, false);
      found = select(this.#keys ?? [], keyId, algorithm);
    }
    return found;
  }

  async #refresh(now: number, withDiscovery: boolean): Promise<void> {
    if (this.#inFlight) return this.#inFlight;
    if (
      this.#keys === undefined &&
      this.#failure &&
      now - this.#failure.at < this.settings.retryAfterFailureMs
    )
      throw this.#failure.error;
    if (this.#keys !== undefined && now - this.#attemptedAt < this.settings.refreshCooldownMs) return;
    this.#attemptedAt = now;
    this.#inFlight = this.#fetchKeys(withDiscovery || this.#jwksUri === undefined)
      .then((keys) => {
        this.#keys = keys;
        this.#fetchedAt = now;
        this.#failure = undefined;
        this.settings.logger.info({ issuer: this.issuerUrl, keys: keys.length }, 'fetched issuer keys');
      })
      .catch((error: unknown) => {
        const failure =
          error instanceof CaError
            ? error
            : new CaError('CA_ISSUER_UNAVAILABLE', `${this.issuerUrl}: ${describeError(error)}`, {
                cause: error,
              });
        this.#failure = { error: failure, at: now };
        if (this.#keys === undefined) throw failure;
        this.settings.logger.warn(
          { issuer: this.issuerUrl, err: failure },
          'issuer keys refresh failed; using cached keys',
        );
      })
      .finally(() => {
        this.#inFlight = undefined;
      });
    return this.#inFlight;
  }

  async #fetchKeys(withDiscovery: boolean): Promise<VerificationKey[]> {
    if (withDiscovery) {
      // go-oidc NewProvider: the issuer without a trailing slash, then the well-known path.
      const url = `${this.issuerUrl.replace(/\/$/, '')}/.well-known/openid-configuration`;
      const discovery = await this.#fetchJson(url, 'discovery document');
      if (discovery['issuer'] !== this.issuerUrl)
        throw new CaError(
          'CA_ISSUER_INVALID',
          `${url}: expected issuer ${JSON.stringify(this.issuerUrl)}, received ${preview(discovery['issuer'])}`,
        );
      const jwksUri = discovery['jwks_uri'];
      if (typeof jwksUri !== 'string' || !/^https?:\/\//.test(jwksUri))
        throw new CaError(
          'CA_ISSUER_INVALID',
          `${url}: expected jwks_uri to be an http(s) URL, received ${preview(jwksUri)}`,
        );
      this.#jwksUri = jwksUri;
    }
    const jwksUri = this.#jwksUri!;
    const jwks = await this.#fetchJson(jwksUri, 'JWKS');
    const entries = jwks['keys'];
    if (!Array.isArray(entries))
      throw new CaError(
        'CA_ISSUER_INVALID',
        `${jwksUri}: expected a JWKS with a keys array, received ${preview(entries)}`,
      );
    const keys: VerificationKey[] = [];
    for (const entry of entries.slice(0, MAX_KEYS)) {
      const key = importVerificationKey(entry);
      if (typeof key === 'string')
        this.settings.logger.debug({ issuer: this.issuerUrl, reason: key }, 'skipped issuer key');
      else keys.push(key);
    }
    if (keys.length === 0)
      throw new CaError(
        'CA_ISSUER_INVALID',
        `${jwksUri}: expected at least one usable signing key, received none`,
      );
    return keys;
  }

  async #fetchJson(url: string, what: string): Promise<Record<string, unknown>> {
    // One deadline for the request and its body.
    const deadline = timeoutSignal(this.settings.fetchTimeoutMs);
    try {
      return await this.#fetchJsonBefore(url, what, deadline.signal);
    } finally {
      deadline.clear();
    }
  }

  async #fetchJsonBefore(url: string, what: string, signal: AbortSignal): Promise<Record<string, unknown>> {
    let response: Response;
    try {
      const { fetch } = this.settings;
      response = await fetch(url, {
        signal,
        headers: { accept: 'application/json' },
        redirect: 'follow',
      });
    } catch (cause) {
      throw new CaError('CA_ISSUER_UNAVAILABLE', `${url}: ${what} unreachable, ${describeError(cause)}`, {
        cause,
      });
    }
    if (response.status !== 200) {
      await response.body?.cancel().catch(() => undefined);
      const code =
        response.status >= 500 || response.status === 429 ? 'CA_ISSUER_UNAVAILABLE' : 'CA_ISSUER_INVALID';
      throw new CaError(code, `${url}: expected ${what} with status 200, received ${response.status}`);
    }
    const text = await readBounded(response, this.settings.maxResponseBytes, url);
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      throw new CaError('CA_ISSUER_INVALID', `${url}: expected ${what} as JSON`);
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value))
      throw new CaError('CA_ISSUER_INVALID', `${url}: expected ${what} as a JSON object`);
    return value as Record<string, unknown>;
  }
}

function select(
  keys: readonly VerificationKey[],
  keyId: string | undefined,
  algorithm: TokenAlgorithm,
): VerificationKey[] {
  // With a kid, only that key; without one, every key that fits (go-oidc tries them all).
  return keys.filter((key) => (keyId === undefined || key.keyId === keyId) && keyFits(key, algorithm));
}

async function readBounded(response: Response, limit: number, url: string): Promise<string> {
  const declared = Number(response.headers.get('content-length') ?? '0');
  if (declared > limit) {
    await response.body?.cancel().catch(() => undefined);
    throw new CaError('CA_ISSUER_INVALID', `${url}: expected at most ${limit} bytes, received ${declared}`);
  }
  if (!response.body) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of response.body as AsyncIterable<Uint8Array>) {
    size += chunk.byteLength;
    // Throwing out of for-await cancels the stream.
    if (size > limit) throw new CaError('CA_ISSUER_INVALID', `${url}: expected at most ${limit} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function preview(value: unknown): string {
  if (typeof value !== 'string') return value === undefined ? 'nothing' : typeof value;
  return JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}…` : value);
}
