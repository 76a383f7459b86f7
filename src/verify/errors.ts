import { SigilError } from '../core/index.ts';

/**
 * Why verification failed, one code per step of the Sigstore client spec (the order `verifier.ts` runs
 * them in). Messages say what was expected and what was received. Codes follow sigstore-js's
 * VerificationError codes where one exists.
 */
export type VerificationErrorCode =
  /** The bundle is not JSON, or not a Sigstore bundle of a known media type and shape. */
  | 'VERIFY_BUNDLE_INVALID'
  /** The bundle's media type names a version this verifier does not know. */
  | 'VERIFY_BUNDLE_UNSUPPORTED_VERSION'
  /** The trusted root is not a protobuf-specs TrustedRoot, or one of its entries is malformed. */
  | 'VERIFY_TRUST_ROOT_INVALID'
  /** Bad options given to the Verifier or to a call (programming error on the caller's side). */
  | 'VERIFY_OPTIONS_INVALID'
  /** The certificate chain does not lead to a trusted CA valid at the verified time, or is malformed. */
  | 'VERIFY_CERTIFICATE_CHAIN_ERROR'
  /** The bundle carries the root certificate itself. */
  | 'VERIFY_CERTIFICATE_ROOT_IN_BUNDLE'
  /** The signing certificate was not valid at (every) verified time. */
  | 'VERIFY_CERTIFICATE_EXPIRED'
  /** The leaf certificate lacks the codeSigning EKU or is a CA. */
  | 'VERIFY_CERTIFICATE_USAGE_ERROR'
  /** Fewer valid SCTs from trusted CT logs than the threshold. */
  | 'VERIFY_SCT_ERROR'
  /** The tlog entry's body does not describe this bundle's signature, key and artifact. */
  | 'VERIFY_TLOG_BODY_ERROR'
  /** The inclusion proof does not reach the checkpoint's root hash, or is missing where required. */
  | 'VERIFY_TLOG_INCLUSION_PROOF_ERROR'
  /** The checkpoint is malformed, for another log, or not signed by the log's key. */
  | 'VERIFY_TLOG_CHECKPOINT_ERROR'
  /** The signed entry timestamp does not verify with the log's key. */
  | 'VERIFY_TLOG_SET_ERROR'
  /** The entry's log is not in the trusted root (or not valid at the entry's time). */
  | 'VERIFY_TLOG_UNTRUSTED'
  /** Fewer verified tlog entries than the threshold. */
  | 'VERIFY_TLOG_THRESHOLD_ERROR'
  /** An RFC 3161 timestamp does not verify, is for other data, or its TSA is not trusted at its time. */
  | 'VERIFY_TIMESTAMP_ERROR'
  /** Fewer verified times than the timestamp threshold. */
  | 'VERIFY_TIMESTAMP_THRESHOLD_ERROR'
  /** The signature does not verify over the artifact (or DSSE PAE) with the signing key. */
  | 'VERIFY_SIGNATURE_ERROR'
  /** The artifact does not match the bundle's message digest or the DSSE statement's subjects. */
  | 'VERIFY_ARTIFACT_MISMATCH'
  /** The key or certificate uses an algorithm this verifier does not accept. */
  | 'VERIFY_KEY_UNSUPPORTED'
  /** A key-based bundle was given no key, or the wrong key. */
  | 'VERIFY_KEY_MISMATCH'
  /** The certificate's identity (SAN, issuer, Fulcio extensions) does not match the policy. */
  | 'VERIFY_IDENTITY_MISMATCH'
  /** A cosign legacy OCI signature's payload or annotations are malformed or do not match. */
  | 'VERIFY_COSIGN_SIGNATURE_INVALID';

export class VerificationError extends SigilError<VerificationErrorCode> {}
