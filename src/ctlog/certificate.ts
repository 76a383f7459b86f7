import { CtError } from './errors.ts';
import {
  CoreError,
  authorityKeyIdentifier as coreAuthorityKeyIdentifier,
  extendedKeyUsages as coreExtendedKeyUsages,
  isCertificateAuthority as coreIsCertificateAuthority,
  parseCertificate as coreParseCertificate,
  tbsWithoutExtension as coreTbsWithoutExtension,
  type FinalIssuer,
  type ParsedCertificate,
} from '../core/index.ts';

export { EKU_ANY, EKU_CODE_SIGNING, describeName } from '../core/index.ts';
export type { CertificateExtension, FinalIssuer, ParsedCertificate } from '../core/index.ts';

/** RFC 6962 §3.1: the critical extension whose ASN.1 NULL value marks a precertificate. */
export const CT_POISON_OID = '1.3.6.1.4.1.11129.2.4.3';
/** RFC 6962 §3.3: the extension of a final certificate that embeds its SCT list. */
export const CT_SCT_LIST_OID = '1.3.6.1.4.1.11129.2.4.2';
/** RFC 6962 §3.1: the EKU of a precertificate signing certificate. */
export const CT_PRECERT_SIGNING_EKU = '1.3.6.1.4.1.11129.2.4.4';

const ASN1_NULL = Uint8Array.of(0x05, 0x00);

/**
 * The CT log's view of core's certificate reading (core/x509.ts): the same functions, with a malformed
 * certificate refused as CT_CERTIFICATE_INVALID.
 */
function asCtError<T>(read: () => T): T {
  try {
    return read();
  } catch (error) {
    if (error instanceof CoreError && error.code === 'CORE_CERTIFICATE_INVALID') {
      throw new CtError('CT_CERTIFICATE_INVALID', error.message, { cause: error });
    }
    throw error;
  }
}

/** core parseCertificate; CT_CERTIFICATE_INVALID for anything that is not a DER X.509 certificate. */
export function parseCertificate(der: Uint8Array, field: string): ParsedCertificate {
  return asCtError(() => coreParseCertificate(der, field));
}

/** The keyIdentifier of the authority key identifier extension, or undefined without one. */
export function authorityKeyIdentifier(
  certificate: ParsedCertificate,
  field: string,
): Uint8Array | undefined {
  return asCtError(() => coreAuthorityKeyIdentifier(certificate, field));
}

/** The EKU OIDs, or undefined without the extension. */
export function extendedKeyUsages(certificate: ParsedCertificate, field: string): string[] | undefined {
  return asCtError(() => coreExtendedKeyUsages(certificate, field));
}

/** Whether basic constraints say cA; an issuer without them may not sign. */
export function isCertificateAuthority(certificate: ParsedCertificate, field: string): boolean {
  return asCtError(() => coreIsCertificateAuthority(certificate, field));
}

/**
 * core tbsWithoutExtension: the TBSCertificate without the extension `oid` (RFC 6962 §3.2), with the
 * final issuer's name and key ID when a precertificate signing certificate signed it. Throws
 * CT_CERTIFICATE_INVALID unless the extension occurs once.
 */
export function tbsWithoutExtension(
  certificate: ParsedCertificate,
  oid: string,
  field: string,
  finalIssuer?: FinalIssuer,
): Uint8Array {
  return asCtError(() => coreTbsWithoutExtension(certificate, oid, field, finalIssuer));
}

/**
 * Whether the certificate is a precertificate: it carries the poison extension, which MUST be critical
 * with an ASN.1 NULL value (RFC 6962 §3.1); anything else is CT_PRECERT_INVALID.
 */
export function isPrecertificate(certificate: ParsedCertificate, field: string): boolean {
  const poison = certificate.extensions.get(CT_POISON_OID);
  if (!poison) return false;
  if (!poison.critical || !Buffer.from(poison.value).equals(ASN1_NULL)) {
    throw new CtError(
      'CT_PRECERT_INVALID',
      `${field}: expected the poison extension ${CT_POISON_OID} critical with value NULL (05 00), received ` +
        `${poison.critical ? 'critical' : 'non-critical'} with ${Buffer.from(poison.value).toString('hex') || 'no value'}`,
    );
  }
  return true;
}
