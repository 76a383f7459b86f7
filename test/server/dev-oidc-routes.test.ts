import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { silentLogger } from '../../src/core/index.ts';
import {
  createTokenVerifier,
  DevOidcIssuer,
  resolveIssuerConfig,
  type TokenVerifier,
} from '../../src/ca/oidc/index.ts';
import {
  createApp,
  createRouter,
  createServerMetrics,
  listen,
  type RunningServer,
} from '../../src/server/index.ts';
import { createDevOidcRouter } from '../../src/server/dev-oidc-routes.ts';

describe('the development OIDC issuer routes, mounted under /oidc', () => {
  let server: RunningServer;
  let issuerUrl: string;
  let verifier: TokenVerifier;

  before(async () => {
    const late = createRouter();
    server = await listen(
      createApp({
        logger: silentLogger,
        metrics: createServerMetrics({ collectProcessMetrics: false }),
        routers: [late],
      }),
      { port: 0 },
    );
    issuerUrl = `${server.url}/oidc`;
    const issuer = new DevOidcIssuer({ issuerUrl, privateKey: DevOidcIssuer.generateKey() });
    late.use('/oidc', createDevOidcRouter(issuer));
    // The CA's verifier, trusting the dev issuer as an email issuer and fetching over real HTTP.
    verifier = createTokenVerifier({
      config: resolveIssuerConfig({ 'oidc-issuers': { [issuerUrl]: { type: 'email' } } }),
    });
  });

  after(() => server.close());

  it('serves the discovery document under the issuer URL', async () => {
    const response = await fetch(`${issuerUrl}/.well-known/openid-configuration`);
    assert.equal(response.status, 200);
    const discovery = (await response.json()) as Record<string, unknown>;
    assert.equal(discovery['issuer'], issuerUrl);
    assert.equal(discovery['jwks_uri'], `${issuerUrl}/jwks`);
  });

  it('serves the JWKS', async () => {
    const response = await fetch(`${issuerUrl}/jwks`);
    const jwks = (await response.json()) as { keys: { kty: string; crv: string }[] };
    assert.equal(jwks.keys[0]?.kty, 'EC');
    assert.equal(jwks.keys[0]?.crv, 'P-256');
  });

  it('answers POST /token with JSON with an OAuth-style token response the CA accepts', async () => {
    const response = await fetch(`${issuerUrl}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ subject: 'alice', email: 'alice@example.com' }),
    });
    assert.equal(response.status, 200);
    const body = (await response.json()) as Record<string, unknown>;
    assert.equal(body['token_type'], 'Bearer');
    assert.equal(body['expires_in'], 600);
    assert.equal(body['access_token'], body['id_token']);
    const principal = await verifier.authenticate(String(body['id_token']));
    assert.deepEqual(principal, {
      name: 'alice@example.com',
      subjectAlternativeName: { kind: 'email', value: 'alice@example.com' },
      extensions: { issuer: issuerUrl, tokenSubject: 'alice' },
    });
  });

  it('answers POST /token with a form body', async () => {
    const response = await fetch(`${issuerUrl}/token`, {
      method: 'POST',
      body: new URLSearchParams({ subject: 'bob', email: 'bob@example.com', audience: 'sigstore' }),
    });
    assert.equal(response.status, 200);
    const body = (await response.json()) as { id_token: string };
    assert.equal((await verifier.verify(body.id_token)).claims['sub'], 'bob');
  });

  it('answers GET /token with the bare JWT, for --identity-token $(curl …)', async () => {
    const response = await fetch(`${issuerUrl}/token?subject=carol&email=carol%40example.com`);
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('content-type'), 'application/jwt; charset=utf-8');
    const token = await response.text();
    assert.match(token, /^[\w-]+\.[\w-]+\.[\w-]+$/);
    assert.equal((await verifier.authenticate(token)).name, 'carol@example.com');
  });

  const badRequests: [string, () => Promise<Response>, RegExp][] = [
    [
      'a POST without subject',
      () => post({ email: 'a@example.com' }),
      /^subject: expected a string, received nothing$/,
    ],
    [
      'a POST with a numeric subject',
      () => post({ subject: 7 }),
      /^subject: expected a string, received number$/,
    ],
    [
      'a POST with a bad email',
      () => post({ subject: 'a', email: 'nope' }),
      /^email: expected an email address/,
    ],
    ['a POST with a JSON array', () => post([]), /^body: /],
    [
      'a GET with two subjects',
      () => fetch(`${issuerUrl}/token?subject=a&subject=b`),
      /^subject: expected a string, received several values$/,
    ],
    ['a GET without subject', () => fetch(`${issuerUrl}/token`), /^subject: /],
  ];
  for (const [name, send, message] of badRequests) {
    it(`answers ${name} with 400 CA_REQUEST_INVALID naming the field`, async () => {
      const response = await send();
      assert.equal(response.status, 400);
      const body = (await response.json()) as { code: string; message: string };
      assert.equal(body.code, 'CA_REQUEST_INVALID');
      assert.match(body.message, message);
    });
  }

  it('answers a body that is not JSON with 400', async () => {
    const response = await fetch(`${issuerUrl}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{',
    });
    assert.equal(response.status, 400);
  });

  function post(body: unknown): Promise<Response> {
    return fetch(`${issuerUrl}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  }
});
