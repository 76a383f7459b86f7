import {
  DerSyntaxError,
  DerTag,
  contentBytes,
  decodeOid,
  elementBytes,
  readChildren,
  readWhole,
  type DerElement,
} from '../../core/index.ts';

/**
 * An RFC 3161 timestamp token cut into what verification needs, with the DER slicer (no object model:
 * this runs once per bundle). Accepts a TimeStampResp (RFC 3161 §2.4.2) or the bare TimeStampToken, a
 * ContentInfo around SignedData (RFC 5652 §3, §5) whose eContent is a TSTInfo. Nothing is re-encoded
 * except the signed attributes' tag (RFC 5652 §5.4).
 */
export interface TimestampToken {
  readonly tstInfo: TstInfo;
  /** `SignedData.certificates`, DER, in order; empty when the TSA embedded none. */
  readonly certificates: readonly Uint8Array[];
  readonly signer: SignerInfo;
}

/** RFC 3161 §2.4.2 TSTInfo. */
export interface TstInfo {
  /** The eContent octets: the DER TSTInfo the message-digest attribute is computed over. */
  readonly der: Uint8Array;
  readonly imprintAlgorithm: DigestAlgorithm;
  readonly hashedMessage: Uint8Array;
  /** genTime in ms since the epoch; a fraction finer than 1 ms is truncated. */
  readonly genTime: number;
}

/** node:crypto hash names of the digests accepted in timestamps (SHA-1 is not). */
export type DigestAlgorithm = 'sha256' | 'sha384' | 'sha512';

/** How the signer signed: the key family, and the hash the signature covers (none for Ed25519). */
export interface SignatureScheme {
  readonly family: 'ecdsa' | 'rsa-pkcs1' | 'ed25519';
  readonly hash: DigestAlgorithm | null;
}

export type SignerIdentifier =
  | { readonly kind: 'issuerAndSerialNumber'; readonly issuer: Uint8Array; readonly serialNumber: Uint8Array }
  | { readonly kind: 'subjectKeyIdentifier'; readonly keyIdentifier: Uint8Array };

/** RFC 5652 §5.3 SignerInfo, with the two signed attributes RFC 5652 §11 makes mandatory. */
export interface SignerInfo {
  readonly id: SignerIdentifier;
  readonly digestAlgorithm: DigestAlgorithm;
  /** The DER of signedAttrs re-tagged as SET OF (0x31): the bytes the signature covers (§5.4). */
  readonly signedAttributes: Uint8Array;
  /** Dotted OID of the content-type attribute's value. */
  readonly contentType: string;
  readonly messageDigest: Uint8Array;
  readonly scheme: SignatureScheme;
  readonly signature: Uint8Array;
}

export const OID_SIGNED_DATA = '1.2.840.113549.1.7.2';
export const OID_CT_TST_INFO = '1.2.840.113549.1.9.16.1.4';
const OID_ATTRIBUTE_CONTENT_TYPE = '1.2.840.113549.1.9.3';
const OID_ATTRIBUTE_MESSAGE_DIGEST = '1.2.840.113549.1.9.4';

const DIGESTS: Readonly<Record<string, DigestAlgorithm>> = {
  '2.16.840.1.101.3.4.2.1': 'sha256',
  '2.16.840.1.101.3.4.2.2': 'sha384',
  '2.16.840.1.101.3.4.2.3': 'sha512',
};

/** Signature algorithms that name their hash; the others take the SignerInfo's digestAlgorithm. */
const SIGNATURE_SCHEMES: Readonly<Record<string, SignatureScheme | SignatureScheme['family']>> = {
  '1.2.840.10045.4.3.2': { family: 'ecdsa', hash: 'sha256' },
  '1.2.840.10045.4.3.3': { family: 'ecdsa', hash: 'sha384' },
  '1.2.840.10045.4.3.4': { family: 'ecdsa', hash: 'sha512' },
  '1.2.840.10045.2.1': 'ecdsa',
  '1.2.840.113549.1.1.11': { family: 'rsa-pkcs1', hash: 'sha256' },
  '1.2.840.113549.1.1.12': { family: 'rsa-pkcs1', hash: 'sha384' },
  '1.2.840.113549.1.1.13': { family: 'rsa-pkcs1', hash: 'sha512' },
  '1.2.840.113549.1.1.1': 'rsa-pkcs1',
  // RFC 8419 §3.1: pure Ed25519 over the signed attributes.
  '1.3.101.112': { family: 'ed25519', hash: null },
};

