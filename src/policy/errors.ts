import { SigilError } from '../core/index.ts';

/**
 * Why a policy could not be loaded or applied. Messages name the field (`spec.images[0].glob`) and say
 * what was expected and what was received.
 */
export type PolicyErrorCode =
  /** A policy or trust root document, or one of its values (glob, CEL expression, ...), is invalid. */
  | 'POLICY_INVALID'
  /** A policy file that is not YAML, holds a document that is not an object, or is too large. */
  | 'POLICY_DOCUMENT_INVALID'
  /** A document whose apiVersion/kind is not a `policy.sigstore.dev` ClusterImagePolicy or TrustRoot. */
  | 'POLICY_KIND_UNSUPPORTED'
  /** A feature upstream policy-controller has that Sigil does not implement (CUE and Rego policies, KMS keys). */
  | 'POLICY_UNSUPPORTED'
  /** An image reference that does not follow the docker reference grammar. */
  | 'POLICY_IMAGE_INVALID';

/** One bad field: its path (`spec.authorities[0].key.data`) and upstream's message for it. */
export interface PolicyProblem {
  /** Field paths the message is about, sorted (one for most problems, several for a one-of). */
  readonly paths: readonly string[];
  /** Upstream (knative `apis.FieldError`) wording, e.g. `invalid value: [` or `missing field(s)`. */
  readonly message: string;
  /** Why, when upstream gives a reason (`regex is invalid: ...`). */
  readonly details?: string;
}

export class PolicyError extends SigilError<PolicyErrorCode> {
  /** Every problem found, for POLICY_INVALID; empty for other codes. */
  readonly problems: readonly PolicyProblem[];

  constructor(
    code: PolicyErrorCode,
    message: string,
    options?: { cause?: unknown; problems?: readonly PolicyProblem[] },
  ) {
    super(code, message, options);
    this.problems = options?.problems ?? [];
  }
}
