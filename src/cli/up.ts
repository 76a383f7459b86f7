import type { Logger } from '../core/index.ts';
import { createApp, createServerMetrics, listen, type RunningServer } from '../server/index.ts';
import type { ServerConfig } from './config.ts';
import { prepareStateDir } from './state.ts';

/** One endpoint that `sigil up` started, as printed to the user. */
export interface StartedEndpoint {
  name: string;
  url: string;
  description: string;
}

export interface UpResult {
  version: string;
  stateDir: string;
  endpoints: StartedEndpoint[];
  stop(): Promise<void>;
}

/**
 * Starts every service Sigil has in one process on the embedded defaults. At this stage that is the HTTP
 * server with health, readiness and metrics, and the state folder later services keep their keys and
 * databases in.
 */
export async function startAll(
  config: Readonly<ServerConfig>,
  version: string,
  logger: Logger,
): Promise<UpResult> {
  await prepareStateDir(config.stateDir);
  const metrics = createServerMetrics();
  const app = createApp({ logger, metrics });
  const server: RunningServer = await listen(app, { host: config.host, port: config.port });
  logger.info({ config: { ...config }, url: server.url }, 'sigil is up');
  return {
    version,
    stateDir: config.stateDir,
    endpoints: [
      { name: 'health', url: `${server.url}/healthz`, description: 'liveness' },
      { name: 'ready', url: `${server.url}/readyz`, description: 'readiness of every service' },
      { name: 'metrics', url: `${server.url}/metrics`, description: 'Prometheus metrics' },
    ],
    stop: () => server.close(),
  };
}

/** The human-readable summary `sigil up` prints. */
export function formatUp(result: Omit<UpResult, 'stop'>): string {
  const width = Math.max(5, ...result.endpoints.map((endpoint) => endpoint.name.length));
  const lines = [
    `Sigil ${result.version} is up`,
    `  ${'state'.padEnd(width)}  ${result.stateDir}`,
    ...result.endpoints.map(
      (endpoint) => `  ${endpoint.name.padEnd(width)}  ${endpoint.url}  (${endpoint.description})`,
    ),
    'Press Ctrl-C to stop.',
  ];
  return `${lines.join('\n')}\n`;
}
