import { createHash, createPublicKey, type KeyObject } from 'node:crypto';
import { SignJWT } from 'jose';
import { generateSigningKey, systemClock, type Clock } from '../../core/index.ts';
import { CaError } from '../errors.ts';

/**
 * A DEVELOPMENT-ONLY OpenID Connect issuer: it signs an identity token for whoever asks, for any subject
 * and email, without authenticating anyone. It exists so `sigil up` can issue keyless certificates on a
 * laptop. A CA that trusts it certifies any identity; never add it to a deployment others rely on.
 */

/** What a token request may ask for. */
export interface DevTokenRequest {
  /** The `sub` claim. 1–255 characters, no control characters. */
  subject: string;
  /** The `email` claim, sent with `email_verified: true`. Omit for a token without email. */
  email?: string;
  /** The `aud` claim. Default `sigstore` (Fulcio's client ID). */
  audience?: string;
  /** Token lifetime in seconds, 1–86400. Default 600. */
  lifetimeSeconds?: number;
  /** More claims, e.g. CI claims for a `ci-provider` issuer; cannot replace the ones above or `iss`/`exp`/`iat`/`nbf`. */
  claims?: Readonly<Record<string, string | number | boolean>>;
}

export interface DevToken {
  /** The compact JWT. */
  readonly token: string;
  readonly expiresAt: Date;
  readonly lifetimeSeconds: number;
}

/** The OIDC Discovery 1.0 §3 metadata of the development issuer. */
export interface DevDiscoveryDocument {
  issuer: string;
  jwks_uri: string;
  token_endpoint: string;
  response_types_supported: string[];
  subject_types_supported: string[];
  id_token_signing_alg_values_supported: string[];
  claims_supported: string[];
  description: string;
}

export interface DevOidcIssuerOptions {
  /** The issuer URL tokens carry as `iss`; discovery and JWKS are served under it. No trailing slash. */
  issuerUrl: string;
  /** The ES256 (P-256) signing key; the caller persists it so tokens survive restarts. */
  privateKey: KeyObject;
  /** Default: the system clock. */
  clock?: Clock;
}

const RESERVED_CLAIMS = new Set(['iss', 'sub', 'aud', 'exp', 'iat', 'nbf', 'jti', 'email', 'email_verified']);
const CONTROL = /\p{Cc}/u;
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const MAX_LIFETIME_SECONDS = 24 * 60 * 60;

export const DEV_ISSUER_DESCRIPTION =
  'Sigil development OIDC issuer: signs a token for anyone who asks. For local development only; never trust it in a deployment.';

/** A development issuer (see the module comment: DEVELOPMENT ONLY). */
export class DevOidcIssuer {
  readonly issuerUrl: string;
  /** RFC 7638 JWK thumbprint of the public key; the tokens' `kid`. */
  readonly keyId: string;
  readonly #privateKey: KeyObject;
  readonly #publicJwk: Readonly<Record<string, string>>;
  readonly #clock: Clock;

  /** A new P-256 key for `DevOidcIssuerOptions.privateKey`; persist it (e.g. exportPrivateKeyPem). */
  static generateKey(): KeyObject {
    return generateSigningKey('ecdsa-p256');
  }

  constructor(options: DevOidcIssuerOptions) {
    const { issuerUrl, privateKey } = options;
    if (
      typeof issuerUrl !== 'string' ||
      !/^https?:\/\/[^/?#]+(\/[^?#]*)?$/.test(issuerUrl) ||
      issuerUrl.endsWith('/')
    )
      throw new TypeError(
        `issuerUrl: expected an http(s) URL without query or trailing slash, received ${String(issuerUrl)}`,
      );
    if (privateKey?.type !== 'private' || privateKey.asymmetricKeyDetails?.namedCurve !== 'prime256v1')
      throw new TypeError('privateKey: expected a P-256 private key (ES256)');
    this.issuerUrl = issuerUrl;
    this.#privateKey = privateKey;
    this.#clock = options.clock ?? systemClock;
    const jwk = createPublicKey(privateKey).export({ format: 'jwk' });
    const members = { crv: String(jwk.crv), kty: String(jwk.kty), x: String(jwk.x), y: String(jwk.y) };
    // RFC 7638 §3.2: the required members in lexicographic order, no whitespace.
    this.keyId = createHash('sha256').update(JSON.stringify(members)).digest('base64url');
    this.#publicJwk = Object.freeze({ ...members, kid: this.keyId, alg: 'ES256', use: 'sig' });
  }

  /** `GET <issuer>/.well-known/openid-configuration`. */
  discovery(): DevDiscoveryDocument {
    return {
      issuer: this.issuerUrl,
      jwks_uri: `${this.issuerUrl}/jwks`,
      token_endpoint: `${this.issuerUrl}/token`,
      response_types_supported: ['id_token'],
      subject_types_supported: ['public'],
      id_token_signing_alg_values_supported: ['ES256'],
      claims_supported: ['iss', 'sub', 'aud', 'exp', 'iat', 'nbf', 'email', 'email_verified'],
      description: DEV_ISSUER_DESCRIPTION,
    };
  }

  /** `GET <issuer>/jwks`: the one public key. */
  jwks(): { keys: Record<string, string>[] } {
    return { keys: [{ ...this.#publicJwk }] };
  }

  /** Signs an identity token. Throws CA_REQUEST_INVALID naming the bad field. */
  async mintToken(request: DevTokenRequest): Promise<DevToken> {
    const { subject, email, claims = {} } = request;
    const audience = request.audience ?? 'sigstore';
    const lifetimeSeconds = request.lifetimeSeconds ?? 600;
    checkText(subject, 'subject');
    checkText(audience, 'audience');
    if (email !== undefined) {
      checkText(email, 'email');
      if (!EMAIL.test(email))
        throw badRequest(`email: expected an email address, received ${JSON.stringify(email.slice(0, 60))}`);
    }
    if (
      !Number.isSafeInteger(lifetimeSeconds) ||
      lifetimeSeconds < 1 ||
      lifetimeSeconds > MAX_LIFETIME_SECONDS
    )
      throw badRequest(
        `lifetimeSeconds: expected an integer from 1 to ${MAX_LIFETIME_SECONDS}, received ${String(lifetimeSeconds)}`,
      );
    for (const name of Object.keys(claims)) {
      if (RESERVED_CLAIMS.has(name))
        throw badRequest(`claims.${name}: expected a claim other than the registered ones`);
    }
    const now = Math.floor(this.#clock.now().getTime() / 1000);
    const token = await new SignJWT({
      ...claims,
      ...(email !== undefined && { email, email_verified: true }),
    })
      .setProtectedHeader({ alg: 'ES256', kid: this.keyId, typ: 'JWT' })
      .setIssuer(this.issuerUrl)
      .setSubject(subject)
      .setAudience(audience)
      .setIssuedAt(now)
      .setNotBefore(now)
      .setExpirationTime(now + lifetimeSeconds)
      .sign(this.#privateKey);
    return { token, expiresAt: new Date((now + lifetimeSeconds) * 1000), lifetimeSeconds };
  }
}

function checkText(value: unknown, field: string): void {
  if (typeof value !== 'string' || value.length === 0 || value.length > 255 || CONTROL.test(value))
    throw badRequest(
      `${field}: expected 1 to 255 characters without control characters, received ${typeof value === 'string' ? `${value.length} characters` : typeof value}`,
    );
}

function badRequest(message: string): CaError {
  return new CaError('CA_REQUEST_INVALID', message);
}
