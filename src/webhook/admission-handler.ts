import { describeError, silentLogger, systemClock, type Clock, type Logger } from '../core/index.ts';
import { formatDecision, type AdmittedResource } from '../policy/index.ts';
import {
  errorReviewResponse,
  parseAdmissionReview,
  reviewResponse,
  type AdmissionRequest,
} from './admission-review.ts';
import { digestPatch, isPinned } from './digest-patch.ts';
import { webhookDenial, type DecidedImage } from './image-decider.ts';
import type { ImageDecisions, ReviewScope } from './image-decisions.ts';
import { LocalDecisions, type LocalDecisionsOptions } from './local-decisions.ts';
import { noWebhookMetrics, type ReviewOutcome, type WebhookMetrics } from './webhook-metrics.ts';
import { triageRequest, type Workload } from './workload.ts';

/**
 * The webhook's two endpoints as functions from an AdmissionReview body to the AdmissionReview
 * answer. `/mutate` pins tags to digests (JSONPatch) where mutation is on; `/validate` decides every
 * image of the workload against the ClusterImagePolicies and admits, warns or denies with one line
 * per image a person can act on. Neither ever throws for a bad review or a failing registry: those
 * are answers too.
 */

export interface MutationSettings {
  /** Pin tags to digests. Default true. */
  readonly enabled: boolean;
  /** Namespaces where nothing is pinned (GitOps tools fight the patch). */
  readonly disabledNamespaces: readonly string[];
}

export interface HandlerSettings {
  readonly mutation?: MutationSettings;
  /** Time a review may take before unfinished verifications count as timed out, ms. Default 8,000 (the API server waits 10 s). */
  readonly deadlineMs?: number;
  readonly metrics?: WebhookMetrics;
  readonly logger?: Logger;
  readonly clock?: Clock;
}

/**
 * The images decided in this process (the policy source, trust and registry access given), or by
 * `decisions` (a webhook worker asking its primary process).
 */
export type AdmissionHandlerOptions = HandlerSettings &
  (LocalDecisionsOptions | { readonly decisions: ImageDecisions });

export interface AdmissionHandler {
  /** The AdmissionReview answer for a `/validate` body (any bytes). */
  validate(body: Uint8Array | string): Promise<unknown>;
  /** The AdmissionReview answer for a `/mutate` body (any bytes). */
  mutate(body: Uint8Array | string): Promise<unknown>;
}

export function createAdmissionHandler(options: AdmissionHandlerOptions): AdmissionHandler {
  return new Handler(options);
}

class Handler implements AdmissionHandler {
  readonly #options: AdmissionHandlerOptions;
  readonly #logger: Logger;
  readonly #metrics: WebhookMetrics;
  readonly #clock: Clock;
  readonly #decisions: ImageDecisions;
  readonly #mutation: MutationSettings;

  constructor(options: AdmissionHandlerOptions) {
    this.#options = options;
    this.#logger = options.logger ?? silentLogger;
    this.#metrics = options.metrics ?? noWebhookMetrics;
    this.#clock = options.clock ?? systemClock;
    this.#mutation = options.mutation ?? { enabled: true, disabledNamespaces: [] };
    this.#decisions = 'decisions' in options ? options.decisions : new LocalDecisions(options);
  }

