export { PolicyError } from './errors.ts';
export type { PolicyErrorCode, PolicyProblem } from './errors.ts';
export {
  parseClusterImagePolicy,
  parsePolicyDocument,
  parsePolicyDocuments,
  parseTrustRoot,
} from './parse-policy.ts';
export type { ParsePolicyDocumentsOptions, ParsePolicyOptions, PolicyDocument } from './parse-policy.ts';
export { MATCH_RESOURCES, POLICY_API_VERSIONS } from './cluster-image-policy.types.ts';
export type {
  Attestation,
  Authority,
  AuthorityVerifier,
  CertificateSource,
  ClusterImagePolicy,
  HashAlgorithm,
  Identity,
  ImagePattern,
  InlineKeySource,
  KeySource,
  KeylessCertificateAuthority,
  KeylessVerifier,
  KeyVerifier,
  KmsKeySource,
  LabelSelector,
  LabelSelectorRequirement,
  MatchResource,
  PolicyApiVersion,
  PolicyBody,
  PolicyDefinition,
  PolicyDefinitionType,
  PolicyMetadata,
  PolicyMode,
  SecretKeySource,
  SignatureFormat,
  SignatureSource,
  StaticVerifier,
  StringMatcher,
  TimestampAuthorityReference,
  TransparencyLogReference,
} from './cluster-image-policy.types.ts';
export type {
  RemoteTrustRoot,
  RepositoryTrustRoot,
  SigstoreKeysTrustRoot,
  TrustedCertificateAuthority,
  TrustedLog,
  TrustRoot,
  TrustRootSource,
} from './trust-root.types.ts';
export {
  buildCustomResourceDefinitions,
  formatCustomResourceDefinition,
  writeCustomResourceDefinitionFiles,
} from './custom-resource-definitions.ts';
export { compileImageGlob, matchesImage, MAX_GLOB_LENGTH } from './image-glob.ts';
export type { ImageGlob } from './image-glob.ts';
export { DOCKER_HUB_INDEX, MAX_IMAGE_REFERENCE_LENGTH, normalizeImageName } from './image-name.ts';
export {
  ATTESTATION_POLICY_VARIABLES,
  CEL_LIMITS,
  compileCelPolicy,
  evaluateCelPolicy,
  POLICY_RESULT_VARIABLES,
} from './cel-policy.ts';
export type { CelPolicy, CelPolicyOutcome, CompileCelPolicyOptions } from './cel-policy.ts';
export {
  isPredicateTypeShortName,
  LEGACY_PREDICATE_TYPE_SHORT_NAMES,
  PREDICATE_TYPE_URIS,
  resolvePredicateType,
} from './predicate-types.ts';
export type { PredicateTypeShortName } from './predicate-types.ts';
export { KNOWN_POLICY_TYPES, unsupportedPolicyType } from './policy-type.ts';
export type { PolicyLanguage } from './policy-type.ts';
export { authorityCacheKeyString, evaluateImage } from './evaluate-policies.ts';
export type { AuthorityCacheKey, EvaluateImageInput } from './evaluate-policies.ts';
export { matchesLabelSelector, matchesResource, policiesFor } from './resource-match.ts';
export type { AdmittedResource } from './resource-match.ts';
export { compileTrustRoot, trustFor, verifierOptionsFor, verifiersFor } from './trust-root-material.ts';
export type { AuthorityTrust, TrustOptions } from './trust-root-material.ts';
export type {
  AuthorityMatch,
  AuthorityOutcome,
  EvidenceBundle,
  EvidenceLayer,
  EvidenceSource,
  ImageEvidence,
} from './evaluate-authority.ts';
export { formatDecision, timedOutDecision } from './policy-decision.ts';
export type {
  AuthorityDecision,
  AuthorityReasonCode,
  DecisionOutcome,
  ImageDecision,
  PolicyDecision,
} from './policy-decision.ts';
