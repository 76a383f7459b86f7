import { createPrivateKey, randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { readFile, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { SignJWT } from 'jose';
import { run } from './service.ts';
import { toolPath } from './tools.ts';

/**
 * Authentication for the test registry (test/tools/registry.ts): an htpasswd file with bcrypt entries
 * (`htpasswd -B`, from apache2-utils: distribution 2.8 accepts only bcrypt), and a token server for the
 * registry's `auth: token:` mode, issuing JWTs the way distribution's registry/auth/token verifies
 * them: ES256, the signing certificate in the `x5c` header chaining to `rootcertbundle`, `iss` the
 * configured issuer, `aud` the service, `access` listing the granted repository actions.
 */

/** Writes `htpasswd` with a bcrypt entry per user into `dir`; returns its path. */
export async function writeHtpasswd(dir: string, users: Readonly<Record<string, string>>): Promise<string> {
  const htpasswd = toolPath('htpasswd');
  const lines: string[] = [];
  for (const [user, password] of Object.entries(users)) {
    lines.push((await run(htpasswd, ['-Bbn', user, password])).trim());
  }
  const path = join(dir, 'htpasswd');
  await writeFile(path, `${lines.join('\n')}\n`);
  return path;
}

export interface TokenServerOptions {
  /** Users and passwords the token server accepts (Basic auth). Default `{ sigil: 'sigil-password' }`. */
  users?: Readonly<Record<string, string>>;
  /** Grant pull to requests without credentials. Default false. */
  anonymousPull?: boolean;
  /** `expires_in` of issued tokens, seconds. Default 300. */
  expiresInSeconds?: number;
}

export interface TokenRequestRecord {
  /** The Authorization header the client sent, if any. */
  authorization?: string;
  service?: string;
  scopes: string[];
  account?: string;
}

export interface RunningTokenServer {
  /** `http://127.0.0.1:PORT/token`, the realm the registry names. */
  realm: string;
  service: string;
  issuer: string;
  /** PEM of the self-signed certificate whose key signs the tokens (the registry's rootcertbundle). */
  certificatePath: string;
  /** Every token request received, oldest first. */
  requests: TokenRequestRecord[];
  stop(): Promise<void>;
}

/** Starts the token server on a free port, its signing certificate made by openssl in `dir`. */
export async function startTokenServer(
  dir: string,
  options: TokenServerOptions = {},
): Promise<RunningTokenServer> {
  const users = options.users ?? { sigil: 'sigil-password' };
  const expiresIn = options.expiresInSeconds ?? 300;
  const service = 'sigil-test-registry';
  const issuer = 'sigil-test-token-server';
  const keyPath = join(dir, 'token-signer.key');
  const certificatePath = join(dir, 'token-signer.pem');
  await run(toolPath('openssl'), [
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-keyout',
    keyPath,
    '-out',
    certificatePath,
    '-subj',
    '/CN=sigil test token issuer',
    '-days',
    '2',
  ]);
  const key = createPrivateKey(await readFile(keyPath));
  const certificateDer = (await readFile(certificatePath, 'utf8')).replace(/-----[^-]+-----|\s/g, '');
  const requests: TokenRequestRecord[] = [];

  const server: Server = createServer((request: IncomingMessage, response) => {
    void (async () => {
      const url = new URL(request.url ?? '/', 'http://token.test');
      const scopes = url.searchParams.getAll('scope');
      const record: TokenRequestRecord = {
        ...(request.headers.authorization ? { authorization: request.headers.authorization } : {}),
        ...(url.searchParams.get('service') ? { service: url.searchParams.get('service')! } : {}),
        ...(url.searchParams.get('account') ? { account: url.searchParams.get('account')! } : {}),
        scopes,
      };
      requests.push(record);
      const subject = authenticate(request.headers.authorization, users);
      if (subject === null || (subject === undefined && !options.anonymousPull)) {
        response.writeHead(401, { 'content-type': 'application/json' }).end('{"details":"bad credentials"}');
        return;
      }
      const access = scopes.flatMap((scope) => {
        const [type, name, actions] = scope.split(':');
        if (type !== 'repository' || !name || !actions) return [];
        const granted =
          subject === undefined ? actions.split(',').filter((a) => a === 'pull') : actions.split(',');
        return [{ type, name, actions: granted }];
      });
      const now = Math.floor(Date.now() / 1000);
      const token = await new SignJWT({ access })
        .setProtectedHeader({ alg: 'ES256', typ: 'JWT', x5c: [certificateDer] })
        .setIssuer(issuer)
        .setSubject(subject ?? '')
        .setAudience(service)
        .setIssuedAt(now)
        .setNotBefore(now - 5)
        .setExpirationTime(now + expiresIn)
        .setJti(randomUUID())
        .sign(key);
      response
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ token, expires_in: expiresIn, issued_at: new Date(now * 1000).toISOString() }));
    })().catch((error: unknown) => {
      response.writeHead(500).end(String(error));
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    realm: `http://127.0.0.1:${port}/token`,
    service,
    issuer,
    certificatePath,
    requests,
    stop: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** The user a Basic header proves; undefined without a header; null for a wrong one. */
function authenticate(
  header: string | undefined,
  users: Readonly<Record<string, string>>,
): string | null | undefined {
  if (!header) return undefined;
  const match = /^Basic (.+)$/.exec(header);
  if (!match) return null;
  const decoded = Buffer.from(match[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  const user = decoded.slice(0, colon);
  return colon > 0 && Object.hasOwn(users, user) && users[user] === decoded.slice(colon + 1) ? user : null;
}
