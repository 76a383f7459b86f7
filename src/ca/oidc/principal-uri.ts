import { CaError } from '../errors.ts';
import { describeClaim, requireStringClaim, type TokenClaims } from './claims.ts';
import type { OidcIssuer } from './issuer-config.types.ts';
import type { Principal } from './principal.types.ts';

/** What govalidator.IsEmail accepts, near enough: one `@` between non-blank parts, a dot in the domain. */
export const EMAIL_LIKE = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/**
 * `uri` issuers (sigstore/fulcio `pkg/identity/uri/principal.go`): `sub` is a URI whose scheme and
 * hostname MUST equal those of the issuer's `subject-domain`; not an email address. It is the SAN URI and
 * what the proof of possession signs.
 */
export function uriPrincipal(claims: TokenClaims, issuer: OidcIssuer): Principal {
  const subject = requireStringClaim(claims, 'sub', `uri issuer ${issuer.issuerUrl}`);
  if (EMAIL_LIKE.test(subject))
    throw new CaError(
      'CA_CLAIM_INVALID',
      `sub: expected a URI, not an email address, received ${describeClaim(subject)}`,
    );
  const actual = schemeAndHost(subject);
  const expected = schemeAndHost(issuer.subjectDomain ?? '');
  if (!actual || actual.scheme !== expected?.scheme || actual.host !== expected.host)
    throw new CaError(
      'CA_CLAIM_INVALID',
      `sub: expected a URI under ${issuer.subjectDomain ?? '(no subject domain)'}, received ${describeClaim(subject)}`,
    );
  return {
    name: subject,
    subjectAlternativeName: { kind: 'uri', value: subject },
    extensions: { issuer: issuer.issuerUrl, tokenSubject: subject },
  };
}

/** Scheme and hostname (Go url.URL.Hostname: no port, no IPv6 brackets, case kept). */
export function schemeAndHost(uri: string): { scheme: string; host: string } | undefined {
  const match = /^([A-Za-z][A-Za-z0-9+.-]*):(?:\/\/([^/?#]*))?/.exec(uri);
  if (!match) return undefined;
  const authority = match[2] ?? '';
  let host = authority.slice(authority.lastIndexOf('@') + 1);
  if (host.startsWith('[')) host = host.slice(1, host.indexOf(']'));
  else if (host.includes(':')) host = host.slice(0, host.lastIndexOf(':'));
  return { scheme: match[1]!.toLowerCase(), host };
}
