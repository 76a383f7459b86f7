import type { FulcioExtensionDefinition } from './extensions.ts';
import type { IssuerType } from './principal.types.ts';
import type { CompiledTemplate } from './template.ts';

/**
 * One entry of `oidc-issuers` or `meta-issuers` in a Fulcio config file (sigstore/fulcio
 * `pkg/config/config.go` OIDCIssuer, YAML names). `contact`, `description` and `ca-cert` are accepted
 * and ignored, so the public-good config/identity/config.yaml loads unchanged.
 */
export interface OidcIssuerDocument {
  'issuer-url'?: string;
  /** The expected `aud`. Default `sigstore`. */
  'client-id'?: string;
  type: IssuerType;
  /** Key into `ci-issuer-metadata`; required for type `ci-provider`. */
  'ci-provider'?: string;
  /** A claim path such as `$.federated_claims.connector_id` holding the issuer; email issuers only. */
  'issuer-claim'?: string;
  /** `uri`: scheme and host subjects must have; `username`: the domain after `!`. */
  'subject-domain'?: string;
  /** `spiffe`: the trust domain every subject must be in. */
  'spiffe-trust-domain'?: string;
  /** What `/api/v2/configuration` says the proof of possession signs. Default `email` or `sub`. */
  'challenge-claim'?: string;
  /** Accept email tokens without `email_verified: true`. Default false. */
  'skip-email-verification'?: boolean;
  contact?: string;
  description?: string;
  'ca-cert'?: string;
}

/** One entry of `ci-issuer-metadata` (Fulcio IssuerMetadata). */
export interface CiIssuerMetadataDocument {
  /** Values templates may use when the token lacks the claim; claims win. */
  'default-template-values'?: Record<string, string | number | boolean>;
  /** Per extension (`build-signer-uri`, ...): a template `{{ .claim }}` or a bare claim name. */
  'extension-templates'?: Record<string, string>;
  'subject-alternative-name-template': string;
}

/** A Fulcio config file, YAML names; JSON with Fulcio's Go names (`OIDCIssuers`, ...) is read too. */
export interface IssuerConfigDocument {
  'oidc-issuers'?: Record<string, OidcIssuerDocument>;
  'meta-issuers'?: Record<string, OidcIssuerDocument>;
  'ci-issuer-metadata'?: Record<string, CiIssuerMetadataDocument>;
}

/** An issuer the CA accepts tokens from, settings resolved. */
export interface OidcIssuer {
  readonly issuerUrl: string;
  readonly clientId: string;
  readonly type: IssuerType;
  readonly ciProvider?: string;
  /** Member names of the `issuer-claim` path. */
  readonly issuerClaim?: readonly string[];
  readonly subjectDomain?: string;
  readonly spiffeTrustDomain?: string;
  readonly challengeClaim: string;
  readonly skipEmailVerification: boolean;
}

/** A `meta-issuers` entry: `*` stands for one run of `[-_a-zA-Z0-9]`, i.e. one host label or path part. */
export interface MetaIssuer {
  readonly pattern: string;
  readonly matcher: RegExp;
  readonly settings: Omit<OidcIssuer, 'issuerUrl'>;
}

/** Fulcio's `applyTemplateOrReplace`: a template when the text contains `{{`, else a claim name. */
export type ValueTemplate =
  | { readonly kind: 'template'; readonly template: CompiledTemplate }
  | { readonly kind: 'claim'; readonly name: string };

export interface CiIssuerMetadata {
  readonly defaultTemplateValues: Readonly<Record<string, string>>;
  readonly extensionTemplates: readonly {
    readonly definition: FulcioExtensionDefinition;
    readonly value: ValueTemplate;
  }[];
  readonly subjectAlternativeNameTemplate: ValueTemplate;
}

/** A validated issuer configuration; build it with `parseIssuerConfig` or `resolveIssuerConfig`. */
export interface IssuerConfig {
  readonly oidcIssuers: ReadonlyMap<string, OidcIssuer>;
  readonly metaIssuers: readonly MetaIssuer[];
  readonly ciIssuerMetadata: ReadonlyMap<string, CiIssuerMetadata>;
}
