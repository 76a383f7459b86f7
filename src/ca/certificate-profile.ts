import { createHash, randomBytes } from 'node:crypto';
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import {
  AuthorityKeyIdentifier,
  ExtendedKeyUsage,
  Extension,
  KeyIdentifier,
  KeyUsage,
  KeyUsageFlags,
  SubjectKeyIdentifier,
  type SubjectPublicKeyInfo,
  id_ce_authorityKeyIdentifier,
  id_ce_extKeyUsage,
  id_ce_keyUsage,
  id_ce_subjectAltName,
  id_ce_subjectKeyIdentifier,
  id_kp_codeSigning,
} from '@peculiar/asn1-x509';
import type { CaSigner } from './ca-signer.ts';
import { assertNever, encodeElement, encodeOid, readElement } from '../core/index.ts';
import { toArrayBuffer, utf8String } from './internal/der.ts';

/** Fulcio's leaf lifetime (sigstore/fulcio `pkg/ca/common.go` MakeX509). */
export const LEAF_LIFETIME_MS = 10 * 60 * 1000;

/** RFC 6962 §3.1: the critical extension that makes a certificate a precertificate; value ASN.1 NULL. */
export const CT_POISON_OID = '1.3.6.1.4.1.11129.2.4.3';
/** RFC 6962 §3.3: the embedded SignedCertificateTimestampList. */
export const CT_SCT_LIST_OID = '1.3.6.1.4.1.11129.2.4.2';
/** sigstore/fulcio `pkg/identity/username`: the otherName type of a username SAN. */
export const USERNAME_OTHER_NAME_OID = '1.3.6.1.4.1.57264.1.7';

/** The one subject alternative name of a leaf (Fulcio: exactly one, critical). */
export type LeafSubjectAlternativeName =
  | { kind: 'email'; value: string }
  | { kind: 'uri'; value: string }
  /** `<sub>!<subject-domain>` as a UTF8String otherName of type 1.3.6.1.4.1.57264.1.7. */
  | { kind: 'other-name'; value: string };

/**
 * One Fulcio extension (1.3.6.1.4.1.57264.1.x) as it goes into a certificate: `.1`–`.6` carry the raw
 * UTF-8 bytes as extnValue, `.8`–`.24` a DER UTF8String (sigstore/fulcio `docs/oid-info.md`).
 */
export interface LeafExtension {
  oid: string;
  value: string;
  encoding: 'raw' | 'utf8-string';
}

export interface LeafRequest {
  /**
   * The requester's key as DER SubjectPublicKeyInfo, as it was checked (parsed and its proof of
   * possession verified). Taken as given: re-exporting a KeyObject costs ~200 µs in OpenSSL 3 here.
   */
  publicKeySpki: Uint8Array;
  subjectAlternativeName: LeafSubjectAlternativeName;
  /** Fulcio extensions in OID order; empty values are left out by the caller. */
  extensions: readonly LeafExtension[];
  /** Issuance time; NotAfter is 10 minutes later. */
  now: Date;
}

/**
 * A leaf's TBSCertificate, built once and serialized as a precertificate (with the poison) and then as
 * the final certificate (with the SCT list), which differ only in that last extension (RFC 6962 §3.1).
 */
export interface LeafTemplate {
  readonly serialNumber: Uint8Array;
  readonly notBefore: Date;
  readonly notAfter: Date;
  /**
   * The DER TBSCertificate with `last` as its final extension (none: a certificate without CT), as
   * signed by `signedBy` (default: the issuer; a precertificate signing certificate for a precertificate).
   */
  tbs(last?: { oid: string; critical: boolean; value: Uint8Array }, signedBy?: CaSigner): Uint8Array;
}

