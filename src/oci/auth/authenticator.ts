import type { Clock } from '../../core/index.ts';
import { OciError } from '../errors.ts';
import type { Transport } from '../internal/transport.ts';
import { parseAuthChallenges, type AuthChallenge } from './challenge.ts';
import { describeCredential, type CredentialSource, type RegistryCredential } from './credentials.ts';
import { fetchBearerToken, type BearerToken } from './token.ts';

/**
 * The Authorization header for each registry request. A registry's scheme is learnt from its first 401
 * (`WWW-Authenticate`) and remembered, so later requests authenticate up front: Basic with the
 * registry's own credential, or Bearer with a token fetched from the realm the registry named, cached
 * per (registry, scope) until it expires. A credential is only ever sent to the registry it was looked
 * up for and to that registry's token realm; the caller strips the header from redirects elsewhere.
 */

/** `pull` for reads, `pull,push` for uploads (distribution token scope actions). */
export type RegistryActions = 'pull' | 'pull,push';

type KnownScheme = { kind: 'basic' } | { kind: 'bearer'; realm: string; service: string | undefined };

export interface AuthenticatorSettings {
  readonly credentials: CredentialSource;
  readonly transport: Transport;
  readonly clock: Clock;
  readonly isPlainHttpAllowed: (host: string) => boolean;
}

export class RegistryAuthenticator {
  readonly #settings: AuthenticatorSettings;
  readonly #schemes = new Map<string, KnownScheme>();
  readonly #tokens = new Map<string, BearerToken>();
  readonly #pendingTokens = new Map<string, Promise<BearerToken>>();
  readonly #credentials = new Map<string, Promise<RegistryCredential>>();

  constructor(settings: AuthenticatorSettings) {
    this.#settings = settings;
  }

  /** The header to send before any challenge, when the registry's scheme is already known. */
  async authorizationFor(
    registry: string,
    repository: string,
    actions: RegistryActions,
  ): Promise<string | undefined> {
    const scheme = this.#schemes.get(registry);
    if (!scheme) return undefined;
    return this.#authorization(registry, scheme, scopeOf(repository, actions), undefined, false);
  }

  /**
   * After a 401 carrying `wwwAuthenticate`: the header to retry with. Throws OCI_UNAUTHORIZED when the
   * challenge cannot be met (no credential for Basic, an unknown scheme, a token server refusing).
   */
  async answerChallenge(
    registry: string,
    repository: string,
    actions: RegistryActions,
    wwwAuthenticate: string | readonly string[] | undefined,
  ): Promise<string> {
    const challenges = parseAuthChallenges(wwwAuthenticate);
    const chosen = pick(challenges);
    if (!chosen) {
      const offered = challenges.map((challenge) => challenge.scheme).join(', ') || 'none';
      throw new OciError(
        'OCI_UNAUTHORIZED',
        `registry ${registry} requires authentication with a scheme Sigil does not speak (offered: ${offered})`,
      );
    }
    const scheme: KnownScheme =
      chosen.scheme === 'basic'
        ? { kind: 'basic' }
        : { kind: 'bearer', realm: chosen.parameters.realm ?? '', service: chosen.parameters.service };
    this.#schemes.set(registry, scheme);
    const scope = scopeOf(repository, actions);
    const extraScope = chosen.parameters.scope;
    const authorization = await this.#authorization(registry, scheme, scope, extraScope, true);
    if (authorization === undefined) {
      throw new OciError(
        'OCI_UNAUTHORIZED',
        `registry ${registry} requires ${scheme.kind} authentication and no credentials are configured for it`,
      );
    }
    return authorization;
  }

  /** Why the registry still refused after authenticating, for OCI_UNAUTHORIZED messages. */
  async describeAttempt(registry: string): Promise<string> {
    const credential = await this.#credentialFor(registry);
    const scheme = this.#schemes.get(registry);
    return `${describeCredential(credential)}${scheme ? ` (${scheme.kind})` : ''}`;
  }

  async #authorization(
    registry: string,
    scheme: KnownScheme,
    scope: string,
    extraScope: string | undefined,
    renew: boolean,
  ): Promise<string | undefined> {
    const credential = await this.#credentialFor(registry);
    if (scheme.kind === 'basic') {
      if (credential.kind !== 'basic') return undefined;
      const pair = Buffer.from(`${credential.username}:${credential.password}`, 'utf8').toString('base64');
      return `Basic ${pair}`;
    }
    if (credential.kind === 'registry-token') return `Bearer ${credential.token}`;
    const key = `${registry} ${scope}`;
    const now = this.#settings.clock.now().getTime();
    const cached = this.#tokens.get(key);
    if (cached && !renew && cached.expiresAt > now) return `Bearer ${cached.token}`;
    if (renew) this.#tokens.delete(key);
    let pending = this.#pendingTokens.get(key);
    if (!pending) {
      const scopes = extraScope && extraScope !== scope ? [scope, ...extraScope.split(' ')] : [scope];
      pending = fetchBearerToken({
        registry,
        realm: scheme.realm,
        service: scheme.service,
        scopes: [...new Set(scopes)],
        credential,
        transport: this.#settings.transport,
        clock: this.#settings.clock,
        isPlainHttpAllowed: this.#settings.isPlainHttpAllowed,
      });
      this.#pendingTokens.set(key, pending);
      pending.then(
        (token) => {
          this.#tokens.set(key, token);
          this.#pendingTokens.delete(key);
        },
        () => this.#pendingTokens.delete(key),
      );
    }
    return `Bearer ${(await pending).token}`;
  }

  #credentialFor(registry: string): Promise<RegistryCredential> {
    let credential = this.#credentials.get(registry);
    if (!credential) {
      credential = this.#settings.credentials.credentialFor(registry);
      this.#credentials.set(registry, credential);
      credential.catch(() => this.#credentials.delete(registry));
    }
    return credential;
  }
}

/** distribution token scope: `repository:<name>:<actions>`. */
export function scopeOf(repository: string, actions: RegistryActions): string {
  return `repository:${repository}:${actions}`;
}

/** Bearer when offered (it carries a realm), else Basic. */
function pick(challenges: readonly AuthChallenge[]): AuthChallenge | undefined {
  return (
    challenges.find((challenge) => challenge.scheme === 'bearer' && challenge.parameters.realm) ??
    challenges.find((challenge) => challenge.scheme === 'basic')
  );
}
