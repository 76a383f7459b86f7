import { inProcessAdmitter, type EntryAdmitter, type RekorV2 } from '../log/index.ts';
import type { FastPostRoute, FastResponse } from './fast-routes.ts';
import { countAppendResponse, type CountAppend } from './log-metrics.ts';

export interface RekorV2WriteRouteOptions {
  /** Largest request body accepted, in bytes; larger ones get 413. Default 1 MiB. */
  maxBodyBytes?: number;
  /** Most write requests in progress at once; more get 503 with Retry-After. Default 512. */
  maxConcurrentWrites?: number;
  /** Where request bodies are validated and verified. Default: on the calling thread. */
  admitter?: EntryAdmitter;
  /** Counts append requests by outcome (`sigil_log_append_total`). */
  countAppend?: CountAppend;
}

/**
 * Rekor v2's write endpoint, `POST /api/v2/log/entries` (sigstore/rekor-tiles, HTTP gateway of
 * `dev.sigstore.rekor.v2.Rekor/CreateEntry`): 201 with a TransparencyLogEntry; 409 with `x-log-index`
 * for an entry already in the log. Served as a fast route (fast-routes.ts). Reads are the C2SP tiles
 * (see tlog-tiles.ts).
 */
export function rekorV2WriteRoute(rekor: RekorV2, options: RekorV2WriteRouteOptions = {}): FastPostRoute {
  const admitter = options.admitter ?? inProcessAdmitter();
  return {
    path: '/api/v2/log/entries',
    maxBodyBytes: options.maxBodyBytes ?? 1024 * 1024,
    maxConcurrent: options.maxConcurrentWrites ?? 512,
    ...(options.countAppend ? { onResponse: countAppendResponse(options.countAppend, 'tiles') } : {}),
    async handle(body): Promise<FastResponse> {
      const result = await rekor.append(await admitter.admit('v2', body));
      if (result.kind === 'exists') {
        return {
          status: 409,
          headers: { 'x-log-index': String(result.logIndex) },
          body: {
            code: 'LOG_ENTRY_DUPLICATE',
            message: `an equal entry is already in the log at index ${result.logIndex}`,
          },
        };
      }
      return { status: 201, body: result.entry };
    },
  };
}
