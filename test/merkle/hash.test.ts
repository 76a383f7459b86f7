import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { encodeHex, encodeUtf8 } from '../../src/core/index.ts';
import { MerkleError } from '../../src/merkle/errors.ts';
import {
  HASH_SIZE,
  assertHashSize,
  emptyRoot,
  hashChildren,
  hashLeaf,
  hashesEqual,
} from '../../src/merkle/hash.ts';

// Known answers from transparency-dev/merkle rfc6962/rfc6962_test.go (also in reference-tree.json).
const EMPTY_ROOT = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
const EMPTY_LEAF = '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d';
const LEAF_L123456 = '395aa064aa4c29f7010acfe3f25db9485bbd4b91897b6ad7ad547639252b4d56';

function sha256(...parts: Uint8Array[]): string {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(part);
  return hash.digest('hex');
}

describe('hashLeaf', () => {
  it('hashes 0x00 || data (RFC 6962 §2.1)', () => {
    assert.equal(encodeHex(hashLeaf(new Uint8Array(0))), EMPTY_LEAF);
    assert.equal(encodeHex(hashLeaf(encodeUtf8('L123456'))), LEAF_L123456);
    const data = Uint8Array.from({ length: 5000 }, (_, i) => i % 251);
    assert.equal(encodeHex(hashLeaf(data)), sha256(new Uint8Array([0]), data));
  });

  it('returns a plain 32-byte Uint8Array, whether given a Buffer or a Uint8Array', () => {
    const fromBuffer = hashLeaf(Buffer.from('abc'));
    assert.equal(Object.getPrototypeOf(fromBuffer), Uint8Array.prototype);
    assert.equal(fromBuffer.byteLength, HASH_SIZE);
    assert.deepEqual(fromBuffer, hashLeaf(encodeUtf8('abc')));
  });
});

describe('hashChildren', () => {
  it('hashes 0x01 || left || right (RFC 6962 §2.1)', () => {
    const left = hashLeaf(encodeUtf8('left'));
    const right = hashLeaf(encodeUtf8('right'));
    assert.equal(encodeHex(hashChildren(left, right)), sha256(new Uint8Array([1]), left, right));
    assert.notDeepEqual(hashChildren(left, right), hashChildren(right, left));
  });

  it('hands out independent results although it reuses one input buffer', () => {
    const a = hashLeaf(encodeUtf8('a'));
    const b = hashLeaf(encodeUtf8('b'));
    const first = hashChildren(a, b);
    const copy = first.slice();
    hashChildren(b, a);
    first.fill(0);
    assert.deepEqual(hashChildren(a, b), copy);
  });

  describe('when a child is not 32 bytes', () => {
    it('rejects it with MERKLE_HASH_SIZE_INVALID instead of hashing a shifted concatenation', () => {
      const good = hashLeaf(new Uint8Array(0));
      for (const bad of [new Uint8Array(0), new Uint8Array(31), new Uint8Array(33), encodeUtf8('N123')]) {
        assert.throws(() => hashChildren(bad, good), {
          name: 'MerkleError',
          code: 'MERKLE_HASH_SIZE_INVALID',
        });
        assert.throws(
          () => hashChildren(good, bad),
          (error: unknown) => {
            assert.ok(error instanceof MerkleError);
            assert.equal(error.code, 'MERKLE_HASH_SIZE_INVALID');
            assert.match(error.message, /^right child: expected a 32-byte hash, received \d+ bytes$/);
            return true;
          },
        );
      }
    });
  });
});

describe('emptyRoot', () => {
  it('is SHA-256 of the empty string, and a fresh copy each time', () => {
    const root = emptyRoot();
    assert.equal(encodeHex(root), EMPTY_ROOT);
    root.fill(0);
    assert.equal(encodeHex(emptyRoot()), EMPTY_ROOT);
  });
});

describe('hashesEqual', () => {
  it('compares bytes and lengths', () => {
    const hash = hashLeaf(new Uint8Array(0));
    assert.equal(hashesEqual(hash, hash.slice()), true);
    assert.equal(hashesEqual(hash, hash.subarray(1)), false);
    const flipped = hash.slice();
    flipped[31] = (flipped[31] ?? 0) ^ 1;
    assert.equal(hashesEqual(hash, flipped), false);
    assert.equal(hashesEqual(new Uint8Array(0), new Uint8Array(0)), true);
  });
});

describe('assertHashSize', () => {
  it('names the field and the received size', () => {
    assert.doesNotThrow(() => assertHashSize(new Uint8Array(32), 'root'));
    assert.throws(() => assertHashSize(new Uint8Array(9), 'root'), {
      code: 'MERKLE_HASH_SIZE_INVALID',
      message: 'root: expected a 32-byte hash, received 9 bytes',
    });
  });
});
