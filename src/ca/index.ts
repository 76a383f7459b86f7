export { CaError } from './errors.ts';
export type { CaErrorCode } from './errors.ts';
export { KeylessCa } from './keyless-ca.ts';
export type {
  CertifiedIdentity,
  IdentityVerifier,
  IssuedCertificate,
  KeylessCaOptions,
  SigningCertificateRequest,
} from './keyless-ca.ts';
export { CaSigner, keyObjectSource, signatureAlgorithmOf } from './ca-signer.ts';
export type { CaKeySource } from './ca-signer.ts';
export { CA_FILES, initCertificateAuthority, loadCertificateAuthority } from './ca-files.ts';
export type { CaFiles, InitCaOptions } from './ca-files.ts';
export { CT_POISON_OID, CT_SCT_LIST_OID, LEAF_LIFETIME_MS, leafTemplate } from './certificate-profile.ts';
export type {
  LeafExtension,
  LeafRequest,
  LeafSubjectAlternativeName,
  LeafTemplate,
} from './certificate-profile.ts';
export {
  encodeSct,
  encodeSctListExtension,
  httpCtSubmitter,
  parseAddChainResponse,
} from './certificate-transparency.ts';
export type { AddChainResponse, CtSubmitter, HttpCtSubmitterOptions } from './certificate-transparency.ts';
export * from './oidc/index.ts';
export { issueServingCertificate } from './serving-certificate.ts';
export type { ServingCertificate, ServingCertificateOptions } from './serving-certificate.ts';
