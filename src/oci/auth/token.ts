import { decodeUtf8, parseJson, type Clock } from '../../core/index.ts';
import { OciError } from '../errors.ts';
import { discard, readBody, type Transport } from '../internal/transport.ts';
import { describeCredential, type RegistryCredential } from './credentials.ts';

/**
 * The distribution token protocol (docs/spec/auth/token.md, oauth.md): GET the realm with `service` and
 * `scope`, Basic auth when the registry has a username/password; or, with an identity token, POST
 * `grant_type=refresh_token` (OAuth2). The answer's `token` (or `access_token`) is valid for
 * `expires_in` seconds, 60 when absent.
 */

export interface BearerToken {
  readonly token: string;
  /** Epoch milliseconds after which the token is not used any more. */
  readonly expiresAt: number;
}

export interface TokenRequest {
  readonly registry: string;
  readonly realm: string;
  readonly service: string | undefined;
  readonly scopes: readonly string[];
  readonly credential: RegistryCredential;
  readonly transport: Transport;
  readonly clock: Clock;
  readonly isPlainHttpAllowed: (host: string) => boolean;
}

const DEFAULT_LIFETIME_SECONDS = 60;
const MAX_TOKEN_RESPONSE_BYTES = 1024 * 1024;
/** Stop using a token a little before it expires: 10% of its life, at most 5 s. */
const EXPIRY_MARGIN = (lifetimeMs: number) => Math.min(5_000, lifetimeMs / 10);

/** Fetches a token for `scopes` from `realm`. Throws OCI_UNAUTHORIZED, OCI_INSECURE_REFUSED, OCI_REGISTRY_*. */
export async function fetchBearerToken(request: TokenRequest): Promise<BearerToken> {
  const { registry, credential } = request;
  const realm = realmUrl(request);
  const form = new URLSearchParams();
  if (request.service) form.set('service', request.service);
  const headers: Record<string, string> = { accept: 'application/json' };
  let body: string | undefined;
  if (credential.kind === 'identity-token') {
    form.set('grant_type', 'refresh_token');
    form.set('refresh_token', credential.token);
    form.set('client_id', 'sigil');
    form.set('scope', request.scopes.join(' '));
    headers['content-type'] = 'application/x-www-form-urlencoded';
    body = form.toString();
  } else {
    for (const scope of request.scopes) form.append('scope', scope);
    if (credential.kind === 'basic') {
      form.set('account', credential.username);
      const pair = Buffer.from(`${credential.username}:${credential.password}`, 'utf8').toString('base64');
      headers.authorization = `Basic ${pair}`;
    }
    for (const [name, value] of form) realm.searchParams.append(name, value);
  }

  const response = await request.transport.send({
    method: body === undefined ? 'GET' : 'POST',
    url: realm,
    headers,
    ...(body === undefined ? {} : { body }),
  });
  const what = `token server ${realm.host} for registry ${registry}`;
  if (response.status === 401 || response.status === 403) {
    await discard(response.body);
    throw new OciError(
      'OCI_UNAUTHORIZED',
      `${what} refused a token for ${request.scopes.join(' ')} (${response.status}), authenticating ${describeCredential(credential)}`,
    );
  }
  if (response.status !== 200) {
    await discard(response.body);
    throw new OciError(
      response.status === 429 || response.status >= 500 ? 'OCI_REGISTRY_UNAVAILABLE' : 'OCI_REGISTRY_ERROR',
      `${what}: expected 200, received ${response.status}`,
    );
  }
  const { bytes } = await readBody(response, { maxBytes: MAX_TOKEN_RESPONSE_BYTES, what });
  return parseTokenResponse(bytes, what, request.clock.now().getTime());
}

/** `{token | access_token, expires_in?}` → a token with its local expiry. */
export function parseTokenResponse(bytes: Uint8Array, what: string, now: number): BearerToken {
  let json: unknown;
  try {
    json = parseJson(decodeUtf8(bytes, what), { field: what });
  } catch (cause) {
    throw new OciError('OCI_REGISTRY_ERROR', `${what}: expected a JSON token response`, { cause });
  }
  const record = typeof json === 'object' && json !== null ? (json as Record<string, unknown>) : {};
  const token = [record.token, record.access_token].find(
    (value): value is string => typeof value === 'string' && value.length > 0,
  );
  if (token === undefined || !/^[\x21-\x7e]+$/.test(token)) {
    throw new OciError(
      'OCI_REGISTRY_ERROR',
      `${what}: expected a non-empty "token" or "access_token" string of visible ASCII`,
    );
  }
  const expiresIn = record.expires_in;
  const seconds =
    typeof expiresIn === 'number' && Number.isFinite(expiresIn) && expiresIn > 0
      ? expiresIn
      : DEFAULT_LIFETIME_SECONDS;
  const lifetimeMs = seconds * 1000;
  return { token, expiresAt: now + lifetimeMs - EXPIRY_MARGIN(lifetimeMs) };
}

function realmUrl(request: TokenRequest): URL {
  let realm: URL;
  try {
    realm = new URL(request.realm);
  } catch {
    throw new OciError(
      'OCI_REGISTRY_ERROR',
      `registry ${request.registry} named a token realm that is not a URL: ${JSON.stringify(request.realm.slice(0, 200))}`,
    );
  }
  if (realm.protocol === 'https:') return realm;
  if (realm.protocol === 'http:' && request.isPlainHttpAllowed(realm.host)) return realm;
  throw new OciError(
    'OCI_INSECURE_REFUSED',
    `registry ${request.registry} named token realm ${realm.origin}: expected https (plain http only for loopback or allowed insecure hosts)`,
  );
}