  async validate(body: Uint8Array | string): Promise<unknown> {
    const started = performance.now();
    const answer = await this.#review('validate', body, (request, workload, scope) =>
      this.#validate(request, workload, scope),
    );
    this.#metrics.review('validate', answer.outcome, (performance.now() - started) / 1000);
    return answer.response;
  }

  async mutate(body: Uint8Array | string): Promise<unknown> {
    const started = performance.now();
    const answer = await this.#review('mutate', body, (request, workload, scope) =>
      this.#mutate(request, workload, scope),
    );
    this.#metrics.review('mutate', answer.outcome, (performance.now() - started) / 1000);
    return answer.response;
  }

  /** Parses and triages the review, then runs `decide` for a workload with images. */
  async #review(
    endpoint: 'validate' | 'mutate',
    body: Uint8Array | string,
    decide: (request: AdmissionRequest, workload: Workload, scope: ReviewScope) => Promise<Answer>,
  ): Promise<Answer> {
    let request: AdmissionRequest;
    try {
      request = parseAdmissionReview(body);
    } catch (error) {
      this.#logger.warn({ endpoint, error: describeError(error) }, 'malformed AdmissionReview');
      return { outcome: 'invalid', response: errorReviewResponse(uidOf(body), error) };
    }
    let triage: ReturnType<typeof triageRequest>;
    try {
      triage = triageRequest(request);
    } catch (error) {
      this.#logger.warn({ endpoint, uid: request.uid, error: describeError(error) }, 'malformed object');
      return { outcome: 'invalid', response: errorReviewResponse(uidOf(body), error) };
    }
    if (triage.action === 'skip') {
      return {
        outcome: 'skipped',
        response: reviewResponse(request.apiVersion, { uid: request.uid, allowed: true }),
      };
    }
    if (triage.action === 'allow-unknown') {
      const warnings = endpoint === 'validate' ? [triage.warning] : [];
      return {
        outcome: 'skipped',
        response: reviewResponse(request.apiVersion, { uid: request.uid, allowed: true, warnings }),
      };
    }
    const { workload } = triage;
    if (workload.images.length === 0) {
      return {
        outcome: 'allowed',
        response: reviewResponse(request.apiVersion, { uid: request.uid, allowed: true }),
      };
    }
    // The deadline's timer starts only when some image needs work beyond the caches.
    const deadlineAt = this.#clock.now().getTime() + (this.#options.deadlineMs ?? 8_000);
    let timer: NodeJS.Timeout | undefined;
    let deadline: Promise<'deadline'> | undefined;
    const clock = this.#clock;
    try {
      return await decide(request, workload, {
        resource: admittedResource(request, workload),
        namespace: workload.namespace,
        serviceAccountName: workload.serviceAccountName,
        imagePullSecrets: workload.imagePullSecrets,
        deadlineAt,
        get deadline() {
          deadline ??= new Promise<'deadline'>((resolve) => {
            timer = setTimeout(resolve, Math.max(0, deadlineAt - clock.now().getTime()), 'deadline');
          });
          return deadline;
        },
      });
    } finally {
      clearTimeout(timer);
    }
  }

  async #validate(request: AdmissionRequest, workload: Workload, scope: ReviewScope): Promise<Answer> {
    // Images an UPDATE leaves as they were need no pin: they were admitted (or predate Sigil), and
    // requiring one would block every label change of a workload deployed by tag.
    const unchanged = unchangedImages(request, workload);
    const mustPin = new Set(
      this.#mutates(workload.namespace)
        ? workload.images
            .filter((each) => !isPinned(each.image) && !unchanged.has(each.pointer))
            .map((each) => each.image)
        : [],
    );
    const images = [...new Set(workload.images.map((each) => each.image))];
    const decided: DecidedImage[] = await Promise.all(
      images.map((image) =>
        mustPin.has(image) ? Promise.resolve(unpinned(image)) : this.#decisions.decide(image, scope),
      ),
    );
    for (const each of decided) {
      for (const policy of each.decision.policies) this.#metrics.policyDecision(policy.name, policy.outcome);
      if (each.decision.noMatchingPolicy) this.#metrics.policyDecision('(none)', 'no-match');
    }
    const denied = decided.filter((each) => each.decision.outcome === 'denied');
    const warnings = decided
      .filter((each) => each.decision.outcome === 'warned')
      .map((each) => formatDecision(each.decision));
    const log = {
      uid: request.uid,
      kind: workload.kind,
      namespace: workload.namespace,
      name: workload.name,
      images: decided.map((each) => ({
        image: each.image,
        digest: each.digest,
        outcome: each.decision.outcome,
      })),
    };
    if (denied.length > 0) {
      const message = denied.map((each) => formatDecision(each.decision)).join('; ');
      this.#logger.info({ ...log, message }, 'admission denied');
      return {
        outcome: 'denied',
        response: reviewResponse(request.apiVersion, { uid: request.uid, allowed: false, message, warnings }),
      };
    }
    this.#logger.debug(log, warnings.length > 0 ? 'admission allowed with warnings' : 'admission allowed');
    return {
      outcome: warnings.length > 0 ? 'warned' : 'allowed',
      response: reviewResponse(request.apiVersion, { uid: request.uid, allowed: true, warnings }),
    };
  }

  async #mutate(request: AdmissionRequest, workload: Workload, scope: ReviewScope): Promise<Answer> {
    if (!this.#mutates(workload.namespace)) {
      return {
        outcome: 'allowed',
        response: reviewResponse(request.apiVersion, { uid: request.uid, allowed: true }),
      };
    }
    // Pinning an image an UPDATE did not change would change the running container's spec (a restart).
    const unchanged = unchangedImages(request, workload);
    const toPin = workload.images.filter((each) => !isPinned(each.image) && !unchanged.has(each.pointer));
    const images = [...new Set(toPin.map((each) => each.image))];
    const digests = new Map<string, string>();
    await Promise.all(
      images.map(async (image) => {
        try {
          const digest = await Promise.race([this.#decisions.resolve(image, scope), scope.deadline]);
          if (digest !== 'deadline') digests.set(image, digest);
        } catch (error) {
          // Left unpinned: /validate denies it and says why.
          this.#logger.info({ uid: request.uid, image, error: describeError(error) }, 'cannot pin image');
        }
      }),
    );
    const patch = digestPatch(toPin, digests);
    return {
      outcome: 'allowed',
      response: reviewResponse(request.apiVersion, {
        uid: request.uid,
        allowed: true,
        ...(patch.length > 0 ? { patch } : {}),
      }),
    };
  }

  #mutates(namespace: string): boolean {
    return this.#mutation.enabled && !this.#mutation.disabledNamespaces.includes(namespace);
  }
}

