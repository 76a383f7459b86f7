import { describeError, silentLogger, type Logger } from '../core/index.ts';
import {
  chainCredentials,
  pullSecretCredentials,
  type ClosableRegistryClient,
  type CredentialSource,
} from '../oci/index.ts';
import type { PolicySnapshot } from './policy-source.ts';

/**
 * Registry clients per set of credentials, as the kubelet would pull: the pod's `imagePullSecrets`,
 * then those of its ServiceAccount, then the server's own credentials. Clients are kept (bounded,
 * least recently used closed first) so bearer tokens and connections are reused across reviews.
 */

export interface RegistryAccessOptions {
  /** A client presenting `credentials` (createRegistryClient with the server's registry options). */
  readonly createClient: (credentials: CredentialSource) => ClosableRegistryClient;
  /** Tried after the pull secrets: e.g. the server's docker config. Default none. */
  readonly defaultCredentials?: CredentialSource;
  /** Clients kept at once. Default 64. */
  readonly maxClients?: number;
  readonly logger?: Logger;
}

export interface PullSecretRequest {
  readonly namespace: string;
  readonly serviceAccountName: string;
  /** Secret names in `namespace`: the pod's imagePullSecrets, or an authority's signaturePullSecrets. */
  readonly secretNames: readonly string[];
  /** Add the ServiceAccount's imagePullSecrets (pods do; signaturePullSecrets do not). */
  readonly includeServiceAccount: boolean;
}

/** Data keys of a pull secret, as `kubernetes.io/dockerconfigjson` and `kubernetes.io/dockercfg` name them. */
const PULL_SECRET_KEYS = ['.dockerconfigjson', '.dockercfg'] as const;

/** How long an evicted client stays open for requests already using it, in ms. */
const CLOSE_DELAY_MS = 60_000;

export class RegistryAccess {
  readonly #options: RegistryAccessOptions;
  readonly #clients = new Map<string, ClosableRegistryClient>();
  readonly #logger: Logger;
  #closed = false;

  constructor(options: RegistryAccessOptions) {
    this.#options = options;
    this.#logger = options.logger ?? silentLogger;
  }

  /**
   * A client with the credentials `request` names, and a key naming that set of credentials (for
   * caches of what one credential set may see). Missing or broken Secrets are passed over, as the
   * kubelet does, with a log line: the image may still be public.
   */
  clientFor(
    snapshot: PolicySnapshot,
    request: PullSecretRequest,
  ): { client: ClosableRegistryClient; key: string } {
    if (this.#closed) throw new TypeError('registry access is closed');
    const names = [...request.secretNames];
    if (request.includeServiceAccount) {
      names.push(
        ...(snapshot.serviceAccountPullSecrets(request.namespace, request.serviceAccountName) ?? []),
      );
    }
    const unique = [...new Set(names)];
    const key = unique.length === 0 ? '' : `${snapshot.generation}/${request.namespace}/${unique.join(',')}`;
    const found = this.#clients.get(key);
    if (found) {
      this.#clients.delete(key);
      this.#clients.set(key, found);
      return { client: found, key };
    }
    const sources: CredentialSource[] = [];
    for (const name of unique) {
      const source = this.#pullSecret(snapshot, request.namespace, name);
      if (source) sources.push(source);
    }
    if (this.#options.defaultCredentials) sources.push(this.#options.defaultCredentials);
    const client = this.#options.createClient(chainCredentials(...sources));
    this.#clients.set(key, client);
    const max = this.#options.maxClients ?? 64;
    while (this.#clients.size > max) {
      const [oldest, evicted] = this.#clients.entries().next().value!;
      this.#clients.delete(oldest);
      setTimeout(() => void evicted.close().catch(() => undefined), CLOSE_DELAY_MS).unref();
    }
    return { client, key };
  }

  async close(): Promise<void> {
    this.#closed = true;
    const clients = [...this.#clients.values()];
    this.#clients.clear();
    await Promise.allSettled(clients.map((client) => client.close()));
  }

  #pullSecret(snapshot: PolicySnapshot, namespace: string, name: string): CredentialSource | undefined {
    const data = snapshot.secret(namespace, name);
    if (!data) {
      this.#logger.warn({ namespace, secret: name }, 'pull secret not found; pulling without it');
      return undefined;
    }
    const key = PULL_SECRET_KEYS.find((each) => data[each] !== undefined);
    if (key === undefined) {
      this.#logger.warn(
        { namespace, secret: name },
        'pull secret has neither .dockerconfigjson nor .dockercfg; pulling without it',
      );
      return undefined;
    }
    try {
      return pullSecretCredentials(data[key]!);
    } catch (error) {
      this.#logger.warn({ namespace, secret: name, error: describeError(error) }, 'pull secret unreadable');
      return undefined;
    }
  }
}
