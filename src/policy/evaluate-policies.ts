import type { KeyObject } from 'node:crypto';
import type { Verifier } from '../verify/index.ts';
import { POLICY_RESULT_VARIABLES, evaluateCelPolicy } from './cel-policy.ts';
import type { Authority, ClusterImagePolicy, SecretKeySource } from './cluster-image-policy.types.ts';
import {
  compilePolicyDefinition,
  evaluateAuthority,
  type AuthorityMatch,
  type AuthorityOutcome,
  type EvidenceSource,
  type ImageEvidence,
} from './evaluate-authority.ts';
import { PolicyError } from './errors.ts';
import type { DecisionOutcome, ImageDecision, PolicyDecision } from './policy-decision.ts';
import { policiesFor, type AdmittedResource } from './resource-match.ts';

/**
 * Which ClusterImagePolicies apply to an image and whether it is admitted, as upstream
 * policy-controller decides (`pkg/webhook/validator.go`): every policy whose `spec.images` globs (and
 * `spec.match`, given the resource) match applies and all of them must pass (AND); within a policy one
 * passing authority is enough (OR), and the CIP-level `policy` then runs over the authorities that
 * passed. A failing policy in `mode: warn` warns instead of denying. With no matching policy the image
 * is denied unless `noMatch` says allow (upstream's `no-match-policy`, default deny).
 */

/** Names one authority's evaluation of one image digest, for a cache (see `memoize`). */
export interface AuthorityCacheKey {
  /** `metadata.uid` (else name), plus `@resourceVersion` when the policy has one. */
  readonly policy: string;
  /** `INDEX:NAME`, e.g. `0:authority-0`. */
  readonly authority: string;
  /** `sha256:…` of the image. */
  readonly digest: string;
}

/** One string for an AuthorityCacheKey; distinct keys give distinct strings. */
export function authorityCacheKeyString(key: AuthorityCacheKey): string {
  return JSON.stringify([key.policy, key.authority, key.digest]);
}

export interface EvaluateImageInput {
  /** The image by digest: `registry/repository[:tag]@sha256:…`. */
  readonly image: string;
  readonly policies: readonly ClusterImagePolicy[];
  /**
   * The signatures and attestations of the image, from the image's repository (`undefined`) or the
   * authority's `source`; called at most once per distinct source, only for authorities that need it.
   */
  readonly evidence: (source: EvidenceSource | undefined) => Promise<ImageEvidence>;
  /** The verifier for an authority (see trustFor); a throw fails only that authority. */
  readonly trust: (authority: Authority) => Verifier;
  /** Default 'deny'. */
  readonly noMatch?: 'deny' | 'allow';
  /**
   * The resource the image is admitted in. With it, `spec.match` narrows the policies and the CIP-level
   * policy sees `spec`/`metadata`/`typemeta` as its `include*` flags say. Default: none (`match` ignored).
   */
  readonly resource?: AdmittedResource;
  /**
   * The public keys of a `key.secretRef` Secret (upstream inlines the one data entry of the Secret,
   * which may hold several PEM keys; any one verifying passes). Default: none, which fails such
   * authorities with TRUST_UNAVAILABLE naming the Secret.
   */
  readonly secretKeys?: (source: SecretKeySource) => readonly KeyObject[];
  /**
   * Wraps the evaluation of every authority that is not `static`, so a caller can cache results and
   * merge concurrent evaluations. MUST resolve to what `evaluate` resolves to, or an earlier result
   * for the same key. Default: evaluate every time.
   */
  readonly memoize?: (
    key: AuthorityCacheKey,
    evaluate: () => Promise<AuthorityOutcome>,
  ) => Promise<AuthorityOutcome>;
}

/**
 * Evaluates the policies that apply to `input.image` (see policiesFor). MUST NOT reject for a failing
 * signature or policy (those are decisions); throws PolicyError POLICY_IMAGE_INVALID for an image
 * without a digest.
 */
export async function evaluateImage(input: EvaluateImageInput): Promise<ImageDecision> {
  const digest = /@((?:sha256|sha384|sha512):[0-9a-f]+)$/.exec(input.image)?.[1];
  if (digest === undefined) {
    throw new PolicyError(
      'POLICY_IMAGE_INVALID',
      `image: expected a reference by digest (NAME@sha256:…), received ${JSON.stringify(input.image)}`,
    );
  }
  const matching = policiesFor(input.image, input.policies, input.resource);
  if (matching.length === 0) {
    const outcome = (input.noMatch ?? 'deny') === 'deny' ? 'denied' : 'allowed';
    return { image: input.image, outcome, policies: [], noMatchingPolicy: true };
  }
  const fetched = new Map<string, Promise<ImageEvidence>>();
  const evidenceFor = (authority: Authority) => () => {
    const source = sourceOf(authority);
    const key = JSON.stringify(source ?? null);
    let found = fetched.get(key);
    if (!found) {
      found = input.evidence(source);
      fetched.set(key, found);
    }
    return found;
  };
  const policies = await Promise.all(
    matching.map((policy) => evaluatePolicy(policy, digest, evidenceFor, input)),
  );
  const outcome: DecisionOutcome = policies.some((policy) => policy.outcome === 'failed')
    ? 'denied'
    : policies.some((policy) => policy.outcome === 'warned')
      ? 'warned'
      : 'allowed';
  return { image: input.image, outcome, policies };
}

