import { LogError } from '../errors.ts';
import { preview } from './schema-validation.ts';

/**
 * protojson `bytes` fields: standard base64, or URL-safe base64 when the text contains `-` or `_`,
 * padded when the length is a multiple of four and unpadded otherwise (google.golang.org/protobuf
 * `encoding/protojson` decode.go unmarshalBytes). The log re-encodes what it stores as padded standard
 * base64, which is what protojson writes. DSSE payloads use the same rule: the DSSE spec allows
 * either alphabet (secure-systems-lab/dsse `envelope.md`).
 */
export function decodeProtoBytes(
  text: string,
  field: string,
  expected = 'base64 (protojson bytes)',
): Uint8Array {
  const urlSafe = /[-_]/.test(text);
  const padded = text.length % 4 === 0;
  const body = padded ? text.replace(/={1,2}$/, '') : text;
  const alphabet = urlSafe ? /^[A-Za-z0-9_-]*$/ : /^[A-Za-z0-9+/]*$/;
  const padding = text.length - body.length;
  const valid =
    alphabet.test(body) && body.length % 4 !== 1 && (!padded || padding === (4 - (body.length % 4)) % 4);
  if (!valid) {
    throw new LogError('LOG_ENTRY_INVALID', `${field}: expected ${expected}, received ${preview(text)}`);
  }
  const buffer = Buffer.from(body, urlSafe ? 'base64url' : 'base64');
  return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
}