/** A token holds one TSA certificate, maybe its chain; more is not a timestamp. */
const MAX_CERTIFICATES = 16;

/** Thrown for a token that is not what RFC 3161 describes; the message names the field. */
export class TimestampSyntaxError extends Error {}

/**
 * Cuts a DER TimeStampResp or TimeStampToken. MUST be given the whole token; throws
 * TimestampSyntaxError (naming the field) for anything else, including a response whose status is not
 * granted or grantedWithMods (RFC 3161 §2.4.2) and a token with other than one SignerInfo (§2.4.1).
 */
export function parseTimestampToken(bytes: Uint8Array): TimestampToken {
  try {
    const top = readWhole(bytes, DerTag.sequence);
    const [first] = readChildren(bytes, top);
    if (first?.tag === DerTag.oid) return readContentInfo(bytes, top, 'timeStampToken');
    return readContentInfo(bytes, readResponse(bytes, top), 'timeStampResp.timeStampToken');
  } catch (error) {
    if (error instanceof DerSyntaxError) throw new TimestampSyntaxError(`expected DER, ${error.message}`);
    throw error;
  }
}

/** TimeStampResp ::= SEQUENCE { status PKIStatusInfo, timeStampToken TimeStampToken OPTIONAL }. */
function readResponse(der: Uint8Array, response: DerElement): DerElement {
  const [statusInfo, token, ...rest] = readChildren(der, response);
  expect(statusInfo, DerTag.sequence, 'timeStampResp.status');
  const [status] = readChildren(der, statusInfo);
  expect(status, DerTag.integer, 'timeStampResp.status.status');
  const value = contentBytes(der, status);
  // PKIStatus granted (0) or grantedWithMods (1): anything else carries no token.
  if (value.length !== 1 || value[0]! > 1) {
    throw new TimestampSyntaxError(
      `timeStampResp.status.status: expected granted (0) or grantedWithMods (1), received 0x${hex(value)}`,
    );
  }
  if (!token) throw new TimestampSyntaxError('timeStampResp.timeStampToken: expected a token, received none');
  if (rest.length > 0)
    throw new TimestampSyntaxError('timeStampResp: unexpected element after timeStampToken');
  return token;
}

/** ContentInfo ::= SEQUENCE { contentType id-signedData, content [0] EXPLICIT SignedData }. */
function readContentInfo(der: Uint8Array, contentInfo: DerElement, field: string): TimestampToken {
  expect(contentInfo, DerTag.sequence, field);
  const [contentType, content, ...rest] = readChildren(der, contentInfo);
  expectOid(der, contentType, OID_SIGNED_DATA, `${field}.contentType`);
  expect(content, 0xa0, `${field}.content`);
  const [signedData, ...more] = readChildren(der, content);
  if (rest.length > 0 || more.length > 0)
    throw new TimestampSyntaxError(`${field}: unexpected trailing elements`);
  expect(signedData, DerTag.sequence, `${field}.content`);
  return readSignedData(der, signedData, `${field}.content`);
}

