import type { ParsedCertificate } from '../core/index.ts';

/**
 * A Sigstore bundle (protobuf-specs `sigstore_bundle.proto`) after parsing: every base64 field decoded,
 * every integer checked, certificates cut into their DER parts. Produced only by `parseBundle`; the
 * steps trust its shape and check its meaning.
 */
export interface Bundle {
  readonly mediaType: string;
  /** From the media type: `application/vnd.dev.sigstore.bundle+json;version=0.2` and `.bundle.v0.3+json`. */
  readonly version: BundleVersion;
  readonly verificationMaterial: VerificationMaterial;
  readonly content: BundleContent;
}

export type BundleVersion = '0.1' | '0.2' | '0.3';

export interface VerificationMaterial {
  readonly signer: BundleSigner;
  readonly tlogEntries: readonly TlogEntry[];
  /** `timestampVerificationData.rfc3161Timestamps[].signedTimestamp`: DER TimeStampResponse or token. */
  readonly rfc3161Timestamps: readonly Uint8Array[];
}

export type BundleSigner =
  /**
   * `x509CertificateChain` (v0.1, v0.2) or `certificate` (v0.3). `chain` is every certificate the bundle
   * carries, leaf first (`chain[0] === certificate`; v0.3: the leaf alone).
   */
  | {
      readonly kind: 'certificate';
      readonly certificate: ParsedCertificate;
      readonly chain: readonly ParsedCertificate[];
    }
  /** `publicKey.hint`: a key the verifier is given out of band. */
  | { readonly kind: 'publicKey'; readonly hint: string };

export type BundleContent =
  | {
      readonly kind: 'messageSignature';
      /** Absent in some v0.1 bundles; when present the artifact must hash to it. */
      readonly messageDigest?: { readonly algorithm: HashAlgorithmName; readonly digest: Uint8Array };
      readonly signature: Uint8Array;
    }
  | {
      readonly kind: 'dsseEnvelope';
      readonly payloadType: string;
      readonly payload: Uint8Array;
      readonly signatures: readonly { readonly sig: Uint8Array; readonly keyid: string }[];
    };

/** protobuf-specs HashAlgorithm names, as bundles and trusted roots spell them. */
export type HashAlgorithmName = 'SHA2_256' | 'SHA2_384' | 'SHA2_512' | 'SHA3_256' | 'SHA3_384';

/** protobuf-specs `TransparencyLogEntry` (sigstore_rekor.proto). */
export interface TlogEntry {
  readonly logIndex: number;
  /** `logId.keyId`: SHA-256 of the log key's DER SPKI (Rekor v1), or the checkpoint key ID (Rekor v2). */
  readonly logId: Uint8Array;
  readonly kindVersion: { readonly kind: string; readonly version: string };
  /** Seconds since the epoch; 0 when the log stamped none (Rekor v2). */
  readonly integratedTime: number;
  /** `inclusionPromise.signedEntryTimestamp`. */
  readonly signedEntryTimestamp?: Uint8Array;
  readonly inclusionProof?: InclusionProof;
  /** The entry body exactly as the log stored it (RFC 8785 JSON for v1, protojson for v2). */
  readonly canonicalizedBody: Uint8Array;
}

export interface InclusionProof {
  readonly logIndex: number;
  readonly rootHash: Uint8Array;
  readonly treeSize: number;
  readonly hashes: readonly Uint8Array[];
  /** `checkpoint.envelope`: a C2SP signed note. */
  readonly checkpoint: string;
}
