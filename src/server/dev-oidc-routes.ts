import express, { type Request, type Response, type Router } from 'express';
import { CaError } from '../ca/index.ts';

/** What the routes need of the issuer: src/ca/oidc/dev-issuer.ts `DevOidcIssuer` fits. */
export interface DevTokenIssuer {
  discovery(): object;
  jwks(): object;
  mintToken(request: DevTokenRequest): Promise<{ token: string; lifetimeSeconds: number }>;
}

/** The fields of a token request (`DevTokenRequest` in src/ca/oidc/dev-issuer.ts). */
export interface DevTokenRequest {
  subject: string;
  email?: string;
  audience?: string;
}

export interface DevOidcRoutesOptions {
  /** Largest `POST /token` body, in bytes. Default 16 KiB. */
  maxBodyBytes?: number;
}

/**
 * The DEVELOPMENT-ONLY OIDC issuer's HTTP face (see src/ca/oidc/dev-issuer.ts), mounted under the path
 * of the issuer URL (e.g. `app.use('/oidc', router)` for `http://localhost:5555/oidc`):
 *
 * - `GET /.well-known/openid-configuration` and `GET /jwks`: what a CA needs to verify its tokens
 * - `POST /token` with JSON or form fields `subject`, `email?`, `audience?`: an OAuth-style token
 *   response `{id_token, access_token, token_type: "Bearer", expires_in}` (both tokens the same JWT)
 * - `GET /token?subject=…&email=…&audience=…`: the bare JWT, for `--identity-token $(curl -s …)`
 *
 * Anyone who can reach these routes can mint any identity.
 */
export function createDevOidcRouter(issuer: DevTokenIssuer, options: DevOidcRoutesOptions = {}): Router {
  const router = express.Router();
  const limit = options.maxBodyBytes ?? 16 * 1024;

  router.get('/.well-known/openid-configuration', (_request: Request, response: Response) => {
    response.set('cache-control', 'no-store').json(issuer.discovery());
  });

  router.get('/jwks', (_request: Request, response: Response) => {
    response.set('cache-control', 'no-store').json(issuer.jwks());
  });

  router.post(
    '/token',
    express.json({ limit }),
    express.urlencoded({ limit, extended: false }),
    async (request: Request, response: Response) => {
      const body: unknown = request.body;
      if (typeof body !== 'object' || body === null || Array.isArray(body))
        throw new CaError('CA_REQUEST_INVALID', 'body: expected a JSON object or form fields with subject');
      const minted = await issuer.mintToken(tokenRequest(body as Record<string, unknown>));
      response.set('cache-control', 'no-store').json({
        id_token: minted.token,
        access_token: minted.token,
        token_type: 'Bearer',
        expires_in: minted.lifetimeSeconds,
      });
    },
  );

  router.get('/token', async (request: Request, response: Response) => {
    const minted = await issuer.mintToken(tokenRequest(request.query));
    response.set('cache-control', 'no-store').type('application/jwt').send(minted.token);
  });

  return router;
}

/** The token fields of a body or query string; each present one MUST be a single string. */
function tokenRequest(fields: Record<string, unknown>): DevTokenRequest {
  const subject = field(fields, 'subject');
  if (subject === undefined)
    throw new CaError('CA_REQUEST_INVALID', 'subject: expected a string, received nothing');
  const email = field(fields, 'email');
  const audience = field(fields, 'audience');
  return {
    subject,
    ...(email !== undefined && email !== '' && { email }),
    ...(audience !== undefined && { audience }),
  };
}

function field(fields: Record<string, unknown>, name: string): string | undefined {
  const value = Object.hasOwn(fields, name) ? fields[name] : undefined;
  if (value === undefined || typeof value === 'string') return value;
  throw new CaError(
    'CA_REQUEST_INVALID',
    `${name}: expected a string, received ${Array.isArray(value) ? 'several values' : typeof value}`,
  );
}
