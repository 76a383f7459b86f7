import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CoreError, canonicalizeJson, canonicalizeJsonBytes } from '../../src/core/index.ts';

function assertRefused(value: unknown, fragment: RegExp): void {
  assert.throws(
    () => canonicalizeJson(value),
    (error: unknown) => {
      assert.ok(error instanceof CoreError, `expected CoreError, received ${String(error)}`);
      assert.equal(error.code, 'CORE_JSON_INVALID');
      assert.match(error.message, fragment);
      return true;
    },
  );
}

describe('RFC 8785 canonical JSON', () => {
  it('reproduces the example of RFC 8785 §3.2.2 byte for byte', () => {
    // The input of §3.2.2, parsed by JSON.parse exactly as the RFC shows it.
    const input = JSON.parse(
      '{"numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],' +
        ' "string": "\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/", "literals": [null, true, false]}',
    ) as unknown;
    assert.equal(
      canonicalizeJson(input),
      '{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],' +
        '"string":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}',
    );
  });

  it('sorts properties by UTF-16 code units, as the example of RFC 8785 §3.2.3 does', () => {
    const input = {
      '\u20ac': 'Euro Sign',
      '\r': 'Carriage Return',
      '\ufb33': 'Hebrew Letter Dalet With Dagesh',
      '1': 'One',
      '\ud83d\ude00': 'Emoji: Grinning Face',
      '\u0080': 'Control',
      '\u00f6': 'Latin Small Letter O With Diaeresis',
    };
    assert.equal(
      canonicalizeJson(input),
      '{"\\r":"Carriage Return","1":"One","\u0080":"Control","ö":"Latin Small Letter O With Diaeresis",' +
        '"€":"Euro Sign","😀":"Emoji: Grinning Face","\ufb33":"Hebrew Letter Dalet With Dagesh"}',
    );
  });

  it('orders keys that JavaScript treats as array indices as strings too, and keeps __proto__ as a key', () => {
    const input = JSON.parse('{"b":1,"10":2,"2":3,"__proto__":{"z":1,"a":2},"01":4}') as unknown;
    assert.equal(canonicalizeJson(input), '{"01":4,"10":2,"2":3,"__proto__":{"a":2,"z":1},"b":1}');
    assert.equal(canonicalizeJson([{ 3: 'c', 1: 'a', 20: 'b' }]), '[{"1":"a","20":"b","3":"c"}]');
  });

  for (const [number, expected] of [
    [0, '0'],
    [-0, '0'],
    [1e21, '1e+21'],
    [1e-7, '1e-7'],
    [123456789012345680000, '123456789012345680000'],
    [9007199254740991, '9007199254740991'],
    [-1.5e-300, '-1.5e-300'],
    [5e-324, '5e-324'],
    [1.7976931348623157e308, '1.7976931348623157e+308'],
    [0.1 + 0.2, '0.30000000000000004'],
  ] as const) {
    it(`writes ${expected} in the ECMAScript number form of RFC 8785 §3.2.2.3`, () => {
      assert.equal(canonicalizeJson(number), expected);
    });
  }

  it('escapes control characters in lower-case hex and leaves other characters alone', () => {
    assert.equal(
      canonicalizeJson('\u0000\u001f\b\t\n\f\r"\\/<>&\u2028'),
      '"\\u0000\\u001f\\b\\t\\n\\f\\r\\"\\\\/<>&\u2028"',
    );
  });

  it('allows one object to appear twice when it is not its own ancestor', () => {
    const shared = { b: 1 };
    assert.equal(canonicalizeJson({ x: shared, y: [shared] }), '{"x":{"b":1},"y":[{"b":1}]}');
  });

  it('returns the UTF-8 bytes of the canonical text', () => {
    assert.deepEqual(
      canonicalizeJsonBytes({ z: '€', a: [1] }),
      new Uint8Array(Buffer.from('{"a":[1],"z":"€"}')),
    );
  });

  describe('when the value is not JSON data', () => {
    const cycle: Record<string, unknown> = { a: {} };
    (cycle['a'] as Record<string, unknown>)['back'] = cycle;
    const cases: [string, unknown, RegExp][] = [
      ['NaN', { spec: { n: Number.NaN } }, /^value\.spec\.n: expected a finite number, received NaN$/],
      ['Infinity', [1, Infinity], /^value\[1\]: expected a finite number/],
      ['undefined in an object', { a: undefined }, /^value\.a: expected a JSON value, received undefined$/],
      ['undefined in an array', [undefined], /^value\[0\]: expected a JSON value, received undefined$/],
      ['a function', { f: () => 1 }, /^value\.f: expected a JSON value, received function$/],
      ['a bigint', { n: 1n }, /received bigint/],
      ['a symbol', Symbol('s'), /received symbol/],
      ['a cycle', cycle, /^value\.a\.back: expected a tree, received a cycle$/],
      ['a Date', { when: new Date(0) }, /^value\.when: expected a plain object, received Date$/],
      ['a Uint8Array', { bytes: new Uint8Array(1) }, /received Uint8Array/],
      [
        'a lone surrogate',
        { s: 'a\ud800' },
        /^value\.s: expected well-formed UTF-16, received a lone surrogate$/,
      ],
      ['a lone surrogate in a key', { 'k\udc00': 1 }, /^value\["k\\udc00"\]: expected well-formed UTF-16/],
    ];
    for (const [name, value, fragment] of cases) {
      it(`refuses ${name} with CORE_JSON_INVALID naming the path`, () => assertRefused(value, fragment));
    }

    it('refuses nesting deeper than 512 levels instead of overflowing the stack', () => {
      let deep: unknown = 0;
      for (let level = 0; level < 600; level++) deep = [deep];
      assertRefused(deep, /expected at most 512 levels of nesting/);
    });
  });
});
