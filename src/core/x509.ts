import { hash } from 'node:crypto';
import { AsnConvert } from '@peculiar/asn1-schema';
import {
  BasicConstraints,
  Name,
  id_ce_authorityKeyIdentifier,
  id_ce_basicConstraints,
  id_ce_extKeyUsage,
} from '@peculiar/asn1-x509';
import {
  DerSyntaxError,
  DerTag,
  contentBytes,
  decodeOid,
  elementBytes,
  encodeElement,
  encodeOid,
  readChildren,
  readWhole,
  type DerElement,
} from './der.ts';
import { CoreError } from './errors.ts';

/**
 * X.509 certificates cut into the exact bytes that signature, chain and transparency checks need
 * (RFC 5280 §4.1), read with the DER slicer: nothing is re-encoded, and a certificate parses in a few
 * microseconds (asn1-schema's object model costs ~0.3 ms per certificate here). Shared by the CT log
 * and the verifier. Malformed input throws CoreError CORE_CERTIFICATE_INVALID naming `field`.
 */

export const EKU_CODE_SIGNING = '1.3.6.1.5.5.7.3.3';
/** RFC 5280 §4.2.1.12 anyExtendedKeyUsage. */
export const EKU_ANY = '2.5.29.37.0';

export const EXTENSIONS_TAG = 0xa3;

export interface CertificateExtension {
  readonly critical: boolean;
  /** The extnValue contents (the DER of the extension's own structure). */
  readonly value: Uint8Array;
}

/** A certificate cut into the exact bytes CT needs (RFC 5280 §4.1); nothing re-encoded. */
export interface ParsedCertificate {
  readonly der: Uint8Array;
  /** SHA-256 of `der`: the certificate's static-ct-api fingerprint, in lower-case hex. */
  readonly fingerprint: string;
  readonly tbsCertificate: Uint8Array;
  /** Dotted OID of Certificate.signatureAlgorithm. */
  readonly signatureAlgorithm: string;
  /** The signatureValue BIT STRING's bits. */
  readonly signature: Uint8Array;
  /** DER of the issuer and subject Names, compared byte for byte (RFC 5280 §7.1 allows it for DER). */
  readonly issuer: Uint8Array;
  readonly subject: Uint8Array;
  readonly subjectPublicKeyInfo: Uint8Array;
  /** The serialNumber INTEGER's content bytes. */
  readonly serialNumber: Uint8Array;
  /** Validity, in ms since the epoch; both ends inclusive (RFC 5280 §4.1.2.5). */
  readonly notBefore: number;
  readonly notAfter: number;
  /** By dotted OID; a repeated extension is refused (RFC 5280 §4.2). */
  readonly extensions: ReadonlyMap<string, CertificateExtension>;
}

/**
 * Parses one DER certificate. `field` names it in errors (e.g. `chain[1]`). Throws
 * CORE_CERTIFICATE_INVALID for anything that is not a Certificate SEQUENCE {TBSCertificate,
 * AlgorithmIdentifier, BIT STRING} with a well-formed TBSCertificate and nothing after it.
 */
export function parseCertificate(der: Uint8Array, field: string): ParsedCertificate {
  try {
    const certificate = readWhole(der, DerTag.sequence);
    const [tbs, algorithm, signature, ...rest] = readChildren(der, certificate);
    if (!tbs || !algorithm || !signature || rest.length > 0)
      throw syntax('expected 3 elements in Certificate');
    expectTag(tbs, DerTag.sequence, 'tbsCertificate');
    expectTag(algorithm, DerTag.sequence, 'signatureAlgorithm');
    expectTag(signature, DerTag.bitString, 'signatureValue');
    const fields = readTbsFields(der, tbs);
    // RFC 5280 §4.1.1.2: the outer algorithm MUST equal the TBSCertificate's signature field.
    if (!Buffer.from(elementBytes(der, algorithm)).equals(elementBytes(der, fields.signature))) {
      throw syntax('signatureAlgorithm differs from tbsCertificate.signature');
    }
    const [oid] = readChildren(der, algorithm);
    if (!oid || oid.tag !== DerTag.oid) throw syntax('expected an OID in signatureAlgorithm');
    const bits = contentBytes(der, signature);
    if (bits[0] !== 0) throw syntax('expected a signatureValue without unused bits');
    return {
      der,
      fingerprint: hash('sha256', der, 'hex'),
      tbsCertificate: elementBytes(der, tbs),
      signatureAlgorithm: decodeOid(contentBytes(der, oid)),
      signature: bits.subarray(1),
      issuer: elementBytes(der, fields.issuer),
      subject: elementBytes(der, fields.subject),
      subjectPublicKeyInfo: elementBytes(der, fields.subjectPublicKeyInfo),
      serialNumber: contentBytes(der, fields.serialNumber),
      ...readValidity(der, fields.validity),
      extensions: fields.extensions ? readExtensions(der, fields.extensions) : new Map(),
    };
  } catch (error) {
    if (error instanceof DerSyntaxError) {
      throw new CoreError(
        'CORE_CERTIFICATE_INVALID',
        `${field}: expected a DER X.509 certificate, ${error.message}`,
        {
          cause: error,
        },
      );
    }
    throw error;
  }
}

