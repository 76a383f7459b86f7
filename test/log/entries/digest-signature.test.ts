import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { describe, it } from 'node:test';
import { p256, p384, p521 } from '@noble/curves/nist.js';
import { verifyDigestSignature } from '../../../src/log/entries/index.ts';
import { assertLogError, digestOf, signForDigest, testKey, type Hash, type KeyKind } from './fixtures.ts';

const message = 'the artifact';

const CASES: [KeyKind, Hash][] = [
  ['p256', 'sha256'],
  ['p384', 'sha384'],
  ['p521', 'sha512'],
  ['rsa2048', 'sha256'],
  ['rsa2048', 'sha512'],
  ['ed25519', 'sha512'],
];

/** The same ECDSA signature with s replaced by n - s: valid for Go, refused by low-S verifiers. */
function highS(kind: 'p256' | 'p384' | 'p521', der: Uint8Array): Uint8Array {
  const curve = { p256, p384, p521 }[kind];
  const signature = curve.Signature.fromBytes(der, 'der');
  const flipped = new curve.Signature(signature.r, curve.Point.Fn.ORDER - signature.s);
  return flipped.toBytes('der');
}

describe('verifyDigestSignature', () => {
  for (const [kind, hash] of CASES) {
    describe(`with a ${kind} key over a ${hash} digest`, () => {
      const key = testKey(kind);
      const digest = digestOf(message, hash);
      const signature = signForDigest(key, message, hash);

      it('accepts the signature the key made over the digest', () => {
        assert.equal(verifyDigestSignature(key.spkiDer, digest, signature, hash), true);
      });

      it('refuses it over a different digest', () => {
        assert.equal(
          verifyDigestSignature(key.spkiDer, digestOf('another artifact', hash), signature, hash),
          false,
        );
      });

      it('refuses it when one bit of the signature is flipped', () => {
        const tampered = signature.slice();
        tampered[tampered.length - 1]! ^= 1;
        assert.equal(verifyDigestSignature(key.spkiDer, digest, tampered, hash), false);
      });

      it('refuses it under another key of the same type', () => {
        const other = generateKeyPairSync(
          ...((kind === 'ed25519'
            ? ['ed25519']
            : kind === 'rsa2048'
              ? ['rsa', { modulusLength: 2048 }]
              : ['ec', { namedCurve: { p256: 'P-256', p384: 'P-384', p521: 'P-521' }[kind as 'p256'] }]) as [
            'ec',
            { namedCurve: string },
          ]),
        );
        const spki = new Uint8Array(other.publicKey.export({ type: 'spki', format: 'der' }));
        assert.equal(verifyDigestSignature(spki, digest, signature, hash), false);
      });

      it('refuses a digest whose length does not match the algorithm', () => {
        assert.equal(verifyDigestSignature(key.spkiDer, digest.subarray(1), signature, hash), false);
      });
    });
  }

  for (const kind of ['p256', 'p384', 'p521'] as const) {
    it(`accepts a high-S ${kind} signature, as Go's ecdsa.VerifyASN1 does`, () => {
      const hash = ({ p256: 'sha256', p384: 'sha384', p521: 'sha512' } as const)[kind];
      const key = testKey(kind);
      const flipped = highS(kind, signForDigest(key, message, hash));
      assert.equal(verifyDigestSignature(key.spkiDer, digestOf(message, hash), flipped, hash), true);
    });
  }

  it('refuses an Ed25519 signature over anything but a SHA-512 digest (pure Ed25519 cannot sign a digest)', () => {
    const key = testKey('ed25519');
    const signature = signForDigest(key, message, 'sha512');
    assert.equal(verifyDigestSignature(key.spkiDer, digestOf(message, 'sha256'), signature, 'sha256'), false);
  });

  it('refuses an RSA signature shorter than the modulus', () => {
    const key = testKey('rsa2048');
    const signature = signForDigest(key, message, 'sha256');
    assert.equal(
      verifyDigestSignature(key.spkiDer, digestOf(message, 'sha256'), signature.subarray(1), 'sha256'),
      false,
    );
  });

  it('refuses an RSA signature made for another hash with the same digest bytes', () => {
    const key = testKey('rsa2048');
    const signature = signForDigest(key, message, 'sha512');
    // Same 64 bytes, but claimed as SHA-512 → the DigestInfo says SHA-512: only that claim verifies.
    assert.equal(verifyDigestSignature(key.spkiDer, digestOf(message, 'sha512'), signature, 'sha512'), true);
    assert.equal(verifyDigestSignature(key.spkiDer, digestOf(message, 'sha256'), signature, 'sha256'), false);
  });

  it('refuses malformed DER instead of throwing', () => {
    const key = testKey('p256');
    assert.equal(
      verifyDigestSignature(
        key.spkiDer,
        digestOf(message, 'sha256'),
        Uint8Array.of(0x30, 0x02, 0x01),
        'sha256',
      ),
      false,
    );
  });

  it('throws LOG_ENTRY_UNSUPPORTED for a key type that has no digest signature', () => {
    const { publicKey } = generateKeyPairSync('x25519');
    const spki = new Uint8Array(publicKey.export({ type: 'spki', format: 'der' }));
    assertLogError(
      () => verifyDigestSignature(spki, new Uint8Array(32), new Uint8Array(64), 'sha256'),
      'LOG_ENTRY_UNSUPPORTED',
      /x25519/,
    );
  });

  it('measures ECDSA P-256 verifications over a digest per second (printed, not asserted)', () => {
    const key = testKey('p256');
    const digest = digestOf(message, 'sha256');
    const signature = signForDigest(key, message, 'sha256');
    for (let warm = 0; warm < 50; warm++) verifyDigestSignature(key.spkiDer, digest, signature, 'sha256');
    const rounds = 400;
    const start = performance.now();
    for (let round = 0; round < rounds; round++)
      verifyDigestSignature(key.spkiDer, digest, signature, 'sha256');
    const perSecond = Math.round(rounds / ((performance.now() - start) / 1000));
    console.log(
      `# verifyDigestSignature ECDSA P-256 (@noble/curves, prehash: false): ${perSecond} verifications/s`,
    );
    assert.ok(perSecond > 0);
  });
});
