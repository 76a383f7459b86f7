import { Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** The Prometheus registry of one process, with the HTTP metrics every route records. */
export interface ServerMetrics {
  registry: Registry;
  httpRequestDuration: Histogram<'method' | 'route' | 'status'>;
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
  return { registry, httpRequestDuration };
}
