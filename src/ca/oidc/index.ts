export { createTokenVerifier } from './token-verifier.ts';
export type { TokenVerifier, TokenVerifierOptions, VerifiedToken } from './token-verifier.ts';
export type { FetchFunction } from './issuer-keys.ts';
export { ALLOWED_ALGORITHMS } from './jws.ts';
export type { TokenAlgorithm } from './jws.ts';
export type { TokenClaims } from './claims.ts';
export { parseIssuerConfig, resolveIssuerConfig, findIssuer } from './issuer-config.ts';
export type {
  IssuerConfig,
  IssuerConfigDocument,
  OidcIssuer,
  OidcIssuerDocument,
  MetaIssuer,
  CiIssuerMetadata,
  CiIssuerMetadataDocument,
} from './issuer-config.types.ts';
export { BUILTIN_CI_ISSUER_METADATA } from './builtin-ci-metadata.ts';
export { fulcioConfiguration } from './fulcio-configuration.ts';
export type { FulcioConfigurationResponse, FulcioConfigurationIssuer } from './fulcio-configuration.ts';
export { certifiedIdentity, principalFromClaims } from './principal.ts';
export { ISSUER_TYPES } from './principal.types.ts';
export type { IssuerType, Principal, SubjectAlternativeName } from './principal.types.ts';
export { FULCIO_EXTENSIONS, fulcioExtensionList } from './extensions.ts';
export type {
  FulcioExtensions,
  FulcioExtensionField,
  FulcioExtensionDefinition,
  FulcioExtensionEncoding,
  FulcioExtensionValue,
} from './extensions.ts';
export { DevOidcIssuer, DEV_ISSUER_DESCRIPTION } from './dev-issuer.ts';
export type { DevOidcIssuerOptions, DevTokenRequest, DevToken, DevDiscoveryDocument } from './dev-issuer.ts';