/**
 * The keyIdentifier of a certificate's authority key identifier extension, or undefined without one.
 * Throws CORE_CERTIFICATE_INVALID for an extension that is not DER.
 */
export function authorityKeyIdentifier(
  certificate: ParsedCertificate,
  field: string,
): Uint8Array | undefined {
  const extension = certificate.extensions.get(id_ce_authorityKeyIdentifier);
  if (!extension) return undefined;
  try {
    const value = extension.value;
    const keyIdentifier = readChildren(value, readWhole(value, DerTag.sequence)).find(
      (part) => part.tag === 0x80,
    );
    return keyIdentifier && contentBytes(value, keyIdentifier);
  } catch (cause) {
    throw new CoreError(
      'CORE_CERTIFICATE_INVALID',
      `${field}: expected a DER authorityKeyIdentifier extension value`,
      {
        cause,
      },
    );
  }
}

/**
 * The EKU OIDs, or undefined without the extension (RFC 5280 §4.2.1.12: SEQUENCE SIZE (1..MAX) OF
 * KeyPurposeId). Read with the DER slicer: it is decoded for every submitted leaf, and asn1-schema's
 * parse cost ~0.3 ms of an issuance here.
 */
export function extendedKeyUsages(certificate: ParsedCertificate, field: string): string[] | undefined {
  const extension = certificate.extensions.get(id_ce_extKeyUsage);
  if (!extension) return undefined;
  try {
    const value = extension.value;
    const purposes = readChildren(value, readWhole(value, DerTag.sequence));
    if (purposes.length === 0) throw new DerSyntaxError('expected at least one key purpose');
    return purposes.map((purpose) => {
      if (purpose.tag !== DerTag.oid) throw new DerSyntaxError('expected OBJECT IDENTIFIER key purposes');
      return decodeOid(contentBytes(value, purpose));
    });
  } catch (cause) {
    throw new CoreError(
      'CORE_CERTIFICATE_INVALID',
      `${field}: expected a DER extKeyUsage extension value, ${(cause as Error).message}`,
      { cause },
    );
  }
}

/** Whether basic constraints say cA (RFC 5280 §4.2.1.9); an issuer without them may not sign. */
export function isCertificateAuthority(certificate: ParsedCertificate, field: string): boolean {
  const extension = certificate.extensions.get(id_ce_basicConstraints);
  return (
    extension !== undefined && decodeExtension(extension, BasicConstraints, field, 'basicConstraints').cA
  );
}

/**
 * Certificate signature algorithms (RFC 5758 §3.2 ECDSA, RFC 4055 §5 RSA PKCS #1 v1.5, RFC 8410 §3
 * Ed25519) by dotted OID, with the node:crypto hash (null: the algorithm hashes itself) and the key type
 * the signer must have. SHA-1 is absent on purpose: neither the CT log nor the verifier accepts it.
 */
export const CERTIFICATE_SIGNATURE_ALGORITHMS: Readonly<
  Record<string, { readonly hash: string | null; readonly keyType: 'ec' | 'rsa' | 'ed25519' }>
> = {
  '1.2.840.10045.4.3.2': { hash: 'sha256', keyType: 'ec' },
  '1.2.840.10045.4.3.3': { hash: 'sha384', keyType: 'ec' },
  '1.2.840.10045.4.3.4': { hash: 'sha512', keyType: 'ec' },
  '1.2.840.113549.1.1.11': { hash: 'sha256', keyType: 'rsa' },
  '1.2.840.113549.1.1.12': { hash: 'sha384', keyType: 'rsa' },
  '1.2.840.113549.1.1.13': { hash: 'sha512', keyType: 'rsa' },
  '1.3.101.112': { hash: null, keyType: 'ed25519' },
};

/**
 * The CA that issues the final certificate, when a precertificate signing certificate signed the
 * precertificate: its Name and key identifier replace the precertificate's issuer and authority key ID
 * (RFC 6962 §3.2; certificate-transparency-go `x509.BuildPrecertTBS`).
 */
export interface FinalIssuer {
  readonly name: Uint8Array;
  readonly keyIdentifier: Uint8Array;
}

