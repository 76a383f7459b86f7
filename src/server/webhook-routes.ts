import { Counter, Histogram } from 'prom-client';
import type { RegistryResponseListener } from '../oci/index.ts';
import type { AdmissionHandler, WebhookMetrics } from '../webhook/index.ts';
import type { FastPostRoute } from './fast-routes.ts';
import type { ServerMetrics } from './metrics.ts';

/**
 * The admission webhook's endpoints, `/validate` and `/mutate`, served by node:http directly (a cached
 * decision costs less than express's own per-request work). The API server sends AdmissionReviews of up
 * to a few MiB (object and oldObject); an overloaded webhook answers 503 with Retry-After, which the API
 * server treats as a failed call under the webhook's failurePolicy.
 */
export function webhookRoutes(
  handler: AdmissionHandler,
  options: { maxBodyBytes?: number; maxConcurrent?: number } = {},
): FastPostRoute[] {
  const maxBodyBytes = options.maxBodyBytes ?? 8 * 1024 * 1024;
  const maxConcurrent = options.maxConcurrent ?? 1_024;
  return [
    {
      path: '/validate',
      maxBodyBytes,
      maxConcurrent,
      handle: async (body) => ({ status: 200, body: await handler.validate(body) }),
    },
    {
      path: '/mutate',
      maxBodyBytes,
      maxConcurrent,
      handle: async (body) => ({ status: 200, body: await handler.mutate(body) }),
    },
  ];
}

/**
 * Prometheus series of the webhook: reviews and their latency by endpoint and outcome, policy verdicts
 * by policy, verification latency, cache lookups, and registry requests by status.
 */
export function registerWebhookMetrics(metrics: ServerMetrics): {
  webhook: WebhookMetrics;
  onRegistryResponse: RegistryResponseListener;
} {
  const registers = [metrics.registry];
  const reviews = new Counter({
    name: 'sigil_webhook_reviews_total',
    help: 'AdmissionReviews answered, by endpoint and outcome (allowed, denied, warned, skipped, invalid)',
    labelNames: ['endpoint', 'outcome'] as const,
    registers,
  });
  const reviewSeconds = new Histogram({
    name: 'sigil_webhook_review_duration_seconds',
    help: 'Time to answer an AdmissionReview, by endpoint',
    labelNames: ['endpoint'] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers,
  });
  const decisions = new Counter({
    name: 'sigil_webhook_policy_decisions_total',
    help: 'Verdicts of ClusterImagePolicies on images, by policy and outcome (passed, failed, warned, no-match)',
    labelNames: ['policy', 'outcome'] as const,
    registers,
  });
  const verificationSeconds = new Histogram({
    name: 'sigil_webhook_verification_duration_seconds',
    help: 'Time to fetch and verify the signatures of one authority for one image (cache misses only), by outcome',
    labelNames: ['outcome'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers,
  });
  const cacheLookups = new Counter({
    name: 'sigil_webhook_cache_lookups_total',
    help: 'Lookups in the webhook caches (decision, verification, tag), by result (hit, miss, merged into work in flight)',
    labelNames: ['cache', 'result'] as const,
    registers,
  });
  const registryRequests = new Counter({
    name: 'sigil_registry_requests_total',
    help: 'HTTP requests to registries, by registry host, method and status (error: no response)',
    labelNames: ['registry', 'method', 'status'] as const,
    registers,
  });
  return {
    webhook: {
      review(endpoint, outcome, seconds) {
        reviews.inc({ endpoint, outcome });
        reviewSeconds.observe({ endpoint }, seconds);
      },
      policyDecision: (policy, outcome) => decisions.inc({ policy, outcome }),
      verification: (seconds, outcome) => verificationSeconds.observe({ outcome }, seconds),
      cacheLookup: (cache, result) => cacheLookups.inc({ cache, result }),
    },
    onRegistryResponse: ({ host, method, status }) =>
      registryRequests.inc({ registry: host, method, status: String(status) }),
  };
}
