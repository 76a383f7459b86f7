/**
 * Just enough DER (ITU-T X.690 §8, §10) to slice certificates and keys into the exact bytes that are
 * signed and hashed (a TBSCertificate, names, a SubjectPublicKeyInfo, extensions by position) and to
 * assemble the few structures built per request (a leaf certificate's fields). The X.509 library
 * (@peculiar/asn1-x509) parses whole structures into objects; re-encoding them is not guaranteed to give
 * the submitted bytes back, and it costs ~0.9 ms for the 27 extensions of a Fulcio leaf here (measured),
 * more than verifying its signature. Semantic values are still decoded by the library where they are
 * read once (EKU, basic constraints, CA certificates).
 */

/** One TLV in `bytes`: [start, contentStart) is the header, [contentStart, end) the contents. */
export interface DerElement {
  readonly tag: number;
  readonly start: number;
  readonly contentStart: number;
  readonly end: number;
}

export const DerTag = {
  boolean: 0x01,
  integer: 0x02,
  bitString: 0x03,
  octetString: 0x04,
  null: 0x05,
  oid: 0x06,
  sequence: 0x30,
} as const;

/** Thrown for bytes that are not DER; callers turn it into their own error with the field's name. */
export class DerSyntaxError extends Error {}

/**
 * Reads the element at `offset`, which must end by `limit`. Refuses what DER forbids: the indefinite
 * length, non-minimal lengths and multi-byte tags (X.509 uses none).
 */
export function readElement(bytes: Uint8Array, offset: number, limit = bytes.length): DerElement {
  if (offset + 2 > limit) throw new DerSyntaxError(`truncated element at offset ${offset}`);
  const tag = bytes[offset]!;
  if ((tag & 0x1f) === 0x1f) throw new DerSyntaxError(`multi-byte tag at offset ${offset}`);
  const first = bytes[offset + 1]!;
  let length = first;
  let contentStart = offset + 2;
  if (first >= 0x80) {
    const count = first & 0x7f;
    if (count === 0 || count > 4) throw new DerSyntaxError(`unsupported length form at offset ${offset}`);
    if (contentStart + count > limit) throw new DerSyntaxError(`truncated length at offset ${offset}`);
    length = 0;
    for (let i = 0; i < count; i++) length = length * 256 + bytes[contentStart + i]!;
    contentStart += count;
    // X.690 §10.1: the shortest form, so a long form is for 128 and up, without a leading zero byte.
    if (length < 0x80 || bytes[offset + 2] === 0) {
      throw new DerSyntaxError(`non-minimal length at offset ${offset}`);
    }
  }
  const end = contentStart + length;
  if (end > limit) throw new DerSyntaxError(`element at offset ${offset} runs past its container`);
  return { tag, start: offset, contentStart, end };
}

/** The elements inside a constructed element, which must fill it exactly. */
export function readChildren(bytes: Uint8Array, parent: DerElement): DerElement[] {
  const children: DerElement[] = [];
  for (let offset = parent.contentStart; offset < parent.end;) {
    const child = readElement(bytes, offset, parent.end);
    children.push(child);
    offset = child.end;
  }
  return children;
}

/** Reads the one element that must make up all of `bytes`. */
export function readWhole(bytes: Uint8Array, tag: number): DerElement {
  const element = readElement(bytes, 0);
  if (element.tag !== tag)
    throw new DerSyntaxError(`expected tag 0x${hex(tag)}, received 0x${hex(element.tag)}`);
  if (element.end !== bytes.length)
    throw new DerSyntaxError(`${bytes.length - element.end} bytes after the element`);
  return element;
}

export function elementBytes(bytes: Uint8Array, element: DerElement): Uint8Array {
  return bytes.subarray(element.start, element.end);
}

export function contentBytes(bytes: Uint8Array, element: DerElement): Uint8Array {
  return bytes.subarray(element.contentStart, element.end);
}