/**
 * The leaf profile of sigstore/fulcio `docs/certificate-specification.md`: empty subject, random positive
 * 160-bit serial, 10-minute validity, KU digitalSignature (critical), EKU codeSigning, SKI, AKI = the
 * issuer's SKI, one critical SAN, then the Fulcio extensions — the order Go's x509.CreateCertificate
 * writes them in for Fulcio (compare the real leaves in shared/vectors/fulcio-certs).
 *
 * What every leaf of an issuer shares (algorithm, issuer name, KU, EKU, AKI) is encoded once by
 * @peculiar/asn1-x509 (CaSigner); the per-leaf fields are DER-concatenated here: serializing the whole
 * TBSCertificate with asn1-schema cost ~800 µs per leaf on this machine, more than the P-384 signature.
 */
export function leafTemplate(request: LeafRequest, issuer: CaSigner): LeafTemplate {
  const serialNumber = encodeElement(0x02, [randomSerialNumber()]);
  const notBefore = new Date(Math.floor(request.now.getTime() / 1000) * 1000);
  const notAfter = new Date(notBefore.getTime() + LEAF_LIFETIME_MS);
  const spki = request.publicKeySpki;
  const validity = encodeElement(0x30, [Buffer.concat([derTime(notBefore), derTime(notAfter)])]);
  const subjectKeyId = encodeExtension(
    id_ce_subjectKeyIdentifier,
    false,
    encodeElement(0x04, [keyIdentifierOfSpki(spki)]),
  );
  const rest = [
    encodeExtension(id_ce_subjectAltName, true, encodeSubjectAlternativeName(request.subjectAlternativeName)),
    ...request.extensions.map((item) => encodeExtension(item.oid, false, encodeFulcioExtensionValue(item))),
  ];
  return {
    serialNumber: serialNumber.subarray(2),
    notBefore,
    notAfter,
    tbs(last, signedBy = issuer) {
      // Only the issuer's name, signature algorithm and key ID change with the signer (RFC 6962 §3.1).
      const head = [
        V3,
        serialNumber,
        signedBy.signatureAlgorithmDer,
        signedBy.subjectDer,
        validity,
        EMPTY_NAME,
        spki,
      ];
      const all = [
        ...issuer.leafExtensionsHeadDer,
        subjectKeyId,
        ...signedBy.leafExtensionsAuthorityDer,
        ...rest,
        ...(last ? [encodeExtension(last.oid, last.critical, last.value)] : []),
      ];
      const extensionsField = encodeElement(0xa3, [encodeElement(0x30, [Buffer.concat(all)])]);
      return encodeElement(0x30, [Buffer.concat([...head, extensionsField])]);
    },
  };
}

/** version [0] EXPLICIT INTEGER v3(2) */
const V3 = new Uint8Array([0xa0, 0x03, 0x02, 0x01, 0x02]);
/** An empty subject: RDNSequence with no RDN (Fulcio leaves carry their identity in the SAN only). */
const EMPTY_NAME = new Uint8Array([0x30, 0x00]);

/** RFC 5280 §4.1.2.5: UTCTime through 2049, GeneralizedTime from 2050, to the second, in UTC. */
function derTime(date: Date): Uint8Array {
  const iso = date.toISOString(); // YYYY-MM-DDTHH:MM:SS.sssZ
  const digits = iso.slice(0, 19).replace(/[-T:]/g, '') + 'Z';
  return date.getUTCFullYear() < 2050
    ? encodeElement(0x17, [Buffer.from(digits.slice(2), 'latin1')])
    : encodeElement(0x18, [Buffer.from(digits, 'latin1')]);
}

/** Extension ::= SEQUENCE { extnID, critical BOOLEAN DEFAULT FALSE, extnValue OCTET STRING } */
export function encodeExtension(oid: string, critical: boolean, value: Uint8Array): Uint8Array {
  return encodeElement(0x30, [
    Buffer.concat([encodeOid(oid), critical ? TRUE : EMPTY, encodeElement(0x04, [value])]),
  ]);
}

const TRUE = new Uint8Array([0x01, 0x01, 0xff]);
const EMPTY = new Uint8Array(0);

