import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { claimAtPath, claimsAsStrings, formatGoFloat, parseClaimPath } from '../../../src/ca/oidc/claims.ts';

describe("claims as Fulcio's CI provider stringifies them", () => {
  it("keeps strings, and prints integral numbers as Go's %v of a float64", () => {
    assert.deepEqual(
      claimsAsStrings({ s: 'x', small: 42, million: 1_000_000, run: 5904696764, negative: -7, zero: 0 }),
      { s: 'x', small: '42', million: '1e+06', run: '5.904696764e+09', negative: '-7', zero: '0' },
    );
  });

  it('prints fractional numbers in shortest fixed notation (strconv.FormatFloat f -1)', () => {
    assert.deepEqual(claimsAsStrings({ a: 1.5, b: 0.000001, c: 123456.789 }), {
      a: '1.5',
      b: '0.000001',
      c: '123456.789',
    });
  });

  it("prints booleans, null, arrays and objects as Go's %v does", () => {
    assert.deepEqual(claimsAsStrings({ t: true, n: null, list: ['a', 2, false], map: { b: 1, a: 'x' } }), {
      t: 'true',
      n: '<nil>',
      list: '[a 2 false]',
      map: 'map[a:x b:1]',
    });
  });

  it('formats floats the way strconv formats %g with the shortest digits', () => {
    assert.equal(formatGoFloat(123456), '123456');
    assert.equal(formatGoFloat(1234567), '1.234567e+06');
    assert.equal(formatGoFloat(0.0001), '0.0001');
    assert.equal(formatGoFloat(0.00001), '1e-05');
    assert.equal(formatGoFloat(1e21), '1e+21');
    assert.equal(formatGoFloat(2.5e100), '2.5e+100');
  });
});

describe('issuer-claim paths', () => {
  it('reads $.a.b and bracketed names', () => {
    assert.deepEqual(parseClaimPath('$.federated_claims.connector_id'), ['federated_claims', 'connector_id']);
    assert.deepEqual(parseClaimPath(`$['a.b']["c"]`), ['a.b', 'c']);
  });

  it('refuses anything else', () => {
    for (const path of ['federated_claims', '$', '$..a', '$.a[0]', '$.a.', '$.a b'])
      assert.equal(parseClaimPath(path), undefined);
  });

  it('finds a nested value, and nothing through non-objects', () => {
    assert.equal(claimAtPath({ a: { b: 'x' } }, ['a', 'b']), 'x');
    assert.equal(claimAtPath({ a: ['x'] }, ['a', '0']), undefined);
    assert.equal(claimAtPath({ a: {} }, ['a', 'toString']), undefined);
  });
});
