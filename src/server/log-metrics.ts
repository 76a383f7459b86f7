import { Counter, Gauge } from 'prom-client';
import type { AdmissionPool, TransparencyLog } from '../log/index.ts';
import type { ServerMetrics } from './metrics.ts';

/** Outcome of one append request, as `sigil_log_append_total` labels it. */
export type AppendOutcome = 'added' | 'duplicate' | 'refused' | 'overloaded' | 'failed';

/** Counts one append request of the log named `log`. */
export type CountAppend = (log: string, outcome: AppendOutcome) => void;

/**
 * Prometheus metrics of the transparency logs, labelled `log` (e.g. `rekor-v1`, `tiles`, `ct`; the
 * record is read at every scrape, so logs started later are added to it): the tree size
 * of each latest checkpoint and the appends waiting to be durable (read when scraped), and append
 * requests by outcome.
 */
export function registerLogMetrics(
  metrics: ServerMetrics,
  logs: Readonly<Record<string, TransparencyLog>>,
): CountAppend {
  const registers = [metrics.registry];
  // read when scraped: logs may be added to the record after registration
  const entries = () => Object.entries(logs);
  new Gauge({
    name: 'sigil_log_checkpoint_tree_size',
    help: 'Tree size of the latest published checkpoint',
    labelNames: ['log'] as const,
    registers,
    collect() {
      for (const [name, log] of entries()) this.set({ log: name }, log.latestCheckpoint()?.size ?? 0);
    },
  });
  new Gauge({
    name: 'sigil_log_pending_appends',
    help: 'Entries accepted but not yet durable',
    labelNames: ['log'] as const,
    registers,
    collect() {
      for (const [name, log] of entries()) this.set({ log: name }, log.pendingAppends);
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

/** Counts an append request of `log` by the status it was answered with. */
export function countAppendResponse(count: CountAppend, log: string): (status: number) => void {
  return (status) => count(log, appendOutcome(status));
}

function appendOutcome(status: number): AppendOutcome {
  if (status === 201) return 'added';
  if (status === 409) return 'duplicate';
  if (status === 503) return 'overloaded';
  return status >= 400 && status < 500 ? 'refused' : 'failed';
}

/**
 * Metrics of the entry admission pool, read when scraped: seconds its workers spent admitting entries
 * and, of those, verifying signatures (with `sigil_process_cpu_seconds_total`, the share of the
 * process's time that verification takes), bodies waiting, workers and their restarts.
 */
export function registerAdmissionMetrics(metrics: ServerMetrics, pool: AdmissionPool): void {
  const registers = [metrics.registry];
  const totals = (): { busy: number; verify: number; restarts: number } =>
    pool.stats().workers.reduce(
      (sum, worker) => ({
        busy: sum.busy + worker.busySeconds,
        verify: sum.verify + worker.verifySeconds,
        restarts: sum.restarts + worker.replacements,
      }),
      { busy: 0, verify: 0, restarts: 0 },
    );
  const counter = (name: string, help: string, read: () => number) => {
    let reported = 0;
    new Counter({
      name,
      help,
      registers,
      collect() {
        const value = read();
        this.inc(value - reported);
        reported = value;
      },
    });
  };
  counter(
    'sigil_log_admission_seconds_total',
    'Seconds the admission workers spent validating and verifying entries',
    () => totals().busy,
  );
  counter(
    'sigil_log_signature_verify_seconds_total',
    'Seconds the admission workers spent verifying entry signatures',
    () => totals().verify,
  );
  counter(
    'sigil_log_admission_worker_restarts_total',
    'Admission workers that exited unexpectedly and were replaced',
    () => totals().restarts,
  );
  new Gauge({
    name: 'sigil_log_admission_pending',
    help: 'Entry requests waiting for or at an admission worker',
    registers,
    collect() {
      const { queued, inFlight } = pool.stats();
      this.set(queued + inFlight);
    },
  });
  new Gauge({
    name: 'sigil_log_admission_workers',
    help: 'Admission worker threads',
    registers,
    collect() {
      this.set(pool.stats().workers.length);
    },
  });
}
