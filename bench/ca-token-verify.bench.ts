// Identity-token verification alone, on one core: CPU time per token once the issuer's keys are cached
// (the CA's steady state). Tokens come from a real issuer on 127.0.0.1 (discovery + JWKS over HTTP), each
// a distinct JWT so nothing but the keys is reused. Target: well under 200 µs of CPU per token, so that
// verification stays a small share of the ≥ 500 certificates/s the CA must issue on 2 cores.
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, SignJWT } from 'jose';
import { createTokenVerifier, resolveIssuerConfig } from '../src/ca/oidc/index.ts';
import { report } from './report.ts';

const TOKENS = Number(process.env.SIGIL_BENCH_TOKENS ?? 20_000);

const keys: { alg: 'ES256' | 'RS256'; kid: string; privateKey: KeyObject; publicKey: KeyObject }[] = [
  { alg: 'ES256', kid: 'es', ...generateKeyPairSync('ec', { namedCurve: 'P-256' }) },
  { alg: 'RS256', kid: 'rs', ...generateKeyPairSync('rsa', { modulusLength: 2048 }) },
];

const server = createServer((request, response) => {
  void (async () => {
    const body =
      request.url === '/.well-known/openid-configuration'
        ? { issuer: url, jwks_uri: `${url}/jwks` }
        : {
            keys: await Promise.all(
              keys.map(async (key) => ({ ...(await exportJWK(key.publicKey)), kid: key.kid, alg: key.alg })),
            ),
          };
    response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  })();
});
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
const verifier = createTokenVerifier({
  config: resolveIssuerConfig({ 'oidc-issuers': { [url]: { type: 'email' } } }),
});

for (const key of keys) {
  const now = Math.floor(Date.now() / 1000);
  const tokens = await Promise.all(
    Array.from({ length: TOKENS }, (_, i) =>
      new SignJWT({ email: `user${i}@example.com`, email_verified: true })
        .setProtectedHeader({ alg: key.alg, kid: key.kid })
        .setIssuer(url)
        .setSubject(`user-${i}`)
        .setAudience('sigstore')
        .setIssuedAt(now)
        .setExpirationTime(now + 600)
        .sign(key.privateKey),
    ),
  );
  for (const token of tokens.slice(0, 1_000)) await verifier.authenticate(token); // warm-up, keys cached
  const start = process.cpuUsage();
  for (const token of tokens) await verifier.authenticate(token);
  const used = process.cpuUsage(start);
  report(`ca: ${key.alg} token verify + principal, µs CPU/token`, (used.user + used.system) / TOKENS, {
    atMost: 200,
  });
}
server.close();
