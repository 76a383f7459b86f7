import { hash } from 'node:crypto';

// One-shot crypto.hash (Node ≥ 20.12): about twice as fast as createHash for the short inputs here.

export function sha256(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(hash('sha256', bytes, 'buffer'));
}

export function sha256Hex(bytes: Uint8Array): string {
  return hash('sha256', bytes, 'hex');
}
