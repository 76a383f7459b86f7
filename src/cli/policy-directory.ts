import { readdir, readFile, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { describeError, silentLogger, type Logger } from '../core/index.ts';
import {
  parsePolicyDocument,
  unsupportedPolicyType,
  type ClusterImagePolicy,
  type TrustRoot,
} from '../policy/index.ts';
import { policySnapshot, type PolicySnapshot, type PolicySource } from '../webhook/index.ts';
import { CliError } from './errors.ts';

/**
 * The webhook's policy source for a folder of YAML files (`--policies DIR`), watched: ClusterImagePolicies
 * and TrustRoots as in a cluster, plus the Secrets (keys for `key.secretRef`, pull secrets) and
 * ServiceAccounts (their `imagePullSecrets`) the cluster would hold. Every `*.yaml`/`*.yml` file of the
 * folder is read (not its subfolders). A change is applied whole once every file loads; a file that does
 * not load keeps the previous policies in force and is logged, so saving a broken policy never drops
 * the others. At start, a file that does not load is an error.
 */

export interface PolicyDirectoryOptions {
  /** How often the folder is checked for changes, ms. Default 1,000. */
  readonly intervalMs?: number;
  readonly logger?: Logger;
  /** Upstream's `fail-on-empty-authorities`. Default true. */
  readonly failOnEmptyAuthorities?: boolean;
}

export interface PolicyDirectory extends PolicySource {
  /** Checks the folder now (also done every `intervalMs`); resolves once a change, if any, is applied. */
  refresh(): Promise<void>;
  close(): void;
}

interface Loaded {
  readonly policies: ClusterImagePolicy[];
  readonly trustRoots: Map<string, TrustRoot>;
  readonly secrets: Map<string, Record<string, Uint8Array>>;
  readonly serviceAccounts: Map<string, string[]>;
}

export async function watchPolicyDirectory(
  dir: string,
  options: PolicyDirectoryOptions = {},
): Promise<PolicyDirectory> {
  const full = resolve(dir);
  const logger = options.logger ?? silentLogger;
  let fingerprint = await fingerprintOf(full);
  const first = await load(full, options);
  warnUnsupported(first.policies, logger);
  let snapshot = policySnapshot(first, 1);
  const listeners = new Set<(snapshot: PolicySnapshot) => void>();
  let checking: Promise<void> | undefined;

  const check = async () => {
    let seen: string;
    try {
      seen = await fingerprintOf(full);
    } catch (error) {
      logger.error(
        { dir: full, error: describeError(error) },
        'cannot read the policy folder; keeping the policies in force',
      );
      return;
    }
    if (seen === fingerprint) return;
    try {
      const loaded = await load(full, options);
      fingerprint = seen;
      warnUnsupported(loaded.policies, logger);
      snapshot = policySnapshot(loaded, snapshot.generation + 1);
      logger.info(
        {
          dir: full,
          policies: loaded.policies.length,
          trustRoots: loaded.trustRoots.size,
          generation: snapshot.generation,
        },
        'policies reloaded',
      );
      for (const listener of listeners) listener(snapshot);
    } catch (error) {
      // Remember the broken state so the same error is logged once, not every interval.
      fingerprint = seen;
      logger.error(
        { dir: full, error: describeError(error) },
        'policy folder changed but does not load; keeping the policies in force',
      );
    }
  };
  const refresh = () => {
    checking ??= check().finally(() => (checking = undefined));
    return checking;
  };
  const timer = setInterval(() => void refresh(), options.intervalMs ?? 1_000);
  timer.unref();
  return {
    current: () => snapshot,
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    refresh,
    close: () => clearInterval(timer),
  };
}

/**
 * Says at load time which policies cannot pass as written (CUE and Rego blocks, KMS keys): they load,
 * as upstream accepts them, but every image they match is denied with the same reason.
 */
function warnUnsupported(policies: readonly ClusterImagePolicy[], logger: Logger): void {
  for (const policy of policies) {
    const blocks = [
      ...(policy.policy ? [{ field: 'spec.policy', definition: policy.policy }] : []),
      ...policy.authorities.flatMap((authority, index) =>
        authority.attestations.flatMap((attestation, at) =>
          attestation.policy
            ? [
                {
                  field: `spec.authorities[${index}].attestations[${at}].policy`,
                  definition: attestation.policy,
                },
              ]
            : [],
        ),
      ),
    ];
    for (const { field, definition } of blocks) {
      const problem = unsupportedPolicyType(definition.type, `${field}.type`);
      if (problem) {
        logger.warn(
          { policy: policy.metadata.name, field },
          `policy ${policy.metadata.name}: ${problem.message}; images it matches are denied`,
        );
      }
    }
    for (const [index, authority] of policy.authorities.entries()) {
      if (authority.verifier.kind === 'key' && authority.verifier.key.kind === 'kms') {
        logger.warn(
          { policy: policy.metadata.name, field: `spec.authorities[${index}].key.kms` },
          `policy ${policy.metadata.name}: spec.authorities[${index}].key.kms: KMS keys are not supported; this authority never passes`,
        );
      }
    }
  }
}

async function yamlFiles(dir: string): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (error) {
    throw new CliError(
      'CLI_OPTION_INVALID',
      `--policies: cannot read folder ${dir} (${describeError(error)})`,
    );
  }
  return names
    .filter((name) => /\.ya?ml$/.test(name))
    .sort()
    .map((name) => join(dir, name));
}

