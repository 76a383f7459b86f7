import type {
  ClusterImagePolicy,
  LabelSelector,
  LabelSelectorRequirement,
  MatchResource,
} from './cluster-image-policy.types.ts';
import { compileImageGlob } from './image-glob.ts';

/**
 * Which ClusterImagePolicies apply to an image in an admitted resource: upstream policy-controller's
 * `GetMatchingPolicies` (`pkg/apis/config/image_policies.go`). A policy applies when one of its
 * `spec.images` globs matches the image and, when the resource is known and `spec.match` is not
 * empty, one `match` entry matches the resource: the same group, the same version (or `*`), the same
 * plural resource, and the entry's label selector (Kubernetes semantics) matches the resource's labels.
 *
 * Sigil differs from upstream on purpose in two places, both noted where they happen: the resource's
 * group/version/resource come from the AdmissionReview rather than a fixed kind table (upstream maps
 * `ReplicatSet` — misspelt, so replicasets never match — and puts daemonsets in the core group), and
 * an entry with `resource: ''` narrows by group and version only (upstream compares '' with the
 * resource name, which never matches a workload).
 */

/** The resource an image was admitted in, from the AdmissionReview. */
export interface AdmittedResource {
  /** API group, '' for the core group (pods). */
  readonly group: string;
  readonly version: string;
  /** Plural, lower case: `deployments`, `pods`. */
  readonly resource: string;
  /** `Deployment`, `Pod`. */
  readonly kind: string;
  readonly namespace?: string;
  readonly labels: Readonly<Record<string, string>>;
  /** The admitted object, for the CIP-level policy's `includeSpec`/`includeObjectMeta`. */
  readonly object?: unknown;
}

/**
 * The policies that apply to `image`, in the order given. Without `resource` (`sigil policy test`)
 * `spec.match` is ignored and only the globs decide.
 */
export function policiesFor(
  image: string,
  policies: readonly ClusterImagePolicy[],
  resource?: AdmittedResource,
): ClusterImagePolicy[] {
  return policies.filter(
    (policy) =>
      (resource === undefined || matchesResource(policy.match, resource)) &&
      policy.images.some((pattern) => compileImageGlob(pattern.glob).matches(image)),
  );
}

/** Whether `match` (a policy's `spec.match`) admits `resource`; an empty list admits every resource. */
export function matchesResource(match: readonly MatchResource[], resource: AdmittedResource): boolean {
  if (match.length === 0) return true;
  return match.some(
    (entry) =>
      entry.group === resource.group &&
      (entry.version === '*' || entry.version === resource.version) &&
      // Sigil: '' narrows by group/version only (see the file comment).
      (entry.resource === '' || entry.resource === resource.resource) &&
      (entry.selector === undefined || matchesLabelSelector(entry.selector, resource.labels)),
  );
}

/**
 * metav1.LabelSelector semantics (`LabelSelectorAsSelector`): every matchLabels pair and every
 * expression must hold (AND); an empty selector matches everything. `NotIn` holds for a missing label,
 * as in Kubernetes.
 */
export function matchesLabelSelector(
  selector: LabelSelector,
  labels: Readonly<Record<string, string>>,
): boolean {
  const valueOf = (key: string) => (Object.hasOwn(labels, key) ? labels[key] : undefined);
  for (const [key, value] of Object.entries(selector.matchLabels)) {
    if (valueOf(key) !== value) return false;
  }
  return selector.matchExpressions.every((requirement) =>
    matchesRequirement(requirement, valueOf(requirement.key)),
  );
}

function matchesRequirement(requirement: LabelSelectorRequirement, value: string | undefined): boolean {
  switch (requirement.operator) {
    case 'In':
      return value !== undefined && requirement.values.includes(value);
    case 'NotIn':
      return value === undefined || !requirement.values.includes(value);
    case 'Exists':
      return value !== undefined;
    case 'DoesNotExist':
      return value === undefined;
    default:
      return false;
  }
}
