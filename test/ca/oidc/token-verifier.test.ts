import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { SignJWT } from 'jose';
import { fixedClock } from '../../../src/core/index.ts';
import { CaError, type CaErrorCode } from '../../../src/ca/errors.ts';
import {
  createTokenVerifier,
  resolveIssuerConfig,
  type TokenVerifier,
  type TokenVerifierOptions,
} from '../../../src/ca/oidc/index.ts';
import {
  base64url,
  signToken,
  standardClaims,
  startTestIssuer,
  testKey,
  type TestIssuer,
} from './oidc-test-issuer.ts';

const NOW = new Date('2026-01-01T00:00:00Z');
const NOW_SECONDS = NOW.getTime() / 1000;

async function rejects(promise: Promise<unknown>, code: CaErrorCode, message?: RegExp): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof CaError, `expected a CaError, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    if (message) assert.match(error.message, message);
    return true;
  });
}

describe('the identity token verifier', () => {
  const es256 = testKey('ES256', 'es-1');
  const rs256 = testKey('RS256', 'rs-1');
  let issuer: TestIssuer;
  let clock: ReturnType<typeof fixedClock>;
  let verifier: TokenVerifier;

  const makeVerifier = (extra: Partial<TokenVerifierOptions> = {}): TokenVerifier =>
    createTokenVerifier({
      config: resolveIssuerConfig({
        'oidc-issuers': { [issuer.url]: { type: 'email' } },
      }),
      clock,
      ...extra,
    });
  const claims = (extra: Record<string, unknown> = {}) =>
    standardClaims(issuer.url, NOW_SECONDS, { email: 'alice@example.com', email_verified: true, ...extra });

  before(async () => {
    issuer = await startTestIssuer([es256, rs256]);
  });
  after(() => issuer.close());
  beforeEach(() => {
    issuer.keys = [es256, rs256];
    issuer.discoveryIssuer = undefined;
    issuer.failWith = undefined;
    clock = fixedClock(NOW);
    verifier = makeVerifier();
  });

  it('accepts an ES256 token from a trusted issuer and returns its claims', async () => {
    const verified = await verifier.verify(await signToken(es256, claims()));
    assert.equal(verified.issuer.issuerUrl, issuer.url);
    assert.equal(verified.algorithm, 'ES256');
    assert.equal(verified.keyId, 'es-1');
    assert.equal(verified.claims['email'], 'alice@example.com');
  });

  for (const alg of ['RS256', 'PS256', 'ES384', 'ES512', 'EdDSA'] as const) {
    it(`accepts a ${alg} token`, async () => {
      const key = alg === 'RS256' ? rs256 : testKey(alg, `${alg}-key`);
      issuer.keys = [es256, key];
      const verified = await makeVerifier().verify(await signToken(key, claims()));
      assert.equal(verified.algorithm, alg);
    });
  }

  it('authenticates an email token as a principal signing over the email address', async () => {
    const principal = await verifier.authenticate(await signToken(es256, claims()));
    assert.deepEqual(principal, {
      name: 'alice@example.com',
      subjectAlternativeName: { kind: 'email', value: 'alice@example.com' },
      extensions: { issuer: issuer.url, tokenSubject: 'subject-1' },
    });
  });

  it('accepts a token whose aud is an array containing the client ID', async () => {
    await verifier.verify(await signToken(es256, claims({ aud: ['other', 'sigstore'] })));
  });

  it('fetches discovery and JWKS once for many tokens', async () => {
    const before = { ...issuer.requests };
    const fresh = makeVerifier();
    for (let i = 0; i < 5; i++) await fresh.verify(await signToken(es256, claims()));
    assert.deepEqual(issuer.requests, { discovery: before.discovery + 1, jwks: before.jwks + 1 });
  });

  describe('when the token is outside its validity period', () => {
    it('rejects an expired token with CA_TOKEN_EXPIRED', async () => {
      const token = await signToken(es256, claims({ exp: NOW_SECONDS - 61 }));
      await rejects(verifier.verify(token), 'CA_TOKEN_EXPIRED', /^exp: expected a time after/);
    });

    it('accepts a token expired less than the clock skew ago', async () => {
      await verifier.verify(await signToken(es256, claims({ exp: NOW_SECONDS - 59 })));
    });

    it('rejects a token without exp with CA_TOKEN_INVALID', async () => {
      const { exp: _exp, ...rest } = claims();
      await rejects(verifier.verify(await signToken(es256, rest)), 'CA_TOKEN_INVALID', /^exp: /);
    });

    it('rejects a not-yet-valid token (nbf beyond the skew) with CA_TOKEN_NOT_YET_VALID', async () => {
      const token = await signToken(es256, claims({ nbf: NOW_SECONDS + 61 }));
      await rejects(verifier.verify(token), 'CA_TOKEN_NOT_YET_VALID', /^nbf: /);
    });

    it('rejects a token issued in the future beyond the skew with CA_TOKEN_NOT_YET_VALID', async () => {
      const token = await signToken(es256, claims({ iat: NOW_SECONDS + 120 }));
      await rejects(verifier.verify(token), 'CA_TOKEN_NOT_YET_VALID', /^iat: /);
    });

    it('honours a configured skew of zero', async () => {
      const strict = makeVerifier({ clockSkewSeconds: 0 });
      await rejects(
        strict.verify(await signToken(es256, claims({ iat: NOW_SECONDS + 1 }))),
        'CA_TOKEN_NOT_YET_VALID',
      );
    });
  });

  describe("when the audience is not the issuer's client ID", () => {
    it('rejects the token with CA_TOKEN_AUDIENCE, saying what was expected', async () => {
      const token = await signToken(es256, claims({ aud: 'someone-else' }));
      await rejects(
        verifier.verify(token),
        'CA_TOKEN_AUDIENCE',
        /^aud: expected "sigstore", received "someone-else"$/,
      );
    });

    it('checks against a configured client-id', async () => {
      const custom = createTokenVerifier({
        config: resolveIssuerConfig({
          'oidc-issuers': { [issuer.url]: { type: 'email', 'client-id': 'sigil' } },
        }),
        clock,
      });
      await rejects(custom.verify(await signToken(es256, claims())), 'CA_TOKEN_AUDIENCE');
      await custom.verify(await signToken(es256, claims({ aud: 'sigil' })));
    });
  });

  describe('when the issuer is not trusted', () => {
    it('rejects a token from an unlisted issuer with CA_ISSUER_UNKNOWN, without fetching anything', async () => {
      const before = { ...issuer.requests };
      const token = await signToken(es256, claims({ iss: 'https://evil.example' }));
      await rejects(verifier.verify(token), 'CA_ISSUER_UNKNOWN', /received "https:\/\/evil\.example"/);
      assert.deepEqual(issuer.requests, before);
    });

    it('rejects a token without iss with CA_TOKEN_INVALID', async () => {
      const { iss: _iss, ...rest } = claims();
      await rejects(verifier.verify(await signToken(es256, rest)), 'CA_TOKEN_INVALID', /^iss: /);
    });

    it('rejects a token when the discovery document names a different issuer, with CA_ISSUER_INVALID', async () => {
      issuer.discoveryIssuer = 'https://accounts.google.com';
      await rejects(
        makeVerifier().verify(await signToken(es256, claims())),
        'CA_ISSUER_INVALID',
        /expected issuer "http:\/\/127\.0\.0\.1:\d+", received "https:\/\/accounts\.google\.com"/,
      );
    });

    it('answers CA_ISSUER_UNAVAILABLE when the issuer fails, and fails fast until the retry delay', async () => {
      issuer.failWith = 503;
      const fresh = makeVerifier();
      const token = await signToken(es256, claims());
      await rejects(fresh.verify(token), 'CA_ISSUER_UNAVAILABLE', /status 200, received 503/);
      const count = issuer.requests.discovery;
      await rejects(fresh.verify(token), 'CA_ISSUER_UNAVAILABLE');
      assert.equal(issuer.requests.discovery, count, 'no second fetch within the retry delay');
      issuer.failWith = undefined;
      clock.set(new Date(NOW.getTime() + 6_000));
      await fresh.verify(token);
    });
  });

  describe('when the algorithm is not an allowed asymmetric one', () => {
    it('rejects alg none with CA_TOKEN_ALGORITHM', async () => {
      const token = `${base64url(JSON.stringify({ alg: 'none', kid: 'es-1' }))}.${base64url(JSON.stringify(claims()))}.`;
      await rejects(verifier.verify(token), 'CA_TOKEN_ALGORITHM', /received "none"/);
    });

    it("rejects an HS256 token whose secret is the issuer's public key with CA_TOKEN_ALGORITHM", async () => {
      const secret = new TextEncoder().encode(
        rs256.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
      );
      const token = await new SignJWT(claims())
        .setProtectedHeader({ alg: 'HS256', kid: 'rs-1' })
        .sign(secret);
      await rejects(verifier.verify(token), 'CA_TOKEN_ALGORITHM', /received "HS256"/);
    });

    it('rejects a token claiming RS256 but carrying an ES256 key id with CA_TOKEN_INVALID', async () => {
      const token = await signToken(rs256, claims(), { kid: 'es-1' });
      await rejects(verifier.verify(token), 'CA_TOKEN_INVALID', /^kid: /);
    });
  });

  describe('when the signature does not verify', () => {
    it('rejects a token with a tampered payload with CA_TOKEN_INVALID', async () => {
      const [header, , signature] = (await signToken(es256, claims())).split('.');
      const forged = base64url(JSON.stringify(claims({ email: 'mallory@example.com' })));
      await rejects(verifier.verify(`${header}.${forged}.${signature}`), 'CA_TOKEN_INVALID', /^signature: /);
    });

    it('rejects a token with a flipped signature bit with CA_TOKEN_INVALID', async () => {
      const [header, payload, signature = ''] = (await signToken(rs256, claims())).split('.');
      const bytes = Buffer.from(signature, 'base64url');
      bytes[10]! ^= 1;
      await rejects(
        verifier.verify(`${header}.${payload}.${base64url(bytes)}`),
        'CA_TOKEN_INVALID',
        /^signature: /,
      );
    });

    it('rejects a token signed by a key the issuer never published with CA_TOKEN_INVALID', async () => {
      const impostor = testKey('ES256', 'es-1');
      await rejects(verifier.verify(await signToken(impostor, claims())), 'CA_TOKEN_INVALID', /^signature: /);
    });
  });

  describe('when the kid is unknown', () => {
    it('rejects the token with CA_TOKEN_INVALID naming the kid', async () => {
      const stranger = testKey('ES256', 'nobody');
      await rejects(
        verifier.verify(await signToken(stranger, claims())),
        'CA_TOKEN_INVALID',
        /received "nobody"/,
      );
    });

    it('picks up a key published later once the refresh cooldown has passed (rotation)', async () => {
      await verifier.verify(await signToken(es256, claims()));
      const rotated = testKey('ES256', 'es-2');
      issuer.keys = [rotated, rs256];
      const token = await signToken(rotated, claims());
      await rejects(verifier.verify(token), 'CA_TOKEN_INVALID', /received "es-2"/);
      clock.set(new Date(NOW.getTime() + 30_000));
      const verified = await verifier.verify(token);
      assert.equal(verified.keyId, 'es-2');
    });

    it('fetches the JWKS at most once per cooldown however many unknown kids arrive', async () => {
      await verifier.verify(await signToken(es256, claims()));
      clock.set(new Date(NOW.getTime() + 31_000));
      const jwksBefore = issuer.requests.jwks;
      const tokens = await Promise.all(
        Array.from({ length: 50 }, (_, i) => signToken(testKey('ES256', `random-${i}`), claims())),
      );
      const results = await Promise.allSettled(tokens.map((token) => verifier.verify(token)));
      assert.ok(results.every((result) => result.status === 'rejected'));
      assert.equal(issuer.requests.jwks, jwksBefore + 1);
    });

    it('tries every fitting key when the token has no kid', async () => {
      const token = await new SignJWT(claims()).setProtectedHeader({ alg: 'RS256' }).sign(rs256.privateKey);
      const verified = await verifier.verify(token);
      assert.equal(verified.keyId, undefined);
    });
  });

  describe('when the token is malformed', () => {
    const cases: [string, string][] = [
      ['an empty string', ''],
      ['two parts', 'a.b'],
      ['four parts', 'a.b.c.d'],
      ['a header that is not base64url', '!!.e30.c2ln'],
      ['a header that is not JSON', `${base64url('nope')}.e30.c2ln`],
      ['a header that is an array', `${base64url('[]')}.e30.c2ln`],
      ['a payload that is not JSON', `${base64url('{"alg":"ES256"}')}.${base64url('{')}.c2ln`],
      ['an empty signature', `${base64url('{"alg":"ES256"}')}.e30.`],
      ['a critical header', `${base64url('{"alg":"ES256","crit":["b64"],"b64":false}')}.e30.c2ln`],
      ['a numeric kid', `${base64url('{"alg":"ES256","kid":7}')}.e30.c2ln`],
    ];
    for (const [name, token] of cases) {
      it(`rejects ${name} with CA_TOKEN_INVALID`, async () => {
        await rejects(verifier.verify(token), 'CA_TOKEN_INVALID');
      });
    }

    it('rejects an over-long token without echoing it', async () => {
      const token = `${'a'.repeat(20_000)}.b.c`;
      await assert.rejects(verifier.verify(token), (error: unknown) => {
        assert.ok(error instanceof CaError);
        assert.equal(error.code, 'CA_TOKEN_INVALID');
        assert.ok(error.message.length < 200);
        return true;
      });
    });
  });

  describe('with a meta issuer', () => {
    it('accepts a token from an issuer URL the wildcard matches', async () => {
      const meta = createTokenVerifier({
        config: resolveIssuerConfig({ 'meta-issuers': { 'http://127.0.0.*:*': { type: 'email' } } }),
        clock,
      });
      const verified = await meta.verify(await signToken(es256, claims()));
      assert.equal(verified.issuer.issuerUrl, issuer.url);
    });

    it('rejects a token whose issuer the wildcard does not match with CA_ISSUER_UNKNOWN', async () => {
      const meta = createTokenVerifier({
        config: resolveIssuerConfig({ 'meta-issuers': { 'http://127.0.0.*:*': { type: 'email' } } }),
        clock,
      });
      const token = await signToken(es256, claims({ iss: `${issuer.url}/tenant` }));
      await rejects(meta.verify(token), 'CA_ISSUER_UNKNOWN');
    });
  });

  it('rejects bad options with a TypeError at construction', () => {
    const config = resolveIssuerConfig({});
    assert.throws(() => createTokenVerifier({ config, clockSkewSeconds: -1 }), TypeError);
    assert.throws(() => createTokenVerifier({ config, maxTokenLength: 0 }), TypeError);
  });
});
