import type { IssuerConfig, OidcIssuer } from './issuer-config.types.ts';

/** One issuer of `GET /api/v2/configuration` (Fulcio `OIDCIssuer` message, protojson names). */
export type FulcioConfigurationIssuer = ({ issuerUrl: string } | { wildcardIssuerUrl: string }) & {
  audience: string;
  challengeClaim: string;
  spiffeTrustDomain: string;
  issuerType: string;
  subjectDomain: string;
  /** Present only when true. */
  skipEmailVerification?: true;
};

export interface FulcioConfigurationResponse {
  issuers: FulcioConfigurationIssuer[];
}

/**
 * The body of `GET /api/v2/configuration` (sigstore/fulcio `pkg/config/config.go` ToIssuers): the
 * `oidc-issuers` by `issuerUrl`, then the `meta-issuers` by `wildcardIssuerUrl`. Fulcio walks Go maps
 * (random order); Sigil keeps the config file's order so the response is stable.
 */
export function fulcioConfiguration(config: IssuerConfig): FulcioConfigurationResponse {
  const issuers: FulcioConfigurationIssuer[] = [];
  for (const issuer of config.oidcIssuers.values())
    issuers.push({ issuerUrl: issuer.issuerUrl, ...describe(issuer) });
  for (const meta of config.metaIssuers)
    issuers.push({ wildcardIssuerUrl: meta.pattern, ...describe(meta.settings) });
  return { issuers };
}

function describe(issuer: Omit<OidcIssuer, 'issuerUrl'>) {
  return {
    audience: issuer.clientId,
    challengeClaim: issuer.challengeClaim,
    spiffeTrustDomain: issuer.spiffeTrustDomain ?? '',
    issuerType: issuer.type,
    subjectDomain: issuer.subjectDomain ?? '',
    ...(issuer.skipEmailVerification && { skipEmailVerification: true as const }),
  };
}
