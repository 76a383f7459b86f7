import { createHash } from 'node:crypto';
import { CtError } from './errors.ts';

/**
 * What a CT log signs and stores, in the TLS presentation language of RFC 6962 §3.4 and C2SP
 * static-ct-api §Log entries:
 *
 *   TimestampedEntry = uint64 timestamp || uint16 entry_type || signed_entry || CtExtensions (u16 length)
 *     x509_entry(0):    signed_entry = ASN.1Cert (u24 length)
 *     precert_entry(1): signed_entry = opaque issuer_key_hash[32] || TBSCertificate (u24 length)
 *   MerkleTreeLeaf   = uint8 version v1(0) || uint8 leaf_type timestamped_entry(0) || TimestampedEntry
 *   TileLeaf         = TimestampedEntry || [precert: ASN.1Cert pre_certificate] || Fingerprint chain<u16>
 *
 * The SCT signature input (RFC 6962 §3.2) is `0x00 (v1) || 0x00 (certificate_timestamp) ||` the same
 * TimestampedEntry fields, so the MerkleTreeLeaf and the signed bytes coincide.
 */
export type SignedEntry =
  | { readonly kind: 'x509'; readonly certificate: Uint8Array }
  | {
      readonly kind: 'precert';
      /** SHA-256 of the issuer's SubjectPublicKeyInfo. */
      readonly issuerKeyHash: Uint8Array;
      /** The precertificate's TBSCertificate without the poison extension. */
      readonly tbsCertificate: Uint8Array;
    };

export interface TimestampedEntry {
  /** Milliseconds since the epoch. */
  readonly timestamp: number;
  readonly signedEntry: SignedEntry;
  /** CtExtensions: for static-ct-api, the leaf_index extension. */
  readonly extensions: Uint8Array;
}

/** One entry of a static-ct-api data tile. */
export interface TileLeaf extends TimestampedEntry {
  /** The precertificate as submitted; only for precert entries. */
  readonly precertificate?: Uint8Array;
  /** SHA-256 of each issuer of the chain, leaf's issuer first, up to the root. */
  readonly chainFingerprints: readonly Uint8Array[];
}

const ENTRY_TYPE = { x509: 0, precert: 1 } as const;
const LEAF_INDEX_EXTENSION = 0;
/** uint40: the largest leaf index an SCT can carry. */
const MAX_LEAF_INDEX = 2 ** 40 - 1;

/** static-ct-api §SCT Extension: `u8 leaf_index(0) || u16 length 5 || uint40 index` (8 bytes). */
export function encodeLeafIndexExtension(index: number): Uint8Array {
  if (!Number.isSafeInteger(index) || index < 0 || index > MAX_LEAF_INDEX) {
    throw new TypeError(`leaf index: expected an integer from 0 to 2^40-1, received ${index}`);
  }
  const out = new Uint8Array(8);
  out[2] = 5;
  new DataView(out.buffer).setUint32(4, index % 2 ** 32);
  out[3] = Math.floor(index / 2 ** 32);
  return out;
}

/**
 * The leaf index of a CtExtensions field, or undefined without a leaf_index extension. Throws
 * CT_ENCODING_INVALID for a malformed list, a repeated type (static-ct-api: MUST NOT) or a
 * leaf_index whose data is not 5 bytes.
 */
export function readLeafIndexExtension(extensions: Uint8Array): number | undefined {
  const reader = new TlsReader(extensions, 'sct extensions');
  const seen = new Set<number>();
  let index: number | undefined;
  while (!reader.done) {
    const type = reader.uint(1);
    const data = reader.bytes(reader.uint(2));
    if (seen.has(type)) throw invalid(`sct extensions: extension type ${type} appears twice`);
    seen.add(type);
    if (type !== LEAF_INDEX_EXTENSION) continue;
    if (data.length !== 5)
      throw invalid(`sct extensions: expected a 5-byte leaf_index, received ${data.length} bytes`);
    index = new TlsReader(data, 'leaf_index').uint(5);
  }
  return index;
}

export function encodeTimestampedEntry(entry: TimestampedEntry): Uint8Array {
  const writer = new TlsWriter();
  writer.uint(entry.timestamp, 8);
  writer.uint(ENTRY_TYPE[entry.signedEntry.kind], 2);
  if (entry.signedEntry.kind === 'x509') {
    writer.vector(entry.signedEntry.certificate, 3);
  } else {
    writer.raw(entry.signedEntry.issuerKeyHash);
    writer.vector(entry.signedEntry.tbsCertificate, 3);
  }
  writer.vector(entry.extensions, 2);
  return writer.finish();
}

export function encodeTileLeaf(leaf: TileLeaf): Uint8Array {
  const writer = new TlsWriter();
  writer.raw(encodeTimestampedEntry(leaf));
  if (leaf.signedEntry.kind === 'precert') {
    if (!leaf.precertificate)
      throw new TypeError('precertificate: expected the DER of a precert entry, received none');
    writer.vector(leaf.precertificate, 3);
  }
  writer.vector(concat(leaf.chainFingerprints), 2);
  return writer.finish();
}

