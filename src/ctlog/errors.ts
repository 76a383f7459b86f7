import { SigilError } from '../core/index.ts';

/**
 * Why the certificate-transparency log refused a submission or a read. Every refusal of a chain maps to
 * HTTP 400 (server/error-response.ts); overload and storage failures stay LogErrors.
 */
export type CtErrorCode =
  /** The add-chain body is not `{"chain": [<base64 DER>, ...]}`. */
  | 'CT_REQUEST_INVALID'
  | 'CT_CHAIN_EMPTY'
  /** More certificates than the log accepts in one chain. */
  | 'CT_CHAIN_TOO_LONG'
  | 'CT_CERTIFICATE_TOO_LARGE'
  /** A certificate is not DER X.509 as RFC 5280 §4.1 lays it out. */
  | 'CT_CERTIFICATE_INVALID'
  /** The certificates do not form a chain: names, CA flags or order do not fit. */
  | 'CT_CHAIN_INVALID'
  /** A certificate's signature does not verify with its issuer's key. */
  | 'CT_SIGNATURE_INVALID'
  | 'CT_ALGORITHM_UNSUPPORTED'
  /** The chain does not end at, or under, one of the log's roots. */
  | 'CT_CHAIN_UNTRUSTED'
  /** The leaf (or an issuer's EKU restriction) does not allow the EKU the log accepts. */
  | 'CT_EKU_MISSING'
  /** add-pre-chain received a certificate without the CT poison extension. */
  | 'CT_PRECERT_EXPECTED'
  /** add-chain received a precertificate (with the CT poison extension). */
  | 'CT_PRECERT_UNEXPECTED'
  /** The poison extension is not critical ASN.1 NULL, or the precertificate needs a feature not served. */
  | 'CT_PRECERT_INVALID'
  | 'CT_ISSUER_NOT_FOUND'
  /** An SCT, SCT extension list or data tile does not parse. */
  | 'CT_ENCODING_INVALID';

export class CtError extends SigilError<CtErrorCode> {}
