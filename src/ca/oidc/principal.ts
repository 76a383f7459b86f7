import { assertNever } from '../../core/index.ts';
import type { TokenClaims } from './claims.ts';
import { fulcioExtensionList, type FulcioExtensionValue } from './extensions.ts';
import type { IssuerConfig, OidcIssuer } from './issuer-config.types.ts';
import { ciProviderPrincipal } from './principal-ci-provider.ts';
import { emailPrincipal } from './principal-email.ts';
import { githubWorkflowPrincipal } from './principal-github-workflow.ts';
import { kubernetesPrincipal } from './principal-kubernetes.ts';
import { spiffePrincipal } from './principal-spiffe.ts';
import { uriPrincipal } from './principal-uri.ts';
import { usernamePrincipal } from './principal-username.ts';
import type { Principal } from './principal.types.ts';

/**
 * The principal a verified token's claims name, by the issuer's type (sigstore/fulcio
 * `pkg/identity/*`/principal.go). `claims` MUST come from a token whose signature, issuer, audience and
 * validity were already checked (TokenVerifier.verify). Throws CA_CLAIM_MISSING, CA_CLAIM_INVALID or
 * CA_EMAIL_UNVERIFIED naming the claim.
 */
export function principalFromClaims(
  claims: TokenClaims,
  issuer: OidcIssuer,
  config: IssuerConfig,
): Principal {
  switch (issuer.type) {
    case 'email':
      return emailPrincipal(claims, issuer);
    case 'github-workflow':
      return githubWorkflowPrincipal(claims, issuer);
    case 'ci-provider':
      return ciProviderPrincipal(claims, issuer, config);
    case 'kubernetes':
      return kubernetesPrincipal(claims, issuer);
    case 'spiffe':
      return spiffePrincipal(claims, issuer);
    case 'uri':
      return uriPrincipal(claims, issuer);
    case 'username':
      return usernamePrincipal(claims, issuer);
    default:
      return assertNever(issuer.type, 'issuer type');
  }
}

/**
 * The principal in the form the certificate builder takes (`CertifiedIdentity` of ../keyless-ca.ts):
 * the extensions as a list in OID order, empty ones left out.
 */
export function certifiedIdentity(principal: Principal): {
  name: string;
  subjectAlternativeName: Principal['subjectAlternativeName'];
  extensions: FulcioExtensionValue[];
} {
  return {
    name: principal.name,
    subjectAlternativeName: principal.subjectAlternativeName,
    extensions: fulcioExtensionList(principal.extensions),
  };
}