/**
 * The TBSCertificate of `certificate` without the extension `oid`, every other byte as it was: a
 * precertificate without its poison (RFC 6962 §3.2 PreCert.tbs_certificate), or a final certificate
 * without its SCT list, to check an embedded SCT. An extensions field left empty is dropped, as
 * certificate-transparency-go does. Throws CORE_CERTIFICATE_INVALID naming `field` unless the extension
 * occurs once.
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
      throw new CoreError('CORE_CERTIFICATE_INVALID', `${field}: ${error.message}`, { cause: error });
    }
    throw error;
  }
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

/** A Name for messages: `CN=sigil-root, O=Sigil`; the hex of its DER if it does not decode. */
export function describeName(name: Uint8Array): string {
  try {
    const text = AsnConvert.parse(name, Name)
      .flatMap((rdn) =>
        rdn.map(
          (attribute) => `${SHORT_NAMES[attribute.type] ?? attribute.type}=${attribute.value.toString()}`,
        ),
      )
      .join(', ');
    return text === '' ? '(empty name)' : text;
  } catch {
    return Buffer.from(name).toString('hex');
  }
}

const SHORT_NAMES: Readonly<Record<string, string>> = {
  '2.5.4.3': 'CN',
  '2.5.4.6': 'C',
  '2.5.4.7': 'L',
  '2.5.4.8': 'ST',
  '2.5.4.10': 'O',
  '2.5.4.11': 'OU',
};

interface TbsFields {
  serialNumber: DerElement;
  signature: DerElement;
  validity: DerElement;
  issuer: DerElement;
  subject: DerElement;
  subjectPublicKeyInfo: DerElement;
  extensions?: DerElement;
}

/** RFC 5280 §4.1: [0] version, serial, signature, issuer, validity, subject, SPKI, [1], [2], [3]. */
function readTbsFields(der: Uint8Array, tbs: DerElement): TbsFields {
  const fields = readChildren(der, tbs);
  let next = fields[0]?.tag === 0xa0 ? 1 : 0;
  const serialNumber = tbsField(fields, next++, DerTag.integer, 'serialNumber');
  const signature = tbsField(fields, next++, DerTag.sequence, 'signature');
  const issuer = tbsField(fields, next++, DerTag.sequence, 'issuer');
  const validity = tbsField(fields, next++, DerTag.sequence, 'validity');
  const subject = tbsField(fields, next++, DerTag.sequence, 'subject');
  const subjectPublicKeyInfo = tbsField(fields, next++, DerTag.sequence, 'subjectPublicKeyInfo');
  for (const optionalTag of [0x81, 0x82]) if (fields[next]?.tag === optionalTag) next++;
  const extensions = fields[next]?.tag === EXTENSIONS_TAG ? fields[next++] : undefined;
  if (next !== fields.length)
    throw syntax(`unexpected element 0x${fields[next]!.tag.toString(16)} in tbsCertificate`);
  return {
    serialNumber,
    signature,
    validity,
    issuer,
    subject,
    subjectPublicKeyInfo,
    ...(extensions ? { extensions } : {}),
  };
}

/**
 * The field of tbsCertificate at `position`, of type `tag`. A module function rather than a closure in
 * readTbsFields: under tsx every named closure is renamed (Object.defineProperty) each time it is made.
 */
function tbsField(fields: readonly DerElement[], position: number, tag: number, name: string): DerElement {
  const element = fields[position];
  if (!element) throw syntax(`expected tbsCertificate.${name}`);
  expectTag(element, tag, `tbsCertificate.${name}`);
  return element;
}

/** Validity ::= SEQUENCE { notBefore Time, notAfter Time } (RFC 5280 §4.1.2.5). */
function readValidity(der: Uint8Array, validity: DerElement): { notBefore: number; notAfter: number } {
  const [notBefore, notAfter, ...rest] = readChildren(der, validity);
  if (!notBefore || !notAfter || rest.length > 0) throw syntax('expected notBefore and notAfter in validity');
  return { notBefore: readTime(der, notBefore, 'notBefore'), notAfter: readTime(der, notAfter, 'notAfter') };
}

/**
 * UTCTime YYMMDDHHMMSSZ (years 1950–2049) or GeneralizedTime YYYYMMDDHHMMSSZ, as RFC 5280 §4.1.2.5
 * requires them (seconds present, Zulu, no fraction). Read digit by digit from the DER bytes: every
 * certificate of every bundle has two, and a string, a regex and its groups cost several times more.
 */
