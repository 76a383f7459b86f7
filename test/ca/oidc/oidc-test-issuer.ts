// A real OIDC issuer for tests: node:http on 127.0.0.1:0 serving a discovery document and a JWKS that
// tests can change (key rotation, a lying `issuer`, errors), counting the requests it gets. Tokens are
// signed with jose, so the verifier under test is checked against an independent JWS implementation.
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, SignJWT, type JWK } from 'jose';

export type TestAlgorithm = 'ES256' | 'ES384' | 'ES512' | 'RS256' | 'PS256' | 'EdDSA';

export interface TestKey {
  readonly kid: string;
  readonly alg: TestAlgorithm;
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
}

export function testKey(alg: TestAlgorithm, kid: string): TestKey {
  const pair =
    alg === 'RS256' || alg === 'PS256'
      ? generateKeyPairSync('rsa', { modulusLength: 2048 })
      : alg === 'EdDSA'
        ? generateKeyPairSync('ed25519')
        : generateKeyPairSync('ec', { namedCurve: { ES256: 'P-256', ES384: 'P-384', ES512: 'P-521' }[alg] });
  return { kid, alg, privateKey: pair.privateKey, publicKey: pair.publicKey };
}

export async function publicJwk(key: TestKey): Promise<JWK> {
  return { ...(await exportJWK(key.publicKey)), kid: key.kid, alg: key.alg, use: 'sig' };
}

export interface TestIssuer {
  readonly url: string;
  readonly requests: { discovery: number; jwks: number };
  /** Keys in the JWKS, in order; replace the array to rotate. */
  keys: TestKey[];
  /** What the discovery document claims as `issuer`. Default: the issuer's own URL. */
  discoveryIssuer: string | undefined;
  /** When set, every request gets this status with an empty body. */
  failWith: number | undefined;
  close(): Promise<void>;
}

/** Starts an issuer whose URL is `http://127.0.0.1:<port><path>`. */
export async function startTestIssuer(keys: TestKey[], path = ''): Promise<TestIssuer> {
  let url = '';
  const state: TestIssuer = {
    get url() {
      return url;
    },
    requests: { discovery: 0, jwks: 0 },
    keys,
    discoveryIssuer: undefined,
    failWith: undefined,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
  const server: Server = createServer((request, response) => {
    void (async () => {
      const requestPath = request.url ?? '';
      if (state.failWith !== undefined) {
        response.writeHead(state.failWith).end();
        return;
      }
      if (requestPath === `${path}/.well-known/openid-configuration`) {
        state.requests.discovery++;
        send(response, { issuer: state.discoveryIssuer ?? url, jwks_uri: `${url}/keys` });
      } else if (requestPath === `${path}/keys`) {
        state.requests.jwks++;
        send(response, { keys: await Promise.all(state.keys.map(publicJwk)) });
      } else {
        response.writeHead(404).end();
      }
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}${path}`;
  return state;
}

function send(response: ServerResponse, body: unknown): void {
  response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

/** Signs `claims` with `key`; `header` adds to or replaces the protected header. */
export async function signToken(
  key: TestKey,
  claims: Record<string, unknown>,
  header: Record<string, unknown> = {},
): Promise<string> {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: key.alg, kid: key.kid, ...header })
    .sign(key.privateKey);
}

/** The usual claims of a token issued at `now` (seconds) for 10 minutes. */
export function standardClaims(
  issuer: string,
  now: number,
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  return { iss: issuer, sub: 'subject-1', aud: 'sigstore', iat: now, nbf: now, exp: now + 600, ...extra };
}

export function base64url(value: string | Uint8Array): string {
  return Buffer.from(value).toString('base64url');
}
