import cluster, { type Worker } from 'node:cluster';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import type { Logger } from '../core/index.ts';
import { metricsText, type MetricsSnapshot, type ServerMetrics } from '../server/index.ts';
import {
  serveWorker,
  type LocalDecisions,
  type PrimaryMessage,
  type WorkerMessage,
} from '../webhook/index.ts';
import { CliError } from './errors.ts';

/**
 * The webhook on several cores: N worker processes (node:cluster) share the webhook port, each
 * terminating TLS, parsing reviews and answering what it has decided before; the images they have not
 * seen are decided here, in the primary, by the one LocalDecisions (see src/webhook/worker-decisions.ts).
 * A worker that dies is replaced. The workers' metrics are reported with the primary's.
 */

/** What a worker needs, passed in its environment as JSON (SIGIL_WEBHOOK_WORKER). */
export interface WorkerConfig {
  readonly host: string;
  readonly port: number;
  readonly certFile: string;
  readonly keyFile: string;
  readonly mutation: boolean;
  readonly mutationDisabledNamespaces: readonly string[];
  readonly deadlineMs: number;
  readonly logLevel: string;
}

/** Messages of a worker beyond the decisions: it is listening; its metrics. */
type WorkerStatus =
  | { readonly type: 'sigil:listening'; readonly url: string }
  /** It could not listen, and exits. */
  | { readonly type: 'sigil:failed'; readonly reason: string }
  | { readonly type: 'sigil:metrics'; readonly id: number; readonly metrics: MetricsSnapshot }
  /** The worker's /metrics was asked for: it answers what the primary's would. */
  | { readonly type: 'sigil:metrics-text'; readonly id: number };

/** How long after a worker died its replacement is started, ms. */
const RESPAWN_DELAY_MS = 1_000;

export interface RunningWorkers {
  readonly url: string;
  close(): Promise<void>;
}

export async function startWebhookWorkers(options: {
  readonly count: number;
  readonly config: WorkerConfig;
  readonly decisions: LocalDecisions;
  readonly metrics: ServerMetrics;
  readonly logger: Logger;
}): Promise<RunningWorkers> {
  const { count, decisions, metrics, logger } = options;
  if (!cluster.isPrimary) throw new TypeError('webhook workers start from the primary process');
  const self = fileURLToPath(import.meta.url);
  cluster.setupPrimary({
    exec: self.replace(/webhook-workers(\.[cm]?[jt]s)$/, 'webhook-worker$1'),
    args: [],
    // The loader (tsx when run from source) but not this process's own flags (--test, --cpu-prof, ...).
    execArgv: loaderArguments(process.execArgv),
  });
  let closing = false;
  let started = false;
  const workers = new Set<Worker>();
  const pendingMetrics = new Map<number, (snapshot: MetricsSnapshot) => void>();
  let nextMetricsId = 1;

  const fork = (): Promise<string> => {
    const worker = cluster.fork({
      // The same port for every worker, 0 included: the cluster shares one listening socket per address.
      SIGIL_WEBHOOK_WORKER: JSON.stringify(options.config),
    });
    workers.add(worker);
    const listeners = new Set<(message: WorkerMessage) => void>();
    let stop = (): void => undefined;
    let failure: string | undefined;
    const listening = new Promise<string>((resolve, reject) => {
      worker.on('message', (message: WorkerMessage | WorkerStatus) => {
        if (message.type === 'sigil:listening') {
          // Only now: what a process is sent before it listens for messages is lost.
          stop = serveWorker(decisions, {
            send: (reply: PrimaryMessage) => {
              if (worker.isConnected()) worker.send(reply);
            },
            onMessage: (listener) => listeners.add(listener),
          });
          resolve(message.url);
        } else if (message.type === 'sigil:failed') {
          failure = message.reason;
        } else if (message.type === 'sigil:metrics') pendingMetrics.get(message.id)?.(message.metrics);
        else if (message.type === 'sigil:metrics-text') {
          void metricsText(metrics).then(
            (text) =>
              worker.isConnected() && worker.send({ type: 'sigil:metrics-text', id: message.id, text }),
          );
        } else for (const listener of listeners) listener(message);
      });
      worker.on('exit', (code, signal) => {
        workers.delete(worker);
        stop();
        reject(
          new CliError(
            'CLI_WEBHOOK_WORKER_FAILED',
            failure !== undefined
              ? `webhook worker could not listen: ${failure}`
              : `webhook worker exited (${signal ?? code}) before listening; see its log above`,
          ),
        );
        // Before every worker listens, a failure fails the start instead (the caller says why).
        if (closing || !started) return;
        logger.error({ worker: worker.id, code, signal }, 'webhook worker exited; starting another');
        // A pause first, so a worker that cannot start does not become a busy loop of forks.
        setTimeout(() => {
          if (closing) return;
          fork().catch((error: unknown) => logger.error({ err: error }, 'webhook worker did not start'));
        }, RESPAWN_DELAY_MS).unref();
      });
    });
    return listening;
  };

  const remote = async (): Promise<MetricsSnapshot> => {
    const snapshots = await Promise.all(
      [...workers].map(
        (worker) =>
          new Promise<MetricsSnapshot>((resolve) => {
            const id = nextMetricsId++;
            const timer = setTimeout(() => done([]), 2_000);
            const done = (snapshot: MetricsSnapshot) => {
              clearTimeout(timer);
              pendingMetrics.delete(id);
              resolve(snapshot);
            };
            pendingMetrics.set(id, done);
            if (worker.isConnected()) worker.send({ type: 'sigil:metrics', id });
            else done([]);
          }),
      ),
    );
    return snapshots.flat();
  };

  let url: string;
  try {
    [url] = (await Promise.all(Array.from({ length: count }, () => fork()))) as [string];
  } catch (error) {
    closing = true;
    await stopAll(workers);
    throw error;
  }
  started = true;
  metrics.remote.add(remote);
  logger.info({ url, workers: count }, 'webhook workers are up');
  return {
    url,
    async close() {
      closing = true;
      metrics.remote.delete(remote);
      await stopAll(workers);
    },
  };
}

async function stopAll(workers: ReadonlySet<Worker>): Promise<void> {
  await Promise.all(
    [...workers].map(async (worker) => {
      const exited = once(worker, 'exit');
      if (worker.isConnected()) worker.disconnect();
      const timer = setTimeout(() => worker.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    }),
  );
}

/** `--import X`, `--require X`, `--loader X` (and their `=` forms) of `execArgv`, nothing else. */
function loaderArguments(execArgv: readonly string[]): string[] {
  const kept: string[] = [];
  for (let index = 0; index < execArgv.length; index++) {
    const argument = execArgv[index]!;
    if (/^--(import|require|loader|experimental-loader)=/.test(argument)) kept.push(argument);
    else if (/^(--import|--require|-r|--loader|--experimental-loader)$/.test(argument)) {
      kept.push(argument, execArgv[index + 1] ?? '');
      index += 1;
    }
  }
  return kept;
}
