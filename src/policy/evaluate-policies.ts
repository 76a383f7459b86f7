import { VerificationError, Verifier, type TrustMaterial, type VerifierOptions } from '../verify/index.ts';
import { POLICY_RESULT_VARIABLES, evaluateCelPolicy } from './cel-policy.ts';
import type { Authority, ClusterImagePolicy } from './cluster-image-policy.types.ts';
import {
  compilePolicyDefinition,
  evaluateAuthority,
  type AuthorityMatch,
  type EvidenceSource,
  type ImageEvidence,
} from './evaluate-authority.ts';
import { PolicyError } from './errors.ts';
import { compileImageGlob } from './image-glob.ts';
import type { DecisionOutcome, ImageDecision, PolicyDecision } from './policy-decision.ts';

/**
 * Which ClusterImagePolicies apply to an image and whether it is admitted, as upstream
 * policy-controller decides (`pkg/webhook/validator.go`): every policy whose `spec.images` globs match
 * applies and all of them must pass (AND); within a policy one passing authority is enough (OR), and
 * the CIP-level `policy` then runs over the authorities that passed. A failing policy in `mode: warn`
 * warns instead of denying. With no matching policy the image is denied unless `noMatch` says allow
 * (upstream's `no-match-policy`, default deny).
 */

export interface EvaluateImageInput {
  /** The image by digest: `registry/repository[:tag]@sha256:…`. */
  readonly image: string;
  readonly policies: readonly ClusterImagePolicy[];
  /**
   * The signatures and attestations of the image, from the image's repository (`undefined`) or the
   * authority's `source`; called at most once per distinct source, only for authorities that need it.
   */
  readonly evidence: (source: EvidenceSource | undefined) => Promise<ImageEvidence>;
  /** The verifier for an authority (see {@link verifiersFor}); a throw fails only that authority. */
  readonly trust: (authority: Authority) => Verifier;
  /** Default 'deny'. */
  readonly noMatch?: 'deny' | 'allow';
}

/**
 * Evaluates the policies that match `input.image`. MUST NOT reject for a failing signature or policy
 * (those are decisions); throws PolicyError POLICY_IMAGE_INVALID for an image without a digest.
 */
export async function evaluateImage(input: EvaluateImageInput): Promise<ImageDecision> {
  const digest = /@((?:sha256|sha384|sha512):[0-9a-f]+)$/.exec(input.image)?.[1];
  if (digest === undefined) {
    throw new PolicyError(
      'POLICY_IMAGE_INVALID',
      `image: expected a reference by digest (NAME@sha256:…), received ${JSON.stringify(input.image)}`,
    );
  }
  const matching = input.policies.filter((policy) =>
    policy.images.some((pattern) => compileImageGlob(pattern.glob).matches(input.image)),
  );
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
    matching.map((policy) => evaluatePolicy(policy, digest, evidenceFor, input.trust)),
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
  trust: (authority: Authority) => Verifier,
): Promise<PolicyDecision> {
  const outcomes = await Promise.all(
    policy.authorities.map((authority, index) =>
      evaluateAuthority({
        authority,
        field: `spec.authorities[${index}]`,
        imageDigest: digest,
        evidence: evidenceFor(authority),
        verifier: () => trust(authority),
      }),
    ),
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
    // spec, metadata and typemeta come from the admitted resource, which `sigil policy test` has none of.
    const result = evaluateCelPolicy(compiled, {
      authorityMatches: matches,
      config: {},
      spec: {},
      metadata: {},
      typemeta: {},
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

/** `source[0]` of an authority as the evidence callback takes it, or undefined for the image's own repository. */
function sourceOf(authority: Authority): EvidenceSource | undefined {
  const source = authority.sources[0];
  if (!source || (source.oci === undefined && source.tagPrefix === undefined)) return undefined;
  return {
    ...(source.oci !== undefined ? { signatureRepository: source.oci } : {}),
    ...(source.tagPrefix !== undefined ? { tagPrefix: source.tagPrefix } : {}),
  };
}

/**
 * The verifier options upstream's `checkOptsFromAuthority` amounts to: a `key` authority without
 * `ctlog`, and any authority with `rfc3161timestamp`, ignores the transparency log; a keyless authority
 * with `insecureIgnoreSCT` accepts certificates without SCTs.
 */
export function verifierOptionsFor(authority: Authority): VerifierOptions {
  const options: VerifierOptions = {};
  if ((authority.verifier.kind === 'key' && authority.ctlog === undefined) || authority.rfc3161timestamp) {
    options.skipTransparencyLogUnsafe = true;
  }
  if (authority.verifier.kind === 'keyless' && authority.verifier.insecureIgnoreSCT) {
    options.skipCertificateTransparencyUnsafe = true;
  }
  return options;
}

/**
 * A `trust` callback for evaluateImage over one trusted root: one Verifier per set of options. Throws
 * (failing the authority) VerificationError VERIFY_OPTIONS_INVALID for what needs other trust material:
 * keyless `ca-cert` and any `trustRootRef`.
 */
export function verifiersFor(trust: TrustMaterial): (authority: Authority) => Verifier {
  const verifiers = new Map<string, Verifier>();
  return (authority) => {
    const verifier = authority.verifier;
    if (verifier.kind === 'keyless' && verifier.certificateAuthority.kind === 'ca-cert') {
      throw new VerificationError(
        'VERIFY_OPTIONS_INVALID',
        'keyless.ca-cert: certificate authorities other than the trusted root are not supported here',
      );
    }
    const reference =
      (verifier.kind === 'keyless' ? verifier.trustRootRef : undefined) ??
      authority.ctlog?.trustRootRef ??
      authority.rfc3161timestamp?.trustRootRef;
    if (reference !== undefined) {
      throw new VerificationError(
        'VERIFY_OPTIONS_INVALID',
        `trustRootRef ${reference}: TrustRoots are not supported here; the trusted root given is used for every authority without one`,
      );
    }
    const options = verifierOptionsFor(authority);
    const key = JSON.stringify(options);
    let found = verifiers.get(key);
    if (!found) {
      found = new Verifier(trust, options);
      verifiers.set(key, found);
    }
    return found;
  };
}
