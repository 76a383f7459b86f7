import express, { type Request, type Response, type Router } from 'express';

/**
 * The deployment's client trust material, as `sigil up` writes it to the state folder:
 * `GET /trust-config.json` (protobuf-specs ClientTrustConfig: TrustedRoot + SigningConfig v0.2) and
 * `GET /trusted_root.json` (the TrustedRoot alone). `sigil trust-config --url` reads the first.
 */
export function createTrustConfigRouter(
  documents: () => { trustConfig: unknown; trustedRoot: unknown },
): Router {
  const router = express.Router();
  router.get('/trust-config.json', (_request: Request, response: Response) => {
    response.json(documents().trustConfig);
  });
  router.get('/trusted_root.json', (_request: Request, response: Response) => {
    response.json(documents().trustedRoot);
  });
  return router;
}
