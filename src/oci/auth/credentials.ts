/**
 * What the client may present to a registry, and where it comes from. A credential belongs to one
 * registry host: the client asks its CredentialSource for the host it is talking to and sends the
 * answer only to that host (and to the token realm that host names in its challenge).
 */

export type RegistryCredential =
  | { readonly kind: 'anonymous' }
  /** Username and password: `Authorization: Basic` to the registry or to its token realm. */
  | { readonly kind: 'basic'; readonly username: string; readonly password: string }
  /**
   * docker config `identitytoken` (or a helper answering username `<token>`): an OAuth2 refresh token,
   * exchanged at the token realm with `grant_type=refresh_token`.
   */
  | { readonly kind: 'identity-token'; readonly token: string }
  /** docker config `registrytoken`: a bearer token sent to the registry as it is. */
  | { readonly kind: 'registry-token'; readonly token: string };

export const ANONYMOUS: RegistryCredential = Object.freeze({ kind: 'anonymous' });

/** Answers "which credential for this registry host?" (`127.0.0.1:5000`, `registry-1.docker.io`). */
export interface CredentialSource {
  /** MUST resolve to `ANONYMOUS` when it has nothing for `registry`; throws OCI_CREDENTIALS_INVALID when broken. */
  credentialFor(registry: string): Promise<RegistryCredential>;
}

/** No credentials for any registry. */
export const anonymousCredentials: CredentialSource = Object.freeze({
  credentialFor: () => Promise.resolve(ANONYMOUS),
});

/**
 * Fixed credentials keyed by registry host (matched as docker config keys are, so
 * `https://index.docker.io/v1/` and `docker.io` both name Docker Hub).
 */
export function staticCredentials(
  byRegistry: Readonly<Record<string, RegistryCredential>>,
): CredentialSource {
  const entries = Object.entries(byRegistry).map(
    ([key, credential]) => [registryKey(key), credential] as const,
  );
  const table = new Map(entries);
  return Object.freeze({
    credentialFor: (registry: string) => Promise.resolve(table.get(registryKey(registry)) ?? ANONYMOUS),
  });
}

/** The first source that has a credential for the registry wins (like `--config` before the defaults). */
export function chainCredentials(...sources: readonly CredentialSource[]): CredentialSource {
  return Object.freeze({
    async credentialFor(registry: string): Promise<RegistryCredential> {
      for (const source of sources) {
        const credential = await source.credentialFor(registry);
        if (credential.kind !== 'anonymous') return credential;
      }
      return ANONYMOUS;
    },
  });
}

const DOCKER_HUB_KEYS = new Set(['docker.io', 'index.docker.io', 'registry-1.docker.io']);
/** The key Docker stores Docker Hub's credentials under (registry.IndexServer). */
export const DOCKER_HUB_CONFIG_KEY = 'https://index.docker.io/v1/';

/**
 * docker/cli `credentials.ConvertToHostname`: a config key or registry name reduced to the host it
 * names, lower-cased, with Docker Hub's names folded into one.
 */
export function registryKey(keyOrHost: string): string {
  let host = keyOrHost.trim();
  if (host.startsWith('http://')) host = host.slice('http://'.length);
  else if (host.startsWith('https://')) host = host.slice('https://'.length);
  host = (host.split('/')[0] ?? '').toLowerCase();
  return DOCKER_HUB_KEYS.has(host) ? 'index.docker.io' : host;
}

/** The server URL Docker hands a credential helper for `registry` (the v1 index URL for Docker Hub). */
export function helperServerUrl(registry: string): string {
  return registryKey(registry) === 'index.docker.io' ? DOCKER_HUB_CONFIG_KEY : registry;
}

/** For messages: who the client authenticated as, never the secret. */
export function describeCredential(credential: RegistryCredential): string {
  switch (credential.kind) {
    case 'anonymous':
      return 'anonymously';
    case 'basic':
      return `as user ${JSON.stringify(credential.username)}`;
    case 'identity-token':
      return 'with an identity token';
    case 'registry-token':
      return 'with a registry token';
  }
}
