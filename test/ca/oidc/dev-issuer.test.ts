import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { describe, it } from 'node:test';
import { decodeJwt, decodeProtectedHeader, importJWK, jwtVerify } from 'jose';
import { fixedClock } from '../../../src/core/index.ts';
import { CaError } from '../../../src/ca/errors.ts';
import { DEV_ISSUER_DESCRIPTION, DevOidcIssuer } from '../../../src/ca/oidc/index.ts';

const NOW = new Date('2026-01-01T00:00:00Z');
const issuer = new DevOidcIssuer({
  issuerUrl: 'http://localhost:5555/oidc',
  privateKey: DevOidcIssuer.generateKey(),
  clock: fixedClock(NOW),
});

describe('the development OIDC issuer', () => {
  it('publishes a discovery document naming itself, its JWKS and that it is for development only', () => {
    const discovery = issuer.discovery();
    assert.equal(discovery.issuer, 'http://localhost:5555/oidc');
    assert.equal(discovery.jwks_uri, 'http://localhost:5555/oidc/jwks');
    assert.equal(discovery.token_endpoint, 'http://localhost:5555/oidc/token');
    assert.deepEqual(discovery.id_token_signing_alg_values_supported, ['ES256']);
    assert.equal(discovery.description, DEV_ISSUER_DESCRIPTION);
    assert.match(discovery.description, /development only/);
  });

  it('publishes one ES256 public key under its RFC 7638 thumbprint', () => {
    const { keys } = issuer.jwks();
    assert.equal(keys.length, 1);
    assert.equal(keys[0]?.kid, issuer.keyId);
    assert.equal(keys[0]?.alg, 'ES256');
    assert.equal(keys[0]?.['d'], undefined, 'no private member');
  });

  it('mints a token jose verifies against the JWKS, with the standard claims and a verified email', async () => {
    const minted = await issuer.mintToken({ subject: 'alice', email: 'alice@example.com' });
    const key = await importJWK(issuer.jwks().keys[0]!, 'ES256');
    const { payload, protectedHeader } = await jwtVerify(minted.token, key, {
      issuer: issuer.issuerUrl,
      audience: 'sigstore',
      currentDate: NOW,
    });
    assert.deepEqual(protectedHeader, { alg: 'ES256', kid: issuer.keyId, typ: 'JWT' });
    const now = NOW.getTime() / 1000;
    assert.deepEqual(payload, {
      iss: 'http://localhost:5555/oidc',
      sub: 'alice',
      aud: 'sigstore',
      iat: now,
      nbf: now,
      exp: now + 600,
      email: 'alice@example.com',
      email_verified: true,
    });
    assert.equal(minted.lifetimeSeconds, 600);
    assert.equal(minted.expiresAt.getTime(), NOW.getTime() + 600_000);
  });

  it('mints without email claims when no email is given, with the audience and lifetime asked for', async () => {
    const minted = await issuer.mintToken({
      subject: 'ci',
      audience: 'other',
      lifetimeSeconds: 60,
      claims: { run_id: '7' },
    });
    const payload = decodeJwt(minted.token);
    assert.equal(payload['email'], undefined);
    assert.equal(payload['email_verified'], undefined);
    assert.equal(payload.aud, 'other');
    assert.equal(payload['run_id'], '7');
    assert.equal((payload.exp ?? 0) - (payload.iat ?? 0), 60);
    assert.equal(decodeProtectedHeader(minted.token).kid, issuer.keyId);
  });

  const badRequests: [string, Parameters<DevOidcIssuer['mintToken']>[0], RegExp][] = [
    ['an empty subject', { subject: '' }, /^subject: /],
    ['a subject with a newline', { subject: 'a\nb' }, /^subject: /],
    ['a subject over 255 characters', { subject: 'a'.repeat(256) }, /^subject: /],
    ['an email that is not an address', { subject: 'a', email: 'nope' }, /^email: expected an email address/],
    ['a lifetime of zero', { subject: 'a', lifetimeSeconds: 0 }, /^lifetimeSeconds: /],
    ['a lifetime over a day', { subject: 'a', lifetimeSeconds: 86_401 }, /^lifetimeSeconds: /],
    [
      'an extra claim overriding iss',
      { subject: 'a', claims: { iss: 'https://accounts.google.com' } },
      /^claims\.iss: /,
    ],
  ];
  for (const [name, request, message] of badRequests) {
    it(`refuses ${name} with CA_REQUEST_INVALID`, async () => {
      await assert.rejects(issuer.mintToken(request), (error: unknown) => {
        assert.ok(error instanceof CaError);
        assert.equal(error.code, 'CA_REQUEST_INVALID');
        assert.match(error.message, message);
        return true;
      });
    });
  }

  it('refuses a non-P-256 key or a URL with a trailing slash with a TypeError', () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
    assert.throws(
      () => new DevOidcIssuer({ issuerUrl: 'http://localhost/oidc', privateKey: rsa }),
      TypeError,
    );
    const key = DevOidcIssuer.generateKey();
    assert.throws(
      () => new DevOidcIssuer({ issuerUrl: 'http://localhost/oidc/', privateKey: key }),
      TypeError,
    );
    assert.throws(() => new DevOidcIssuer({ issuerUrl: 'localhost', privateKey: key }), TypeError);
  });
});
