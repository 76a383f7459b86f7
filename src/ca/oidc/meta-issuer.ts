/**
 * Fulcio's meta-issuer wildcards (sigstore/fulcio `pkg/config/config.go` metaRegex): the pattern is
 * matched literally except that each `*` stands for one or more of `[-_a-zA-Z0-9]` — one host label or
 * one path part, never a `.` or `/`. Unlike Fulcio's unanchored regexp, the match covers the whole issuer
 * URL, so `https://evil.example/?https://oidc.eks.x.amazonaws.com/id/y` does not pass for an EKS issuer.
 */
export function metaIssuerMatcher(pattern: string): RegExp {
  const quoted = pattern.replace(/[.*+?^${}()|[\]\\/-]/g, (character) =>
    character === '*' ? '[-_a-zA-Z0-9]+' : `\\${character}`,
  );
  return new RegExp(`^${quoted}$`);
}
