// The public names of src/oci: image references, the registry client and its credential sources.
export { OciError } from './errors.ts';
export type { OciErrorCode } from './errors.ts';
export type {
  Descriptor,
  FetchedManifest,
  ImageIndex,
  ImageManifest,
  ImageReference,
  Platform,
} from './oci.types.ts';
export type { RegistryClient } from './registry-client.types.ts';
export {
  DOCKER_HUB_REGISTRY,
  formatReference,
  isDockerHub,
  parseImageReference,
  withDigest,
  withTag,
} from './reference.ts';
export { describeDigestProblem, digestOf, isDigest } from './digest.ts';
export { MANIFEST_ACCEPT, MEDIA_TYPES, parseManifest } from './manifest.ts';
export { createRegistryClient } from './registry-client.ts';
export type { ClosableRegistryClient } from './registry-client.ts';
export type { RegistryClientOptions } from './registry-options.ts';
export type { RegistryResponseListener } from './internal/transport.ts';
export { referrersTag } from './referrers.ts';
export { ANONYMOUS, anonymousCredentials, chainCredentials, staticCredentials } from './auth/credentials.ts';
export type { CredentialSource, RegistryCredential } from './auth/credentials.ts';
export {
  dockerConfigCredentials,
  loadDockerConfig,
  parseDockerConfig,
  pullSecretCredentials,
} from './auth/docker-config.ts';
export type { DockerConfig, DockerConfigOptions } from './auth/docker-config.ts';
export { parseAuthChallenges } from './auth/challenge.ts';
export type { AuthChallenge } from './auth/challenge.ts';
// Signature discovery (cosign .sig/.att tags, Sigstore bundles as referrers): written beside the client.
export {
  DSSE_ENVELOPE_MEDIA_TYPE,
  SIGSTORE_BUNDLE_ARTIFACT_TYPE,
  SIMPLE_SIGNING_MEDIA_TYPE,
  cosignTag,
  discoverSignatures,
} from './signature-discovery.ts';
export type {
  CosignLayer,
  DiscoveryOptions,
  ReferrerBundle,
  SignatureArtifacts,
} from './signature-discovery.ts';
export { discoverImageArtifacts } from './platform-signatures.ts';
export type { ImageArtifacts, PlatformArtifacts } from './platform-signatures.ts';
export { ArtifactCache } from './artifact-cache.ts';
export type { ArtifactCacheOptions } from './artifact-cache.ts';
