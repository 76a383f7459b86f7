import { CaError } from '../errors.ts';
import { describeClaim, requireStringClaim, type TokenClaims } from './claims.ts';
import type { OidcIssuer } from './issuer-config.types.ts';
import type { Principal } from './principal.types.ts';
import { EMAIL_LIKE } from './principal-uri.ts';

/**
 * `username` issuers (sigstore/fulcio `pkg/identity/username/principal.go`): `sub` is a user name without
 * `!` that is not an email address; the SAN is the critical otherName (type 1.3.6.1.4.1.57264.1.7)
 * `<sub>!<subject-domain>`, and the proof of possession signs `sub`.
 */
export function usernamePrincipal(claims: TokenClaims, issuer: OidcIssuer): Principal {
  const subject = requireStringClaim(claims, 'sub', `username issuer ${issuer.issuerUrl}`);
  if (subject.includes('!'))
    throw new CaError(
      'CA_CLAIM_INVALID',
      `sub: expected a user name without "!", received ${describeClaim(subject)}`,
    );
  if (EMAIL_LIKE.test(subject))
    throw new CaError(
      'CA_CLAIM_INVALID',
      `sub: expected a user name, not an email address, received ${describeClaim(subject)}`,
    );
  return {
    name: subject,
    subjectAlternativeName: { kind: 'other-name', value: `${subject}!${issuer.subjectDomain ?? ''}` },
    extensions: { issuer: issuer.issuerUrl, tokenSubject: subject },
  };
}