/** RFC 5652 §5.1 SignedData. */
function readSignedData(der: Uint8Array, signedData: DerElement, field: string): TimestampToken {
  const parts = readChildren(der, signedData);
  const [version, digestAlgorithms, encapsulated] = parts;
  expect(version, DerTag.integer, `${field}.version`);
  expect(digestAlgorithms, 0x31, `${field}.digestAlgorithms`);
  expect(encapsulated, DerTag.sequence, `${field}.encapContentInfo`);
  let next = 3;
  const certificates: Uint8Array[] = [];
  if (parts[next]?.tag === 0xa0) {
    for (const certificate of readChildren(der, parts[next++]!)) {
      // CertificateChoices: only the plain Certificate (a SEQUENCE) can sign a timestamp.
      if (certificate.tag === DerTag.sequence) certificates.push(elementBytes(der, certificate));
    }
    if (certificates.length > MAX_CERTIFICATES) {
      throw new TimestampSyntaxError(
        `${field}.certificates: expected at most ${MAX_CERTIFICATES}, received ${certificates.length}`,
      );
    }
  }
  if (parts[next]?.tag === 0xa1) next++;
  const signerInfos = parts[next++];
  expect(signerInfos, 0x31, `${field}.signerInfos`);
  if (next !== parts.length) throw new TimestampSyntaxError(`${field}: unexpected element after signerInfos`);
  const signers = readChildren(der, signerInfos);
  if (signers.length !== 1) {
    throw new TimestampSyntaxError(
      `${field}.signerInfos: expected one SignerInfo, received ${signers.length}`,
    );
  }
  return {
    tstInfo: readEncapsulatedContent(der, encapsulated, `${field}.encapContentInfo`),
    certificates,
    signer: readSignerInfo(der, signers[0]!, `${field}.signerInfos[0]`),
  };
}

/** EncapsulatedContentInfo ::= SEQUENCE { eContentType id-ct-TSTInfo, eContent [0] EXPLICIT OCTET STRING }. */
function readEncapsulatedContent(der: Uint8Array, encapsulated: DerElement, field: string): TstInfo {
  const [contentType, wrapper, ...rest] = readChildren(der, encapsulated);
  expectOid(der, contentType, OID_CT_TST_INFO, `${field}.eContentType`);
  expect(wrapper, 0xa0, `${field}.eContent`);
  const [octets, ...more] = readChildren(der, wrapper);
  expect(octets, DerTag.octetString, `${field}.eContent`);
  if (rest.length > 0 || more.length > 0)
    throw new TimestampSyntaxError(`${field}: unexpected trailing elements`);
  return readTstInfo(contentBytes(der, octets), `${field}.eContent`);
}

/**
 * TSTInfo ::= SEQUENCE { version 1, policy, messageImprint, serialNumber, genTime, accuracy OPTIONAL,
 * ordering DEFAULT FALSE, nonce OPTIONAL, tsa [0] OPTIONAL, extensions [1] OPTIONAL } (RFC 3161 §2.4.2).
 */
function readTstInfo(der: Uint8Array, field: string): TstInfo {
  const [version, policy, imprint, serialNumber, genTime] = readChildren(
    der,
    readWhole(der, DerTag.sequence),
  );
  expect(version, DerTag.integer, `${field}.version`);
  if (!isIntegerOne(contentBytes(der, version))) {
    throw new TimestampSyntaxError(
      `${field}.version: expected 1, received 0x${hex(contentBytes(der, version))}`,
    );
  }
  expect(policy, DerTag.oid, `${field}.policy`);
  expect(imprint, DerTag.sequence, `${field}.messageImprint`);
  expect(serialNumber, DerTag.integer, `${field}.serialNumber`);
  expect(genTime, 0x18, `${field}.genTime`);
  const [algorithm, hashedMessage, ...rest] = readChildren(der, imprint);
  expect(hashedMessage, DerTag.octetString, `${field}.messageImprint.hashedMessage`);
  if (rest.length > 0)
    throw new TimestampSyntaxError(`${field}.messageImprint: unexpected trailing elements`);
  return {
    der,
    imprintAlgorithm: readDigestAlgorithm(der, algorithm, `${field}.messageImprint.hashAlgorithm`),
    hashedMessage: contentBytes(der, hashedMessage),
    genTime: readGeneralizedTime(contentBytes(der, genTime), `${field}.genTime`),
  };
}

/** RFC 3161 §2.4.2: YYYYMMDDhhmmss[.s...]Z, the fraction without trailing zeros. */
const GENERALIZED_TIME = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(?:\.(\d*[1-9]))?Z$/;

