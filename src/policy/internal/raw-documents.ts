/**
 * Documents as they stand after the structural check: the CRD's field names and types, everything
 * optional. Only the rules modules read these; the rest of Sigil sees the parsed types.
 */

export interface RawMetadata {
  name?: unknown;
  uid?: unknown;
  resourceVersion?: unknown;
  labels?: unknown;
}

export interface RawSpec {
  images?: { glob?: string }[];
  authorities?: RawAuthority[];
  policy?: RawPolicy;
  mode?: string;
  match?: {
    group?: string;
    version?: string;
    resource?: string;
    selector?: {
      matchLabels?: Record<string, string>;
      matchExpressions?: { key?: string; operator?: string; values?: string[] }[];
    };
  }[];
}

export interface RawKeyRef {
  data?: string;
  kms?: string;
  hashAlgorithm?: string;
  secretRef?: { name?: string; namespace?: string };
}

export interface RawAuthority {
  name?: string;
  key?: RawKeyRef;
  keyless?: {
    url?: string;
    'ca-cert'?: RawKeyRef;
    identities?: Record<string, string | undefined>[];
    trustRootRef?: string;
    insecureIgnoreSCT?: boolean;
  };
  static?: { action?: string; message?: string };
  source?: { oci?: string; signaturePullSecrets?: { name?: string }[]; tagPrefix?: string }[];
  ctlog?: { url?: string; trustRootRef?: string };
  rfc3161timestamp?: { trustRootRef?: string };
  signatureFormat?: string;
  attestations?: RawAttestation[];
}

export interface RawAttestation {
  name?: string;
  predicateType?: string;
  policy?: RawPolicy;
}

export interface RawPolicy {
  type?: string;
  data?: string;
  remote?: { url?: string; sha256sum?: string };
  configMapRef?: { name?: string; namespace?: string; key?: string };
  fetchConfigFile?: boolean;
  includeSpec?: boolean;
  includeObjectMeta?: boolean;
  includeTypeMeta?: boolean;
}

export interface RawCertificateAuthority {
  subject?: { organization?: string; commonName?: string };
  uri?: string;
  certChain?: string;
}

export interface RawTransparencyLog {
  baseURL?: string;
  hashAlgorithm?: string;
  publicKey?: string;
}

export interface RawTrustRootSpec {
  remote?: { root?: string; mirror?: string; targets?: string; trustedRootTarget?: string };
  repository?: { root?: string; mirrorFS?: string; targets?: string; trustedRootTarget?: string };
  sigstoreKeys?: {
    certificateAuthorities?: RawCertificateAuthority[];
    tLogs?: RawTransparencyLog[];
    ctLogs?: RawTransparencyLog[];
    timestampAuthorities?: RawCertificateAuthority[];
  };
}
