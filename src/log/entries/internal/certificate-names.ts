import { contentBytes, readChildren, readElement, type DerElement } from '../../../core/index.ts';

/**
 * The subject alternative names of a certificate, in the order and form sigstore/sigstore
 * `pkg/cryptoutils` GetSubjectAlternateNames returns them (which Rekor indexes through
 * `pkg/pki/x509/x509.go` Subjects): DNS names, email addresses, IP addresses, URIs, then the single
 * Fulcio OtherName (1.3.6.1.4.1.57264.1.7) if there is exactly one OtherName and it has that OID.
 *
 * node:crypto's `subjectAltName` prints OtherNames as `<unsupported>`, so the extension is read from
 * the DER here. The certificate MUST already have been parsed by X509Certificate; a structure this
 * walker does not understand yields no names rather than an error.
 */
export function subjectAlternativeNames(certificateDer: Uint8Array): string[] {
  try {
    const extension = findSanExtension(certificateDer);
    return extension === undefined ? [] : readGeneralNames(certificateDer, extension);
  } catch {
    return [];
  }
}

/** 2.5.29.17, id-ce-subjectAltName (RFC 5280 §4.2.1.6). */
const SAN_OID = Uint8Array.of(0x55, 0x1d, 0x11);
/** 1.3.6.1.4.1.57264.1.7, Fulcio's OtherName SAN (sigstore/fulcio `docs/oid-info.md`). */
const FULCIO_OTHERNAME_OID = Uint8Array.of(0x2b, 0x06, 0x01, 0x04, 0x01, 0x83, 0xbf, 0x30, 0x01, 0x07);

const SEQUENCE = 0x30;
const OID = 0x06;
const OCTET_STRING = 0x04;
const UTF8_STRING = 0x0c;
const EXTENSIONS = 0xa3;

function findSanExtension(der: Uint8Array): DerElement | undefined {
  const certificate = readElement(der, 0);
  const [tbs] = readChildren(der, certificate);
  if (tbs?.tag !== SEQUENCE) return undefined;
  const extensions = readChildren(der, tbs).find((node) => node.tag === EXTENSIONS);
  if (extensions === undefined) return undefined;
  const [list] = readChildren(der, extensions);
  if (list?.tag !== SEQUENCE) return undefined;
  for (const extension of readChildren(der, list)) {
    const parts = readChildren(der, extension);
    const id = parts[0];
    const value = parts[parts.length - 1];
    if (id?.tag === OID && value?.tag === OCTET_STRING && Buffer.from(contentBytes(der, id)).equals(SAN_OID))
      return readElement(der, value.contentStart, value.end);
  }
  return undefined;
}

function readGeneralNames(der: Uint8Array, names: DerElement): string[] {
  const dns: string[] = [];
  const emails: string[] = [];
  const ips: string[] = [];
  const uris: string[] = [];
  const otherNames: (string | undefined)[] = [];
  const text = (node: DerElement) => new TextDecoder().decode(contentBytes(der, node));
  for (const name of readChildren(der, names)) {
    switch (name.tag) {
      case 0xa0: // otherName [0]
        otherNames.push(readFulcioOtherName(der, name));
        break;
      case 0x81: // rfc822Name [1]
        emails.push(text(name));
        break;
      case 0x82: // dNSName [2]
        dns.push(text(name));
        break;
      case 0x86: // uniformResourceIdentifier [6]
        uris.push(text(name));
        break;
      case 0x87: // iPAddress [7]
        ips.push(formatIp(contentBytes(der, name)));
        break;
      default:
        break;
    }
  }
  // cryptoutils UnmarshalOtherNameSAN: exactly one OtherName, and it must carry Fulcio's OID.
  const [otherName] = otherNames;
  const fulcio = otherNames.length === 1 && otherName !== undefined ? [otherName] : [];
  return [...dns, ...emails, ...ips, ...uris, ...fulcio];
}

function readFulcioOtherName(der: Uint8Array, node: DerElement): string | undefined {
  const [typeId, wrapped] = readChildren(der, node);
  if (typeId?.tag !== OID || wrapped?.tag !== 0xa0) return undefined;
  if (!Buffer.from(contentBytes(der, typeId)).equals(FULCIO_OTHERNAME_OID)) return undefined;
  const [value] = readChildren(der, wrapped);
  if (value?.tag !== UTF8_STRING) return undefined;
  return new TextDecoder().decode(contentBytes(der, value));
}

/** Go's net.IP String: dotted IPv4 (also for IPv4-mapped IPv6), RFC 5952 text for IPv6. */
export function formatIp(bytes: Uint8Array): string {
  if (bytes.length === 4) return [...bytes].join('.');
  if (bytes.length !== 16) return `?${Buffer.from(bytes).toString('hex')}`;
  const mapped =
    bytes.subarray(0, 10).every((byte) => byte === 0) && bytes[10] === 0xff && bytes[11] === 0xff;
  if (mapped) return [...bytes.subarray(12)].join('.');
  const groups: number[] = [];
  for (let index = 0; index < 16; index += 2) groups.push(bytes[index]! * 256 + bytes[index + 1]!);
  // The longest run of two or more zero groups (the first one on ties) becomes "::".
  let bestStart = -1;
  let bestLength = 1;
  for (let start = 0; start < 8;) {
    if (groups[start] !== 0) {
      start++;
      continue;
    }
    let end = start;
    while (end < 8 && groups[end] === 0) end++;
    if (end - start > bestLength) [bestStart, bestLength] = [start, end - start];
    start = end;
  }
  const hex = groups.map((group) => group.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLength).join(':')}`;
}