/** Names, sizes and modification times of the YAML files: changes when any file does. */
async function fingerprintOf(dir: string): Promise<string> {
  const files = await yamlFiles(dir);
  const parts = await Promise.all(
    files.map(async (file) => {
      const info = await stat(file).catch(() => undefined);
      return `${file}:${info?.size}:${info?.mtimeMs}`;
    }),
  );
  return parts.join('\n');
}

async function load(dir: string, options: PolicyDirectoryOptions): Promise<Loaded> {
  const loaded: Loaded = {
    policies: [],
    trustRoots: new Map(),
    secrets: new Map(),
    serviceAccounts: new Map(),
  };
  const names = new Map<string, string>();
  for (const file of await yamlFiles(dir)) {
    const text = await readFile(file, 'utf8');
    const documents = parseAllDocuments(text);
    const list = Array.isArray(documents) ? documents : [documents];
    for (const [index, document] of list.entries()) {
      const where = `${file} (document ${index + 1})`;
      if (document.errors.length > 0) {
        throw new CliError('CLI_OPTION_INVALID', `${where}: not YAML: ${document.errors[0]!.message}`);
      }
      const value: unknown = document.toJS();
      if (value === null || value === undefined) continue;
      addDocument(loaded, value, where, options);
      const named = nameOf(value);
      if (named) {
        const before = names.get(named);
        if (before)
          throw new CliError('CLI_OPTION_INVALID', `${where}: ${named} is also defined in ${before}`);
        names.set(named, where);
      }
    }
  }
  return loaded;
}

function addDocument(loaded: Loaded, value: unknown, where: string, options: PolicyDirectoryOptions): void {
  const object = (typeof value === 'object' && !Array.isArray(value) ? value : {}) as Record<string, unknown>;
  const kind = object['kind'];
  const metadata = (object['metadata'] ?? {}) as Record<string, unknown>;
  const name = typeof metadata['name'] === 'string' ? metadata['name'] : undefined;
  const namespace = typeof metadata['namespace'] === 'string' ? metadata['namespace'] : 'default';
  switch (kind) {
    case 'ClusterImagePolicy':
    case 'TrustRoot': {
      let parsed;
      try {
        parsed = parsePolicyDocument(value, {
          source: where,
          failOnEmptyAuthorities: options.failOnEmptyAuthorities ?? true,
        });
      } catch (error) {
        throw new CliError('CLI_OPTION_INVALID', describeError(error), { cause: error });
      }
      if (parsed.kind === 'TrustRoot') loaded.trustRoots.set(parsed.metadata.name, parsed);
      else loaded.policies.push(parsed);
      return;
    }
    case 'Secret': {
      if (!name) throw new CliError('CLI_OPTION_INVALID', `${where}: metadata.name: expected a string`);
      loaded.secrets.set(`${namespace}/${name}`, secretData(object, where));
      return;
    }
    case 'ServiceAccount': {
      if (!name) throw new CliError('CLI_OPTION_INVALID', `${where}: metadata.name: expected a string`);
      const secrets = object['imagePullSecrets'] ?? [];
      if (!Array.isArray(secrets)) {
        throw new CliError('CLI_OPTION_INVALID', `${where}: imagePullSecrets: expected a list of {name}`);
      }
      loaded.serviceAccounts.set(
        `${namespace}/${name}`,
        secrets.map((each: unknown, index) => {
          const secretName = (each as { name?: unknown } | null)?.name;
          if (typeof secretName !== 'string') {
            throw new CliError(
              'CLI_OPTION_INVALID',
              `${where}: imagePullSecrets[${index}].name: expected a string`,
            );
          }
          return secretName;
        }),
      );
      return;
    }
    default:
      throw new CliError(
        'CLI_OPTION_INVALID',
        `${where}: kind: expected ClusterImagePolicy, TrustRoot, Secret or ServiceAccount, received ${JSON.stringify(kind)}`,
      );
  }
}

/** `data` (base64) and `stringData` (text) of a Secret, decoded. */
function secretData(object: Record<string, unknown>, where: string): Record<string, Uint8Array> {
  const out: Record<string, Uint8Array> = {};
  for (const field of ['data', 'stringData'] as const) {
    const values = object[field] ?? {};
    if (typeof values !== 'object' || values === null || Array.isArray(values)) {
      throw new CliError('CLI_OPTION_INVALID', `${where}: ${field}: expected a map of strings`);
    }
    for (const [key, text] of Object.entries(values)) {
      if (typeof text !== 'string') {
        throw new CliError('CLI_OPTION_INVALID', `${where}: ${field}.${key}: expected a string`);
      }
      if (field === 'data' && !/^[A-Za-z0-9+/]*={0,2}$/.test(text.replace(/\s/g, ''))) {
        throw new CliError('CLI_OPTION_INVALID', `${where}: data.${key}: expected base64`);
      }
      out[key] = field === 'data' ? Buffer.from(text, 'base64') : Buffer.from(text, 'utf8');
    }
  }
  return out;
}

/** `Kind namespace/name` (cluster-scoped kinds without namespace), for duplicate detection. */
function nameOf(value: unknown): string | undefined {
  const object = value as { kind?: unknown; metadata?: { name?: unknown; namespace?: unknown } };
  if (typeof object?.kind !== 'string' || typeof object.metadata?.name !== 'string') return undefined;
  const clusterScoped = object.kind === 'ClusterImagePolicy' || object.kind === 'TrustRoot';
  const namespace = typeof object.metadata.namespace === 'string' ? object.metadata.namespace : 'default';
  return clusterScoped
    ? `${object.kind} ${object.metadata.name}`
    : `${object.kind} ${namespace}/${object.metadata.name}`;
}
