export { VerificationError } from './errors.ts';
export type { VerificationErrorCode } from './errors.ts';
export type {
  Bundle,
  BundleContent,
  BundleSigner,
  BundleVersion,
  HashAlgorithmName,
  InclusionProof,
  TlogEntry,
  VerificationMaterial,
} from './bundle.types.ts';
export type {
  CertificateAuthority,
  PublicKeyDetails,
  TransparencyLogInstance,
  TrustMaterial,
  TrustedPublicKey,
  ValidityWindow,
} from './trust.types.ts';
export { parseBundle } from './bundle.ts';
export { parseTrustedRoot } from './trusted-root.ts';
export { artifactDigest } from './artifact.ts';
export type { Artifact } from './artifact.ts';
export { certificateIdentity, matchIdentity } from './identity.ts';
export type { CertificateIdentity, IdentityPolicy, StringMatcher } from './identity.ts';
export type { FulcioExtensions } from './fulcio-extensions.ts';
export { Verifier, publicKeyFromPem } from './verifier.ts';
export type { SignerPolicy, VerificationPolicy, VerifierOptions } from './verifier.ts';
export { VERIFICATION_RESULT_VERSION } from './verification-result.ts';
export type {
  VerificationResult,
  VerifiedSigner,
  VerifiedTime,
  VerifiedTlogEntry,
} from './verification-result.ts';
export { COSIGN_ANNOTATIONS, verifyCosignAttestation, verifyCosignSignature } from './cosign-signature.ts';
export type {
  CosignAttestationPolicy,
  CosignAttestationResult,
  CosignSignatureLayer,
  CosignVerificationPolicy,
  CosignVerificationResult,
} from './cosign-signature.ts';
export { EKU_TIME_STAMPING, verifyRfc3161Timestamp } from './timestamp.ts';
export type { VerifiedTimestamp } from './timestamp.ts';
export { verifyCertificateChain } from './certificate-chain.ts';
export type { VerifiedChain } from './certificate-chain.ts';
export { verifyCertificateSignature } from './certificate-signature.ts';
export { verifyEmbeddedScts } from './sct.ts';
export { readFulcioExtensions } from './fulcio-extensions.ts';
export {
  importNamedPublicKey,
  importPublicKey,
  importPublicKeyPem,
  inferPublicKeyDetails,
  signatureHashOf,
} from './public-key.ts';
export type { ImportedPublicKey } from './public-key.ts';
export { BUNDLE_LIMITS } from './bundle.ts';
export { TRUSTED_ROOT_LIMITS } from './trusted-root.ts';
export { findTlog, keyValidAt } from './tlog-instance.ts';
export { verifySignedEntryTimestamp } from './signed-entry-timestamp.ts';
export { verifyTlogInclusion } from './tlog-inclusion.ts';
export type { VerifyTlogInclusionOptions } from './tlog-inclusion.ts';
export { verifyTlogBody } from './tlog-body.ts';
