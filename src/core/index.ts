export { SigilError, CoreError, isSigilError, assertNever, describeError } from './errors.ts';
export type { CoreErrorCode } from './errors.ts';
export {
  encodeBase64,
  decodeBase64,
  encodeBase64Url,
  decodeBase64Url,
  encodeHex,
  decodeHex,
  encodeUtf8,
  decodeUtf8,
  encodePem,
  decodePem,
  parseJson,
} from './encoding.ts';
export type { PemBlock, ParseJsonOptions } from './encoding.ts';
export { canonicalizeJson, canonicalizeJsonBytes } from './canonical-json.ts';
export {
  generateSigningKey,
  parsePrivateKeyPem,
  exportPrivateKeyPem,
  publicKeyDer,
  publicKeyPem,
  signingKeyAlgorithm,
} from './keys.ts';
export type { SigningKeyAlgorithm } from './keys.ts';
export { systemClock, fixedClock } from './clock.ts';
export type { Clock } from './clock.ts';
export { silentLogger } from './logger.ts';
export type { Logger, LogFn } from './logger.ts';
export {
  DerSyntaxError,
  DerTag,
  contentBytes,
  decodeOid,
  elementBytes,
  encodeElement,
  encodeOid,
  isSingleDerElement,
  readChildren,
  readElement,
  readWhole,
} from './der.ts';
export type { DerElement } from './der.ts';
export {
  CERTIFICATE_SIGNATURE_ALGORITHMS,
  EKU_ANY,
  EKU_CODE_SIGNING,
  EXTENSIONS_TAG,
  authorityKeyIdentifier,
  describeName,
  extendedKeyUsages,
  extensionOid,
  isCertificateAuthority,
  parseCertificate,
  tbsWithoutExtension,
} from './x509.ts';
export type { CertificateExtension, FinalIssuer, ParsedCertificate } from './x509.ts';
export { ecdsaPublicKeyFromPoint, ecdsaPublicKeyFromSpki, verifyEcdsaDigest } from './ecdsa-digest.ts';
export type { EcdsaCurveName, EcdsaPublicKey } from './ecdsa-digest.ts';
export { verifyDigestSignature } from './digest-signature.ts';
export type { DigestAlgorithm } from './digest-signature.ts';
export { preAuthenticationEncoding } from './dsse.ts';
export { timeoutSignal } from './timeout-signal.ts';
export type { TimeoutSignal } from './timeout-signal.ts';
