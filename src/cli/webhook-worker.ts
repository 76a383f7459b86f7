// One webhook worker process (see webhook-workers.ts): started by the primary with node:cluster, its
// settings in SIGIL_WEBHOOK_WORKER; serves /validate and /mutate on the shared port, asking the
// primary for every image it has no kept decision for. Stops when the primary disconnects.
import cluster from 'node:cluster';
import { describeError, isSigilError } from '../core/index.ts';
import {
  createApp,
  createFastRoutes,
  createServerMetrics,
  listen,
  registerWebhookMetrics,
  webhookRoutes,
} from '../server/index.ts';
import {
  createAdmissionHandler,
  WorkerDecisions,
  type PrimaryMessage,
  type WorkerMessage,
} from '../webhook/index.ts';
import type { LogLevel } from './config.ts';
import { createLogger } from './logger.ts';
import type { WorkerConfig } from './webhook-workers.ts';

if (cluster.isPrimary || process.send === undefined) {
  process.stderr.write('webhook-worker: started by `sigil up --webhook-workers N`, not on its own\n');
  process.exit(2);
}
const send = process.send.bind(process);
const config = JSON.parse(process.env.SIGIL_WEBHOOK_WORKER ?? '{}') as WorkerConfig;
const logger = createLogger(config.logLevel as LogLevel).child({
  service: 'webhook',
  worker: cluster.worker?.id,
});
const metrics = createServerMetrics({ collectProcessMetrics: false });
const instruments = registerWebhookMetrics(metrics);
// This port's /metrics answers what the primary's does: every worker's and the primary's series.
const expositions = new Map<number, (text: string) => void>();
let nextExposition = 1;
metrics.exposition = () =>
  new Promise<string>((resolve, reject) => {
    const id = nextExposition++;
    const timer = setTimeout(() => {
      expositions.delete(id);
      reject(new Error('the webhook primary process did not send its metrics'));
    }, 5_000);
    expositions.set(id, (text) => {
      clearTimeout(timer);
      expositions.delete(id);
      resolve(text);
    });
    send({ type: 'sigil:metrics-text', id });
  });
const decisionListeners = new Set<(message: PrimaryMessage) => void>();
type PrimaryStatus =
  { type: 'sigil:metrics'; id: number } | { type: 'sigil:metrics-text'; id: number; text: string };
process.on('message', (message: PrimaryMessage | PrimaryStatus) => {
  if (message.type === 'sigil:metrics-text') {
    expositions.get(message.id)?.(message.text);
    return;
  }
  if (message.type === 'sigil:metrics') {
    void metrics.registry
      .getMetricsAsJSON()
      .then((snapshot) => send({ type: 'sigil:metrics', id: message.id, metrics: snapshot }));
    return;
  }
  for (const listener of decisionListeners) listener(message);
});
const decisions = new WorkerDecisions(
  {
    send: (message: WorkerMessage) => send(message),
    onMessage: (listener) => decisionListeners.add(listener),
  },
  { metrics: instruments.webhook },
);
const handler = createAdmissionHandler({
  decisions,
  mutation: { enabled: config.mutation, disabledNamespaces: config.mutationDisabledNamespaces },
  deadlineMs: config.deadlineMs,
  metrics: instruments.webhook,
  logger,
});
const fastRoutes = createFastRoutes({ logger, metrics });
for (const route of webhookRoutes(handler)) fastRoutes.add(route);
const app = createApp({ logger, metrics, readiness: [{ name: 'webhook', check: () => decisions.ready }] });
let server: Awaited<ReturnType<typeof listen>>;
try {
  server = await listen(fastRoutes.listener(app), {
    host: config.host,
    port: config.port,
    tls: { certFile: config.certFile, keyFile: config.keyFile },
    logger,
  });
} catch (error) {
  // The primary fails its start with this reason (a bad certificate, a port in use).
  send({
    type: 'sigil:failed',
    reason: isSigilError(error) ? `${error.code}: ${error.message}` : describeError(error),
  });
  process.exit(1);
}
send({ type: 'sigil:listening', url: server.url });
process.on('disconnect', () => {
  void server.close().finally(() => process.exit(0));
});
