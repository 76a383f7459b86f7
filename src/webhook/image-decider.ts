import { describeError, isSigilError } from '../core/index.ts';
import {
  ArtifactCache,
  parseImageReference,
  withDigest,
  type ArtifactCacheOptions,
  type ImageReference,
  type RegistryClient,
} from '../oci/index.ts';
import {
  authorityCacheKeyString,
  evaluateImage,
  policiesFor,
  timedOutDecision,
  type AdmittedResource,
  type Authority,
  type AuthorityOutcome,
  type ClusterImagePolicy,
  type ImageDecision,
  type SecretKeySource,
} from '../policy/index.ts';
import type { Verifier } from '../verify/index.ts';
import type { KeyObject } from 'node:crypto';
import type { Clock } from '../core/index.ts';
import type { ResultCache } from './result-cache.ts';
import type { WebhookMetrics } from './webhook-metrics.ts';

/**
 * One image of a review, decided: its tag resolved to a digest (cached briefly, merged when
 * concurrent), then every applicable ClusterImagePolicy evaluated with each authority's verdict
 * taken from the verification cache or computed once for all concurrent reviews. A review's deadline
 * turns whatever has not finished into "timed out verifying IMAGE against POLICY". A decided image is
 * kept as a whole too, until the first cached result it was made from goes stale, so an image seen
 * again costs one lookup.
 */

/** What one snapshot of the policies gives every review until it changes. */
export interface PolicyContext {
  readonly generation: number;
  readonly policies: readonly ClusterImagePolicy[];
  readonly trust: (authority: Authority) => Verifier;
  readonly secretKeys: (source: SecretKeySource) => readonly KeyObject[];
  /** Whether any authority names `signaturePullSecrets` (cached verdicts are then kept per namespace). */
  readonly namespacedSecrets: boolean;
  /** What of the admitted resource a decision depends on besides the image (see decisionScope). */
  readonly decisionScope: DecisionScope;
}

/**
 * What a decision on an image depends on besides the image, the policies and the credentials:
 * nothing (`image`); the resource's group/version/resource (some policy has `match`); its labels too
 * (some `match` has a selector); or the whole object (some CIP-level policy has `include*`), whose
 * decisions are not kept.
 */
export type DecisionScope = 'image' | 'resource' | 'labels' | 'object';

/** The DecisionScope of a set of policies. */
export function decisionScope(policies: readonly ClusterImagePolicy[]): DecisionScope {
  let scope: DecisionScope = 'image';
  for (const policy of policies) {
    const definition = policy.policy;
    if (definition?.includeSpec || definition?.includeObjectMeta || definition?.includeTypeMeta) {
      return 'object';
    }
    if (policy.match.some((entry) => entry.selector !== undefined)) scope = 'labels';
    else if (policy.match.length > 0 && scope === 'image') scope = 'resource';
  }
  return scope;
}

/** What the review gives: the admitted resource, its registry client, and when time runs out. */
export interface ReviewContext {
  readonly resource: AdmittedResource;
  readonly client: RegistryClient;
  /** Names the client's credentials: cached results are kept per credential set. */
  readonly clientKey: string;
  /** A client with an authority's `signaturePullSecrets` (in the resource's namespace) instead. */
  readonly signatureClient: (secretNames: readonly string[]) => { client: RegistryClient; key: string };
  /** Settles when the review's deadline passes. */
  readonly deadline: Promise<'deadline'>;
}

export interface ImageDeciderOptions {
  readonly noMatch: 'deny' | 'allow';
  readonly verifications: ResultCache<AuthorityOutcome>;
  readonly tags: ResultCache<string>;
  /** Options of the signature artifact caches, one per registry client (that is, per set of credentials). */
  readonly artifacts: ArtifactCacheOptions;
  readonly metrics: WebhookMetrics;
  /** Decided images kept. Default 10,000. */
  readonly maxDecisions?: number;
  /** How long a decision made without any cached result (static authorities, no policy) is kept, ms. */
  readonly constantTtlMs: number;
  readonly clock: Clock;
}

interface KeptDecision {
  readonly decided: DecidedImage;
  /** ms since the epoch. */
  readonly expiresAt: number;
}

export interface DecidedImage {
  /** As written in the object. */
  readonly image: string;
  /** `sha256:…` when known (written, or resolved from the tag). */
  readonly digest?: string;
  readonly decision: ImageDecision;
  /** Until when (ms since the epoch) this decision is reused for the same image; absent when it is not kept. */
  readonly keptUntil?: number;
}

/**
 * A denial by the webhook itself rather than by a policy (`check` names what refused, e.g.
 * `(webhook)` when nothing could be evaluated in time, `(digest pinning)`), with its reason.
 */
