import { PolicyError } from './errors.ts';

// The `type` of a `policy: {type, data | remote | configMapRef}` block. Upstream policy-controller
// evaluates `cue` and `rego`; Sigil evaluates `cel` only, and MUST report the other two when a policy
// loads rather than admit images without running them.

/** The policy languages Sigil evaluates. */
export type PolicyLanguage = 'cel';

/** Every value upstream or Sigil gives a meaning to. */
export const KNOWN_POLICY_TYPES: readonly string[] = ['cel', 'cue', 'rego'];

/**
 * Why a policy block of `type` cannot be evaluated, or `undefined` when it can (`cel`). Returned, not
 * thrown, so a loader can collect every problem of a document in one error:
 * - `cue`, `rego`: PolicyError POLICY_UNSUPPORTED naming `field` (upstream's languages, not Sigil's);
 * - anything else: PolicyError POLICY_INVALID naming `field` with the expected values.
 */
export function unsupportedPolicyType(type: unknown, field = 'policy.type'): PolicyError | undefined {
  switch (type) {
    case 'cel':
      return undefined;
    case 'cue':
    case 'rego':
      return new PolicyError(
        'POLICY_UNSUPPORTED',
        `${field}: ${type} policies are not supported, expected cel (rewrite the policy as a CEL expression)`,
      );
    default:
      return new PolicyError(
        'POLICY_INVALID',
        `${field}: expected one of ${KNOWN_POLICY_TYPES.join(', ')}, received ${JSON.stringify(type) ?? String(type)}`,
      );
  }
}