interface Answer {
  readonly outcome: ReviewOutcome;
  readonly response: unknown;
}

/** Pointers of the images an UPDATE leaves as they were in `oldObject`. */
function unchangedImages(request: AdmissionRequest, workload: Workload): Set<string> {
  const unchanged = new Set<string>();
  if (request.operation !== 'UPDATE' || request.oldObject === undefined) return unchanged;
  for (const each of workload.images) {
    if (valueAt(request.oldObject, each.pointer) === each.image) unchanged.add(each.pointer);
  }
  return unchanged;
}

/** The value at an RFC 6901 pointer, or undefined. */
function valueAt(object: unknown, pointer: string): unknown {
  let current = object;
  for (const token of pointer.split('/').slice(1)) {
    if (typeof current !== 'object' || current === null) return undefined;
    current = (current as Record<string, unknown>)[token.replace(/~1/g, '/').replace(/~0/g, '~')];
  }
  return current;
}

/** The uid of a review that failed to parse, when one can still be read from it. */
function uidOf(body: Uint8Array | string): string | undefined {
  try {
    const text = typeof body === 'string' ? body : Buffer.from(body).toString('utf8');
    const uid = (JSON.parse(text) as { request?: { uid?: unknown } } | null)?.request?.uid;
    return typeof uid === 'string' ? uid : undefined;
  } catch {
    return undefined;
  }
}

function unpinned(image: string): DecidedImage {
  return webhookDenial(
    image,
    '(digest pinning)',
    'EVIDENCE_UNAVAILABLE',
    'not pinned to a digest; the mutating webhook (/mutate) pins tags when mutation is on — check that it is installed, or turn mutation off for this namespace',
  );
}

function admittedResource(request: AdmissionRequest, workload: Workload): AdmittedResource {
  return {
    group: workload.group,
    version: workload.version,
    resource: workload.resource,
    kind: workload.kind,
    namespace: workload.namespace,
    labels: workload.labels,
    object: request.object,
  };
}
