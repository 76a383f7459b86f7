import { id_ce_subjectAltName } from '@peculiar/asn1-x509';
import {
  CoreError,
  DerSyntaxError,
  DerTag,
  contentBytes,
  decodeOid,
  decodeUtf8,
  readChildren,
  readWhole,
  type DerElement,
  type ParsedCertificate,
} from '../core/index.ts';
import { VerificationError } from './errors.ts';
import { decodeUtf8String, readFulcioExtensions, type FulcioExtensions } from './fulcio-extensions.ts';

/**
 * Who signed: the signing certificate's subject alternative name and Fulcio extensions, and the policy
 * check over them (sigstore-go `pkg/verify/certificate_identity.go`: a list of expected identities, the
 * first that matches wins, the SAN and the OIDC issuer both required).
 */

export interface CertificateIdentity {
  readonly subjectAlternativeName: string;
  /** rfc822Name → email, uniformResourceIdentifier → uri, Fulcio's username otherName → other. */
  readonly sanType: 'email' | 'uri' | 'other';
  readonly extensions: FulcioExtensions;
}

/** `regexp` is anchored: it must match the whole value (`^(?:…)$`, which changes nothing when already anchored). */
export type StringMatcher = { readonly exact: string } | { readonly regexp: string };

export interface IdentityPolicy {
  /** Matched against the subject alternative name. */
  readonly subject: StringMatcher;
  /** Matched against the OIDC issuer extension (.8, or .1). */
  readonly issuer: StringMatcher;
  /** Further Fulcio extensions that must be present and match. */
  readonly extensions?: Partial<Record<keyof FulcioExtensions, StringMatcher>>;
}

/** Fulcio's username identities: an otherName SAN of this type holding a UTF8String (fulcio `docs/oid-info.md`). */
const USERNAME_OTHER_NAME = '1.3.6.1.4.1.57264.1.7';
const RFC822_NAME = 0x81;
const URI_NAME = 0x86;
const OTHER_NAME = 0xa0;

/**
 * The identity `leaf` was issued to. Fulcio issues exactly one SAN (RFC 5280 §4.2.1.6: critical, as the
 * subject is empty); any other shape is refused rather than guessed at. Throws VerificationError
 * VERIFY_IDENTITY_MISMATCH for a SAN that is absent, malformed, holds other than one name, or a kind of
 * name Fulcio does not issue; and for unreadable Fulcio extensions.
 */
export function certificateIdentity(leaf: ParsedCertificate): CertificateIdentity {
  const extension = leaf.extensions.get(id_ce_subjectAltName);
  if (!extension) {
    throw new VerificationError(
      'VERIFY_IDENTITY_MISMATCH',
      'certificate: expected a subjectAltName extension naming the signer, received none',
    );
  }
  let san: Pick<CertificateIdentity, 'subjectAlternativeName' | 'sanType'>;
  try {
    san = readSubjectAlternativeName(extension.value);
  } catch (error) {
    if (!(error instanceof DerSyntaxError || error instanceof CoreError)) throw error;
    throw new VerificationError('VERIFY_IDENTITY_MISMATCH', `certificate subjectAltName: ${error.message}`, {
      cause: error,
    });
  }
  return { ...san, extensions: readFulcioExtensions(leaf) };
}

/**
 * The first of `policies` the identity satisfies. Throws VerificationError VERIFY_IDENTITY_MISMATCH
 * listing what was expected and what the certificate holds when none does, and VERIFY_OPTIONS_INVALID
 * for an empty list or a matcher that is neither `exact` nor a valid `regexp`.
 */
export function matchIdentity(
  identity: CertificateIdentity,
  policies: readonly IdentityPolicy[],
): IdentityPolicy {
  if (policies.length === 0) {
    throw new VerificationError(
      'VERIFY_OPTIONS_INVALID',
      'identities: expected at least one identity policy, received none',
    );
  }
  const matched = policies.find((policy) => matchesPolicy(identity, policy));
  if (matched) return matched;
  const named = new Set(policies.flatMap((policy) => Object.keys(policy.extensions ?? {}))) as Set<
    keyof FulcioExtensions
  >;
  const received = [
    `subject ${JSON.stringify(identity.subjectAlternativeName)} (${identity.sanType})`,
    `issuer ${describeValue(identity.extensions.issuer)}`,
    ...[...named]
      .filter((name) => name !== 'issuer')
      .map((name) => `${name} ${describeValue(identity.extensions[name])}`),
  ];
  throw new VerificationError(
    'VERIFY_IDENTITY_MISMATCH',
    `certificate identity: expected ${policies.map(describePolicy).join(', or ')}, received ${received.join(', ')}`,
  );
}

