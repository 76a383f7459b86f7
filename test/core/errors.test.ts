import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CoreError, SigilError, assertNever, describeError, fixedClock } from '../../src/core/index.ts';

describe('SigilError', () => {
  it('carries a code, its subclass name and its cause, and serializes without the cause', () => {
    const cause = new Error('disk full');
    const error = new CoreError('CORE_JSON_INVALID', 'body: expected JSON', { cause });
    assert.ok(error instanceof SigilError);
    assert.equal(error.name, 'CoreError');
    assert.equal(error.code, 'CORE_JSON_INVALID');
    assert.equal(error.cause, cause);
    assert.deepEqual(JSON.parse(JSON.stringify(error)), {
      name: 'CoreError',
      code: 'CORE_JSON_INVALID',
      message: 'body: expected JSON',
    });
  });

  it('describes anything thrown', () => {
    assert.equal(describeError(new Error('boom')), 'boom');
    assert.equal(describeError('plain'), 'plain');
  });

  it('assertNever throws a TypeError naming the unexpected value', () => {
    assert.throws(() => assertNever('surprise' as never, 'authority kind'), {
      name: 'TypeError',
      message: 'unexpected authority kind: "surprise"',
    });
  });
});

describe('fixedClock', () => {
  it('stands still until set, and hands out copies', () => {
    const clock = fixedClock(new Date('2026-01-01T00:00:00Z'));
    const first = clock.now();
    first.setFullYear(1999);
    assert.equal(clock.now().toISOString(), '2026-01-01T00:00:00.000Z');
    clock.set(new Date('2026-06-01T00:00:00Z'));
    assert.equal(clock.now().toISOString(), '2026-06-01T00:00:00.000Z');
  });
});
