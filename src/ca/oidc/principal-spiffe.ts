import { CaError } from '../errors.ts';
import { describeClaim, requireStringClaim, type TokenClaims } from './claims.ts';
import type { OidcIssuer } from './issuer-config.types.ts';
import type { Principal } from './principal.types.ts';
import { checkSpiffeTrustDomain, parseSpiffeId } from './spiffe-id.ts';

/**
 * `spiffe` issuers (sigstore/fulcio `pkg/identity/spiffe/principal.go`): `sub` MUST be a SPIFFE ID in the
 * issuer's `spiffe-trust-domain`; it is the SAN URI and what the proof of possession signs.
 */
export function spiffePrincipal(claims: TokenClaims, issuer: OidcIssuer): Principal {
  const subject = requireStringClaim(claims, 'sub', `spiffe issuer ${issuer.issuerUrl}`);
  const id = parseSpiffeId(subject);
  if (!id)
    throw new CaError('CA_CLAIM_INVALID', `sub: expected a SPIFFE ID, received ${describeClaim(subject)}`);
  const trustDomain = checkSpiffeTrustDomain(issuer.spiffeTrustDomain ?? '');
  if (id.trustDomain !== trustDomain)
    throw new CaError(
      'CA_CLAIM_INVALID',
      `sub: expected a SPIFFE ID in trust domain ${trustDomain ?? '(none)'}, received one in ${id.trustDomain}`,
    );
  return {
    name: subject,
    subjectAlternativeName: { kind: 'uri', value: subject },
    extensions: { issuer: issuer.issuerUrl, tokenSubject: subject },
  };
}