export function webhookDenial(
  image: string,
  check: string,
  code: 'TIMED_OUT' | 'EVIDENCE_UNAVAILABLE',
  message: string,
): DecidedImage {
  return {
    image,
    decision: {
      image,
      outcome: 'denied',
      policies: [
        { name: check, mode: 'enforce', outcome: 'failed', reason: { code, message }, authorities: [] },
      ],
    },
  };
}

export class ImageDecider {
  readonly #options: ImageDeciderOptions;
  /**
   * Artifacts fetched with one client's credentials MUST NOT answer a review made with other (or no)
   * credentials: a pod without the pull secret would be admitted on what another pod's secret read.
   * Keyed by the client object, which RegistryAccess keeps per credential set; an evicted client's
   * cache goes with it.
   */
  readonly #artifacts = new WeakMap<RegistryClient, ArtifactCache>();
  /** Decided images by decisionKey, oldest first. */
  readonly #decisions = new Map<string, KeptDecision>();

  constructor(options: ImageDeciderOptions) {
    this.#options = options;
  }

  /** Drops every decided image (the policies, trust roots or Secrets changed). */
  forget(): void {
    this.#decisions.clear();
  }

  /** Until when (ms since the epoch) the digest `resolve` gave for a tag is reused; undefined when not kept. */
  resolvedUntil(image: string, review: Pick<ReviewContext, 'clientKey'>): number | undefined {
    return this.#options.tags.expiresAt(tagKey(review.clientKey, parseImageReference(image)));
  }

