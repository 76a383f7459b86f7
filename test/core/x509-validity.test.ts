import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { decodePem, parseCertificate } from '../../src/core/index.ts';
import { DEFAULT_SANS, selfSignedCertificate, testKey } from '../log/entries/fixtures.ts';
import { vectorPath } from '../tools/vectors.ts';

// The validity times of certificates (RFC 5280 §4.1.2.5), read from real certificates: the public-good
// Fulcio root (UTCTime) and one openssl makes to outlive 2049 (GeneralizedTime); malformed times are
// the root's own bytes changed in place, so every length in the DER stays right.

const ROOT_PEM = readFileSync(vectorPath('fulcio-certs/public-good-fulcio-2022-root.pem'), 'utf8');
const root = decodePem(ROOT_PEM)[0]!.der;

/** `der` with the first occurrence of the ASCII `from` replaced by `to` (same length). */
function patched(der: Uint8Array, from: string, to: string): Uint8Array {
  const at = Buffer.from(der).indexOf(from, 0, 'latin1');
  assert.ok(at >= 0, `${from} is in the certificate`);
  assert.equal(to.length, from.length);
  const copy = Uint8Array.from(der);
  copy.set(Buffer.from(to, 'latin1'), at);
  return copy;
}

describe('certificate validity times', () => {
  it('reads UTCTime as openssl does', () => {
    const certificate = parseCertificate(root, 'root');
    assert.equal(certificate.notBefore, Date.UTC(2021, 9, 7, 13, 56, 59)); // Oct  7 13:56:59 2021 GMT
    assert.equal(certificate.notAfter, Date.UTC(2031, 9, 5, 13, 56, 58)); // Oct  5 13:56:58 2031 GMT
  });

  it('puts two-digit years 50–99 in the 1900s and 00–49 in the 2000s', () => {
    assert.equal(
      parseCertificate(patched(root, '211007135659Z', '500101000000Z'), 'root').notBefore,
      Date.UTC(1950, 0, 1),
    );
    assert.equal(
      parseCertificate(patched(root, '311005135658Z', '491231235959Z'), 'root').notAfter,
      Date.UTC(2049, 11, 31, 23, 59, 59),
    );
  });

  it('reads GeneralizedTime (a notAfter past 2049)', () => {
    const before = Date.now();
    const certificate = parseCertificate(
      selfSignedCertificate(testKey('p256'), DEFAULT_SANS, 40 * 365).der,
      'certificate',
    );
    const day = 24 * 60 * 60 * 1000;
    assert.ok(Math.abs(certificate.notAfter - (before + 40 * 365 * day)) < 2 * 60 * 1000);
    assert.ok(new Date(certificate.notAfter).getUTCFullYear() > 2049);
  });

  for (const [label, time, reason] of [
    ['a non-digit', '2110071356a9Z', 'expected UTCTime or GeneralizedTime'],
    ['a local time without Z', '2110071356590', 'expected UTCTime or GeneralizedTime'],
    ['February 30', '210230135659Z', 'not a calendar time'],
    ['month 13', '211307135659Z', 'not a calendar time'],
    ['hour 24', '211007245659Z', 'not a calendar time'],
    ['second 60', '211007135660Z', 'not a calendar time'],
  ] as const) {
    it(`refuses ${label}, naming the field`, () => {
      assert.throws(
        () => parseCertificate(patched(root, '211007135659Z', time), 'root'),
        (error: Error) => error.message.includes('validity.notBefore') && error.message.includes(reason),
      );
    });
  }

  it('refuses a GeneralizedTime with a UTCTime length', () => {
    const der = Uint8Array.from(root);
    const at = Buffer.from(der).indexOf('211007135659Z', 0, 'latin1');
    der[at - 2] = 0x18; // the tag of notBefore: now a 13-byte GeneralizedTime
    assert.throws(
      () => parseCertificate(der, 'root'),
      /validity\.notBefore: expected UTCTime or GeneralizedTime, received "211007135659Z"/,
    );
  });
});
