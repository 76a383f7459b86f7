import { readFile } from 'node:fs/promises';
import { decodeBase64, decodeUtf8, parseJson } from '../../core/index.ts';
import { OciError } from '../errors.ts';
import { runCredentialHelper } from './credential-helper.ts';
import {
  ANONYMOUS,
  helperServerUrl,
  registryKey,
  type CredentialSource,
  type RegistryCredential,
} from './credentials.ts';

/**
 * Docker's `config.json` (docker/cli `configfile`): `auths` keyed by registry (`auth` = base64
 * `user:password`, or `username`/`password`, `identitytoken`, `registrytoken`), `credHelpers` naming a
 * helper per registry and `credsStore` naming the helper for all others. Kubernetes
 * `kubernetes.io/dockerconfigjson` pull secrets carry the same JSON; `kubernetes.io/dockercfg` ones
 * carry only the `auths` map. Keys are matched by host as Docker does (scheme and path ignored, Docker
 * Hub under `https://index.docker.io/v1/`). Precedence as in docker/cli: a registry's credHelper,
 * then credsStore, then the `auths` entry.
 */

export interface DockerConfig {
  readonly auths: ReadonlyMap<string, RegistryCredential>;
  readonly credHelpers: ReadonlyMap<string, string>;
  readonly credsStore?: string;
}

export interface DockerConfigOptions {
  /** Kill a credential helper after this many milliseconds. Default 10,000. */
  readonly helperTimeoutMs?: number;
  /** How long a helper's answer is reused, in milliseconds. Default 300,000 (5 minutes). */
  readonly helperCacheMs?: number;
}

const MAX_CONFIG_BYTES = 1024 * 1024;

/** Parses config.json bytes (or a dockerconfigjson / dockercfg secret value). Throws OCI_CREDENTIALS_INVALID. */
export function parseDockerConfig(data: Uint8Array | string, source: string): DockerConfig {
  const fail = (problem: string, cause?: unknown): never => {
    throw new OciError(
      'OCI_CREDENTIALS_INVALID',
      `${source}: ${problem}`,
      cause === undefined ? undefined : { cause },
    );
  };
  let json: unknown;
  try {
    const text = typeof data === 'string' ? data : decodeUtf8(data, source);
    json = parseJson(text, { field: source, maxLength: MAX_CONFIG_BYTES });
  } catch (cause) {
    return fail('expected docker config JSON', cause);
  }
  if (!isRecord(json)) return fail('expected a JSON object');
  const hasConfigKeys = 'auths' in json || 'credHelpers' in json || 'credsStore' in json;
  // kubernetes.io/dockercfg: the legacy ~/.dockercfg, the `auths` map itself.
  const authsValue = hasConfigKeys ? (json.auths ?? {}) : json;
  if (!isRecord(authsValue)) return fail('auths: expected an object');

  const auths = new Map<string, RegistryCredential>();
  for (const [key, entry] of Object.entries(authsValue)) {
    if (!isRecord(entry)) return fail(`auths[${JSON.stringify(key)}]: expected an object`);
    const credential = credentialOf(entry, `auths[${JSON.stringify(key)}]`, fail);
    if (credential.kind !== 'anonymous') auths.set(registryKey(key), credential);
  }

  const credHelpers = new Map<string, string>();
  if (json.credHelpers !== undefined && hasConfigKeys) {
    if (!isRecord(json.credHelpers)) return fail('credHelpers: expected an object of helper names');
    for (const [key, helper] of Object.entries(json.credHelpers)) {
      if (typeof helper !== 'string') return fail(`credHelpers[${JSON.stringify(key)}]: expected a string`);
      credHelpers.set(registryKey(key), helper);
    }
  }
  const credsStore = hasConfigKeys ? json.credsStore : undefined;
  if (credsStore !== undefined && typeof credsStore !== 'string')
    return fail('credsStore: expected a string');
  return { auths, credHelpers, ...(credsStore ? { credsStore } : {}) };
}

/** The credentials of a parsed docker config, helpers run on demand and their answers cached. */
export function dockerConfigCredentials(
  config: DockerConfig,
  options: DockerConfigOptions = {},
): CredentialSource {
  const helperTimeoutMs = options.helperTimeoutMs ?? 10_000;
  const helperCacheMs = options.helperCacheMs ?? 300_000;
  const helperAnswers = new Map<string, { at: number; answer: Promise<RegistryCredential> }>();

  const askHelper = (helper: string, registry: string): Promise<RegistryCredential> => {
    const key = `${helper}\u0000${registryKey(registry)}`;
    const cached = helperAnswers.get(key);
    if (cached && Date.now() - cached.at < helperCacheMs) return cached.answer;
    const answer = runCredentialHelper(helper, helperServerUrl(registry), { timeoutMs: helperTimeoutMs });
    helperAnswers.set(key, { at: Date.now(), answer });
    answer.catch(() => helperAnswers.delete(key));
    return answer;
  };

  return Object.freeze({
    async credentialFor(registry: string): Promise<RegistryCredential> {
      const key = registryKey(registry);
      const helper = config.credHelpers.get(key) ?? config.credsStore;
      if (helper) {
        const fromHelper = await askHelper(helper, registry);
        if (fromHelper.kind !== 'anonymous') return fromHelper;
      }
      return config.auths.get(key) ?? ANONYMOUS;
    },
  });
}

/** Reads `path` (a docker config.json). A missing file means no credentials, as for Docker. */
export async function loadDockerConfig(
  path: string,
  options: DockerConfigOptions = {},
): Promise<CredentialSource> {
  let data: Uint8Array;
  try {
    data = await readFile(path);
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code === 'ENOENT') {
      return dockerConfigCredentials({ auths: new Map(), credHelpers: new Map() }, options);
    }
    throw new OciError('OCI_CREDENTIALS_INVALID', `docker config ${path}: ${(cause as Error).message}`, {
      cause,
    });
  }
  return dockerConfigCredentials(parseDockerConfig(data, `docker config ${path}`), options);
}

/** A Kubernetes pull secret's data value (`.dockerconfigjson` or `.dockercfg`, already base64-decoded). */
export function pullSecretCredentials(
  data: Uint8Array | string,
  options: DockerConfigOptions = {},
): CredentialSource {
  return dockerConfigCredentials(parseDockerConfig(data, 'pull secret'), options);
}

function credentialOf(
  entry: Record<string, unknown>,
  path: string,
  fail: (problem: string) => never,
): RegistryCredential {
  const text = (field: string): string | undefined => {
    const value = entry[field];
    if (value === undefined || value === null || value === '') return undefined;
    if (typeof value !== 'string') return fail(`${path}.${field}: expected a string`);
    return value;
  };
  const registryToken = text('registrytoken');
  if (registryToken) return { kind: 'registry-token', token: registryToken };
  const identityToken = text('identitytoken');
  if (identityToken) return { kind: 'identity-token', token: identityToken };
  const auth = text('auth');
  if (auth) {
    let decoded: string;
    try {
      decoded = decodeUtf8(decodeBase64(auth, `${path}.auth`), `${path}.auth`);
    } catch {
      return fail(`${path}.auth: expected base64 of "username:password"`);
    }
    const colon = decoded.indexOf(':');
    if (colon < 0) return fail(`${path}.auth: expected base64 of "username:password", found no ':'`);
    return { kind: 'basic', username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
  }
  const username = text('username');
  const password = text('password');
  if (username !== undefined && password !== undefined) return { kind: 'basic', username, password };
  return ANONYMOUS;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
