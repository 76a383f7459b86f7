import type { KeyObject } from 'node:crypto';

/**
 * A `policy.sigstore.dev` ClusterImagePolicy after parsing: defaults applied (upstream's
 * `clusterimagepolicy_defaults.go`), every value checked, one-of fields turned into tagged unions.
 * Field names follow upstream's YAML so a reader can map one to the other.
 */

export const POLICY_API_VERSIONS = ['policy.sigstore.dev/v1alpha1', 'policy.sigstore.dev/v1beta1'] as const;
export type PolicyApiVersion = (typeof POLICY_API_VERSIONS)[number];

/** What Sigil keeps of `metadata`: cache keys use uid + resourceVersion when the policy came from a cluster. */
export interface PolicyMetadata {
  readonly name: string;
  readonly uid?: string;
  readonly resourceVersion?: string;
  readonly labels: Readonly<Record<string, string>>;
}

export interface ClusterImagePolicy {
  readonly apiVersion: PolicyApiVersion;
  readonly kind: 'ClusterImagePolicy';
  readonly metadata: PolicyMetadata;
  /** Globs as written; matching (docker.io normalisation, `*`, `**`) is image-glob.ts's job. */
  readonly images: readonly ImagePattern[];
  /** OR: one passing authority admits the image. May be empty only when empty authorities are allowed. */
  readonly authorities: readonly Authority[];
  /** Evaluated over the authorities that passed, only when at least one did. */
  readonly policy?: PolicyDefinition;
  /** Default `enforce`. */
  readonly mode: PolicyMode;
  /** Empty: the policy applies to every resource kind. */
  readonly match: readonly MatchResource[];
}

export type PolicyMode = 'enforce' | 'warn';

export interface ImagePattern {
  readonly glob: string;
}

export interface Authority {
  /** As written, or `authority-<index>`. */
  readonly name: string;
  readonly verifier: AuthorityVerifier;
  /** Where signatures live when not beside the image (`source[]`). */
  readonly sources: readonly SignatureSource[];
  readonly ctlog?: TransparencyLogReference;
  readonly rfc3161timestamp?: TimestampAuthorityReference;
  /** Default `legacy` (cosign `.sig` tags). */
  readonly signatureFormat: SignatureFormat;
  /** When non-empty the authority checks attestations instead of plain signatures. */
  readonly attestations: readonly Attestation[];
}

export type SignatureFormat = 'legacy' | 'bundle';

export type AuthorityVerifier = KeylessVerifier | KeyVerifier | StaticVerifier;

export interface KeylessVerifier {
  readonly kind: 'keyless';
  /** The Fulcio instance (`url`, default https://fulcio.sigstore.dev) or a CA certificate (`ca-cert`). */
  readonly certificateAuthority: KeylessCertificateAuthority;
  /** OR: a certificate matching any one identity passes. Never empty. */
  readonly identities: readonly Identity[];
  readonly trustRootRef?: string;
  readonly insecureIgnoreSCT: boolean;
}

export type KeylessCertificateAuthority =
  | { readonly kind: 'url'; readonly url: string }
  | { readonly kind: 'ca-cert'; readonly source: CertificateSource };

export type CertificateSource =
  /** Inline PEM chain, DER per certificate, leaf-most first as written. */
  { readonly kind: 'data'; readonly certificates: readonly Uint8Array[] } | SecretKeySource | KmsKeySource;

export interface Identity {
  readonly issuer: StringMatcher;
  readonly subject: StringMatcher;
}

/** `issuer`/`subject` compare exactly; `issuerRegExp`/`subjectRegExp` are RE2 patterns, unanchored. */
export type StringMatcher =
  | { readonly kind: 'exact'; readonly value: string }
  | { readonly kind: 'regexp'; readonly pattern: string; readonly regexp: RegExp };

export interface KeyVerifier {
  readonly kind: 'key';
  readonly key: KeySource;
  /** Default sha256. */
  readonly hashAlgorithm: HashAlgorithm;
}

export type HashAlgorithm = 'sha224' | 'sha256' | 'sha384' | 'sha512';

export type KeySource = InlineKeySource | SecretKeySource | KmsKeySource;

export interface InlineKeySource {
  readonly kind: 'data';
  readonly pem: string;
  /** Imported once at load time. */
  readonly publicKey: KeyObject;
}

/** A Secret in the controller's namespace; resolved by the policy source, not by the parser. */
export interface SecretKeySource {
  readonly kind: 'secretRef';
  readonly name: string;
  readonly namespace?: string;
}

/** Parsed and checked as upstream does, but Sigil cannot fetch KMS keys: the evaluator reports it unsupported. */
export interface KmsKeySource {
  readonly kind: 'kms';
  readonly uri: string;
  readonly provider: 'awskms' | 'azurekms' | 'hashivault' | 'gcpkms';
}

export interface StaticVerifier {
  readonly kind: 'static';
  readonly action: 'pass' | 'fail';
  /** For `fail`: shown after `disallowed by static policy: `. */
  readonly message?: string;
}

export interface SignatureSource {
  /** Another repository holding the signatures. */
  readonly oci?: string;
  /** Secret names in the namespace of the admitted resource. */
  readonly signaturePullSecrets: readonly string[];
  readonly tagPrefix?: string;
}

export interface TransparencyLogReference {
  readonly url?: string;
  readonly trustRootRef?: string;
}

export interface TimestampAuthorityReference {
  readonly trustRootRef?: string;
}

export interface Attestation {
  readonly name: string;
  /** As written: a short name (`spdxjson`) or a URI. */
  readonly predicateType: string;
  /** The URI the short name stands for (cosign's `PredicateTypeMap`), or predicateType itself. */
  readonly predicateTypeUri: string;
  readonly policy?: PolicyDefinition;
}

/** Upstream accepts cue and rego; Sigil evaluates cel and reports the other two as unsupported. */
export type PolicyDefinitionType = 'cue' | 'rego' | 'cel';

export interface PolicyDefinition {
  readonly type: PolicyDefinitionType;
  readonly body: PolicyBody;
  /** The next four are allowed only on the CIP level `spec.policy`; false elsewhere. */
  readonly fetchConfigFile: boolean;
  readonly includeSpec: boolean;
  readonly includeObjectMeta: boolean;
  readonly includeTypeMeta: boolean;
}

export type PolicyBody =
  | { readonly kind: 'data'; readonly data: string }
  | { readonly kind: 'remote'; readonly url: string; readonly sha256sum: string }
  | {
      readonly kind: 'configMapRef';
      readonly name: string;
      readonly namespace?: string;
      readonly key: string;
    };

/** Upstream's resource names (`validResourceNames`). */
export const MATCH_RESOURCES = [
  'replicasets',
  'deployments',
  'pods',
  'cronjobs',
  'jobs',
  'statefulsets',
  'daemonsets',
] as const;

export interface MatchResource {
  /** '' for the core group. */
  readonly group: string;
  readonly version: string;
  /** '' when only group/version narrow the match. */
  readonly resource: string;
  readonly selector?: LabelSelector;
}

export interface LabelSelector {
  readonly matchLabels: Readonly<Record<string, string>>;
  readonly matchExpressions: readonly LabelSelectorRequirement[];
}

export interface LabelSelectorRequirement {
  readonly key: string;
  readonly operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';
  readonly values: readonly string[];
}