function readGeneralizedTime(content: Uint8Array, field: string): number {
  const text = Buffer.from(content).toString('latin1');
  const match = GENERALIZED_TIME.exec(text);
  if (!match)
    throw new TimestampSyntaxError(
      `${field}: expected YYYYMMDDhhmmss[.f]Z, received ${JSON.stringify(text)}`,
    );
  const [year, month, day, hour, minute, second] = match.slice(1, 7).map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const milliseconds = Number((match[7] ?? '').slice(0, 3).padEnd(3, '0'));
  const time = Date.UTC(year, month - 1, day, hour, minute, second, milliseconds);
  const check = new Date(time);
  if (check.getUTCFullYear() !== year || check.getUTCMonth() !== month - 1 || check.getUTCDate() !== day) {
    throw new TimestampSyntaxError(`${field}: not a calendar date: ${JSON.stringify(text)}`);
  }
  if (hour > 23 || minute > 59 || second > 59) {
    throw new TimestampSyntaxError(`${field}: not a time of day: ${JSON.stringify(text)}`);
  }
  return time;
}

/**
 * SignerInfo ::= SEQUENCE { version, sid, digestAlgorithm, signedAttrs [0] IMPLICIT, signatureAlgorithm,
 * signature OCTET STRING, unsignedAttrs [1] IMPLICIT OPTIONAL } (RFC 5652 §5.3). signedAttrs are
 * required: the content type is not id-data.
 */
function readSignerInfo(der: Uint8Array, signerInfo: DerElement, field: string): SignerInfo {
  expect(signerInfo, DerTag.sequence, field);
  const [version, sid, digest, attributes, algorithm, signature, ...rest] = readChildren(der, signerInfo);
  expect(version, DerTag.integer, `${field}.version`);
  expect(attributes, 0xa0, `${field}.signedAttrs`);
  expect(signature, DerTag.octetString, `${field}.signature`);
  if (rest.length > 1 || (rest[0] && rest[0].tag !== 0xa1)) {
    throw new TimestampSyntaxError(`${field}: unexpected element after signature`);
  }
  const digestAlgorithm = readDigestAlgorithm(der, digest, `${field}.digestAlgorithm`);
  const signedAttributes = Uint8Array.from(elementBytes(der, attributes));
  signedAttributes[0] = 0x31; // RFC 5652 §5.4: the signature covers the EXPLICIT SET OF encoding.
  return {
    id: readSignerIdentifier(der, sid, `${field}.sid`),
    digestAlgorithm,
    signedAttributes,
    ...readSignedAttributes(der, attributes, `${field}.signedAttrs`),
    scheme: readSignatureScheme(der, algorithm, digestAlgorithm, `${field}.signatureAlgorithm`),
    signature: contentBytes(der, signature),
  };
}

/** SignerIdentifier ::= CHOICE { IssuerAndSerialNumber, subjectKeyIdentifier [0] }. */
function readSignerIdentifier(der: Uint8Array, sid: DerElement | undefined, field: string): SignerIdentifier {
  if (sid?.tag === 0x80) return { kind: 'subjectKeyIdentifier', keyIdentifier: contentBytes(der, sid) };
  expect(sid, DerTag.sequence, field);
  const [issuer, serialNumber, ...rest] = readChildren(der, sid);
  expect(issuer, DerTag.sequence, `${field}.issuer`);
  expect(serialNumber, DerTag.integer, `${field}.serialNumber`);
  if (rest.length > 0) throw new TimestampSyntaxError(`${field}: unexpected trailing elements`);
  return {
    kind: 'issuerAndSerialNumber',
    issuer: elementBytes(der, issuer),
    serialNumber: contentBytes(der, serialNumber),
  };
}