function matchesPolicy(identity: CertificateIdentity, policy: IdentityPolicy): boolean {
  if (!matches(policy.subject, identity.subjectAlternativeName, 'subject')) return false;
  if (!matches(policy.issuer, identity.extensions.issuer, 'issuer')) return false;
  const extensions = Object.entries(policy.extensions ?? {}) as [keyof FulcioExtensions, StringMatcher][];
  return extensions.every(([name, matcher]) => matches(matcher, identity.extensions[name], name));
}

/** Compiled anchored regular expressions, once per matcher object. */
const compiled = new WeakMap<StringMatcher, RegExp>();

function matches(matcher: StringMatcher, value: string | undefined, field: string): boolean {
  const shaped = typeof matcher === 'object' && matcher !== null;
  if (shaped && 'exact' in matcher && typeof matcher.exact === 'string') return value === matcher.exact;
  if (!shaped || !('regexp' in matcher) || typeof matcher.regexp !== 'string') {
    throw new VerificationError(
      'VERIFY_OPTIONS_INVALID',
      `${field}: expected a matcher with a string exact or regexp, received ${JSON.stringify(matcher)}`,
    );
  }
  if (value === undefined) return false;
  let pattern = compiled.get(matcher);
  if (!pattern) {
    try {
      pattern = new RegExp(`^(?:${matcher.regexp})$`);
    } catch (cause) {
      throw new VerificationError(
        'VERIFY_OPTIONS_INVALID',
        `${field}: expected a valid regular expression, received ${JSON.stringify(matcher.regexp)}`,
        { cause },
      );
    }
    compiled.set(matcher, pattern);
  }
  return pattern.test(value);
}

function describePolicy(policy: IdentityPolicy): string {
  const parts = [`subject ${describeMatcher(policy.subject)}`, `issuer ${describeMatcher(policy.issuer)}`];
  for (const [name, matcher] of Object.entries<StringMatcher>(policy.extensions ?? {})) {
    parts.push(`${name} ${describeMatcher(matcher)}`);
  }
  return parts.join(' and ');
}

function describeMatcher(matcher: StringMatcher): string {
  return 'exact' in matcher ? JSON.stringify(matcher.exact) : `matching /${matcher.regexp}/`;
}

function describeValue(value: string | undefined): string {
  return value === undefined ? '(absent)' : JSON.stringify(value);
}

/** GeneralNames ::= SEQUENCE SIZE (1..MAX) OF GeneralName (RFC 5280 §4.2.1.6), holding exactly one name. */
function readSubjectAlternativeName(
  value: Uint8Array,
): Pick<CertificateIdentity, 'subjectAlternativeName' | 'sanType'> {
  const names = readChildren(value, readWhole(value, DerTag.sequence));
  if (names.length !== 1) throw new DerSyntaxError(`expected exactly one name, received ${names.length}`);
  const name = names[0]!;
  switch (name.tag) {
    case RFC822_NAME:
      return { subjectAlternativeName: readIa5String(value, name), sanType: 'email' };
    case URI_NAME:
      return { subjectAlternativeName: readIa5String(value, name), sanType: 'uri' };
    case OTHER_NAME:
      return { subjectAlternativeName: readUsername(value, name), sanType: 'other' };
    default:
      throw new DerSyntaxError(
        `expected an rfc822Name, uniformResourceIdentifier or otherName, received tag 0x${name.tag.toString(16)}`,
      );
  }
}

/** IA5String: ASCII only (X.680 §41). */
function readIa5String(der: Uint8Array, element: DerElement): string {
  const bytes = contentBytes(der, element);
  if (bytes.some((byte) => byte > 0x7f))
    throw new DerSyntaxError('expected an IA5String, received non-ASCII bytes');
  return decodeUtf8(bytes);
}

/** OtherName ::= SEQUENCE { type-id OBJECT IDENTIFIER, value [0] EXPLICIT ANY }, with [0] a UTF8String. */
function readUsername(der: Uint8Array, element: DerElement): string {
  const [typeId, wrapped, ...rest] = readChildren(der, element);
  if (!typeId || typeId.tag !== DerTag.oid || !wrapped || wrapped.tag !== 0xa0 || rest.length > 0) {
    throw new DerSyntaxError('expected otherName { type-id, [0] value }');
  }
  const type = decodeOid(contentBytes(der, typeId));
  if (type !== USERNAME_OTHER_NAME) {
    throw new DerSyntaxError(`expected otherName type ${USERNAME_OTHER_NAME}, received ${type}`);
  }
  return decodeUtf8String(contentBytes(der, wrapped), USERNAME_OTHER_NAME);
}
