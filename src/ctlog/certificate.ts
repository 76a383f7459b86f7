import { id_ce_authorityKeyIdentifier } from '@peculiar/asn1-x509';
import { CtError } from './errors.ts';
import {
  CoreError,
  DerSyntaxError,
  DerTag,
  EXTENSIONS_TAG,
  authorityKeyIdentifier as coreAuthorityKeyIdentifier,
  elementBytes,
  encodeElement,
  encodeOid,
  extendedKeyUsages as coreExtendedKeyUsages,
  extensionOid,
  isCertificateAuthority as coreIsCertificateAuthority,
  parseCertificate as coreParseCertificate,
  readChildren,
  readWhole,
  type ParsedCertificate,
} from '../core/index.ts';

export { EKU_ANY, EKU_CODE_SIGNING, describeName } from '../core/index.ts';
export type { CertificateExtension, ParsedCertificate } from '../core/index.ts';

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
 * The CA that issues the final certificate, when a precertificate signing certificate signed the
 * precertificate: its Name and key identifier replace the precertificate's issuer and authority key ID
 * (RFC 6962 §3.2; certificate-transparency-go `x509.BuildPrecertTBS`).
 */
export interface FinalIssuer {
  readonly name: Uint8Array;
  readonly keyIdentifier: Uint8Array;
}

/** AuthorityKeyIdentifier ::= SEQUENCE { keyIdentifier [0] KeyIdentifier } as an Extension (RFC 5280 §4.2.1.1). */
function encodeAuthorityKeyIdentifier(keyIdentifier: Uint8Array, critical: boolean): Uint8Array {
  const value = encodeElement(DerTag.sequence, [encodeElement(0x80, [keyIdentifier])]);
  return encodeElement(DerTag.sequence, [
    encodeOid(id_ce_authorityKeyIdentifier),
    ...(critical ? [Uint8Array.of(DerTag.boolean, 1, 0xff)] : []),
    encodeElement(DerTag.octetString, [value]),
  ]);
}

/**
 * The TBSCertificate of `certificate` without the extension `oid`, every other byte as it was: a
 * precertificate without its poison (RFC 6962 §3.2 PreCert.tbs_certificate), or a final certificate
 * without its SCT list, to check an embedded SCT. An extensions field left empty is dropped, as
 * certificate-transparency-go does. Throws CT_CERTIFICATE_INVALID unless the extension occurs once.
 */
export function tbsWithoutExtension(
  certificate: ParsedCertificate,
  oid: string,
  field: string,
  finalIssuer?: FinalIssuer,
): Uint8Array {
  const tbs = certificate.tbsCertificate;
  try {
    const fields = readChildren(tbs, readWhole(tbs, DerTag.sequence));
    const extensionsField = fields.at(-1);
    if (!extensionsField || extensionsField.tag !== EXTENSIONS_TAG) throw syntax(`expected extension ${oid}`);
    const [list] = readChildren(tbs, extensionsField);
    const kept = readChildren(tbs, list!).filter((extension) => extensionOid(tbs, extension) !== oid);
    if (kept.length === certificate.extensions.size) throw syntax(`expected extension ${oid}`);
    const keptBytes = kept.map((extension) =>
      finalIssuer && extensionOid(tbs, extension) === id_ce_authorityKeyIdentifier
        ? encodeAuthorityKeyIdentifier(
            finalIssuer.keyIdentifier,
            certificate.extensions.get(id_ce_authorityKeyIdentifier)!.critical,
          )
        : elementBytes(tbs, extension),
    );
    const head = fields.slice(0, -1).map((element) => elementBytes(tbs, element));
    if (finalIssuer) {
      // TBSCertificate: [0] version (present in v3), serialNumber, signature, issuer, ...
      const issuerAt = fields[0]?.tag === 0xa0 ? 3 : 2;
      if (issuerAt >= head.length) throw syntax('expected an issuer field');
      head[issuerAt] = finalIssuer.name;
    }
    const extensions =
      keptBytes.length === 0
        ? []
        : [encodeElement(EXTENSIONS_TAG, [encodeElement(DerTag.sequence, keptBytes)])];
    return encodeElement(DerTag.sequence, [...head, ...extensions]);
  } catch (error) {
    if (error instanceof DerSyntaxError) {
      throw new CtError('CT_CERTIFICATE_INVALID', `${field}: ${error.message}`, { cause: error });
    }
    throw error;
  }
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

function syntax(message: string): DerSyntaxError {
  return new DerSyntaxError(message);
}
