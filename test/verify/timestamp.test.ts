// The judge: the RFC 3161 timestamps of the sigstore-conformance bundles (shared/vectors, each case's
// README states its outcome), verified against the TSAs of each case's own trusted root.
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { describe, it } from 'node:test';
import { VerificationError } from '../../src/verify/errors.ts';
import { parseTimestampToken } from '../../src/verify/internal/cms.ts';
import { verifyRfc3161Timestamp } from '../../src/verify/timestamp.ts';
import type { CertificateAuthority } from '../../src/verify/trust.types.ts';
import { seeded } from '../tools/malformed.ts';
import { vectorPath } from '../tools/vectors.ts';
import { loadTimestampCase, type TimestampCase } from './timestamp-fixtures.ts';

function refusesWith(pattern?: RegExp) {
  return (error: unknown) => {
    assert.ok(error instanceof VerificationError, `expected a VerificationError, received ${String(error)}`);
    assert.equal(error.code, 'VERIFY_TIMESTAMP_ERROR', error.message);
    if (pattern) assert.match(error.message, pattern);
    return true;
  };
}

function verifyCase(testCase: TimestampCase, authorities = testCase.authorities) {
  return verifyRfc3161Timestamp(testCase.token, testCase.signature, authorities);
}

const embedded = loadTimestampCase('rekor2-timestamp-with-embedded-cert');
const withoutEmbedded = loadTimestampCase('rekor2-timestamp-without-embedded-cert');

