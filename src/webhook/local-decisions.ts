import type { KeyObject } from 'node:crypto';
import { decodePem, encodePem, systemClock, type Clock } from '../core/index.ts';
import { trustFor, type AuthorityOutcome, type SecretKeySource } from '../policy/index.ts';
import { publicKeyFromPem, type TrustMaterial } from '../verify/index.ts';
import {
  decisionScope,
  ImageDecider,
  type DecidedImage,
  type DecisionScope,
  type PolicyContext,
  type ReviewContext,
} from './image-decider.ts';
import type { ImageDecisions, ReviewScope } from './image-decisions.ts';
import type { PolicySnapshot, PolicySource } from './policy-source.ts';
import type { RegistryAccess } from './registry-access.ts';
import { ResultCache } from './result-cache.ts';
import { noWebhookMetrics, type WebhookMetrics } from './webhook-metrics.ts';

/**
 * Images decided in this process: the policy snapshot of the review, registry clients per credential
 * set, the verification, tag and decision caches. The webhook's own process runs one; with webhook
 * workers, the primary process runs the only one and the workers ask it (worker-decisions.ts), so
 * every cache and every merged verification is shared by all of them.
 */

export interface LocalDecisionsOptions {
  readonly source: PolicySource;
  /** The trusted root of authorities without a `trustRootRef` (the embedded CA and log, or TUF's). */
  readonly trustedRoot: TrustMaterial;
  readonly registry: RegistryAccess;
  /** When no policy matches an image. Default deny (upstream `no-match-policy`). */
  readonly noMatch?: 'deny' | 'allow';
  /** Namespace of `key.secretRef` and `ca-cert.secretRef` Secrets without one. Default `sigil-system`. */
  readonly controllerNamespace?: string;
  readonly cache?: {
    /** Authority verdicts (and decided images) kept. Default 10,000. */
    readonly maxEntries?: number;
    /** How long a passing verdict is reused, ms. Default 300,000. */
    readonly successTtlMs?: number;
    /** How long a failing verdict is reused, ms. Default 30,000. */
    readonly failureTtlMs?: number;
    /** How long a tag's digest is reused, ms. Default 10,000. */
    readonly tagTtlMs?: number;
  };
  readonly metrics?: WebhookMetrics;
  readonly clock?: Clock;
}

/** The generation of the policies and what their decisions depend on. */
export interface PolicyFacts {
  readonly generation: number;
  readonly decisionScope: DecisionScope;
  readonly namespacedSecrets: boolean;
}

export class LocalDecisions implements ImageDecisions {
  readonly #options: LocalDecisionsOptions;
  readonly #verifications: ResultCache<AuthorityOutcome>;
  readonly #decider: ImageDecider;
  /** One snapshot and one registry client per review, whatever the number of its images. */
  readonly #reviews = new WeakMap<ReviewScope, { policies: PolicyContext; review: ReviewContext }>();
  #context?: PolicyContext;

