import express, { type Request, type Response, type Router } from 'express';
import type { RekorV2 } from '../log/index.ts';
import { concurrencyLimit } from './concurrency-limit.ts';
import { countAppends, type CountAppend } from './log-metrics.ts';

export interface RekorV2RoutesOptions {
  /** Largest request body accepted, in bytes; larger ones get 413. Default 1 MiB. */
  maxBodyBytes?: number;
  /** Most write requests in progress at once; more get 503 with Retry-After. Default 512. */
  maxConcurrentWrites?: number;
  /** Counts append requests by outcome (`sigil_log_append_total`). */
  countAppend?: CountAppend;
}

/**
 * Rekor v2's write endpoint, `POST /api/v2/log/entries` (sigstore/rekor-tiles, HTTP gateway of
 * `dev.sigstore.rekor.v2.Rekor/CreateEntry`): 201 with a TransparencyLogEntry; 409 with `x-log-index`
 * for an entry already in the log. Reads are the C2SP tiles (see tlog-tiles.ts).
 */
export function createRekorV2Router(rekor: RekorV2, options: RekorV2RoutesOptions = {}): Router {
  const router = express.Router();
  const json = express.json({ limit: options.maxBodyBytes ?? 1024 * 1024, strict: false, type: () => true });
  router.post(
    '/api/v2/log/entries',
    countAppends(options.countAppend, 'tiles'),
    concurrencyLimit(options.maxConcurrentWrites ?? 512),
    json,
    async (request: Request, response: Response) => {
      const result = await rekor.createEntry(request.body);
      if (result.kind === 'exists') {
        response
          .status(409)
          .set('x-log-index', String(result.logIndex))
          .json({
            code: 'LOG_ENTRY_DUPLICATE',
            message: `an equal entry is already in the log at index ${result.logIndex}`,
          });
        return;
      }
      response.status(201).json(result.entry);
    },
  );
  return router;
}
