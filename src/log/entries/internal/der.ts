/**
 * A minimal DER (X.690 §10) reader: definite lengths, low tag numbers. Enough to walk certificate
 * extensions and check an encoding has no trailing bytes; node:crypto does the real X.509 parsing.
 * Every read is bounds-checked and throws a RangeError on malformed input.
 */

export interface DerNode {
  /** The identifier octet (class, constructed bit and tag number). */
  readonly tag: number;
  /** Offset of the identifier octet. */
  readonly start: number;
  /** Offset of the first content octet. */
  readonly contentStart: number;
  /** Offset just past the last content octet. */
  readonly end: number;
}

export function readDerNode(bytes: Uint8Array, offset: number, limit = bytes.length): DerNode {
  if (offset + 2 > limit) throw new RangeError('der: truncated header');
  const tag = bytes[offset]!;
  if ((tag & 0x1f) === 0x1f) throw new RangeError('der: high tag numbers are not supported');
  let cursor = offset + 1;
  const first = bytes[cursor++]!;
  let length = first;
  if (first & 0x80) {
    const count = first & 0x7f;
    if (count === 0 || count > 4) throw new RangeError('der: unsupported length encoding');
    if (cursor + count > limit) throw new RangeError('der: truncated length');
    length = 0;
    for (let index = 0; index < count; index++) length = length * 256 + bytes[cursor++]!;
    if (length < 0x80 || (count > 1 && length < 1 << (8 * (count - 1))))
      throw new RangeError('der: non-minimal length');
  }
  const end = cursor + length;
  if (end > limit) throw new RangeError('der: content runs past its container');
  return { tag, start: offset, contentStart: cursor, end };
}

/** The nodes directly inside a constructed node, in order. */
export function readDerChildren(bytes: Uint8Array, parent: DerNode): DerNode[] {
  const children: DerNode[] = [];
  let offset = parent.contentStart;
  while (offset < parent.end) {
    const child = readDerNode(bytes, offset, parent.end);
    children.push(child);
    offset = child.end;
  }
  return children;
}

/** True when `bytes` is exactly one DER element, with nothing after it. */
export function isSingleDerElement(bytes: Uint8Array): boolean {
  try {
    return readDerNode(bytes, 0).end === bytes.length;
  } catch {
    return false;
  }
}

export function derContent(bytes: Uint8Array, node: DerNode): Uint8Array {
  return bytes.subarray(node.contentStart, node.end);
}

export function sameBytes(left: Uint8Array, right: Uint8Array): boolean {
  if (left.length !== right.length) return false;
  for (let index = 0; index < left.length; index++) if (left[index] !== right[index]) return false;
  return true;
}
