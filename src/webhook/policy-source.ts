import type { ClusterImagePolicy, TrustRoot } from '../policy/index.ts';

/**
 * Where the webhook's policies come from, behind one interface: a watched folder of YAML today
 * (src/cli/policy-directory.ts), the cluster's CRDs, Secrets and ServiceAccounts later. The webhook
 * reads `current()` once per review, so a change applies to the next review whole — never half of it.
 */

export interface PolicySnapshot {
  /** Grows whenever anything below changes; results cached under an older generation are dropped. */
  readonly generation: number;
  readonly policies: readonly ClusterImagePolicy[];
  /** TrustRoots by `metadata.name`, for `trustRootRef`. */
  readonly trustRoots: ReadonlyMap<string, TrustRoot>;
  /** A Secret's data, values decoded (not base64), or undefined when there is no such Secret. */
  secret(namespace: string, name: string): Readonly<Record<string, Uint8Array>> | undefined;
  /** The `imagePullSecrets` names of a ServiceAccount, or undefined when it is not known. */
  serviceAccountPullSecrets(namespace: string, name: string): readonly string[] | undefined;
}

export interface PolicySource {
  current(): PolicySnapshot;
  /** `listener` runs after each change, with the new snapshot; the returned function unsubscribes. */
  subscribe(listener: (snapshot: PolicySnapshot) => void): () => void;
}

export interface StaticPolicySourceInput {
  readonly policies: readonly ClusterImagePolicy[];
  readonly trustRoots?: ReadonlyMap<string, TrustRoot>;
  /** `namespace/name` → data. */
  readonly secrets?: ReadonlyMap<string, Readonly<Record<string, Uint8Array>>>;
  /** `namespace/name` → imagePullSecrets names. */
  readonly serviceAccounts?: ReadonlyMap<string, readonly string[]>;
}

/** A snapshot built from plain data (tests, `sigil demo`); `generation` as given. */
export function policySnapshot(input: StaticPolicySourceInput, generation = 1): PolicySnapshot {
  const secrets: ReadonlyMap<string, Readonly<Record<string, Uint8Array>>> = input.secrets ?? new Map();
  const serviceAccounts: ReadonlyMap<string, readonly string[]> = input.serviceAccounts ?? new Map();
  return Object.freeze({
    generation,
    policies: input.policies,
    trustRoots: input.trustRoots ?? new Map(),
    secret: (namespace: string, name: string) => secrets.get(`${namespace}/${name}`),
    serviceAccountPullSecrets: (namespace: string, name: string) =>
      serviceAccounts.get(`${namespace}/${name}`),
  });
}

/** A source whose snapshot changes only when `replace` is called (tests, fixed configurations). */
export function staticPolicySource(input: StaticPolicySourceInput): PolicySource & {
  replace(input: StaticPolicySourceInput): void;
} {
  let snapshot = policySnapshot(input);
  const listeners = new Set<(snapshot: PolicySnapshot) => void>();
  return {
    current: () => snapshot,
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    replace(next) {
      snapshot = policySnapshot(next, snapshot.generation + 1);
      for (const listener of listeners) listener(snapshot);
    },
  };
}
