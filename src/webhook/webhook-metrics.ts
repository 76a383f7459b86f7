import type { CacheLookup } from './result-cache.ts';

/**
 * What the webhook reports for metrics, as plain calls: src/server turns them into Prometheus series.
 * Registry requests by status are counted by the registry client's `onResponse` hook.
 */
export interface WebhookMetrics {
  /** One AdmissionReview answered: which endpoint, what became of it, how long it took. */
  review(endpoint: 'validate' | 'mutate', outcome: ReviewOutcome, seconds: number): void;
  /** One policy's verdict on one image (`(none)` when no policy matched). */
  policyDecision(policy: string, outcome: 'passed' | 'failed' | 'warned' | 'no-match'): void;
  /** One authority evaluated for real (a cache miss): how long the fetch + verification took. */
  verification(seconds: number, outcome: 'passed' | 'failed'): void;
  /** A lookup in one of the webhook's caches. */
  cacheLookup(cache: 'decision' | 'verification' | 'tag', lookup: CacheLookup): void;
}

export type ReviewOutcome = 'allowed' | 'denied' | 'warned' | 'skipped' | 'invalid';

export const noWebhookMetrics: WebhookMetrics = Object.freeze({
  review: () => undefined,
  policyDecision: () => undefined,
  verification: () => undefined,
  cacheLookup: () => undefined,
});
