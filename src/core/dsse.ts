import { encodeUtf8 } from './encoding.ts';

/** DSSE v1 pre-authentication encoding (secure-systems-lab/dsse `protocol.md`). */
export function preAuthenticationEncoding(payloadType: string, payload: Uint8Array): Uint8Array {
  const type = encodeUtf8(payloadType);
  const header = encodeUtf8(`DSSEv1 ${type.length} `);
  const middle = encodeUtf8(` ${payload.length} `);
  const out = new Uint8Array(header.length + type.length + middle.length + payload.length);
  out.set(header, 0);
  out.set(type, header.length);
  out.set(middle, header.length + type.length);
  out.set(payload, header.length + type.length + middle.length);
  return out;
}