describe('verifyRfc3161Timestamp', () => {
  describe('when a trusted TSA issued the timestamp over the signature', () => {
    const cases: [string, string, string][] = [
      ['with its certificate embedded', 'rekor2-timestamp-with-embedded-cert', '2025-08-06T18:51:36Z'],
      ['without an embedded certificate', 'rekor2-timestamp-without-embedded-cert', '2025-08-06T19:03:51Z'],
      [
        'by a TSA whose chain has expired since',
        'rekor2-timestamp-with-expired-cert-chain',
        '2025-08-07T15:32:26Z',
      ],
      [
        'exactly at the end of the TSA validFor',
        'trust-root-tsa-validity-end-inclusive',
        '2025-06-12T12:02:20Z',
      ],
      // These two fail later, at the signing certificate's validity: the timestamp itself is good.
      [
        'outside the signing certificate lifetime',
        'rekor2-timestamp-with-incorrect-time_fail',
        '2025-07-15T10:33:31Z',
      ],
      ['over a DSSE signature', 'intoto-tsa-timestamp-outside-cert-validity_fail', '2023-02-02T00:00:00Z'],
    ];
    for (const [what, name, time] of cases) {
      it(`returns genTime and the TSA for a timestamp ${what} (${name})`, () => {
        const testCase = loadTimestampCase(name);
        const verified = verifyCase(testCase);
        assert.equal(verified.time, Date.parse(time));
        assert.ok(testCase.authorities.includes(verified.authority));
      });
    }

    it('verifies the timestamp of every other conformance bundle that carries one', () => {
      const dir = vectorPath('sigstore-conformance/bundle-verify');
      const refused = new Set([
        'rekor2-timestamp-outside-trust-root-tsa-validity_fail',
        'rekor2-timestamp-outside-tsa-cert-validity_fail',
        'rekor2-timestamp-payload-mismatch_fail',
        'rekor2-timestamp-untrusted-tsa-with-embedded-cert_fail',
        'rekor2-timestamp-untrusted-tsa-without-embedded-cert_fail',
      ]);
      let verified = 0;
      for (const name of readdirSync(dir)) {
        if (refused.has(name) || name === 'rekor2-no-timestamp_fail') continue;
        let testCase: TimestampCase;
        try {
          testCase = loadTimestampCase(name);
        } catch {
          continue; // no timestamp in this bundle
        }
        assert.doesNotThrow(() => verifyCase(testCase), name);
        verified++;
      }
      assert.ok(verified >= 25, `expected at least 25 timestamped bundles, found ${verified}`);
    });

    it('accepts the bare TimeStampToken as well as the TimeStampResp around it', () => {
      const token = parseTimestampToken(embedded.token);
      // TimeStampResp ::= SEQUENCE { status (30 03 02 01 00), timeStampToken }: the token follows the status.
      const bare = embedded.token.subarray(4 + 5);
      assert.equal(bare[0], 0x30);
      assert.deepEqual(parseTimestampToken(bare).tstInfo, token.tstInfo);
      assert.equal(
        verifyRfc3161Timestamp(bare, embedded.signature, embedded.authorities).time,
        token.tstInfo.genTime,
      );
    });

    it('returns the TSA that vouches for it when untrusted TSAs come first', () => {
      const production = loadTimestampCase('managed-key-happy-path').authorities;
      const verified = verifyCase(embedded, [...production, ...embedded.authorities]);
      assert.equal(verified.authority, embedded.authorities[0]);
    });
  });

  describe('when no trusted TSA vouches for the timestamp', () => {
    const cases: [string, string, RegExp][] = [
      [
        'genTime is after the TSA validFor end',
        'rekor2-timestamp-outside-trust-root-tsa-validity_fail',
        /outside its validFor/,
      ],
      [
        'the TSA certificate had expired at genTime',
        'rekor2-timestamp-outside-tsa-cert-validity_fail',
        /does not hold genTime/,
      ],
      [
        'an untrusted TSA embedded its certificate',
        'rekor2-timestamp-untrusted-tsa-with-embedded-cert_fail',
        /neither its leaf nor issued by its chain/,
      ],
      [
        'an untrusted TSA embedded no certificate',
        'rekor2-timestamp-untrusted-tsa-without-embedded-cert_fail',
        /does not name its leaf/,
      ],
    ];
    for (const [what, name, pattern] of cases) {
      it(`rejects it with VERIFY_TIMESTAMP_ERROR when ${what} (${name})`, () => {
        assert.throws(() => verifyCase(loadTimestampCase(name)), refusesWith(pattern));
      });
    }

    it('rejects it one millisecond past the TSA validFor end, the end being inclusive', () => {
      const authority = embedded.authorities[0]!;
      const end = Date.parse('2025-08-06T18:51:36Z');
      assert.equal(
        verifyCase(embedded, [{ ...authority, validFor: { ...authority.validFor, end } }]).time,
        end,
      );
      assert.throws(
        () => verifyCase(embedded, [{ ...authority, validFor: { ...authority.validFor, end: end - 1 } }]),
        refusesWith(/outside its validFor/),
      );
    });

    it('rejects it before the TSA validFor start', () => {
      const authority = embedded.authorities[0]!;
      const start = Date.parse('2025-08-06T18:51:37Z');
      assert.throws(
        () => verifyCase(embedded, [{ ...authority, validFor: { start, end: Infinity } }]),
        refusesWith(/outside its validFor/),
      );
    });

    it('rejects it when the trusted root has no TSA', () => {
      assert.throws(() => verifyCase(embedded, []), refusesWith(/no timestamp authority/));
    });

    it('rejects it when the TSA certChain is not a chain (leaf and root swapped)', () => {
      const authority: CertificateAuthority = {
        ...embedded.authorities[0]!,
        chain: [...embedded.authorities[0]!.chain].reverse(),
      };
      assert.throws(
        () => verifyCase(withoutEmbedded, [authority]),
        refusesWith(/certChain\[0\] is not signed by certChain\[1\]/),
      );
    });
  });

  describe('when the timestamp is for other bytes', () => {
    it('rejects a timestamp of another signature as a payload mismatch (rekor2-timestamp-payload-mismatch_fail)', () => {
      assert.throws(
        () => verifyCase(loadTimestampCase('rekor2-timestamp-payload-mismatch_fail')),
        refusesWith(/payload mismatch/),
      );
    });

    it('rejects a valid timestamp given another bundle’s signature', () => {
      assert.throws(
        () => verifyRfc3161Timestamp(embedded.token, withoutEmbedded.signature, embedded.authorities),
        refusesWith(/payload mismatch/),
      );
    });
  });

  describe('when the token is altered', () => {
    for (const [label, testCase] of [
      ['with an embedded certificate', embedded],
      ['without an embedded certificate', withoutEmbedded],
    ] as const) {
      const token = parseTimestampToken(testCase.token);
      const signedAttributes = token.signer.signedAttributes;
      const regions: [string, number, number][] = [
        ['TSTInfo', offsetOf(testCase.token, token.tstInfo.der), token.tstInfo.der.length],
        ['signature', offsetOf(testCase.token, token.signer.signature), token.signer.signature.length],
        // Parsed as a copy (re-tagged 0x31); found again by its contents.
        [
          'signed attributes',
          Buffer.from(testCase.token).indexOf(signedAttributes.subarray(1)) - 1,
          signedAttributes.length,
        ],
      ];
      for (const [name, start, length] of regions) {
        it(`rejects every byte flip of the ${name} (${label}) with VERIFY_TIMESTAMP_ERROR`, () => {
          assert.ok(start > 0);
          for (let offset = start; offset < start + length; offset++) {
            const altered = Uint8Array.from(testCase.token);
            altered[offset]! ^= 0xff;
            assert.throws(
              () => verifyRfc3161Timestamp(altered, testCase.signature, testCase.authorities),
              refusesWith(),
              `byte ${offset}`,
            );
          }
        });
      }

      it(`throws nothing but VerificationError for a flip of any byte (${label}), or verifies the same time`, () => {
        for (let offset = 0; offset < testCase.token.length; offset++) {
          const altered = Uint8Array.from(testCase.token);
          altered[offset]! ^= 0x01;
          try {
            const verified = verifyRfc3161Timestamp(altered, testCase.signature, testCase.authorities);
            // Unsigned fields (SignedData.version, digestAlgorithms, SignerInfo.version) may change.
            assert.equal(verified.time, token.tstInfo.genTime, `byte ${offset}`);
          } catch (error) {
            refusesWith()(error);
          }
        }
      });
    }

    it('rejects every truncation of a token with VERIFY_TIMESTAMP_ERROR', () => {
      for (let length = 0; length < embedded.token.length; length++) {
        assert.throws(
          () =>
            verifyRfc3161Timestamp(
              embedded.token.subarray(0, length),
              embedded.signature,
              embedded.authorities,
            ),
          refusesWith(),
          `length ${length}`,
        );
      }
    });

    it('rejects a token with a byte after it', () => {
      const longer = Uint8Array.from([...embedded.token, 0]);
      assert.throws(
        () => verifyRfc3161Timestamp(longer, embedded.signature, embedded.authorities),
        refusesWith(/DER/),
      );
    });

    it('rejects a response whose status is rejection (2)', () => {
      const rejected = Uint8Array.from(embedded.token);
      assert.equal(rejected[8], 0x00); // TimeStampResp.status.status
      rejected[8] = 0x02;
      assert.throws(
        () => verifyRfc3161Timestamp(rejected, embedded.signature, embedded.authorities),
        refusesWith(/granted/),
      );
    });

    it('rejects garbage with VERIFY_TIMESTAMP_ERROR', () => {
      const random = seeded(3161);
      const inputs: Uint8Array[] = [
        new Uint8Array(0),
        Uint8Array.of(0x30, 0x00),
        Uint8Array.of(0x30, 0x03, 0x02, 0x01, 0x00),
        Uint8Array.of(0x30, 0x80, 0x00, 0x00),
        Uint8Array.of(0x04, 0x00),
        new TextEncoder().encode('not a timestamp'),
      ];
      for (let i = 0; i < 200; i++) {
        const bytes = Uint8Array.from({ length: Math.floor(random() * 64) }, () =>
          Math.floor(random() * 256),
        );
        if (i % 2 === 0 && bytes.length > 2) bytes.set([0x30, bytes.length - 2]);
        inputs.push(bytes);
      }
      for (const input of inputs) {
        assert.throws(
          () => verifyRfc3161Timestamp(input, embedded.signature, embedded.authorities),
          refusesWith(),
        );
      }
    });
  });
});

/** Where `part` (a subarray of `whole`) starts in `whole`. */
function offsetOf(whole: Uint8Array, part: Uint8Array): number {
  assert.equal(part.buffer, whole.buffer, 'expected a subarray of the token');
  return part.byteOffset - whole.byteOffset;
}
