import type { ClusterImagePolicy, PolicyMode } from './cluster-image-policy.types.ts';

/**
 * What `evaluateImage` decided, as plain data (JSON.stringify gives `--json` output): per image, per
 * policy, per authority, passed or failed, with a reason code, a message, and the identity that matched
 * or the identities seen. `formatDecision` turns it into the one line `kubectl` shows.
 */

export type DecisionOutcome = 'allowed' | 'denied' | 'warned';

/** Why an authority passed or failed. */
export type AuthorityReasonCode =
  /** `static: {action: pass}`. */
  | 'STATIC_PASS'
  /** `static: {action: fail}`. */
  | 'STATIC_FAIL'
  /** A signature verified with the key, or from one of the identities. */
  | 'SIGNATURE_VERIFIED'
  /** Every wanted attestation verified (and passed its policy). */
  | 'ATTESTATIONS_VERIFIED'
  /** The registry holds no signature (or attestation) of the image in the authority's format. */
  | 'NO_SIGNATURES'
  /** Signatures exist, none verifies (wrong key, broken chain, missing tlog entry, ...). */
  | 'SIGNATURE_INVALID'
  /** Signatures verify, but none from an identity the authority names. */
  | 'IDENTITY_MISMATCH'
  /** No verified attestation of a wanted predicate type. */
  | 'NO_MATCHING_ATTESTATION'
  /** A verified attestation failed the attestation's CEL policy. */
  | 'ATTESTATION_POLICY_FAILED'
  /** Something upstream supports that Sigil does not here: KMS or Secret keys, CUE/Rego, remote bodies. */
  | 'UNSUPPORTED'
  /** A policy that cannot run as written (a CEL expression that does not compile). */
  | 'POLICY_INVALID'
  /** The signatures could not be fetched. */
  | 'EVIDENCE_UNAVAILABLE'
  /**
   * The keys or trust material the authority names are not there: a `key.secretRef` or
   * `ca-cert.secretRef` Secret without keys, an unknown `trustRootRef`, a TrustRoot that does not compile.
   */
  | 'TRUST_UNAVAILABLE'
  /** Verification did not finish within the admission deadline (see timedOutDecision). */
  | 'TIMED_OUT';

export interface AuthorityDecision {
  readonly name: string;
  readonly outcome: 'passed' | 'failed';
  readonly reason: AuthorityReasonCode;
  readonly message: string;
  /** Keyless: the certificate identity that matched (`subject (issuer)`). */
  readonly matchedIdentity?: string;
  /** Keyless, on failure: the identities of the signatures that verified but did not match. */
  readonly identitiesSeen?: readonly string[];
}

export interface PolicyDecision {
  readonly name: string;
  readonly mode: PolicyMode;
  /** `warned`: failed, but the policy is in warn mode. */
  readonly outcome: 'passed' | 'failed' | 'warned';
  /** Set when the policy failed for a reason beyond its authorities (its CIP-level `policy`). */
  readonly reason?: { readonly code: AuthorityReasonCode; readonly message: string };
  readonly authorities: readonly AuthorityDecision[];
}

export interface ImageDecision {
  readonly image: string;
  readonly outcome: DecisionOutcome;
  /** The policies whose globs matched the image, in the order given. */
  readonly policies: readonly PolicyDecision[];
  /** Set when no policy matched: what `noMatch` made of it. */
  readonly noMatchingPolicy?: true;
}

/**
 * The decision as one line for a person: `image X denied by policy P: authority A: REASON (found: …)`,
 * several failing policies or authorities joined with `; `.
 */
export function formatDecision(decision: ImageDecision): string {
  const image = `image ${decision.image}`;
  if (decision.noMatchingPolicy) {
    return `${image} ${decision.outcome === 'denied' ? 'denied' : 'allowed'}: no matching policies`;
  }
  const failing = decision.policies.filter((policy) => policy.outcome !== 'passed');
  if (decision.outcome === 'allowed') {
    return `${image} allowed by ${plural('policy', 'policies', decision.policies.length)} ${decision.policies.map((policy) => policy.name).join(', ')}`;
  }
  const verb = decision.outcome === 'denied' ? 'denied' : 'allowed with warnings';
  return `${image} ${verb} by ${failing.map(describePolicy).join('; ')}`;
}

/**
 * The decision for an image whose verification did not finish in time: each policy given failed (or,
 * in warn mode, warned) with reason TIMED_OUT and `message`, by default
 * `timed out verifying IMAGE against POLICY`. With no policies the image is denied: nothing vouched
 * for it.
 */
export function timedOutDecision(
  image: string,
  policies: readonly ClusterImagePolicy[],
  message?: string,
): ImageDecision {
  const decisions: PolicyDecision[] = policies.map((policy) => ({
    name: policy.metadata.name,
    mode: policy.mode,
    outcome: policy.mode === 'warn' ? 'warned' : 'failed',
    reason: {
      code: 'TIMED_OUT',
      message: message ?? `timed out verifying ${image} against ${policy.metadata.name}`,
    },
    authorities: [],
  }));
  const outcome: DecisionOutcome =
    decisions.length === 0 || decisions.some((policy) => policy.outcome === 'failed') ? 'denied' : 'warned';
  return { image, outcome, policies: decisions };
}

function describePolicy(policy: PolicyDecision): string {
  const mode = policy.outcome === 'warned' ? ' (warn mode)' : '';
  if (policy.reason) return `policy ${policy.name}${mode}: ${policy.reason.message}`;
  const failed = policy.authorities.filter((authority) => authority.outcome === 'failed');
  if (failed.length === 0) return `policy ${policy.name}${mode}: no authorities`;
  return `policy ${policy.name}${mode}: ${failed.map(describeAuthority).join('; ')}`;
}

function describeAuthority(authority: AuthorityDecision): string {
  const seen = authority.identitiesSeen?.length ? ` (found: ${authority.identitiesSeen.join(', ')})` : '';
  return `authority ${authority.name}: ${authority.message}${seen}`;
}

function plural(one: string, many: string, count: number): string {
  return count === 1 ? one : many;
}
