import type { Logger } from '../core/index.ts';
import { createAdmissionPool, inProcessAdmitter, type EntryAdmitter } from '../log/index.ts';
import {
  createApp,
  createFastRoutes,
  createRouter,
  createServerMetrics,
  createRekorV1Router,
  createTlogTilesRouter,
  listen,
  registerAdmissionMetrics,
  registerLogMetrics,
  rekorV1WriteRoute,
  rekorV2WriteRoute,
  type ReadinessCheck,
} from '../server/index.ts';
import { redactUrl, type ServerConfig } from './config.ts';
import { startLogServices } from './log-service.ts';
import { prepareStateDir } from './state.ts';

/** One endpoint that `sigil up` started, as printed to the user. */
export interface StartedEndpoint {
  name: string;
  url: string;
  description: string;
}

export interface UpSummary {
  version: string;
  stateDir: string;
  endpoints: StartedEndpoint[];
  log: { origin: string; storage: string; publicKeyPem: string; verifierKey: string };
  rekorV1: { origin: string; treeId: string; logId: string; publicKeyPem: string; verifierKey: string };
}

export interface UpResult extends UpSummary {
  stop(): Promise<void>;
}

/**
 * Starts every service Sigil has in one process on the embedded defaults: the HTTP server (health,
 * readiness, metrics) and the transparency log with its C2SP tiles, on SQLite in the state folder
 * unless a PostgreSQL URL is configured.
 */
export async function startAll(
  config: Readonly<ServerConfig>,
  version: string,
  logger: Logger,
): Promise<UpResult> {
  await prepareStateDir(config.stateDir);
  const services = createRouter();
  let logReady = false;
  const readiness: ReadinessCheck[] = [{ name: 'log', check: () => logReady }];
  const metrics = createServerMetrics();
  const app = createApp({ logger, metrics, readiness, routers: [services] });
  const fastRoutes = createFastRoutes({ logger, metrics });
  // Listen first: with --port 0 the URL, and so the log's origin, is only known once bound.
  const server = await listen(fastRoutes.listener(app), { host: config.host, port: config.port });
  let admitter: EntryAdmitter | undefined;
  try {
    const publicUrl = config.publicUrl ?? server.url;
    const logs = await startLogServices({
      stateDir: config.stateDir,
      database: config.database,
      publicUrl,
      logger,
    });
    services.use(createTlogTilesRouter(logs.tiles.log));
    const countAppend = registerLogMetrics(metrics, {
      'rekor-v1': logs.rekorV1Log.log,
      tiles: logs.tiles.log,
    });
    // Entries are validated and their signatures verified on worker threads, so every core verifies
    // while the main thread sequences, proves and answers.
    if (config.admissionWorkers > 0) {
      const pool = createAdmissionPool({ size: config.admissionWorkers });
      registerAdmissionMetrics(metrics, pool);
      admitter = pool;
    } else {
      admitter = inProcessAdmitter();
    }
    const writes = { admitter, countAppend, maxBodyBytes: config.maxBodyBytes };
    fastRoutes.add(rekorV1WriteRoute(logs.rekorV1, writes));
    fastRoutes.add(rekorV2WriteRoute(logs.rekorV2, writes));
    services.use(createRekorV1Router(logs.rekorV1, { maxBodyBytes: config.maxBodyBytes }));
    logReady = true;
    logger.info(
      { config: { ...config, database: config.database && redactUrl(config.database) }, url: server.url },
      'sigil is up',
    );
    return {
      version,
      stateDir: config.stateDir,
      endpoints: [
        {
          name: 'log',
          url: `${publicUrl}/checkpoint`,
          description: 'transparency log checkpoint (C2SP tlog-tiles)',
        },
        {
          name: 'rekor',
          url: `${publicUrl}/api/v1/log`,
          description: 'Rekor v1 API (--rekor-url is the base URL)',
        },
        { name: 'health', url: `${server.url}/healthz`, description: 'liveness' },
        { name: 'ready', url: `${server.url}/readyz`, description: 'readiness of every service' },
        { name: 'metrics', url: `${server.url}/metrics`, description: 'Prometheus metrics' },
      ],
      log: {
        origin: logs.tiles.origin,
        storage: logs.tiles.storage,
        publicKeyPem: logs.tiles.publicKeyPem,
        verifierKey: logs.tiles.verifierKey,
      },
      rekorV1: {
        origin: logs.rekorV1Log.origin,
        treeId: logs.rekorV1.treeId.toString(),
        logId: logs.rekorV1.logId,
        publicKeyPem: logs.rekorV1.publicKeyPem,
        verifierKey: logs.rekorV1Log.verifierKey,
      },
      stop: async () => {
        await server.close();
        await admitter?.close();
        await logs.close();
      },
    };
  } catch (error) {
    await server.close();
    await admitter?.close();
    throw error;
  }
}

/** The human-readable summary `sigil up` prints. */
export function formatUp(summary: UpSummary): string {
  const width = Math.max(8, ...summary.endpoints.map((endpoint) => endpoint.name.length));
  const row = (name: string, value: string) => `  ${name.padEnd(width)}  ${value}`;
  const lines = [
    `Sigil ${summary.version} is up`,
    row('state', summary.stateDir),
    ...summary.endpoints.map((endpoint) => row(endpoint.name, `${endpoint.url}  (${endpoint.description})`)),
    row('log key', summary.log.verifierKey),
    row('storage', summary.log.storage),
    '',
    'Log public key (PEM):',
    summary.log.publicKeyPem.trimEnd(),
    '',
    `Rekor v1 public key (PEM; log ID ${summary.rekorV1.logId}):`,
    summary.rekorV1.publicKeyPem.trimEnd(),
    '',
    'Press Ctrl-C to stop.',
  ];
  return `${lines.join('\n')}\n`;
}
