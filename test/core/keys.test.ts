import assert from 'node:assert/strict';
import { createPublicKey, sign, verify } from 'node:crypto';
import { describe, it } from 'node:test';
import {
  CoreError,
  exportPrivateKeyPem,
  generateSigningKey,
  parsePrivateKeyPem,
  publicKeyDer,
  publicKeyPem,
  signingKeyAlgorithm,
} from '../../src/core/index.ts';

describe('signing keys', () => {
  for (const algorithm of ['ecdsa-p256', 'ed25519'] as const) {
    it(`round-trips a ${algorithm} key through PEM and signs with it`, () => {
      const key = generateSigningKey(algorithm);
      const parsed = parsePrivateKeyPem(exportPrivateKeyPem(key));
      assert.equal(signingKeyAlgorithm(parsed), algorithm);
      assert.deepEqual(publicKeyDer(parsed), publicKeyDer(key));
      const digest = algorithm === 'ed25519' ? null : 'sha256';
      const signature = sign(digest, Buffer.from('m'), parsed);
      assert.ok(verify(digest, Buffer.from('m'), createPublicKey(publicKeyPem(key)), signature));
    });
  }

  it('refuses text that is not a PEM private key, naming the field', () => {
    assert.throws(
      () => parsePrivateKeyPem('-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n', 'log key'),
      (error: unknown) =>
        error instanceof CoreError &&
        error.code === 'CORE_KEY_INVALID' &&
        /^log key: expected a PEM private key/.test(error.message),
    );
  });
});