function readTime(der: Uint8Array, element: DerElement, name: string): number {
  const bytes = contentBytes(der, element);
  const yearDigits = element.tag === 0x17 ? 2 : element.tag === 0x18 ? 4 : 0;
  const fields = yearDigits === 0 ? undefined : readDigitPairs(bytes, yearDigits);
  if (!fields) {
    const text = JSON.stringify(Buffer.from(bytes).toString('latin1'));
    throw syntax(`validity.${name}: expected UTCTime or GeneralizedTime, received ${text}`);
  }
  const [yearField, month, day, hour, minute, second] = fields;
  const year = yearDigits === 2 ? (yearField >= 50 ? 1900 : 2000) + yearField : yearField;
  const time = Date.UTC(year, month - 1, day, hour, minute, second);
  const check = new Date(time);
  if (
    check.getUTCMonth() !== month - 1 ||
    check.getUTCDate() !== day ||
    hour > 23 ||
    minute > 59 ||
    second > 59
  ) {
    const text = JSON.stringify(Buffer.from(bytes).toString('latin1'));
    throw syntax(`validity.${name}: not a calendar time: ${text}`);
  }
  return time;
}

type TimeFields = [year: number, month: number, day: number, hour: number, minute: number, second: number];

/** Year (`yearDigits` digits), month, day, hour, minute, second from `…Z`; undefined for any other shape. */
function readDigitPairs(bytes: Uint8Array, yearDigits: number): TimeFields | undefined {
  if (bytes.byteLength !== yearDigits + 11 || bytes[yearDigits + 10] !== 0x5a /* Z */) return undefined;
  for (let i = 0; i < yearDigits + 10; i++) if (bytes[i]! < 0x30 || bytes[i]! > 0x39) return undefined;
  let year = 0;
  for (let i = 0; i < yearDigits; i++) year = year * 10 + bytes[i]! - 0x30;
  return [
    year,
    digitPair(bytes, yearDigits),
    digitPair(bytes, yearDigits + 2),
    digitPair(bytes, yearDigits + 4),
    digitPair(bytes, yearDigits + 6),
    digitPair(bytes, yearDigits + 8),
  ];
}

function digitPair(bytes: Uint8Array, at: number): number {
  return (bytes[at]! - 0x30) * 10 + bytes[at + 1]! - 0x30;
}

/** Extensions ::= SEQUENCE OF SEQUENCE { extnID, critical BOOLEAN DEFAULT FALSE, extnValue OCTET STRING }. */
function readExtensions(der: Uint8Array, field: DerElement): Map<string, CertificateExtension> {
  const [list, ...rest] = readChildren(der, field);
  if (!list || rest.length > 0) throw syntax('expected one SEQUENCE in tbsCertificate.extensions');
  expectTag(list, DerTag.sequence, 'extensions');
  const extensions = new Map<string, CertificateExtension>();
  for (const extension of readChildren(der, list)) {
    expectTag(extension, DerTag.sequence, 'extension');
    const parts = readChildren(der, extension);
    const [id] = parts;
    if (!id || id.tag !== DerTag.oid) throw syntax('expected an extension OID');
    const oid = decodeOid(contentBytes(der, id));
    const flag = parts.length === 3 ? parts[1]! : undefined;
    const value = parts.at(-1);
    if (parts.length < 2 || parts.length > 3 || !value) throw syntax(`malformed extension ${oid}`);
    if (flag && (flag.tag !== DerTag.boolean || flag.end - flag.contentStart !== 1))
      throw syntax(`malformed critical flag of ${oid}`);
    const critical = flag ? der[flag.contentStart] : 0;
    if (critical !== 0 && critical !== 0xff) throw syntax(`critical flag of ${oid} is not DER`);
    expectTag(value, DerTag.octetString, `extension ${oid} value`);
    if (extensions.has(oid)) throw syntax(`extension ${oid} appears twice`);
    extensions.set(oid, { critical: critical === 0xff, value: contentBytes(der, value) });
  }
  return extensions;
}

export function extensionOid(der: Uint8Array, extension: DerElement): string {
  const [id] = readChildren(der, extension);
  if (!id || id.tag !== DerTag.oid) throw syntax('expected an extension OID');
  return decodeOid(contentBytes(der, id));
}

function decodeExtension<T>(
  extension: CertificateExtension,
  type: new () => T,
  field: string,
  name: string,
): T {
  try {
    return AsnConvert.parse(extension.value, type);
  } catch (cause) {
    throw new CoreError(
      'CORE_CERTIFICATE_INVALID',
      `${field}: expected a DER ${name} extension value, ${(cause as Error).message}`,
      {
        cause,
      },
    );
  }
}

function expectTag(element: DerElement, tag: number, name: string): void {
  if (element.tag !== tag) {
    throw syntax(`${name}: expected tag 0x${tag.toString(16)}, received 0x${element.tag.toString(16)}`);
  }
}

function syntax(message: string): DerSyntaxError {
  return new DerSyntaxError(message);
}