/** A DER element with tag `tag` around `parts`. */
export function encodeElement(tag: number, parts: readonly Uint8Array[]): Uint8Array {
  const length = parts.reduce((total, part) => total + part.length, 0);
  const lengthBytes: number[] = [];
  if (length < 0x80) {
    lengthBytes.push(length);
  } else {
    for (let rest = length; rest > 0; rest = Math.floor(rest / 256)) lengthBytes.unshift(rest % 256);
    lengthBytes.unshift(0x80 | lengthBytes.length);
  }
  const out = new Uint8Array(1 + lengthBytes.length + length);
  out[0] = tag;
  out.set(lengthBytes, 1);
  let offset = 1 + lengthBytes.length;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

const decodedOids = new Map<string, string>();
/** Most remembered OIDs: certificates repeat a few dozen; a hostile input cannot grow the map past this. */
const MAX_DECODED_OIDS = 1024;

/**
 * The dotted form of an OBJECT IDENTIFIER's contents (X.690 §8.19). Remembered by their bytes: every
 * certificate read repeats the same few OIDs, and decoding was the largest cost of parsing one.
 */
export function decodeOid(content: Uint8Array): string {
  let key = ''; // a loop: four times faster than String.fromCharCode(...content) here
  for (let i = 0; i < content.length; i++) key += String.fromCharCode(content[i]!);
  let dotted = decodedOids.get(key);
  if (dotted === undefined) {
    dotted = decodeOidBytes(content);
    if (decodedOids.size < MAX_DECODED_OIDS) decodedOids.set(key, dotted);
  }
  return dotted;
}

function decodeOidBytes(content: Uint8Array): string {
  if (content.length === 0 || content[content.length - 1]! & 0x80) {
    throw new DerSyntaxError('truncated object identifier');
  }
  const arcs: number[] = [];
  let value = 0;
  for (let i = 0; i < content.length; i++) {
    const byte = content[i]!;
    if (value === 0 && byte === 0x80) throw new DerSyntaxError('non-minimal object identifier arc');
    value = value * 128 + (byte & 0x7f);
    if (!Number.isSafeInteger(value)) throw new DerSyntaxError('object identifier arc too large');
    if ((byte & 0x80) === 0) {
      arcs.push(value);
      value = 0;
    }
  }
  const first = arcs[0]!;
  const head = first < 40 ? [0, first] : first < 80 ? [1, first - 40] : [2, first - 80];
  return [...head, ...arcs.slice(1)].join('.');
}

const oidCache = new Map<string, Uint8Array>();

/** DER OBJECT IDENTIFIER of a dotted string (X.690 §8.19), cached: a service encodes the same few. */
export function encodeOid(oid: string): Uint8Array {
  let der = oidCache.get(oid);
  if (der) return der;
  const arcs = oid.split('.').map(Number);
  if (arcs.length < 2 || arcs.some((arc) => !Number.isSafeInteger(arc) || arc < 0)) {
    throw new TypeError(`oid: expected a dotted OBJECT IDENTIFIER, received ${oid}`);
  }
  const bytes: number[] = [];
  const push = (arc: number) => {
    const group = [arc & 0x7f];
    for (let rest = Math.floor(arc / 128); rest > 0; rest = Math.floor(rest / 128)) {
      group.unshift((rest & 0x7f) | 0x80);
    }
    bytes.push(...group);
  };
  push(arcs[0]! * 40 + arcs[1]!);
  for (const arc of arcs.slice(2)) push(arc);
  der = encodeElement(DerTag.oid, [new Uint8Array(bytes)]);
  oidCache.set(oid, der);
  return der;
}

/** True when `bytes` is exactly one DER element, with nothing after it. */
export function isSingleDerElement(bytes: Uint8Array): boolean {
  try {
    return readElement(bytes, 0).end === bytes.length;
  } catch {
    return false;
  }
}

function hex(value: number): string {
  return value.toString(16).padStart(2, '0');
}