/** The content-type and message-digest attributes, each present once with one value (RFC 5652 §11). */
function readSignedAttributes(
  der: Uint8Array,
  attributes: DerElement,
  field: string,
): { contentType: string; messageDigest: Uint8Array } {
  // null: an attribute with other than one value, refused below if it is one of the two read.
  const values = new Map<string, DerElement | null>();
  for (const attribute of readChildren(der, attributes)) {
    expect(attribute, DerTag.sequence, `${field} attribute`);
    const [type, set, ...rest] = readChildren(der, attribute);
    expect(type, DerTag.oid, `${field} attribute type`);
    expect(set, 0x31, `${field} attribute values`);
    const oid = decodeOid(contentBytes(der, type));
    if (rest.length > 0) throw new TimestampSyntaxError(`${field} ${oid}: unexpected trailing elements`);
    if (values.has(oid)) throw new TimestampSyntaxError(`${field}: attribute ${oid} appears twice`);
    const single = readChildren(der, set);
    values.set(oid, single.length === 1 ? single[0]! : null);
  }
  const contentType = singleValue(values, OID_ATTRIBUTE_CONTENT_TYPE, `${field} content-type`);
  const messageDigest = singleValue(values, OID_ATTRIBUTE_MESSAGE_DIGEST, `${field} message-digest`);
  expect(contentType, DerTag.oid, `${field} content-type`);
  expect(messageDigest, DerTag.octetString, `${field} message-digest`);
  return {
    contentType: decodeOid(contentBytes(der, contentType)),
    messageDigest: contentBytes(der, messageDigest),
  };
}

function singleValue(
  values: ReadonlyMap<string, DerElement | null>,
  oid: string,
  field: string,
): DerElement | undefined {
  const value = values.get(oid);
  if (value === null) throw new TimestampSyntaxError(`${field}: expected one value, received several`);
  return value;
}

function readDigestAlgorithm(
  der: Uint8Array,
  algorithm: DerElement | undefined,
  field: string,
): DigestAlgorithm {
  const oid = readAlgorithmOid(der, algorithm, field);
  const digest = DIGESTS[oid];
  if (!digest)
    throw new TimestampSyntaxError(`${field}: expected SHA-256, SHA-384 or SHA-512, received ${oid}`);
  return digest;
}

function readSignatureScheme(
  der: Uint8Array,
  algorithm: DerElement | undefined,
  digestAlgorithm: DigestAlgorithm,
  field: string,
): SignatureScheme {
  const oid = readAlgorithmOid(der, algorithm, field);
  const known = SIGNATURE_SCHEMES[oid];
  if (!known)
    throw new TimestampSyntaxError(
      `${field}: expected an ECDSA, RSA PKCS#1 v1.5 or Ed25519 algorithm, received ${oid}`,
    );
  if (typeof known === 'string') return { family: known, hash: digestAlgorithm };
  if (known.hash !== null && known.hash !== digestAlgorithm) {
    throw new TimestampSyntaxError(
      `${field}: expected a ${digestAlgorithm} signature like digestAlgorithm, received ${oid}`,
    );
  }
  return known;
}

/** AlgorithmIdentifier ::= SEQUENCE { algorithm OID, parameters ANY OPTIONAL }: the OID. */
function readAlgorithmOid(der: Uint8Array, algorithm: DerElement | undefined, field: string): string {
  expect(algorithm, DerTag.sequence, field);
  const [oid] = readChildren(der, algorithm);
  expect(oid, DerTag.oid, `${field}.algorithm`);
  return decodeOid(contentBytes(der, oid));
}

function expectOid(der: Uint8Array, element: DerElement | undefined, oid: string, field: string): void {
  expect(element, DerTag.oid, field);
  const received = decodeOid(contentBytes(der, element));
  if (received !== oid) throw new TimestampSyntaxError(`${field}: expected ${oid}, received ${received}`);
}

function expect(element: DerElement | undefined, tag: number, field: string): asserts element is DerElement {
  if (!element)
    throw new TimestampSyntaxError(`${field}: expected tag 0x${tag.toString(16)}, received nothing`);
  if (element.tag !== tag) {
    throw new TimestampSyntaxError(
      `${field}: expected tag 0x${tag.toString(16)}, received 0x${element.tag.toString(16)}`,
    );
  }
}

function isIntegerOne(content: Uint8Array): boolean {
  return content.length === 1 && content[0] === 1;
}

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('hex');
}
