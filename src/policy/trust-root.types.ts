import type { KeyObject } from 'node:crypto';
import type { PolicyApiVersion, PolicyMetadata } from './cluster-image-policy.types.ts';

/**
 * A `policy.sigstore.dev` TrustRoot after parsing. The `[]byte` fields of the CRD are base64 in YAML;
 * here they are decoded and checked (roots are JSON with signatures, chains are certificates, keys
 * import). Compiling `sigstoreKeys` into verification trust material happens elsewhere.
 */
export interface TrustRoot {
  readonly apiVersion: PolicyApiVersion;
  readonly kind: 'TrustRoot';
  readonly metadata: PolicyMetadata;
  readonly source: TrustRootSource;
}

export type TrustRootSource = RemoteTrustRoot | RepositoryTrustRoot | SigstoreKeysTrustRoot;

/** A TUF root and mirror to fetch from. Sigil may report this unsupported until TUF distribution lands. */
export interface RemoteTrustRoot {
  readonly kind: 'remote';
  /** The trusted initial root.json bytes. */
  readonly root: Uint8Array;
  readonly mirror: string;
  /** Default `targets`. */
  readonly targets: string;
  /** Default `trusted_root.json`. */
  readonly trustedRootTarget: string;
}

/** An air-gapped TUF repository (gzipped tar). */
export interface RepositoryTrustRoot {
  readonly kind: 'repository';
  readonly root: Uint8Array;
  readonly mirrorFS: Uint8Array;
  readonly targets: string;
  readonly trustedRootTarget: string;
}

/** Bring your own CA, logs and timestamp authorities. */
export interface SigstoreKeysTrustRoot {
  readonly kind: 'sigstoreKeys';
  readonly certificateAuthorities: readonly TrustedCertificateAuthority[];
  readonly tLogs: readonly TrustedLog[];
  readonly ctLogs: readonly TrustedLog[];
  readonly timestampAuthorities: readonly TrustedCertificateAuthority[];
}

export interface TrustedCertificateAuthority {
  readonly subject: { readonly organization: string; readonly commonName: string };
  readonly uri: string;
  /** DER of each certificate, in the order written; the last is the root. */
  readonly certChain: readonly Uint8Array[];
}

export interface TrustedLog {
  readonly baseURL: string;
  /** As written, e.g. `sha-256`. */
  readonly hashAlgorithm: string;
  readonly publicKey: KeyObject;
  /** SubjectPublicKeyInfo DER, from which log ids are computed. */
  readonly publicKeyDer: Uint8Array;
}
