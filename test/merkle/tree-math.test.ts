import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  assertCount,
  bitCeil,
  bitLength,
  decomposeInclusionProof,
  isPowerOfTwo,
  isValidSubtree,
  largestPowerOfTwoBelow,
  nodeCoverage,
  popCount,
  rangeNodes,
  shiftRight,
  siblingOf,
  trailingZeros,
  xor,
} from '../../src/merkle/tree-math.ts';
import { seededRandom } from './naive-tree.ts';

// Values on both sides of 2^32, where JavaScript's 32-bit bit operators would silently wrap.
const random = seededRandom(7);
const samples = [
  0,
  1,
  2,
  3,
  255,
  256,
  2 ** 31 - 1,
  2 ** 31,
  2 ** 32 - 1,
  2 ** 32,
  2 ** 32 + 1,
  2 ** 40 + 12345,
  2 ** 52,
  Number.MAX_SAFE_INTEGER,
  ...Array.from({ length: 200 }, () => Math.floor(random() * Number.MAX_SAFE_INTEGER)),
];

describe('bit helpers over safe integers', () => {
  it('agree with bigint arithmetic below and above 2^32', () => {
    for (const x of samples) {
      const big = BigInt(x);
      assert.equal(bitLength(x), big.toString(2).replace(/^0$/, '').length, `bitLength(${x})`);
      assert.equal(popCount(x), [...big.toString(2)].filter((c) => c === '1').length, `popCount(${x})`);
      const zeros = x === 0 ? 64 : big.toString(2).length - big.toString(2).replace(/0+$/, '').length;
      assert.equal(trailingZeros(x), zeros, `trailingZeros(${x})`);
      for (const k of [0, 1, 8, 31, 32, 33, 52, 53, 64])
        assert.equal(shiftRight(x, k), Number(big >> BigInt(k)));
      for (const y of samples.slice(0, 20))
        assert.equal(xor(x, y), Number(big ^ BigInt(y)), `xor(${x}, ${y})`);
    }
  });

  it('finds the split point k of RFC 6962 §2.1 with k < n ≤ 2k', () => {
    for (let n = 2; n < 2000; n++) {
      const k = largestPowerOfTwoBelow(n);
      assert.ok(isPowerOfTwo(k) && k < n && n <= 2 * k, `n = ${n}, k = ${k}`);
    }
    assert.equal(largestPowerOfTwoBelow(2 ** 40 + 1), 2 ** 40);
    assert.equal(largestPowerOfTwoBelow(2 ** 40), 2 ** 39);
  });

  it('rounds up to a power of two', () => {
    assert.deepEqual([0, 1, 2, 3, 4, 5, 2 ** 33 - 1].map(bitCeil), [1, 1, 2, 4, 4, 8, 2 ** 33]);
  });
});

describe('decomposeInclusionProof', () => {
  it('gives the proof lengths of transparency-dev/merkle for the reference tree', () => {
    assert.deepEqual(decomposeInclusionProof(0, 1), { inner: 0, border: 0 });
    assert.deepEqual(decomposeInclusionProof(0, 8), { inner: 3, border: 0 });
    assert.deepEqual(decomposeInclusionProof(5, 8), { inner: 2, border: 1 });
    assert.deepEqual(decomposeInclusionProof(2, 3), { inner: 0, border: 1 });
    assert.deepEqual(decomposeInclusionProof(1, 5), { inner: 3, border: 0 });
    assert.deepEqual(decomposeInclusionProof(4, 5), { inner: 0, border: 1 });
  });
});

describe('rangeNodes', () => {
  it('covers [begin, end) with the fewest aligned complete subtrees, left to right', () => {
    for (let begin = 0; begin < 70; begin++) {
      for (let end = begin; end < 140; end++) {
        const nodes = rangeNodes(begin, end);
        let position = begin;
        for (const node of nodes) {
          const coverage = nodeCoverage(node);
          assert.equal(coverage.begin, position);
          position = coverage.end;
        }
        assert.equal(position, end);
        // Minimal: no two neighbours could merge into their parent.
        for (let i = 1; i < nodes.length; i++) {
          const [a, b] = [nodes[i - 1], nodes[i]];
          assert.ok(!(a?.level === b?.level && (a?.index ?? 0) % 2 === 0), `[${begin}, ${end})`);
        }
      }
    }
  });

  it('lists the frontier of a tree highest level first', () => {
    assert.deepEqual(rangeNodes(0, 7), [
      { level: 2, index: 0 },
      { level: 1, index: 2 },
      { level: 0, index: 6 },
    ]);
    assert.deepEqual(rangeNodes(0, 2 ** 40 + 1), [
      { level: 40, index: 0 },
      { level: 0, index: 2 ** 40 },
    ]);
  });
});

describe('nodes', () => {
  it('have siblings and coverage beyond 2^32', () => {
    assert.deepEqual(siblingOf({ level: 3, index: 2 ** 40 }), { level: 3, index: 2 ** 40 + 1 });
    assert.deepEqual(siblingOf({ level: 3, index: 2 ** 40 + 1 }), { level: 3, index: 2 ** 40 });
    assert.deepEqual(nodeCoverage({ level: 8, index: 2 ** 36 }), { begin: 2 ** 44, end: 2 ** 44 + 256 });
  });
});

describe('isValidSubtree', () => {
  it('requires start to be a multiple of the power of two at or above the size', () => {
    assert.equal(isValidSubtree(0, 0), true);
    assert.equal(isValidSubtree(0, 7), true);
    assert.equal(isValidSubtree(4, 8), true);
    assert.equal(isValidSubtree(8, 13), true);
    assert.equal(isValidSubtree(5, 5), true);
    assert.equal(isValidSubtree(3, 5), false);
    assert.equal(isValidSubtree(4, 9), false);
    assert.equal(isValidSubtree(2, 1), false);
  });
});

describe('assertCount', () => {
  it('rejects what is not a safe non-negative integer with the given code', () => {
    for (const bad of [-1, 0.5, Number.NaN, Infinity, 2 ** 53, 2 ** 64]) {
      assert.throws(() => assertCount(bad, 'tree size', 'MERKLE_TREE_SIZE_INVALID'), {
        name: 'MerkleError',
        code: 'MERKLE_TREE_SIZE_INVALID',
        message: `tree size: expected an integer from 0 to 2^53-1, received ${String(bad)}`,
      });
    }
    assert.doesNotThrow(() => assertCount(Number.MAX_SAFE_INTEGER, 'tree size', 'MERKLE_TREE_SIZE_INVALID'));
  });
});
