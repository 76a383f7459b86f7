import type { CertificateIdentity, IdentityPolicy } from './identity.ts';

/** The version tag of VerificationResult; a new shape gets a new version. */
export const VERIFICATION_RESULT_VERSION = 'sigil.dev/verification-result/v1';

/** A time the verifier trusts the signature existed at, and who vouched for it. */
export interface VerifiedTime {
  readonly kind: 'transparencyLog' | 'timestampAuthority';
  /** ISO 8601, UTC. */
  readonly time: string;
  /** The log's base URL or the TSA's URI from the trusted root. */
  readonly source: string;
}

export interface VerifiedTlogEntry {
  readonly logIndex: number;
  /** Hex. */
  readonly logId: string;
  readonly baseUrl: string;
  readonly kind: string;
  readonly version: string;
  /** ISO 8601, UTC; absent for entries without an integrated time (Rekor v2). */
  readonly integratedTime?: string;
  readonly inclusionProven: boolean;
  readonly signedEntryTimestampVerified: boolean;
}

export type VerifiedSigner =
  | {
      readonly kind: 'certificate';
      readonly identity: CertificateIdentity;
      /** The trusted root's URI of the CA that issued the certificate. */
      readonly certificateAuthority: string;
      /** SHA-256 of the leaf certificate's DER, hex. */
      readonly certificateSha256: string;
      /** The identity policy that matched; absent when identities were not checked (unsafe). */
      readonly matchedPolicy?: IdentityPolicy;
    }
  | { readonly kind: 'publicKey'; readonly hint?: string };

/** What verification established: plain, serializable data (JSON.stringify gives `--json` output). */
export interface VerificationResult {
  readonly version: typeof VERIFICATION_RESULT_VERSION;
  readonly mediaType: string;
  readonly signer: VerifiedSigner;
  readonly verifiedTimes: readonly VerifiedTime[];
  readonly tlogEntries: readonly VerifiedTlogEntry[];
  /** The in-toto statement of a DSSE bundle, as parsed. */
  readonly statement?: unknown;
}
