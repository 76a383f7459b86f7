import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fixedClock, type Clock } from '../../src/core/index.ts';
import { ResultCache } from '../../src/webhook/index.ts';

/** A clock the test moves by hand. */
function manualClock(start = 1_000_000): Clock & { advance(ms: number): void } {
  let now = start;
  return { now: () => new Date(now), advance: (ms) => (now += ms) };
}

function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (error: Error) => void;
  const promise = new Promise<T>((yes, no) => {
    resolve = yes;
    reject = no;
  });
  return { promise, resolve, reject };
}

describe('ResultCache', () => {
  it('merges concurrent lookups of one key into one computation', async () => {
    const cache = new ResultCache<string>({
      maxEntries: 10,
      ttlFor: () => 1_000,
      clock: fixedClock(new Date()),
    });
    const work = deferred<string>();
    let computed = 0;
    const compute = () => {
      computed += 1;
      return work.promise;
    };
    const lookups = Array.from({ length: 100 }, () => cache.get('image', compute));
    assert.equal(computed, 1);
    assert.equal(lookups[0]!.lookup, 'miss');
    assert.ok(lookups.slice(1).every((each) => each.lookup === 'merged'));
    work.resolve('verified');
    assert.deepEqual(new Set(await Promise.all(lookups.map((each) => each.value))), new Set(['verified']));
  });

  it('serves a settled value until its TTL passes, then computes again', async () => {
    const clock = manualClock();
    const cache = new ResultCache<string>({ maxEntries: 10, ttlFor: () => 1_000, clock });
    let computed = 0;
    const compute = () => Promise.resolve(`value ${++computed}`);
    await cache.get('k', compute).value;
    clock.advance(999);
    const hit = cache.get('k', compute);
    assert.equal(hit.lookup, 'hit');
    assert.equal(await hit.value, 'value 1');
    clock.advance(2);
    const stale = cache.get('k', compute);
    assert.equal(stale.lookup, 'miss');
    assert.equal(await stale.value, 'value 2');
  });

  it('keeps failures for the short TTL ttlFor gives them', async () => {
    const clock = manualClock();
    const cache = new ResultCache<{ passed: boolean }>({
      maxEntries: 10,
      ttlFor: (value) => (value.passed ? 60_000 : 5_000),
      clock,
    });
    await cache.get('failed', () => Promise.resolve({ passed: false })).value;
    await cache.get('passed', () => Promise.resolve({ passed: true })).value;
    clock.advance(5_001);
    assert.equal(cache.get('failed', () => Promise.resolve({ passed: false })).lookup, 'miss');
    assert.equal(cache.get('passed', () => Promise.resolve({ passed: true })).lookup, 'hit');
  });

  it('never keeps a rejected computation: the next caller starts again', async () => {
    const cache = new ResultCache<string>({ maxEntries: 10, ttlFor: () => 60_000 });
    await assert.rejects(
      cache.get('k', () => Promise.reject(new Error('registry down'))).value,
      /registry down/,
    );
    const retry = cache.get('k', () => Promise.resolve('ok'));
    assert.equal(retry.lookup, 'miss');
    assert.equal(await retry.value, 'ok');
  });

  it('drops the least recently used settled entries beyond maxEntries, never work in flight', async () => {
    const cache = new ResultCache<string>({ maxEntries: 2, ttlFor: () => 60_000 });
    const slow = deferred<string>();
    cache.get('in-flight', () => slow.promise);
    await cache.get('a', () => Promise.resolve('a')).value;
    await cache.get('b', () => Promise.resolve('b')).value;
    // 'in-flight' is oldest but still running: 'a' goes instead.
    assert.equal(cache.get('in-flight', () => Promise.resolve('again')).lookup, 'merged');
    assert.equal(cache.get('b', () => Promise.resolve('b2')).lookup, 'hit');
    assert.equal(cache.get('a', () => Promise.resolve('a2')).lookup, 'miss');
    slow.resolve('done');
  });

  it('clear() drops settled values, and work in flight finishes without being kept', async () => {
    const cache = new ResultCache<string>({ maxEntries: 10, ttlFor: () => 60_000 });
    await cache.get('settled', () => Promise.resolve('old policy')).value;
    const slow = deferred<string>();
    const inFlight = cache.get('running', () => slow.promise);
    cache.clear();
    slow.resolve('computed under the old policy');
    assert.equal(await inFlight.value, 'computed under the old policy');
    assert.equal(cache.get('settled', () => Promise.resolve('new')).lookup, 'miss');
    assert.equal(cache.get('running', () => Promise.resolve('new')).lookup, 'miss');
  });

  it('refuses a maxEntries below 1', () => {
    assert.throws(
      () => new ResultCache({ maxEntries: 0, ttlFor: () => 1 }),
      /maxEntries: expected a positive integer/,
    );
  });
});
