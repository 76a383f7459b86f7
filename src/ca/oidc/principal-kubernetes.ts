import { CaError } from '../errors.ts';
import { describeClaim, requireStringClaim, type TokenClaims } from './claims.ts';
import type { OidcIssuer } from './issuer-config.types.ts';
import type { Principal } from './principal.types.ts';

/**
 * `kubernetes` issuers (sigstore/fulcio `pkg/identity/kubernetes/principal.go`): a service account token;
 * SAN URI `https://kubernetes.io/namespaces/<namespace>/serviceaccounts/<name>` from the `kubernetes.io`
 * claim, proof of possession over `sub`. Fulcio would build the URI from empty strings when the claim is
 * missing; Sigil rejects such a token with CA_CLAIM_MISSING.
 */
export function kubernetesPrincipal(claims: TokenClaims, issuer: OidcIssuer): Principal {
  const subject = requireStringClaim(claims, 'sub', `kubernetes issuer ${issuer.issuerUrl}`);
  const kubernetes = objectClaim(claims, 'kubernetes.io');
  const namespace = kubernetes?.['namespace'];
  const serviceAccount = kubernetes?.['serviceaccount'];
  const name = isRecord(serviceAccount) ? serviceAccount['name'] : undefined;
  if (typeof namespace !== 'string' || namespace === '') throw missing('kubernetes.io.namespace', namespace);
  if (typeof name !== 'string' || name === '') throw missing('kubernetes.io.serviceaccount.name', name);
  return {
    name: subject,
    subjectAlternativeName: {
      kind: 'uri',
      value: `https://kubernetes.io/namespaces/${namespace}/serviceaccounts/${name}`,
    },
    extensions: { issuer: issuer.issuerUrl, tokenSubject: subject },
  };
}

function objectClaim(claims: TokenClaims, name: string): Record<string, unknown> | undefined {
  const value = Object.hasOwn(claims, name) ? claims[name] : undefined;
  return isRecord(value) ? value : undefined;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function missing(path: string, value: unknown): CaError {
  return new CaError(
    'CA_CLAIM_MISSING',
    `${path}: expected a non-empty string claim, received ${describeClaim(value)}`,
  );
}
