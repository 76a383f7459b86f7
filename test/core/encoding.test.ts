import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  CoreError,
  decodeBase64,
  decodeBase64Url,
  decodeHex,
  decodePem,
  decodeUtf8,
  encodeBase64,
  encodeBase64Url,
  encodeHex,
  encodePem,
  encodeUtf8,
  parseJson,
} from '../../src/core/index.ts';

const bytes = new Uint8Array([0, 1, 2, 250, 251, 252, 253, 254, 255]);

function assertCoreError(fn: () => unknown, code: string, fragment: string): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof CoreError, `expected CoreError, received ${String(error)}`);
    assert.equal(error.code, code);
    assert.match(error.message, new RegExp(fragment));
    return true;
  });
}

describe('base64', () => {
  it('round-trips bytes through standard and url alphabets', () => {
    assert.deepEqual(decodeBase64(encodeBase64(bytes)), bytes);
    assert.deepEqual(decodeBase64Url(encodeBase64Url(bytes)), bytes);
    assert.equal(encodeBase64(encodeUtf8('sigil')), 'c2lnaWw=');
  });

  for (const hostile of ['c2lnaWw', 'c2ln aWw=', 'c2lnaWw==', '!!!!', 'c2lnaWw=\n', '_-8=']) {
    it(`rejects ${JSON.stringify(hostile)} as standard base64, naming the field`, () => {
      assertCoreError(
        () => decodeBase64(hostile, 'signature'),
        'CORE_ENCODING_INVALID',
        '^signature: expected padded base64',
      );
    });
  }

  for (const hostile of ['ab+c', 'abc=', 'a', 'ab cd']) {
    it(`rejects ${JSON.stringify(hostile)} as base64url`, () => {
      assertCoreError(
        () => decodeBase64Url(hostile, 'jwt header'),
        'CORE_ENCODING_INVALID',
        '^jwt header: expected unpadded',
      );
    });
  }
});

describe('hex', () => {
  it('round-trips and accepts upper case', () => {
    assert.equal(encodeHex(bytes), '000102fafbfcfdfeff');
    assert.deepEqual(decodeHex('000102FAFBFCFDFEFF'), bytes);
  });

  for (const hostile of ['abc', '0g', ' 00', '0x00']) {
    it(`rejects ${JSON.stringify(hostile)}`, () => {
      assertCoreError(() => decodeHex(hostile, 'digest'), 'CORE_ENCODING_INVALID', '^digest: expected hex');
    });
  }
});

describe('utf-8', () => {
  it('rejects invalid sequences instead of replacing them', () => {
    assert.equal(decodeUtf8(encodeUtf8('héllo ✓')), 'héllo ✓');
    assertCoreError(
      () => decodeUtf8(new Uint8Array([0xc3, 0x28]), 'payload'),
      'CORE_ENCODING_INVALID',
      '^payload: expected UTF-8',
    );
  });
});

describe('PEM', () => {
  it('encodes 64-character lines and decodes every block in order', () => {
    const der = new Uint8Array(100).map((_, index) => index);
    const text = `junk before\n${encodePem('CERTIFICATE', der)}between\n${encodePem('PUBLIC KEY', bytes)}`;
    assert.ok(
      encodePem('CERTIFICATE', der)
        .split('\n')
        .every((line) => line.length <= 64),
    );
    const blocks = decodePem(text);
    assert.deepEqual(
      blocks.map((block) => block.label),
      ['CERTIFICATE', 'PUBLIC KEY'],
    );
    assert.deepEqual(blocks[0]?.der, der);
    assert.deepEqual(blocks[1]?.der, bytes);
  });

  it('rejects text without a block', () => {
    assertCoreError(
      () => decodePem('no pem here', 'chain'),
      'CORE_ENCODING_INVALID',
      '^chain: expected at least one PEM block',
    );
  });

  it('rejects a block whose labels do not match', () => {
    assertCoreError(
      () => decodePem('-----BEGIN CERTIFICATE-----\nAAAA\n-----END PUBLIC KEY-----\n'),
      'CORE_ENCODING_INVALID',
      'expected at least one PEM block',
    );
  });
});

describe('parseJson', () => {
  it('parses JSON', () => {
    assert.deepEqual(parseJson('{"a":[1,2]}'), { a: [1, 2] });
  });

  it('names the field when the text is not JSON', () => {
    assertCoreError(
      () => parseJson('{"a":', { field: 'request body' }),
      'CORE_JSON_INVALID',
      '^request body: expected JSON',
    );
  });

  it('refuses input over the size bound before parsing it', () => {
    assertCoreError(
      () => parseJson('[1,2,3]', { maxLength: 3 }),
      'CORE_INPUT_TOO_LARGE',
      'expected at most 3 characters, received 7',
    );
  });
});
