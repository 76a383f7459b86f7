import type { RequestHandler } from 'express';
import { Counter, Gauge } from 'prom-client';
import type { TransparencyLog } from '../log/index.ts';
import type { ServerMetrics } from './metrics.ts';

/** Outcome of one append request, as `sigil_log_append_total` labels it. */
export type AppendOutcome = 'added' | 'duplicate' | 'refused' | 'overloaded' | 'failed';

/** Counts one append request of the log named `log`. */
export type CountAppend = (log: string, outcome: AppendOutcome) => void;

/**
 * Prometheus metrics of the transparency logs, labelled `log` (e.g. `rekor-v1`, `tiles`): the tree size
 * of each latest checkpoint and the appends waiting to be durable (read when scraped), and append
 * requests by outcome.
 */
export function registerLogMetrics(
  metrics: ServerMetrics,
  logs: Readonly<Record<string, TransparencyLog>>,
): CountAppend {
  const registers = [metrics.registry];
  const entries = Object.entries(logs);
  new Gauge({
    name: 'sigil_log_checkpoint_tree_size',
    help: 'Tree size of the latest published checkpoint',
    labelNames: ['log'] as const,
    registers,
    collect() {
      for (const [name, log] of entries) this.set({ log: name }, log.latestCheckpoint()?.size ?? 0);
    },
  });
  new Gauge({
    name: 'sigil_log_pending_appends',
    help: 'Entries accepted but not yet durable',
    labelNames: ['log'] as const,
    registers,
    collect() {
      for (const [name, log] of entries) this.set({ log: name }, log.pendingAppends);
    },
  });
  const appends = new Counter({
    name: 'sigil_log_append_total',
    help: 'Append requests by log and outcome (added, duplicate, refused, overloaded, failed)',
    labelNames: ['log', 'outcome'] as const,
    registers,
  });
  return (log, outcome) => appends.inc({ log, outcome });
}

/** Middleware counting each append request of `log` by the status it was answered with. */
export function countAppends(count: CountAppend | undefined, log: string): RequestHandler {
  return (_request, response, next) => {
    if (count) response.on('finish', () => count(log, appendOutcome(response.statusCode)));
    next();
  };
}

function appendOutcome(status: number): AppendOutcome {
  if (status === 201) return 'added';
  if (status === 409) return 'duplicate';
  if (status === 503) return 'overloaded';
  return status >= 400 && status < 500 ? 'refused' : 'failed';
}
