import { SigilError } from '../core/index.ts';

/** Why a registry operation failed. server/ and cli/ map these to messages; the webhook to denials. */
export type OciErrorCode =
  /** The image reference does not parse. */
  | 'OCI_REFERENCE_INVALID'
  /** The registry answered 401/403 after authenticating as it asked, or credentials were refused. */
  | 'OCI_UNAUTHORIZED'
  /** The manifest, blob or repository does not exist (404). */
  | 'OCI_NOT_FOUND'
  /** Fetched content does not hash to the digest that named it, or exceeds its declared size. */
  | 'OCI_DIGEST_MISMATCH'
  /** Content larger than the limit the caller allows. */
  | 'OCI_TOO_LARGE'
  /** A manifest or index that is not valid JSON of a known media type. */
  | 'OCI_MANIFEST_INVALID'
  /** The registry could not be reached, timed out, or kept answering 429/5xx after the retries. */
  | 'OCI_REGISTRY_UNAVAILABLE'
  /** Plain HTTP to a host other than localhost without allowInsecure, or similar refused transport. */
  | 'OCI_INSECURE_REFUSED'
  /** Any other unexpected registry answer. */
  | 'OCI_REGISTRY_ERROR'
  /** docker config.json, a credential helper or a pull secret that cannot be read. */
  | 'OCI_CREDENTIALS_INVALID';

export class OciError extends SigilError<OciErrorCode> {}
