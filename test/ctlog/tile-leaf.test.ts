import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import {
  CtError,
  encodeLeafIndexExtension,
  encodeTileLeaf,
  encodeTimestampedEntry,
  merkleLeafHash,
  parseDataTile,
  timestampedEntryOf,
  type TileLeaf,
} from '../../src/ctlog/index.ts';

const fingerprint = (fill: number) => new Uint8Array(32).fill(fill);

const certificateLeaf: TileLeaf = {
  timestamp: 1_760_000_000_001,
  signedEntry: { kind: 'x509', certificate: Uint8Array.of(0x30, 0x01, 0x00) },
  extensions: encodeLeafIndexExtension(7),
  chainFingerprints: [fingerprint(1), fingerprint(2)],
};

const precertLeaf: TileLeaf = {
  timestamp: 1_760_000_000_002,
  signedEntry: { kind: 'precert', issuerKeyHash: fingerprint(9), tbsCertificate: Uint8Array.of(0x30, 0x00) },
  extensions: encodeLeafIndexExtension(8),
  precertificate: Uint8Array.of(0x30, 0x02, 0x05, 0x00),
  chainFingerprints: [fingerprint(3)],
};

describe('TileLeaf (static-ct-api §Log entries)', () => {
  it('lays out a certificate entry as TimestampedEntry then the chain fingerprints', () => {
    const hex = Buffer.from(encodeTileLeaf(certificateLeaf)).toString('hex');
    const expected = [
      '00000199c82cc001', // uint64 timestamp (ms)
      '0000', // entry_type x509_entry
      '000003300100', // ASN.1Cert, u24 length
      '0008' + '0000050000000007', // CtExtensions: leaf_index 7
      '0040' + '01'.repeat(32) + '02'.repeat(32), // Fingerprint certificate_chain<0..2^16-1>
    ].join('');
    assert.equal(hex, expected);
  });

  it('lays out a precert entry with the issuer key hash, the TBSCertificate and the precertificate', () => {
    const hex = Buffer.from(encodeTileLeaf(precertLeaf)).toString('hex');
    const expected = [
      '00000199c82cc002',
      '0001', // precert_entry
      '09'.repeat(32), // issuer_key_hash
      '0000023000', // TBSCertificate, u24 length
      '0008' + '0000050000000008',
      '00000430020500', // pre_certificate, u24 length
      '0020' + '03'.repeat(32),
    ].join('');
    assert.equal(hex, expected);
  });

  it('parses a data tile back into its entries', () => {
    const tile = Buffer.concat([encodeTileLeaf(certificateLeaf), encodeTileLeaf(precertLeaf)]);
    const parsed = parseDataTile(new Uint8Array(tile));
    assert.equal(parsed.length, 2);
    assert.deepEqual(parsed[0], { ...certificateLeaf });
    assert.deepEqual(parsed[1], { ...precertLeaf });
  });

  it('hashes the MerkleTreeLeaf around the TimestampedEntry (RFC 6962 §3.4, §2.1)', () => {
    const stored = encodeTileLeaf(precertLeaf);
    const entry = timestampedEntryOf(stored);
    assert.deepEqual(entry, encodeTimestampedEntry(precertLeaf));
    const byHand = createHash('sha256')
      .update(Uint8Array.of(0x00, 0x00, 0x00))
      .update(entry)
      .digest();
    assert.deepEqual(Buffer.from(merkleLeafHash(entry)), byHand);
  });

  for (const [name, bytes] of [
    ['a truncated entry', encodeTileLeaf(certificateLeaf).subarray(0, 20)],
    ['an unknown entry type', Uint8Array.of(0, 0, 0, 0, 0, 0, 0, 1, 0, 2)],
    [
      'fingerprints that are not 32 bytes each',
      Uint8Array.of(...encodeTimestampedEntry(certificateLeaf), 0, 1, 0xff),
    ],
  ] as const) {
    it(`refuses ${name} with CT_ENCODING_INVALID`, () => {
      assert.throws(
        () => parseDataTile(bytes),
        (error: unknown) => error instanceof CtError && error.code === 'CT_ENCODING_INVALID',
      );
    });
  }
});
