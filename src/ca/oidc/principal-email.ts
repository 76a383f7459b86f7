import { CaError } from '../errors.ts';
import {
  claimAtPath,
  describeClaim,
  optionalStringClaim,
  requireStringClaim,
  type TokenClaims,
} from './claims.ts';
import type { OidcIssuer } from './issuer-config.types.ts';
import type { Principal } from './principal.types.ts';

// sigstore/fulcio pkg/identity/email/principal.go
const EMAIL = /^.+@.+\..+$/;

/**
 * `email` issuers (sigstore/fulcio `pkg/identity/email/principal.go`): SAN rfc822Name = `email`, which
 * MUST be `email_verified: true` unless the issuer skips the check; the Issuer extension holds `iss`, or
 * the value at `issuer-claim` for a federating issuer such as Dex (`$.federated_claims.connector_id`).
 */
export function emailPrincipal(claims: TokenClaims, issuer: OidcIssuer): Principal {
  const email = requireStringClaim(claims, 'email', `email issuer ${issuer.issuerUrl}`);
  const verified = claims['email_verified'];
  if (!issuer.skipEmailVerification && verified !== true)
    throw new CaError(
      'CA_EMAIL_UNVERIFIED',
      `email_verified: expected true, received ${describeClaim(verified)}`,
    );
  if (!EMAIL.test(email))
    throw new CaError(
      'CA_CLAIM_INVALID',
      `email: expected an email address, received ${describeClaim(email)}`,
    );
  let issuerName = issuer.issuerUrl;
  if (issuer.issuerClaim) {
    const value = claimAtPath(claims, issuer.issuerClaim);
    const path = `$.${issuer.issuerClaim.join('.')}`;
    if (typeof value !== 'string' || value === '')
      throw new CaError(
        'CA_CLAIM_MISSING',
        `${path}: expected the issuer as a string claim, received ${describeClaim(value)}`,
      );
    issuerName = value;
  }
  const subject = optionalStringClaim(claims, 'sub');
  return {
    name: email,
    subjectAlternativeName: { kind: 'email', value: email },
    extensions: { issuer: issuerName, ...(subject !== undefined && { tokenSubject: subject }) },
  };
}
