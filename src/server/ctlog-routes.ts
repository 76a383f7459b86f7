import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import { decodeHex, encodeBase64 } from '../core/index.ts';
import { CtError, parseAddChainRequest, type CtLog, type SubmissionKind } from '../ctlog/index.ts';
import { isMerkleError, parseEntryBundlePath } from '../merkle/index.ts';
import { ServerError } from './errors.ts';
import type { AppendOutcome, CountAppend } from './log-metrics.ts';
import { IMMUTABLE, createTlogTilesRouter } from './tlog-tiles.ts';

export interface CtLogRoutesOptions {
  /** Largest add-chain / add-pre-chain body accepted, in bytes; larger ones get 413. Default 512 KiB. */
  maxBodyBytes?: number;
  /** Counts submissions by outcome (`sigil_log_append_total`). */
  countAppend?: CountAppend;
  /** The `log` label of those counts. Default `ct`. */
  metricsName?: string;
}

const ISSUER_PATH = /^\/issuer\/([0-9a-f]{64})$/;

/**
 * A certificate-transparency log over HTTP, relative to where the router is mounted (the log's
 * submission and monitoring prefix, e.g. `/ct-log`):
 * - RFC 6962 §4.1, §4.2, §4.7: `POST /ct/v1/add-chain`, `POST /ct/v1/add-pre-chain` with
 *   `{"chain": [<base64 DER>, ...]}`, answered with an AddChainResponse; `GET /ct/v1/get-roots`.
 * - C2SP static-ct-api: `GET /checkpoint`, `GET /tile/<L>/<N>[.p/<W>]` (tlog-tiles.ts),
 *   `GET /tile/data/<N>[.p/<W>]` and `GET /issuer/<sha256 hex>`, immutable ones cached for a year.
 * A refused chain is a 400 with the CtError code; an overloaded log a 503 with Retry-After.
 */
export function createCtLogRouter(ct: CtLog, options: CtLogRoutesOptions = {}): Router {
  const router = express.Router();
  const json = express.json({ limit: options.maxBodyBytes ?? 512 * 1024, strict: true, type: () => true });
  const count = countSubmissions(options.countAppend, options.metricsName ?? 'ct');
  const submit = (kind: SubmissionKind) => async (request: Request, response: Response) => {
    const chain = parseAddChainRequest(request.body);
    const result = kind === 'certificate' ? await ct.addChain(chain) : await ct.addPreChain(chain);
    response.json(result.json);
  };

  router.post('/ct/v1/add-chain', count, json, submit('certificate'));
  router.post('/ct/v1/add-pre-chain', count, json, submit('precertificate'));

  router.get('/ct/v1/get-roots', (_request, response) => {
    response.json({ certificates: ct.roots().map(encodeBase64) });
  });

  router.get(/^\/tile\/data\/.+$/, async (request, response) => {
    const { index, width } = parseDataTilePath(request.path);
    const tile = await ct.readDataTile(index, width);
    if (!tile) {
      throw new ServerError(
        'SERVER_TILE_NOT_FOUND',
        `${request.path} is not part of the published tree of size ${ct.log.latestCheckpoint()?.size ?? 0}`,
      );
    }
    response.set('cache-control', IMMUTABLE).type('application/octet-stream').send(Buffer.from(tile));
  });

  router.get(/^\/issuer\/.*$/, async (request, response) => {
    const match = ISSUER_PATH.exec(request.path);
    if (!match) {
      throw new ServerError(
        'SERVER_PATH_INVALID',
        `${request.path}: expected /issuer/ and the lower-case hex SHA-256 of a certificate`,
      );
    }
    const der = await ct.readIssuer(decodeHex(match[1]!));
    if (!der) throw new CtError('CT_ISSUER_NOT_FOUND', `no entry of the log names issuer ${match[1]}`);
    response.set('cache-control', IMMUTABLE).type('application/pkix-cert').send(Buffer.from(der));
  });

  router.use(createTlogTilesRouter(ct.log, { entryBundles: false }));
  return router;
}

/** `/tile/data/<N>[.p/<W>]`, laid out as a tlog-tiles entry bundle path (static-ct-api §Log entries). */
function parseDataTilePath(path: string): { index: number; width: number } {
  try {
    return parseEntryBundlePath(`tile/entries/${path.slice('/tile/data/'.length)}`);
  } catch (error) {
    if (!isMerkleError(error)) throw error;
    throw new ServerError(
      'SERVER_PATH_INVALID',
      `${path}: expected /tile/data/<N>[.p/<W>] in canonical form`,
      {
        cause: error,
      },
    );
  }
}

function countSubmissions(countAppend: CountAppend | undefined, name: string) {
  return (_request: Request, response: Response, next: NextFunction): void => {
    if (countAppend) response.on('finish', () => countAppend(name, outcomeOf(response.statusCode)));
    next();
  };
}

function outcomeOf(status: number): AppendOutcome {
  if (status === 200) return 'added';
  if (status === 503) return 'overloaded';
  return status >= 400 && status < 500 ? 'refused' : 'failed';
}
