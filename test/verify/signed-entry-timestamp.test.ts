import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { TlogEntry } from '../../src/verify/bundle.types.ts';
import { verifySignedEntryTimestamp } from '../../src/verify/signed-entry-timestamp.ts';
import type { TransparencyLogInstance } from '../../src/verify/trust.types.ts';
import { failsWith, flipByte, loadTlogCase } from './tlog-fixtures.ts';

/** Cases whose SET the log really signed (their READMEs state other reasons for any failure). */
const SIGNED = [
  'happy-path-v0.1',
  'happy-path-v0.2',
  'happy-path-v0.3',
  'happy-path-v0.3-new-mediaType',
  'happy-path-intoto-in-dsse-v3',
  'intoto-with-custom-trust-root',
  'managed-key-happy-path',
  'managed-key-and-trusted-root',
  'trust-root-tlog-validity-end-inclusive',
  'dsse-mismatch-envelope_fail',
  'wrong-hashedrekord-entry_fail',
];

describe('verifySignedEntryTimestamp', () => {
  for (const name of SIGNED) {
    it(`accepts the SET of ${name}`, () => {
      const { entry, log } = loadTlogCase(name);
      verifySignedEntryTimestamp(entry, log);
    });
  }

  describe('when the SET signature is invalid (set-invalid-signature_fail)', () => {
    it('rejects the entry with VERIFY_TLOG_SET_ERROR', () => {
      const { entry, log } = loadTlogCase('set-invalid-signature_fail');
      assert.throws(() => verifySignedEntryTimestamp(entry, log), failsWith('VERIFY_TLOG_SET_ERROR'));
    });
  });

  describe('when the integrated time is the last instant of the log key validity', () => {
    it('accepts the entry, the end being inclusive (trust-root-tlog-validity-end-inclusive)', () => {
      const { entry, log } = loadTlogCase('trust-root-tlog-validity-end-inclusive');
      assert.equal(log.publicKey.validFor.end, entry.integratedTime * 1000);
      verifySignedEntryTimestamp(entry, log);
    });
  });

  describe('when the log key expired one second before the integrated time', () => {
    it('rejects the entry with VERIFY_TLOG_UNTRUSTED', () => {
      const { entry, log } = loadTlogCase('happy-path-v0.3');
      const end = entry.integratedTime * 1000 - 1000;
      const expired = { ...log, publicKey: { ...log.publicKey, validFor: { start: 0, end } } };
      assert.throws(() => verifySignedEntryTimestamp(entry, expired), failsWith('VERIFY_TLOG_UNTRUSTED'));
    });
  });

  describe('when the log key became valid after the integrated time', () => {
    it('rejects the entry with VERIFY_TLOG_UNTRUSTED', () => {
      const { entry, log } = loadTlogCase('happy-path-v0.3');
      const start = entry.integratedTime * 1000 + 1;
      const future = { ...log, publicKey: { ...log.publicKey, validFor: { start, end: Infinity } } };
      assert.throws(() => verifySignedEntryTimestamp(entry, future), failsWith('VERIFY_TLOG_UNTRUSTED'));
    });
  });

  describe('when the entry has no SET (Rekor v2)', () => {
    it('rejects the entry with VERIFY_TLOG_SET_ERROR', () => {
      const { entry, log } = loadTlogCase('rekor2-happy-path');
      assert.throws(() => verifySignedEntryTimestamp(entry, log), failsWith('VERIFY_TLOG_SET_ERROR'));
    });
  });

  describe('when the SET is checked with another log key', () => {
    it('rejects the entry with VERIFY_TLOG_SET_ERROR', () => {
      const { entry } = loadTlogCase('happy-path-v0.3');
      const { log: other } = loadTlogCase('rekor2-happy-path');
      assert.throws(() => verifySignedEntryTimestamp(entry, other), failsWith('VERIFY_TLOG_SET_ERROR'));
    });
  });

  describe('when any signed field of the entry changes', () => {
    const { entry, log } = loadTlogCase('happy-path-v0.3');
    const variants: [string, TlogEntry][] = [
      ['integratedTime', { ...entry, integratedTime: entry.integratedTime + 1 }],
      ['logIndex', { ...entry, logIndex: entry.logIndex + 1 }],
      ['body', { ...entry, canonicalizedBody: flipByte(entry.canonicalizedBody, 10) }],
      ['logId', { ...entry, logId: flipByte(entry.logId, 31) }],
    ];
    for (const [field, changed] of variants) {
      it(`rejects a changed ${field} with VERIFY_TLOG_SET_ERROR`, () => {
        assert.throws(() => verifySignedEntryTimestamp(changed, log), failsWith('VERIFY_TLOG_SET_ERROR'));
      });
    }
  });

  describe('when any byte of the SET is flipped', () => {
    it('rejects every variant with VERIFY_TLOG_SET_ERROR and never throws anything else', () => {
      const { entry, log } = loadTlogCase('happy-path-v0.3');
      const set = entry.signedEntryTimestamp ?? new Uint8Array();
      assert.ok(set.length > 60);
      for (let index = 0; index < set.length; index++) {
        const changed: TlogEntry = { ...entry, signedEntryTimestamp: flipByte(set, index) };
        assert.throws(() => verifySignedEntryTimestamp(changed, log), failsWith('VERIFY_TLOG_SET_ERROR'));
      }
    });

    it('rejects a truncated or extended SET with VERIFY_TLOG_SET_ERROR', () => {
      const { entry, log } = loadTlogCase('happy-path-v0.3');
      const set = entry.signedEntryTimestamp ?? new Uint8Array();
      for (const changed of [
        set.subarray(0, set.length - 1),
        Uint8Array.from([...set, 0]),
        new Uint8Array(),
      ]) {
        assert.throws(
          () => verifySignedEntryTimestamp({ ...entry, signedEntryTimestamp: changed }, log),
          failsWith('VERIFY_TLOG_SET_ERROR'),
        );
      }
    });
  });

  describe('when the log key is declared as one node:crypto cannot verify with (Ed25519ph)', () => {
    it('rejects the entry with VERIFY_TLOG_SET_ERROR instead of throwing', () => {
      const { entry, log } = loadTlogCase('happy-path-v0.3');
      const unsupported: TransparencyLogInstance = {
        ...log,
        publicKey: { ...log.publicKey, details: 'PKIX_ED25519_PH' },
      };
      assert.throws(() => verifySignedEntryTimestamp(entry, unsupported), failsWith('VERIFY_TLOG_SET_ERROR'));
    });
  });
});
