import { CaError } from '../errors.ts';

/** The verified payload of an identity token: JSON values under claim names. */
export type TokenClaims = Readonly<Record<string, unknown>>;

/** A claim that MUST be a non-empty string; CA_CLAIM_MISSING names it otherwise. */
export function requireStringClaim(claims: TokenClaims, name: string, forWhat: string): string {
  const value = Object.hasOwn(claims, name) ? claims[name] : undefined;
  if (typeof value === 'string' && value !== '') return value;
  throw new CaError(
    'CA_CLAIM_MISSING',
    `${name}: expected a non-empty string claim for ${forWhat}, received ${describeClaim(value)}`,
  );
}

/** A claim that may be absent; present, it MUST be a string. */
export function optionalStringClaim(claims: TokenClaims, name: string): string | undefined {
  const value = Object.hasOwn(claims, name) ? claims[name] : undefined;
  if (value === undefined || value === '') return undefined;
  if (typeof value === 'string') return value;
  throw new CaError('CA_CLAIM_INVALID', `${name}: expected a string claim, received ${describeClaim(value)}`);
}

/** How a claim shows up in an error message: its type, or a short preview of a string. */
export function describeClaim(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string')
    return value === ''
      ? 'an empty string'
      : JSON.stringify(value.length > 60 ? `${value.slice(0, 60)}…` : value);
  return `a ${typeof value}`;
}

/**
 * Every claim as a string, the way Fulcio's CI provider feeds claims to templates
 * (sigstore/fulcio `pkg/identity/ciprovider/principal.go` mapValuesToString): strings as they are,
 * integral numbers through Go's `%v` of a float64, other numbers in shortest fixed notation, anything
 * else through Go's `%v` (`true`, `[a b]`, `map[k:v]`, `<nil>`).
 */
export function claimsAsStrings(claims: TokenClaims): Record<string, string> {
  // fromEntries defines own properties, so a `__proto__` claim stays a claim.
  return Object.fromEntries(
    Object.entries(claims).map(([name, value]) => [
      name,
      typeof value === 'number' && !Number.isInteger(value) ? formatFixed(value) : formatGoValue(value),
    ]),
  );
}

/** Go's `fmt.Sprintf("%v", v)` for a value decoded from JSON by encoding/json. */
export function formatGoValue(value: unknown): string {
  if (value === null || value === undefined) return '<nil>';
  if (typeof value === 'string') return value;
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value === 'number') return formatGoFloat(value);
  if (Array.isArray(value)) return `[${value.map(formatGoValue).join(' ')}]`;
  if (typeof value === 'object') {
    // Go's fmt prints map keys sorted.
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) =>
      a < b ? -1 : a > b ? 1 : 0,
    );
    return `map[${entries.map(([key, item]) => `${key}:${formatGoValue(item)}`).join(' ')}]`;
  }
  return typeof value === 'bigint' ? value.toString() : '';
}

/**
 * Go's `%v` of a float64: strconv 'g' with the shortest digits, exponent form when the decimal exponent
 * is below -4 or at least 6 (strconv/ftoa.go: "if precision was the shortest possible, use precision 6"),
 * so 1234567 prints as `1.234567e+06`.
 */
export function formatGoFloat(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (!Number.isFinite(value)) return value > 0 ? '+Inf' : '-Inf';
  if (value === 0) return Object.is(value, -0) ? '-0' : '0';
  const { sign, digits, exponent } = shortestDigits(value);
  if (exponent < -4 || exponent >= 6) {
    const mantissa = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    const magnitude = Math.abs(exponent);
    return `${sign}${mantissa}e${exponent < 0 ? '-' : '+'}${magnitude < 10 ? '0' : ''}${magnitude}`;
  }
  return `${sign}${fixedFrom(digits, exponent)}`;
}

/** strconv.FormatFloat(v, 'f', -1, 64): shortest digits, never an exponent. */
export function formatFixed(value: number): string {
  if (!Number.isFinite(value) || value === 0) return formatGoFloat(value);
  const { sign, digits, exponent } = shortestDigits(value);
  return `${sign}${fixedFrom(digits, exponent)}`;
}

function shortestDigits(value: number): { sign: string; digits: string; exponent: number } {
  // toExponential() without an argument gives the shortest digits that round-trip (ECMA-262 §21.1.3.2).
  const [mantissa = '', exponent = '0'] = Math.abs(value).toExponential().split('e');
  return { sign: value < 0 ? '-' : '', digits: mantissa.replace('.', ''), exponent: Number(exponent) };
}

function fixedFrom(digits: string, exponent: number): string {
  if (exponent < 0) return `0.${'0'.repeat(-exponent - 1)}${digits}`;
  if (digits.length <= exponent + 1) return digits + '0'.repeat(exponent + 1 - digits.length);
  return `${digits.slice(0, exponent + 1)}.${digits.slice(exponent + 1)}`;
}

/**
 * A claim path of an `issuer-claim` setting such as `$.federated_claims.connector_id` (Dex): `$`, then
 * members by `.name` or `['name']`/`["name"]`. Returns the names, or undefined if the path is not of
 * that form.
 */
export function parseClaimPath(path: string): string[] | undefined {
  if (!path.startsWith('$')) return undefined;
  const names: string[] = [];
  const member = /\.([A-Za-z0-9_-]+)|\['([^'\\]*)'\]|\["([^"\\]*)"\]/y;
  member.lastIndex = 1;
  while (member.lastIndex < path.length) {
    const match = member.exec(path);
    if (!match) return undefined;
    names.push(match[1] ?? match[2] ?? match[3] ?? '');
  }
  return names.length > 0 ? names : undefined;
}

/** The value at `names` inside `claims`, or undefined. */
export function claimAtPath(claims: TokenClaims, names: readonly string[]): unknown {
  let current: unknown = claims;
  for (const name of names) {
    if (typeof current !== 'object' || current === null || Array.isArray(current)) return undefined;
    if (!Object.hasOwn(current, name)) return undefined;
    current = (current as Record<string, unknown>)[name];
  }
  return current;
}