  constructor(options: LocalDecisionsOptions) {
    this.#options = options;
    const clock = options.clock ?? systemClock;
    const cache = options.cache ?? {};
    const successTtl = cache.successTtlMs ?? 300_000;
    const failureTtl = cache.failureTtlMs ?? 30_000;
    this.#verifications = new ResultCache<AuthorityOutcome>({
      maxEntries: cache.maxEntries ?? 10_000,
      ttlFor: (outcome) => (outcome.decision.outcome === 'passed' ? successTtl : failureTtl),
      clock,
    });
    const tagTtl = cache.tagTtlMs ?? 10_000;
    this.#decider = new ImageDecider({
      noMatch: options.noMatch ?? 'deny',
      verifications: this.#verifications,
      tags: new ResultCache<string>({ maxEntries: 10_000, ttlFor: () => tagTtl, clock }),
      artifacts: { clock, failureTtlMs: Math.min(failureTtl, 5_000) },
      metrics: options.metrics ?? noWebhookMetrics,
      maxDecisions: cache.maxEntries ?? 10_000,
      constantTtlMs: successTtl,
      clock,
    });
    // A changed policy, TrustRoot or Secret drops every cached verdict and decision at once.
    options.source.subscribe(() => {
      this.#verifications.clear();
      this.#decider.forget();
    });
  }

  /** What a webhook worker needs to keep decisions of the current policies (see worker-decisions.ts). */
  policyFacts(): PolicyFacts {
    const { generation, decisionScope, namespacedSecrets } = this.#policyContext(
      this.#options.source.current(),
    );
    return { generation, decisionScope, namespacedSecrets };
  }

  /** `listener` runs with the new facts after each change of the policies. */
  onPolicyChange(listener: (facts: PolicyFacts) => void): () => void {
    return this.#options.source.subscribe(() => listener(this.policyFacts()));
  }

  decide(image: string, scope: ReviewScope): Promise<DecidedImage> {
    const { policies, review } = this.#reviewOf(scope);
    return this.#decider.decide(image, policies, review);
  }

  resolve(image: string, scope: ReviewScope): Promise<string> {
    return this.#decider.resolve(image, this.#reviewOf(scope).review);
  }

  /** Until when the digest `resolve` gave for `image` is reused (ms since the epoch), if it is kept. */
  resolvedUntil(image: string, scope: ReviewScope): number | undefined {
    return this.#decider.resolvedUntil(image, this.#reviewOf(scope).review);
  }

  #reviewOf(scope: ReviewScope): { policies: PolicyContext; review: ReviewContext } {
    let found = this.#reviews.get(scope);
    if (found) return found;
    const snapshot = this.#options.source.current();
    const { registry } = this.#options;
    const { namespace, serviceAccountName } = scope;
    const { client, key } = registry.clientFor(snapshot, {
      namespace,
      serviceAccountName,
      secretNames: scope.imagePullSecrets,
      includeServiceAccount: true,
    });
    found = {
      policies: this.#policyContext(snapshot),
      review: {
        resource: scope.resource,
        client,
        clientKey: key,
        signatureClient: (secretNames) =>
          registry.clientFor(snapshot, {
            namespace,
            serviceAccountName,
            secretNames,
            includeServiceAccount: false,
          }),
        get deadline() {
          return scope.deadline;
        },
      },
    };
    this.#reviews.set(scope, found);
    return found;
  }

  /** Trust and keys of one snapshot, built once per generation. */
  #policyContext(snapshot: PolicySnapshot): PolicyContext {
    if (this.#context?.generation === snapshot.generation) return this.#context;
    const controllerNamespace = this.#options.controllerNamespace ?? 'sigil-system';
    const secretValues = (source: SecretKeySource): Uint8Array[] =>
      Object.values(snapshot.secret(source.namespace ?? controllerNamespace, source.name) ?? {});
    const keys = new Map<string, readonly KeyObject[]>();
    this.#context = {
      generation: snapshot.generation,
      policies: snapshot.policies,
      namespacedSecrets: snapshot.policies.some((policy) =>
        policy.authorities.some((authority) =>
          authority.sources.some((each) => each.signaturePullSecrets.length > 0),
        ),
      ),
      decisionScope: decisionScope(snapshot.policies),
      trust: trustFor({
        trustedRoot: this.#options.trustedRoot,
        trustRoots: snapshot.trustRoots,
        caCertificates: secretValues,
      }),
      secretKeys: (source) => {
        const id = `${source.namespace ?? controllerNamespace}/${source.name}`;
        let found = keys.get(id);
        if (!found) {
          // Each value may hold several PEM public keys (upstream allows one value); any one may verify.
          found = secretValues(source).flatMap((value) =>
            publicKeysIn(Buffer.from(value).toString('utf8'), id),
          );
          keys.set(id, found);
        }
        return found;
      },
    };
    return this.#context;
  }
}

/** The PEM public keys in a Secret value; what does not import is passed over (the authority then says none). */
function publicKeysIn(text: string, secret: string): KeyObject[] {
  let blocks;
  try {
    blocks = decodePem(text, `secret ${secret}`);
  } catch {
    return [];
  }
  return blocks.flatMap((block) => {
    if (block.label !== 'PUBLIC KEY') return [];
    try {
      return [publicKeyFromPem(encodePem(block.label, block.der), `secret ${secret}`)];
    } catch {
      return [];
    }
  });
}
