import assert from 'node:assert/strict';
import { hash } from 'node:crypto';
import { describe, it } from 'node:test';
import { VerificationError } from '../../src/verify/errors.ts';
import { findTlog, keyValidAt, logNameFromBaseUrl, noteKeyHash } from '../../src/verify/tlog-instance.ts';
import type { TransparencyLogInstance } from '../../src/verify/trust.types.ts';
import { loadTlogCase, loadTrust } from './tlog-fixtures.ts';
import { vectorPath } from '../tools/vectors.ts';

const PRODUCTION_ROOT = vectorPath('npm-provenance/sigstore-tuf-trusted_root.json');

function isUntrusted(error: unknown): boolean {
  return error instanceof VerificationError && error.code === 'VERIFY_TLOG_UNTRUSTED';
}

describe('findTlog', () => {
  it('finds rekor.sigstore.dev for a production Rekor v1 entry by SHA-256 of its key', () => {
    const { entry, trust } = loadTlogCase('happy-path-v0.3');
    assert.equal(findTlog(entry, trust.tlogs).baseUrl, 'https://rekor.sigstore.dev');
  });

  it('finds the Rekor v2 shard of a staging entry by its checkpoint key ID', () => {
    const { entry, trust } = loadTlogCase('rekor2-happy-path');
    assert.equal(findTlog(entry, trust.tlogs).baseUrl, 'https://log2025-alpha1.rekor.sigstage.dev');
  });

  describe('when the entry comes from the staging instance and the root is production', () => {
    it('rejects it with VERIFY_TLOG_UNTRUSTED', () => {
      const { entry } = loadTlogCase('bundle-from-wrong-instance_fail');
      assert.throws(() => findTlog(entry, loadTrust(PRODUCTION_ROOT).tlogs), isUntrusted);
    });
  });

  describe('when the trusted root names a Rekor v2 log by the SHA-256 of its key', () => {
    const { entry, trust } = loadTlogCase('rekor2-happy-path');
    const v2 = findTlog(entry, trust.tlogs);
    const spkiHash = new Uint8Array(hash('sha256', v2.publicKey.der, 'buffer'));

    it('matches by the signed-note key ID computed from the base URL', () => {
      const log: TransparencyLogInstance = { ...v2, logId: spkiHash };
      assert.equal(findTlog(entry, [log]), log);
    });

    it('matches by checkpointKeyId when the root gives one', () => {
      const log: TransparencyLogInstance = { ...v2, logId: spkiHash, checkpointKeyId: entry.logId };
      assert.equal(findTlog(entry, [log]), log);
    });

    it('does not fall back to the computed key ID when checkpointKeyId names another key', () => {
      const log: TransparencyLogInstance = { ...v2, logId: spkiHash, checkpointKeyId: spkiHash };
      assert.throws(() => findTlog(entry, [log]), isUntrusted);
    });
  });

  it('rejects an entry against an empty list of logs with VERIFY_TLOG_UNTRUSTED', () => {
    const { entry } = loadTlogCase('happy-path-v0.3');
    assert.throws(() => findTlog(entry, []), isUntrusted);
  });
});

describe('noteKeyHash', () => {
  it('is the full 32-byte Ed25519 key hash rekor-tiles puts in logId', () => {
    const { entry, log } = loadTlogCase('rekor2-happy-path');
    assert.deepEqual(noteKeyHash(log, 'log2025-alpha1.rekor.sigstage.dev'), entry.logId);
  });

  it('is the SHA-256 of the DER key for ECDSA, whatever the name', () => {
    const { entry, log } = loadTlogCase('happy-path-v0.3');
    assert.deepEqual(noteKeyHash(log, 'any-name'), entry.logId);
  });
});

describe('logNameFromBaseUrl', () => {
  it('drops the scheme and trailing slashes', () => {
    assert.equal(logNameFromBaseUrl('https://log2025-1.rekor.sigstore.dev/'), 'log2025-1.rekor.sigstore.dev');
    assert.equal(logNameFromBaseUrl('http://example.com/logs/a'), 'example.com/logs/a');
  });
});

describe('keyValidAt', () => {
  const { log } = loadTlogCase('happy-path-v0.3');
  const key = { ...log.publicKey, validFor: { start: 1000, end: 2000 } };

  it('includes both ends of the window', () => {
    assert.equal(keyValidAt(key, 1000), true);
    assert.equal(keyValidAt(key, 2000), true);
  });

  it('excludes the times just outside it', () => {
    assert.equal(keyValidAt(key, 999), false);
    assert.equal(keyValidAt(key, 2001), false);
  });

  it('treats an open end as valid forever after the start', () => {
    assert.equal(keyValidAt({ ...key, validFor: { start: 1000, end: Infinity } }, 8.64e15), true);
  });
});
