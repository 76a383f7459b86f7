import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { EpochFilters } from '../../src/log/storage/internal/epoch-filters.ts';

const sha256 = (text: string) => new Uint8Array(createHash('sha256').update(text).digest());

describe('epoch filters', () => {
  const capacity = 65_536;
  const epochs = 3;
  const added = Array.from({ length: epochs }, (_, epoch) =>
    Array.from({ length: capacity }, (_, i) => sha256(`epoch-${epoch}-${i}`)),
  );
  const filters = new EpochFilters(capacity);
  added.forEach((values, epoch) => values.forEach((value) => filters.add(epoch, value)));

  it('names the epoch of every value added', () => {
    added.forEach((values, epoch) => {
      assert.equal(values.filter((value) => !filters.candidates(value, epochs).includes(epoch)).length, 0);
    });
  });

  it('names another epoch for under 2 % of values, each filled to capacity', () => {
    let wrong = 0;
    for (const value of added[1]!)
      wrong += filters.candidates(value, epochs).filter((epoch) => epoch !== 1).length;
    const rate = wrong / (2 * capacity); // two other epochs asked per value
    assert.ok(rate < 0.02, `false positive rate ${rate.toFixed(4)}`);
    assert.ok(rate > 0, 'filters that never answer maybe for absent values are not sized as documented');
  });

  it('asks only the epochs before the bound', () => {
    const value = added[2]![0]!;
    assert.ok(filters.candidates(value, 3).includes(2));
    assert.ok(!filters.candidates(value, 2).includes(2));
    assert.deepEqual(filters.candidates(value, 0), []);
  });

  it('keeps epochs apart across groups of 32', () => {
    const many = new EpochFilters(16);
    const value = sha256('across groups');
    for (const epoch of [0, 31, 32, 63, 70]) many.add(epoch, value);
    assert.deepEqual(many.candidates(value, 71), [0, 31, 32, 63, 70]);
    assert.deepEqual(many.candidates(value, 64), [0, 31, 32, 63]);
    assert.deepEqual(many.candidates(value, 32), [0, 31]);
    assert.deepEqual(many.candidates(sha256('never added'), 71), []);
  });

  it('writes one epoch as bytes and reads it back into another, leaving the rest alone', () => {
    const copy = new EpochFilters(capacity);
    assert.equal(copy.loadEpoch(5, filters.epochBytes(1)), true);
    assert.equal(filters.epochBytes(1).byteLength, copy.epochByteLength);
    for (const value of added[1]!.slice(0, 1000)) assert.deepEqual(copy.candidates(value, 6), [5]);
    for (let i = 0; i < 1000; i++) {
      const value = sha256(`other-${i}`);
      assert.equal(copy.candidates(value, 6).includes(5), filters.candidates(value, 3).includes(1));
    }
  });

  it('refuses bytes of another size and values too short to choose bits from', () => {
    assert.equal(filters.loadEpoch(0, new Uint8Array(100)), false);
    assert.throws(() => filters.add(0, new Uint8Array(16)), TypeError);
  });
});