/** The RFC 6962 §2.1 leaf hash of the MerkleTreeLeaf around `timestampedEntry`: SHA-256(0x00 || 0x00 0x00 || it). */
export function merkleLeafHash(timestampedEntry: Uint8Array): Uint8Array {
  return new Uint8Array(
    createHash('sha256')
      .update(Uint8Array.of(0, 0, 0))
      .update(timestampedEntry)
      .digest(),
  );
}

/** Parses a data tile (static-ct-api §Log entries) into its entries. Throws CT_ENCODING_INVALID. */
export function parseDataTile(tile: Uint8Array): TileLeaf[] {
  const reader = new TlsReader(tile, 'data tile');
  const leaves: TileLeaf[] = [];
  while (!reader.done) leaves.push(readTileLeaf(reader));
  return leaves;
}

/** The TimestampedEntry at the start of a stored TileLeaf, as bytes (what the leaf hash covers). */
export function timestampedEntryOf(tileLeaf: Uint8Array): Uint8Array {
  const reader = new TlsReader(tileLeaf, 'tile leaf');
  readTimestampedEntry(reader);
  return tileLeaf.subarray(0, reader.offset);
}

function readTileLeaf(reader: TlsReader): TileLeaf {
  const entry = readTimestampedEntry(reader);
  const precertificate = entry.signedEntry.kind === 'precert' ? reader.bytes(reader.uint(3)) : undefined;
  const fingerprints = reader.bytes(reader.uint(2));
  if (fingerprints.length % 32 !== 0) {
    throw invalid(`tile leaf: expected 32-byte fingerprints, received ${fingerprints.length} bytes`);
  }
  const chainFingerprints = Array.from({ length: fingerprints.length / 32 }, (_, i) =>
    fingerprints.subarray(32 * i, 32 * (i + 1)),
  );
  return { ...entry, ...(precertificate ? { precertificate } : {}), chainFingerprints };
}

function readTimestampedEntry(reader: TlsReader): TimestampedEntry {
  const timestamp = reader.uint(8);
  const type = reader.uint(2);
  let signedEntry: SignedEntry;
  if (type === ENTRY_TYPE.x509) {
    signedEntry = { kind: 'x509', certificate: reader.bytes(reader.uint(3)) };
  } else if (type === ENTRY_TYPE.precert) {
    const issuerKeyHash = reader.bytes(32);
    signedEntry = { kind: 'precert', issuerKeyHash, tbsCertificate: reader.bytes(reader.uint(3)) };
  } else {
    throw invalid(`timestamped entry: expected entry type 0 or 1, received ${type}`);
  }
  return { timestamp, signedEntry, extensions: reader.bytes(reader.uint(2)) };
}

/** Big-endian TLS reads (RFC 8446 §3) that fail with CT_ENCODING_INVALID instead of reading past the end. */
export class TlsReader {
  offset = 0;
  readonly #bytes: Uint8Array;
  readonly #field: string;

  constructor(bytes: Uint8Array, field: string) {
    this.#bytes = bytes;
    this.#field = field;
  }

  get done(): boolean {
    return this.offset === this.#bytes.length;
  }

  /** An unsigned integer of `size` bytes (at most 8, and at most 2^53-1). */
  uint(size: number): number {
    const bytes = this.bytes(size);
    let value = 0;
    for (const byte of bytes) value = value * 256 + byte;
    if (!Number.isSafeInteger(value))
      throw invalid(`${this.#field}: integer at offset ${this.offset - size} is too large`);
    return value;
  }

  bytes(length: number): Uint8Array {
    if (this.offset + length > this.#bytes.length) {
      throw invalid(
        `${this.#field}: expected ${length} more bytes at offset ${this.offset}, received ${this.#bytes.length - this.offset}`,
      );
    }
    const out = this.#bytes.subarray(this.offset, this.offset + length);
    this.offset += length;
    return out;
  }
}

class TlsWriter {
  readonly #parts: Uint8Array[] = [];

  uint(value: number, size: number): void {
    const out = new Uint8Array(size);
    for (let i = size - 1, rest = value; i >= 0; i--, rest = Math.floor(rest / 256)) out[i] = rest % 256;
    this.#parts.push(out);
  }

  raw(bytes: Uint8Array): void {
    this.#parts.push(bytes);
  }

  /** `bytes` behind a big-endian length of `lengthSize` bytes. */
  vector(bytes: Uint8Array, lengthSize: number): void {
    if (bytes.length >= 2 ** (8 * lengthSize)) {
      throw new TypeError(
        `expected at most ${2 ** (8 * lengthSize) - 1} bytes in a TLS vector, received ${bytes.length}`,
      );
    }
    this.uint(bytes.length, lengthSize);
    this.raw(bytes);
  }

  finish(): Uint8Array {
    return concat(this.#parts);
  }
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const joined = Buffer.concat(parts);
  return new Uint8Array(joined.buffer, joined.byteOffset, joined.byteLength);
}

function invalid(message: string): CtError {
  return new CtError('CT_ENCODING_INVALID', message);
}
