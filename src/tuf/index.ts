export { TufError } from './errors.ts';
export type { TufErrorCode } from './errors.ts';
export {
  CLIENT_TRUST_CONFIG_MEDIA_TYPE,
  SIGNING_CONFIG_MEDIA_TYPE,
  TRUSTED_ROOT_MEDIA_TYPE,
  buildClientTrustConfig,
  buildSigningConfig,
  buildTrustedRoot,
} from './trust-config.ts';
export type { DeploymentTrust, TrustedCertificateAuthority, TrustedLog } from './trust-config.ts';
