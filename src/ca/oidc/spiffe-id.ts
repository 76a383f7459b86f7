/**
 * SPIFFE ID checks as go-spiffe's `spiffeid.FromString` and `TrustDomainFromString` make them (SPIFFE ID
 * standard §2): `spiffe://<trust domain><path>`, the trust domain of lower-case letters, digits, `.`, `-`
 * and `_`, each path segment non-empty of letters, digits, `.`, `-`, `_`, and neither `.` nor `..`; no
 * query, fragment, user info or port.
 */

const TRUST_DOMAIN = /^[a-z0-9._-]+$/;
const SEGMENT = /^[A-Za-z0-9._-]+$/;

/** A trust domain, given bare (`example.org`) or as an ID without path (`spiffe://example.org`). */
export function checkSpiffeTrustDomain(value: string): string | undefined {
  if (value.startsWith('spiffe://')) {
    const id = parseSpiffeId(value);
    return id && id.path === '' ? id.trustDomain : undefined;
  }
  return TRUST_DOMAIN.test(value) ? value : undefined;
}

/** The trust domain and path of a SPIFFE ID, or undefined if `id` is not one. */
export function parseSpiffeId(id: string): { trustDomain: string; path: string } | undefined {
  if (!id.startsWith('spiffe://')) return undefined;
  const rest = id.slice('spiffe://'.length);
  const slash = rest.indexOf('/');
  const trustDomain = slash < 0 ? rest : rest.slice(0, slash);
  const path = slash < 0 ? '' : rest.slice(slash);
  if (!TRUST_DOMAIN.test(trustDomain)) return undefined;
  if (path !== '') {
    const segments = path.slice(1).split('/');
    for (const segment of segments) {
      if (!SEGMENT.test(segment) || segment === '.' || segment === '..') return undefined;
    }
  }
  return { trustDomain, path };
}
