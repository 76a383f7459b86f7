import express, { type Express, type NextFunction, type Request, type Response } from 'express';
import type { Logger } from '../core/index.ts';
import { checkReadiness, type ReadinessCheck } from './health.ts';
import { metricsText, type ServerMetrics } from './metrics.ts';
import { toErrorResponse } from './error-response.ts';

export interface AppOptions {
  logger: Logger;
  metrics: ServerMetrics;
  /** What `/readyz` asks. Default: none, so the process is ready as soon as it listens. */
  readiness?: readonly ReadinessCheck[];
  /** Mounted before the fallback 404; each service adds its routes here. */
  routers?: readonly express.Router[];
}

/**
 * The HTTP application: health, readiness and metrics, each service's routes, request metrics and the
 * error mapping. It does not listen; see `listen`.
 */
export function createApp(options: AppOptions): Express {
  const { logger, metrics } = options;
  const readiness = options.readiness ?? [];
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);

  app.use((request: Request, response: Response, next: NextFunction) => {
    const end = metrics.httpRequestDuration.startTimer({ method: request.method });
    response.on('finish', () => {
      // The matched route pattern, not the path, keeps label cardinality bounded.
      const route = (request.route as { path?: string } | undefined)?.path ?? 'unmatched';
      end({ route: String(route), status: String(response.statusCode) });
    });
    next();
  });

  app.get('/healthz', (_request, response) => {
    response.type('text/plain').send('ok\n');
  });

  app.get('/readyz', async (request, response) => {
    const report = await checkReadiness(readiness);
    response.status(report.ready ? 200 : 503);
    if (!report.ready) response.set('retry-after', '1');
    if (request.query.verbose !== undefined) {
      response.json(report);
    } else {
      response.type('text/plain').send(report.ready ? 'ok\n' : `not ready: ${failedNames(report)}\n`);
    }
  });

  app.get('/metrics', async (_request, response) => {
    response.type(metrics.registry.contentType).send(await metricsText(metrics));
  });

  for (const router of options.routers ?? []) app.use(router);

  app.use((request: Request, response: Response) => {
    response
      .status(404)
      .json({ code: 'NOT_FOUND', message: `no route for ${request.method} ${request.path}` });
  });

  app.use((error: unknown, request: Request, response: Response, _next: NextFunction) => {
    const { status, headers, body } = toErrorResponse(
      error,
      logger.child({ method: request.method, path: request.path }),
    );
    response.status(status).set(headers).json(body);
  });

  return app;
}

/** An empty router, for routes mounted after the server already listens (e.g. once a service opened). */
export function createRouter(): express.Router {
  return express.Router();
}

function failedNames(report: Awaited<ReturnType<typeof checkReadiness>>): string {
  return report.checks
    .filter((check) => !check.ready)
    .map((check) => `${check.name} (${check.reason ?? 'not ready'})`)
    .join(', ');
}
