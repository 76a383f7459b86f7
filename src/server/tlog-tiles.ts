import express, { type Router } from 'express';
import {
  TILE_WIDTH,
  isMerkleError,
  parseEntryBundlePath,
  parseTilePath,
  tileWidth,
} from '../merkle/index.ts';
import type { TransparencyLog } from '../log/index.ts';
import { ServerError } from './errors.ts';

/** Content at a tile path never changes (a wider partial tile has another path): cache it for a year. */
export const IMMUTABLE = 'public, max-age=31536000, immutable';

export interface TlogTilesRouterOptions {
  /**
   * Serve `/tile/entries/...` entry bundles. Default true; a static-ct-api log serves `/tile/data/...`
   * instead (ctlog-routes.ts).
   */
  entryBundles?: boolean;
}

/**
 * C2SP tlog-tiles reads of one log: `GET /checkpoint`, `GET /tile/<L>/<N>[.p/<W>]` and
 * `GET /tile/entries/<N>[.p/<W>]` (entry bundles: each entry as a big-endian u16 length, then its
 * bytes). Mount it at the log's prefix.
 */
export function createTlogTilesRouter(log: TransparencyLog, options: TlogTilesRouterOptions = {}): Router {
  const router = express.Router();
  const entryBundles = options.entryBundles ?? true;

  router.get('/checkpoint', (_request, response) => {
    const checkpoint = log.latestCheckpoint();
    if (!checkpoint)
      throw new ServerError('SERVER_UNAVAILABLE', 'the log has not published a checkpoint yet');
    response.set('cache-control', 'no-cache').type('text/plain; charset=utf-8').send(checkpoint.note);
  });

  router.get(/^\/tile\/entries\/.+$/, async (request, response, next) => {
    if (!entryBundles) return next();
    const { index, width } = parsePath(() => parseEntryBundlePath(request.path.slice(1)));
    const size = log.latestCheckpoint()?.size ?? 0;
    if (width > tileWidth(0, index, size)) throw notFound(request.path, size);
    const leaves = await log.storage.readLeaves(index * TILE_WIDTH, width);
    if (leaves.length !== width) throw notFound(request.path, size);
    const bundle = Buffer.alloc(leaves.reduce((total, leaf) => total + 2 + leaf.leaf.length, 0));
    let offset = 0;
    for (const { leaf } of leaves) {
      offset = bundle.writeUInt16BE(leaf.length, offset);
      bundle.set(leaf, offset);
      offset += leaf.length;
    }
    response.set('cache-control', IMMUTABLE).type('application/octet-stream').send(bundle);
  });

  router.get(/^\/tile\/\d+\/.+$/, async (request, response) => {
    const tile = parsePath(() => parseTilePath(request.path.slice(1)));
    const size = log.latestCheckpoint()?.size ?? 0;
    // Only serve what a published checkpoint commits to.
    if (tile.width > tileWidth(tile.level, tile.index, size)) throw notFound(request.path, size);
    const bytes = await log.readTile(tile.level, tile.index, tile.width);
    if (!bytes) throw notFound(request.path, size);
    response.set('cache-control', IMMUTABLE).type('application/octet-stream').send(Buffer.from(bytes));
  });

  return router;
}

function parsePath<T>(parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    if (isMerkleError(error)) throw new ServerError('SERVER_PATH_INVALID', error.message, { cause: error });
    throw error;
  }
}

function notFound(path: string, size: number): ServerError {
  return new ServerError(
    'SERVER_TILE_NOT_FOUND',
    `${path} is not part of the published tree of size ${size}`,
  );
}