/** The extensions every leaf starts with: KU digitalSignature (critical), EKU codeSigning. */
export function leafExtensionsHead(): Extension[] {
  return [
    extension(id_ce_keyUsage, true, AsnConvert.serialize(new KeyUsage(KeyUsageFlags.digitalSignature))),
    extension(id_ce_extKeyUsage, false, AsnConvert.serialize(new ExtendedKeyUsage([id_kp_codeSigning]))),
  ];
}

/** AKI = the issuer's SKI (RFC 5280 §4.2.1.1). */
export function authorityKeyIdentifier(issuerSki: Uint8Array): Extension {
  const value = new AuthorityKeyIdentifier({ keyIdentifier: new KeyIdentifier(toArrayBuffer(issuerSki)) });
  return extension(id_ce_authorityKeyIdentifier, false, AsnConvert.serialize(value));
}

/** RFC 5280 §4.2.1.2 method 1 (what sigstore `cryptoutils.SKID` computes): SHA-1 of the key's bits. */
export function keyIdentifier(spki: SubjectPublicKeyInfo): Uint8Array {
  return new Uint8Array(createHash('sha1').update(new Uint8Array(spki.subjectPublicKey)).digest());
}

/** keyIdentifier of a DER SubjectPublicKeyInfo (SEQUENCE { algorithm, subjectPublicKey BIT STRING }). */
function keyIdentifierOfSpki(spki: Uint8Array): Uint8Array {
  const outer = readElement(spki, 0);
  const algorithm = readElement(spki, outer.contentStart);
  const bits = readElement(spki, algorithm.end);
  // the BIT STRING's first content byte counts unused bits (0 for keys); the key is what follows
  return new Uint8Array(
    createHash('sha1')
      .update(spki.subarray(bits.contentStart + 1, bits.end))
      .digest(),
  );
}

export function subjectKeyIdentifierExtension(identifier: Uint8Array): Extension {
  const value = new SubjectKeyIdentifier(toArrayBuffer(identifier));
  return extension(id_ce_subjectKeyIdentifier, false, AsnConvert.serialize(value));
}

export function extension(oid: string, critical: boolean, value: ArrayBuffer | Uint8Array): Extension {
  return new Extension({ extnID: oid, critical, extnValue: new OctetString(toArrayBuffer(value)) });
}

/** SubjectAltName ::= GeneralNames with one GeneralName (RFC 5280 §4.2.1.6, implicit tags). */
function encodeSubjectAlternativeName(san: LeafSubjectAlternativeName): Uint8Array {
  let name: Uint8Array;
  switch (san.kind) {
    case 'email':
      name = encodeElement(0x81, [Buffer.from(san.value, 'utf8')]); // [1] rfc822Name IA5String
      break;
    case 'uri':
      name = encodeElement(0x86, [Buffer.from(san.value, 'utf8')]); // [6] uniformResourceIdentifier
      break;
    case 'other-name':
      // [0] otherName { type-id, [0] EXPLICIT UTF8String } (sigstore cryptoutils.MarshalOtherNameSAN)
      name = encodeElement(0xa0, [
        Buffer.concat([encodeOid(USERNAME_OTHER_NAME_OID), encodeElement(0xa0, [utf8String(san.value)])]),
      ]);
      break;
    default:
      return assertNever(san, 'subject alternative name');
  }
  return encodeElement(0x30, [name]);
}

function encodeFulcioExtensionValue(item: LeafExtension): Uint8Array {
  return item.encoding === 'raw' ? Buffer.from(item.value, 'utf8') : utf8String(item.value);
}

/** 20 random bytes as a positive INTEGER (the top bit cleared; sigstore cryptoutils.GenerateSerialNumber). */
function randomSerialNumber(): Uint8Array {
  const serial = randomBytes(20);
  serial[0] = (serial[0]! & 0x7f) | 0x01; // positive, and 20 bytes long in DER
  return new Uint8Array(serial);
}