  /** The digest of `image` as written (a tag is resolved in the registry); throws OciError when it cannot be. */
  resolve(image: string, review: Pick<ReviewContext, 'client' | 'clientKey'>): Promise<string> {
    const reference = parseImageReference(image);
    if (reference.digest !== undefined) return Promise.resolve(reference.digest);
    const { value, lookup } = this.#options.tags.get(tagKey(review.clientKey, reference), () =>
      review.client.resolveDigest(reference),
    );
    this.#options.metrics.cacheLookup('tag', lookup);
    return value;
  }

  /** Decides `image`; never rejects: every failure is a decision with its reason. */
  async decide(image: string, policies: PolicyContext, review: ReviewContext): Promise<DecidedImage> {
    const key = decisionKey(image, policies, review);
    if (key !== undefined) {
      const kept = this.#decisions.get(key);
      if (kept !== undefined && kept.expiresAt > this.#options.clock.now().getTime()) {
        this.#options.metrics.cacheLookup('decision', 'hit');
        return kept.decided;
      }
      this.#options.metrics.cacheLookup('decision', 'miss');
    }
    let reference: ImageReference;
    try {
      reference = parseImageReference(image);
    } catch (error) {
      return {
        image,
        decision: this.#failure(image, policies, review, `invalid reference: ${reasonOf(error)}`),
      };
    }
    const work = this.#decideReference(image, reference, policies, review, key);
    const outcome = await Promise.race([work, review.deadline]);
    if (outcome !== 'deadline') return outcome;
    const applicable = policiesFor(image, policies.policies, review.resource);
    return { image, decision: timedOutDecision(image, applicable) };
  }

  async #decideReference(
    image: string,
    reference: ImageReference,
    policies: PolicyContext,
    review: ReviewContext,
    key: string | undefined,
  ): Promise<DecidedImage> {
    let digest: string;
    try {
      digest = await this.resolve(image, review);
    } catch (error) {
      const message = `cannot resolve ${image} to a digest: ${reasonOf(error)}`;
      return { image, decision: this.#failure(image, policies, review, message) };
    }
    const pinned = withDigest(reference, digest);
    /** The cached results the decision is made from: it is kept until the first of them goes stale. */
    const madeFrom: ((cache: ImageDeciderOptions) => number | undefined)[] = [];
    if (reference.digest === undefined) {
      const tag = tagKey(review.clientKey, reference);
      madeFrom.push((caches) => caches.tags.expiresAt(tag));
    }
    const decision = await evaluateImage({
      image: reference.digest !== undefined ? image : `${image}@${digest}`,
      policies: policies.policies,
      resource: review.resource,
      noMatch: this.#options.noMatch,
      trust: policies.trust,
      secretKeys: policies.secretKeys,
      evidence: (source) => {
        const client = source?.signaturePullSecrets
          ? review.signatureClient(source.signaturePullSecrets).client
          : review.client;
        return this.#artifactsOf(client).get(client, pinned, {
          ...(source?.signatureRepository
            ? { signatureRepository: parseImageReference(source.signatureRepository) }
            : {}),
          ...(source?.tagPrefix !== undefined ? { tagPrefix: source.tagPrefix } : {}),
        });
      },
      memoize: (key, evaluate) => {
        // With signaturePullSecrets, what an authority sees depends on the namespace's Secrets too.
        const namespace = policies.namespacedSecrets ? (review.resource.namespace ?? '') : '';
        // The repository too: the same digest elsewhere has other signatures (they live beside the
        // image) and another registry's availability.
        const repository = `${reference.registry}/${reference.repository}`;
        const cacheKey = `${policies.generation}|${review.clientKey}|${namespace}|${repository}|${authorityCacheKeyString(key)}`;
        const { value, lookup } = this.#options.verifications.get(cacheKey, () => this.#timed(evaluate));
        this.#options.metrics.cacheLookup('verification', lookup);
        madeFrom.push((caches) => caches.verifications.expiresAt(cacheKey));
        return value;
      },
    });
    const decided = { image, digest, decision };
    return key === undefined ? decided : this.#keep(key, decided, madeFrom);
  }

  #keep(
    key: string,
    decided: DecidedImage,
    madeFrom: readonly ((caches: ImageDeciderOptions) => number | undefined)[],
  ): DecidedImage {
    let expiresAt = this.#options.clock.now().getTime() + this.#options.constantTtlMs;
    for (const staleAt of madeFrom) {
      const at = staleAt(this.#options);
      if (at === undefined) return decided; // not kept (evicted, cleared by a policy change, never cached)
      expiresAt = Math.min(expiresAt, at);
    }
    const kept = { ...decided, keptUntil: expiresAt };
    this.#decisions.delete(key);
    this.#decisions.set(key, { decided: kept, expiresAt });
    const max = this.#options.maxDecisions ?? 10_000;
    while (this.#decisions.size > max) this.#decisions.delete(this.#decisions.keys().next().value!);
    return kept;
  }

  #artifactsOf(client: RegistryClient): ArtifactCache {
    let cache = this.#artifacts.get(client);
    if (cache === undefined) {
      cache = new ArtifactCache(this.#options.artifacts);
      this.#artifacts.set(client, cache);
    }
    return cache;
  }

  async #timed(evaluate: () => Promise<AuthorityOutcome>): Promise<AuthorityOutcome> {
    const started = performance.now();
    const outcome = await evaluate();
    this.#options.metrics.verification((performance.now() - started) / 1000, outcome.decision.outcome);
    return outcome;
  }

  /**
   * A decision for an image that could not be evaluated: denied by every applicable policy (warned by
   * those in warn mode) with `message`; with no applicable policy, what `noMatch` says.
   */
  #failure(image: string, policies: PolicyContext, review: ReviewContext, message: string): ImageDecision {
    const applicable = policiesFor(image, policies.policies, review.resource);
    if (applicable.length === 0) {
      return {
        image,
        outcome: this.#options.noMatch === 'allow' ? 'allowed' : 'denied',
        policies: [],
        noMatchingPolicy: true,
      };
    }
    const policyDecisions = applicable.map((policy) => ({
      name: policy.metadata.name,
      mode: policy.mode,
      outcome: policy.mode === 'warn' ? ('warned' as const) : ('failed' as const),
      reason: { code: 'EVIDENCE_UNAVAILABLE' as const, message },
      authorities: [],
    }));
    const denied = policyDecisions.some((policy) => policy.outcome === 'failed');
    return { image, outcome: denied ? 'denied' : 'warned', policies: policyDecisions };
  }
}

function tagKey(clientKey: string, reference: ImageReference): string {
  return `${clientKey}|${reference.canonical}`;
}

/**
 * Names a decision on `image` in one review: the policies' generation, the credentials, the namespace
 * when Secrets there matter, the part of the resource the policies look at, and the image as written.
 * Undefined when a decision depends on the whole object and cannot be kept.
 */
function decisionKey(image: string, policies: PolicyContext, review: ReviewContext): string | undefined {
  const { resource } = review;
  const part = resourcePart(policies.decisionScope, resource);
  if (part === undefined) return undefined;
  const namespace = policies.namespacedSecrets ? (resource.namespace ?? '') : '';
  return `${policies.generation}|${review.clientKey}|${namespace}|${part}|${image}`;
}

/** What of `resource` a decision under `scope` depends on, as part of a key; undefined for `object`. */
export function resourcePart(scope: DecisionScope, resource: AdmittedResource): string | undefined {
  switch (scope) {
    case 'image':
      return '';
    case 'resource':
      return `${resource.group}/${resource.version}/${resource.resource}`;
    case 'labels':
      return `${resource.group}/${resource.version}/${resource.resource}|${JSON.stringify(resource.labels)}`;
    case 'object':
      return undefined;
  }
}

function reasonOf(error: unknown): string {
  return isSigilError(error) ? `${error.code}: ${error.message}` : describeError(error);
}
