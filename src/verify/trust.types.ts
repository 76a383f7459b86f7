import type { KeyObject } from 'node:crypto';
import type { ParsedCertificate } from '../core/index.ts';
import type { HashAlgorithmName } from './bundle.types.ts';

/**
 * protobuf-specs TrustedRoot (`sigstore_trustroot.proto`, media types `…trustedroot+json;version=0.1`
 * and `…trustedroot.v0.2+json`) after parsing: keys imported once as KeyObjects, certificates cut once.
 * Produced only by `parseTrustedRoot`; a Verifier holds one for its lifetime.
 */
export interface TrustMaterial {
  readonly certificateAuthorities: readonly CertificateAuthority[];
  readonly timestampAuthorities: readonly CertificateAuthority[];
  readonly tlogs: readonly TransparencyLogInstance[];
  readonly ctlogs: readonly TransparencyLogInstance[];
}

/** A validity window in ms since the epoch; both ends inclusive (protobuf-specs TimeRange is closed). */
export interface ValidityWindow {
  readonly start: number;
  /** Infinity when the range is open-ended. */
  readonly end: number;
}

export interface CertificateAuthority {
  readonly uri: string;
  /** Subject as given in the trusted root (organization, commonName), for messages. */
  readonly subject: { readonly organization?: string; readonly commonName?: string };
  /** `certChain.certificates`, in the order given: the issuing certificate first, the root last. */
  readonly chain: readonly ParsedCertificate[];
  readonly validFor: ValidityWindow;
}

export interface TransparencyLogInstance {
  readonly baseUrl: string;
  readonly hashAlgorithm: HashAlgorithmName;
  readonly publicKey: TrustedPublicKey;
  /** `logId.keyId`: how bundle entries (and SCTs) name this log. */
  readonly logId: Uint8Array;
  /** `checkpointKeyId.keyId` (v0.2): the C2SP note key ID of the log's checkpoints, when given. */
  readonly checkpointKeyId?: Uint8Array;
}

/** protobuf-specs PublicKeyDetails values this verifier imports. */
export type PublicKeyDetails =
  | 'PKIX_ECDSA_P256_SHA_256'
  | 'PKIX_ECDSA_P384_SHA_384'
  | 'PKIX_ECDSA_P521_SHA_512'
  | 'PKIX_ED25519'
  | 'PKIX_ED25519_PH'
  | 'PKIX_RSA_PKCS1V15_2048_SHA256'
  | 'PKIX_RSA_PKCS1V15_3072_SHA256'
  | 'PKIX_RSA_PKCS1V15_4096_SHA256'
  | 'PKIX_RSA_PSS_2048_SHA256'
  | 'PKIX_RSA_PSS_3072_SHA256'
  | 'PKIX_RSA_PSS_4096_SHA256';

export interface TrustedPublicKey {
  readonly key: KeyObject;
  /** DER SubjectPublicKeyInfo as given. */
  readonly der: Uint8Array;
  readonly details: PublicKeyDetails;
  readonly validFor: ValidityWindow;
}
