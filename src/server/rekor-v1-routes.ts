import express, { type Request, type Response, type Router } from 'express';
import {
  LogError,
  inProcessAdmitter,
  type AdmissionPool,
  type EntryAdmitter,
  type RekorV1,
} from '../log/index.ts';
import type { FastPostRoute, FastResponse } from './fast-routes.ts';
import { countAppendResponse, type CountAppend } from './log-metrics.ts';

export interface RekorV1RoutesOptions {
  /** Largest request body accepted, in bytes; larger ones get 413. Default 1 MiB. */
  maxBodyBytes?: number;
}

export interface RekorV1WriteRouteOptions extends RekorV1RoutesOptions {
  /** Where request bodies are validated and verified. Default: on the calling thread. */
  admitter?: EntryAdmitter;
  /** Most write requests in progress at once; more get 503 with Retry-After. Default 512. */
  maxConcurrentWrites?: number;
  /** Counts append requests by outcome (`sigil_log_append_total`). */
  countAppend?: CountAppend;
  /**
   * Where LogEntries are rendered and their SignedEntryTimestamps signed (an admission pool created
   * with this log's identity). Default: on the calling thread, signing on libuv's pool.
   */
  renderer?: Pick<AdmissionPool, 'renderRekorV1'>;
}

const MAX_RETRIEVE = 10;
const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;

/**
 * `POST /api/v1/log/entries` (sigstore/rekor `openapi.yaml` createLogEntry): 201 with the LogEntry,
 * its entry ID as Location and ETag; 409 with the existing entry's Location for a duplicate. Served as a
 * fast route (fast-routes.ts), the body admitted by `admitter`.
 */
export function rekorV1WriteRoute(rekor: RekorV1, options: RekorV1WriteRouteOptions = {}): FastPostRoute {
  const admitter = options.admitter ?? inProcessAdmitter();
  return {
    path: '/api/v1/log/entries',
    maxBodyBytes: options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES,
    maxConcurrent: options.maxConcurrentWrites ?? 512,
    ...(options.countAppend ? { onResponse: countAppendResponse(options.countAppend, 'rekor-v1') } : {}),
    async handle(body): Promise<FastResponse> {
      const result = await rekor.appendProven(await admitter.admit('v1', body));
      const location = `/api/v1/log/entries/${result.entryId}`;
      if (result.kind === 'exists') {
        return {
          status: 409,
          headers: { location },
          body: {
            code: 'LOG_ENTRY_DUPLICATE',
            message: `an equivalent entry already exists in the transparency log with UUID ${result.uuid}`,
          },
        };
      }
      const headers = { location, etag: result.entryId };
      if (options.renderer) {
        return { status: 201, headers, json: await options.renderer.renderRekorV1(result.parts) };
      }
      return { status: 201, headers, json: await rekor.logEntryJson(result.parts) };
    },
  };
}

/**
 * The rest of the Rekor v1 REST API (sigstore/rekor `openapi.yaml`): reading entries, log info, public
 * key, consistency proofs and the search index. Mount at the server root; every path starts with
 * `/api/v1`. The write endpoint is rekorV1WriteRoute.
 */
export function createRekorV1Router(rekor: RekorV1, options: RekorV1RoutesOptions = {}): Router {
  const router = express.Router();
  const json = express.json({
    limit: options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES,
    strict: false,
    type: () => true,
  });

  router.get('/api/v1/log/entries', async (request: Request, response: Response) => {
    const logIndex = parseInteger(request.query.logIndex, 'logIndex');
    if (logIndex === undefined)
      throw new LogError('LOG_INDEX_INVALID', 'logIndex: expected a query parameter');
    response.json(await rekor.getByIndex(logIndex));
  });

  router.get(
    '/api/v1/log/entries/:entryUUID',
    async (request: Request<{ entryUUID: string }>, response: Response) => {
      response.json(await rekor.getByUuid(request.params.entryUUID));
    },
  );

  router.post('/api/v1/log/entries/retrieve', json, async (request: Request, response: Response) => {
    const body = (request.body ?? {}) as { entryUUIDs?: unknown; logIndexes?: unknown; entries?: unknown };
    const uuids = optionalArray(
      body.entryUUIDs,
      'entryUUIDs',
      (value): value is string => typeof value === 'string',
    );
    const indexes = optionalArray(body.logIndexes, 'logIndexes', (value): value is number =>
      Number.isSafeInteger(value),
    );
    const proposals = optionalArray(
      body.entries,
      'entries',
      (value): value is unknown => typeof value === 'object' && value !== null,
    );
    if (uuids.length + indexes.length + proposals.length > MAX_RETRIEVE) {
      throw new LogError(
        'LOG_ENTRY_INVALID',
        `entryUUIDs, logIndexes, entries: expected at most ${MAX_RETRIEVE} in all`,
      );
    }
    const found = [
      ...(await Promise.all(uuids.map((uuid) => rekor.getByUuid(uuid).catch(ignoreNotFound)))),
      ...(await Promise.all(indexes.map((index) => rekor.getByIndex(index).catch(ignoreNotFound)))),
      ...(await Promise.all(proposals.map((proposal) => rekor.findProposed(proposal)))),
    ];
    response.json(found.filter((entry) => entry !== undefined));
  });

  router.get('/api/v1/log', (_request: Request, response: Response) => {
    response.json(rekor.logInfo());
  });

  router.get('/api/v1/log/publicKey', (_request: Request, response: Response) => {
    response.type('application/x-pem-file').send(rekor.publicKeyPem);
  });

  router.get('/api/v1/log/proof', async (request: Request, response: Response) => {
    const firstSize = parseInteger(request.query.firstSize, 'firstSize') ?? 1;
    const lastSize = parseInteger(request.query.lastSize, 'lastSize');
    if (lastSize === undefined)
      throw new LogError('LOG_INDEX_INVALID', 'lastSize: expected a query parameter');
    response.json(await rekor.consistencyProof(firstSize, lastSize));
  });

  router.post('/api/v1/index/retrieve', json, async (request: Request, response: Response) => {
    response.json(await rekor.search(request.body));
  });

  return router;
}

function parseInteger(value: unknown, field: string): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !/^\d{1,16}$/.test(value) || !Number.isSafeInteger(Number(value))) {
    throw new LogError(
      'LOG_INDEX_INVALID',
      `${field}: expected a non-negative integer, received ${JSON.stringify(value)}`,
    );
  }
  return Number(value);
}

function optionalArray<T>(value: unknown, field: string, isItem: (item: unknown) => item is T): T[] {
  if (value === undefined) return [];
  if (!Array.isArray(value) || !value.every(isItem)) {
    throw new LogError('LOG_ENTRY_INVALID', `${field}: expected an array of valid items`);
  }
  return value;
}

function ignoreNotFound(error: unknown): undefined {
  if (error instanceof LogError && error.code === 'LOG_ENTRY_NOT_FOUND') return undefined;
  throw error;
}