async function evaluatePolicy(
  policy: ClusterImagePolicy,
  digest: string,
  evidenceFor: (authority: Authority) => () => Promise<ImageEvidence>,
  input: EvaluateImageInput,
): Promise<PolicyDecision> {
  const { metadata } = policy;
  const policyKey = `${metadata.uid ?? metadata.name}${metadata.resourceVersion !== undefined ? `@${metadata.resourceVersion}` : ''}`;
  const outcomes = await Promise.all(
    policy.authorities.map((authority, index) => {
      const evaluate = () =>
        evaluateAuthority({
          authority,
          field: `spec.authorities[${index}]`,
          imageDigest: digest,
          evidence: evidenceFor(authority),
          verifier: () => input.trust(authority),
          ...(input.secretKeys ? { secretKeys: input.secretKeys } : {}),
        });
      if (!input.memoize || authority.verifier.kind === 'static') return evaluate();
      return input.memoize({ policy: policyKey, authority: `${index}:${authority.name}`, digest }, evaluate);
    }),
  );
  const authorities = outcomes.map((outcome) => outcome.decision);
  const failed = policy.mode === 'warn' ? ('warned' as const) : ('failed' as const);
  const base = { name: policy.metadata.name, mode: policy.mode, authorities };
  const matches: Record<string, AuthorityMatch> = {};
  for (const outcome of outcomes) {
    if (outcome.decision.outcome === 'passed' && outcome.match)
      matches[outcome.decision.name] = outcome.match;
  }
  // Upstream: no authorities at all (fail-on-empty-authorities off) admits; otherwise one must pass.
  if (policy.authorities.length > 0 && Object.keys(matches).length === 0) return { ...base, outcome: failed };
  if (policy.policy) {
    const compiled = compilePolicyDefinition(policy.policy, 'spec.policy', POLICY_RESULT_VARIABLES);
    if ('reason' in compiled)
      return { ...base, outcome: failed, reason: { code: compiled.reason, message: compiled.message } };
    const result = evaluateCelPolicy(compiled, {
      authorityMatches: matches,
      config: {},
      ...resourceFields(policy.policy, input.resource),
    });
    if (!result.passed) {
      return {
        ...base,
        outcome: failed,
        reason: { code: 'ATTESTATION_POLICY_FAILED', message: result.reason },
      };
    }
  }
  return { ...base, outcome: 'passed' };
}

/**
 * `spec`, `metadata` and `typemeta` of upstream's PolicyResult: the admitted object's, each only when
 * the policy's `includeSpec`/`includeObjectMeta`/`includeTypeMeta` asks for it, `{}` otherwise (and
 * always for `sigil policy test`, which has no resource). Upstream leaves `typemeta` out for Pods;
 * Sigil gives it for every kind.
 */
function resourceFields(
  definition: NonNullable<ClusterImagePolicy['policy']>,
  resource: AdmittedResource | undefined,
): { spec: unknown; metadata: unknown; typemeta: unknown } {
  const object = isRecord(resource?.object) ? resource.object : {};
  const field = (name: string) => (isRecord(object[name]) ? object[name] : {});
  const typemeta = resource
    ? {
        apiVersion: resource.group ? `${resource.group}/${resource.version}` : resource.version,
        kind: resource.kind,
      }
    : {};
  return {
    spec: definition.includeSpec ? field('spec') : {},
    metadata: definition.includeObjectMeta ? field('metadata') : {},
    typemeta: definition.includeTypeMeta ? typemeta : {},
  };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** `source[0]` of an authority as the evidence callback takes it, or undefined for the image's own repository. */
function sourceOf(authority: Authority): EvidenceSource | undefined {
  const source = authority.sources[0];
  if (
    !source ||
    (source.oci === undefined && source.tagPrefix === undefined && source.signaturePullSecrets.length === 0)
  ) {
    return undefined;
  }
  return {
    ...(source.oci !== undefined ? { signatureRepository: source.oci } : {}),
    ...(source.tagPrefix !== undefined ? { tagPrefix: source.tagPrefix } : {}),
    ...(source.signaturePullSecrets.length > 0 ? { signaturePullSecrets: source.signaturePullSecrets } : {}),
  };
}
