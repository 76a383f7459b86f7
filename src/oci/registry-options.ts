import { silentLogger, systemClock, type Clock, type Logger } from '../core/index.ts';
import { anonymousCredentials, type CredentialSource } from './auth/credentials.ts';
import type { RegistryResponseListener } from './internal/transport.ts';

/** How `createRegistryClient` talks to registries. Every field is optional; units and defaults below. */
export interface RegistryClientOptions {
  /** Where credentials come from, per registry host. Default: anonymous everywhere. */
  readonly credentials?: CredentialSource;
  /** TCP + TLS connect timeout, milliseconds. Default 5,000. */
  readonly connectTimeoutMs?: number;
  /** Time until response headers arrive, milliseconds. Default 10,000. */
  readonly headersTimeoutMs?: number;
  /** Longest pause between two body chunks, milliseconds. Default 30,000. */
  readonly bodyTimeoutMs?: number;
  /** Retries after a network error, 429 or 5xx (so at most 1 + retries attempts). Default 3. */
  readonly retries?: number;
  /** First backoff delay, doubled per retry, with jitter, milliseconds. Default 250. */
  readonly retryBaseDelayMs?: number;
  /** Largest backoff delay, also the cap on a registry's Retry-After, milliseconds. Default 5,000. */
  readonly retryMaxDelayMs?: number;
  /**
   * Registries reached over plain HTTP. `localhost`, `127.0.0.0/8` and `[::1]` always are (as Docker
   * does); any other host only when listed here (`host` or `host:port`) or when this is `true`
   * (`--allow-insecure-registry`). Default false.
   */
  readonly allowInsecureRegistries?: boolean | readonly string[];
  /** Largest manifest or index read, bytes. Default 4 MiB (what distribution accepts). */
  readonly maxManifestBytes?: number;
  /** Largest blob read when the caller passes no limit, bytes. Default 64 MiB. */
  readonly maxBlobBytes?: number;
  /**
   * Bytes of content fetched by digest (signature layers, manifests by digest) kept for reuse; a digest
   * names its bytes forever. 0 keeps none. Default 16 MiB.
   */
  readonly contentCacheBytes?: number;
  /** `n` asked for per tag-list page. Default 1,000. */
  readonly tagPageSize?: number;
  /** Tag-list pages followed through `Link` before giving up with OCI_TOO_LARGE. Default 100. */
  readonly maxTagPages?: number;
  /** Extra PEM CA certificates trusted for HTTPS registries and token servers. Default none. */
  readonly tlsCertificateAuthorities?: readonly string[];
  /** Sent as User-Agent. Default `sigil`. */
  readonly userAgent?: string;
  /** Decides bearer-token expiry. Default the system clock. */
  readonly clock?: Clock;
  readonly logger?: Logger;
  /** Told of every HTTP attempt's status (or `error`), e.g. for request metrics. Default none. */
  readonly onResponse?: RegistryResponseListener;
}

export interface ResolvedRegistryClientOptions {
  readonly credentials: CredentialSource;
  readonly connectTimeoutMs: number;
  readonly headersTimeoutMs: number;
  readonly bodyTimeoutMs: number;
  readonly retries: number;
  readonly retryBaseDelayMs: number;
  readonly retryMaxDelayMs: number;
  readonly allowInsecureRegistries: boolean | readonly string[];
  readonly maxManifestBytes: number;
  readonly maxBlobBytes: number;
  readonly contentCacheBytes: number;
  readonly tagPageSize: number;
  readonly maxTagPages: number;
  readonly tlsCertificateAuthorities: readonly string[];
  readonly userAgent: string;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly onResponse?: RegistryResponseListener;
}

/** Resolves defaults once and freezes the result. Misuse throws TypeError naming the option. */
export function resolveRegistryClientOptions(
  options: RegistryClientOptions = {},
): ResolvedRegistryClientOptions {
  const integer = (name: keyof RegistryClientOptions, fallback: number, minimum: number): number => {
    const value = options[name] ?? fallback;
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < minimum) {
      throw new TypeError(
        `registry client option ${name}: expected an integer ≥ ${minimum}, received ${JSON.stringify(value)}`,
      );
    }
    return value;
  };
  const resolved: ResolvedRegistryClientOptions = {
    credentials: options.credentials ?? anonymousCredentials,
    connectTimeoutMs: integer('connectTimeoutMs', 5_000, 1),
    headersTimeoutMs: integer('headersTimeoutMs', 10_000, 1),
    bodyTimeoutMs: integer('bodyTimeoutMs', 30_000, 1),
    retries: integer('retries', 3, 0),
    retryBaseDelayMs: integer('retryBaseDelayMs', 250, 0),
    retryMaxDelayMs: integer('retryMaxDelayMs', 5_000, 0),
    allowInsecureRegistries: resolveInsecure(options.allowInsecureRegistries),
    maxManifestBytes: integer('maxManifestBytes', 4 * 1024 * 1024, 1),
    maxBlobBytes: integer('maxBlobBytes', 64 * 1024 * 1024, 1),
    contentCacheBytes: integer('contentCacheBytes', 16 * 1024 * 1024, 0),
    tagPageSize: integer('tagPageSize', 1_000, 1),
    maxTagPages: integer('maxTagPages', 100, 1),
    tlsCertificateAuthorities: Object.freeze([...(options.tlsCertificateAuthorities ?? [])]),
    userAgent: options.userAgent ?? 'sigil',
    clock: options.clock ?? systemClock,
    logger: options.logger ?? silentLogger,
    ...(options.onResponse ? { onResponse: options.onResponse } : {}),
  };
  if (resolved.retryMaxDelayMs < resolved.retryBaseDelayMs) {
    throw new TypeError(
      `registry client options retryMaxDelayMs (${resolved.retryMaxDelayMs}) must be ≥ retryBaseDelayMs (${resolved.retryBaseDelayMs})`,
    );
  }
  return Object.freeze(resolved);
}

function resolveInsecure(
  value: RegistryClientOptions['allowInsecureRegistries'],
): boolean | readonly string[] {
  if (value === undefined) return false;
  if (typeof value === 'boolean') return value;
  if (!Array.isArray(value) || value.some((host) => typeof host !== 'string' || host.length === 0)) {
    throw new TypeError(
      'registry client option allowInsecureRegistries: expected a boolean or a list of hosts',
    );
  }
  return Object.freeze(value.map((host: string) => host.toLowerCase()));
}

const LOOPBACK = /^(localhost|127(\.\d{1,3}){3}|\[::1\])$/;

/**
 * Whether `host` (`name` or `name:port`, as in a reference or URL) may be reached over plain HTTP:
 * loopback always, like Docker; others only as `allowInsecureRegistries` says.
 */
export function isPlainHttpAllowed(host: string, allow: boolean | readonly string[]): boolean {
  const lower = host.toLowerCase();
  const hostname = lower.startsWith('[')
    ? lower.slice(0, lower.indexOf(']') + 1)
    : (lower.split(':')[0] ?? lower);
  if (LOOPBACK.test(hostname)) return true;
  if (allow === true) return true;
  if (allow === false) return false;
  return allow.includes(lower) || allow.includes(hostname);
}
