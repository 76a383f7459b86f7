import type { FulcioExtensions } from './extensions.ts';

/** The issuer types Sigil maps the way Fulcio does (sigstore/fulcio `pkg/config/config.go`). */
export const ISSUER_TYPES = [
  'email',
  'github-workflow',
  'ci-provider',
  'kubernetes',
  'spiffe',
  'uri',
  'username',
] as const;

export type IssuerType = (typeof ISSUER_TYPES)[number];

/** The certificate's one subject alternative name (critical, per Fulcio's certificate specification). */
export type SubjectAlternativeName =
  | { readonly kind: 'email'; readonly value: string }
  | { readonly kind: 'uri'; readonly value: string }
  /** `<sub>!<subject-domain>`, an otherName of type 1.3.6.1.4.1.57264.1.7 holding a UTF8String. */
  | { readonly kind: 'other-name'; readonly value: string };

/**
 * Who a verified identity token says the caller is, in the terms a Fulcio certificate states it. The
 * certificate builder consumes it; nothing here is X.509-encoded.
 */
export interface Principal {
  /**
   * What the proof of possession is a signature over (UTF-8 bytes): the email address for `email`
   * issuers, the token's `sub` for every other type (Fulcio `Principal.Name`).
   */
  readonly name: string;
  readonly subjectAlternativeName: SubjectAlternativeName;
  readonly extensions: FulcioExtensions;
}
