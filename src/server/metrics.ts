import {
  AggregatorRegistry,
  Histogram,
  Registry,
  collectDefaultMetrics,
  type MetricObjectWithValues,
  type MetricValue,
} from 'prom-client';

/** One process's metrics as prom-client's `getMetricsAsJSON` gives them. */
export type MetricsSnapshot = MetricObjectWithValues<MetricValue<string>>[];

/** The Prometheus registry of one process, with the HTTP metrics every route records. */
export interface ServerMetrics {
  registry: Registry;
  httpRequestDuration: Histogram<'method' | 'route' | 'status'>;
  /**
   * Other processes whose metrics `/metrics` reports with this one's, series of the same name and
   * labels summed (the webhook's worker processes).
   */
  remote: Set<() => Promise<MetricsSnapshot>>;
  /** What `/metrics` answers instead of metricsText (a webhook worker answers its primary's). */
  exposition?: () => Promise<string>;
}

export function createServerMetrics(options: { collectProcessMetrics?: boolean } = {}): ServerMetrics {
  const registry = new Registry();
  // Process metrics (CPU, memory, event-loop lag) are global to the process: collect them once.
  if (options.collectProcessMetrics ?? true) collectDefaultMetrics({ register: registry, prefix: 'sigil_' });
  const httpRequestDuration = new Histogram({
    name: 'sigil_http_request_duration_seconds',
    help: 'Time from request to response, by method, matched route and status code',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  return { registry, httpRequestDuration, remote: new Set() };
}

/** The Prometheus text of this process and its `remote` ones; a remote that fails is left out. */
export async function metricsText(metrics: ServerMetrics): Promise<string> {
  if (metrics.exposition) return metrics.exposition();
  if (metrics.remote.size === 0) return metrics.registry.metrics();
  const snapshots = await Promise.all([
    metrics.registry.getMetricsAsJSON(),
    ...[...metrics.remote].map((snapshot) => snapshot().catch((): MetricsSnapshot => [])),
  ]);
  return AggregatorRegistry.aggregate(snapshots).metrics();
}
