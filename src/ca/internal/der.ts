import { encodeElement } from '../../core/index.ts';

/** DER UTF8String (tag 12). */
export function utf8String(value: string): Uint8Array {
  return encodeElement(0x0c, [Buffer.from(value, 'utf8')]);
}

/** The bytes as an ArrayBuffer of their own, as @peculiar/asn1-schema wants them. */
export function toArrayBuffer(bytes: ArrayBuffer | Uint8Array): ArrayBuffer {
  if (bytes instanceof ArrayBuffer) return bytes;
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
}
