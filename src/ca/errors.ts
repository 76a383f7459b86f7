import { SigilError } from '../core/index.ts';

/**
 * Every code the keyless CA raises. The suffix decides the HTTP status (src/server/error-response.ts):
 * `_INVALID`/`_MISSING`/`_UNSUPPORTED` 400, `_TOKEN_INVALID`/`_UNAUTHENTICATED` 401, `_UNAVAILABLE` 503.
 */
export type CaErrorCode =
  // the request
  | 'CA_REQUEST_INVALID'
  | 'CA_PUBLIC_KEY_INVALID'
  | 'CA_PUBLIC_KEY_UNSUPPORTED'
  | 'CA_PROOF_OF_POSSESSION_INVALID'
  | 'CA_CSR_INVALID'
  // the identity token (src/ca/oidc)
  | 'CA_TOKEN_INVALID'
  | 'CA_TOKEN_EXPIRED'
  | 'CA_TOKEN_NOT_YET_VALID'
  | 'CA_TOKEN_AUDIENCE'
  | 'CA_TOKEN_ALGORITHM'
  | 'CA_ISSUER_UNKNOWN'
  | 'CA_EMAIL_UNVERIFIED'
  | 'CA_CLAIM_MISSING'
  | 'CA_CLAIM_INVALID'
  | 'CA_ISSUER_UNAVAILABLE'
  | 'CA_ISSUER_INVALID'
  // the CA itself
  | 'CA_CONFIG_INVALID'
  | 'CA_KEY_INVALID'
  | 'CA_KEY_PASSPHRASE_MISSING'
  | 'CA_SIGNING_FAILED'
  | 'CA_CT_UNAVAILABLE'
  | 'CA_CT_FAILED'
  | 'CA_OVERLOADED';

export class CaError extends SigilError<CaErrorCode> {}
