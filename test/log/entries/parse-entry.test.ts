import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  canonicalizeEntry,
  entryKindVersion,
  parseLoggedEntry,
  parseProposedEntry,
} from '../../../src/log/entries/index.ts';
import { assertLogError, b64, digestOf, hashedRekordProposal, signForDigest, testKey } from './fixtures.ts';

describe('parseProposedEntry', () => {
  describe('on the v1 API', () => {
    for (const [kind, apiVersion] of [
      ['rekord', '0.0.1'],
      ['intoto', '0.0.1'],
      ['hashedrekord', '0.0.2'],
      ['dsse', '0.0.2'],
      ['cose', '0.0.1'],
      ['no-such-kind', '1.0.0'],
    ] as const) {
      it(`refuses kind ${kind} ${apiVersion} with LOG_ENTRY_UNSUPPORTED, listing what it accepts`, () => {
        assertLogError(
          () => parseProposedEntry({ kind, apiVersion, spec: {} }, 'v1'),
          'LOG_ENTRY_UNSUPPORTED',
          new RegExp(
            `^kind: expected one of hashedrekord 0\\.0\\.1, dsse 0\\.0\\.1, intoto 0\\.0\\.2, received "${kind}" "${apiVersion.replace(/\./g, '\\.')}"$`,
          ),
        );
      });
    }

    for (const [name, body, fragment] of [
      ['an array', [], /^\(root\): expected a ProposedEntry object, received array$/],
      ['null', null, /^\(root\): expected a ProposedEntry object, received null$/],
      ['a string', 'hashedrekord', /received string/],
      [
        'a number kind and no apiVersion',
        { kind: 1 },
        /^kind: expected string, received number; apiVersion: expected string, received undefined$/,
      ],
    ] as const) {
      it(`refuses ${name} with LOG_ENTRY_INVALID`, () => {
        assertLogError(() => parseProposedEntry(body, 'v1'), 'LOG_ENTRY_INVALID', fragment);
      });
    }

    it('refuses a v2 request sent to the v1 API', () => {
      assertLogError(
        () => parseProposedEntry({ hashedRekordRequestV002: {} }, 'v1'),
        'LOG_ENTRY_INVALID',
        /^kind: expected string/,
      );
    });
  });

  describe('on the v2 API', () => {
    it('refuses a v1 ProposedEntry, naming each unknown field', () => {
      const error = assertLogError(
        () => parseProposedEntry(hashedRekordProposal(testKey('p256')), 'v2'),
        'LOG_ENTRY_INVALID',
      );
      for (const field of ['apiVersion', 'kind', 'spec'])
        assert.match(error.message, new RegExp(`(^|; )${field}: expected no such field`));
    });
  });

  it('rejects options that are not positive integers with a TypeError', () => {
    assert.throws(() => parseProposedEntry({}, 'v1', { maxEnvelopeLength: 0 }), TypeError);
    assert.throws(() => parseProposedEntry({}, 'v1', { maxEnvelopeLength: 1.5 }), TypeError);
  });

  it('returns a frozen entry whose body cannot drift from its leaf', () => {
    const entry = parseProposedEntry(hashedRekordProposal(testKey('p256')), 'v1');
    assert.ok(Object.isFrozen(entry) && Object.isFrozen(entry.body) && Object.isFrozen(entry.body.spec));
    assert.deepEqual(entryKindVersion(entry), { kind: 'hashedrekord', version: '0.0.1' });
  });
});

describe('parseLoggedEntry', () => {
  it('reads back every kind it canonicalizes, to the same bytes', () => {
    const key = testKey('p256');
    const v1 = parseProposedEntry(hashedRekordProposal(key), 'v1');
    const v2 = parseProposedEntry(
      {
        hashedRekordRequestV002: {
          digest: b64(digestOf('x', 'sha256')),
          signature: {
            content: b64(signForDigest(key, 'x', 'sha256')),
            verifier: { publicKey: { rawBytes: b64(key.spkiDer) }, keyDetails: 'PKIX_ECDSA_P256_SHA_256' },
          },
        },
      },
      'v2',
    );
    for (const entry of [v1, v2]) {
      const leaf = canonicalizeEntry(entry);
      const read = parseLoggedEntry(leaf);
      assert.equal(read.type, entry.type);
      assert.deepEqual(canonicalizeEntry(read), leaf);
      assert.equal(read.envelope, undefined);
    }
  });

  it('refuses bytes that are not JSON with LOG_ENTRY_INVALID', () => {
    assertLogError(
      () => parseLoggedEntry(Buffer.from('{"kind":')),
      'LOG_ENTRY_INVALID',
      /^leaf: expected JSON/,
    );
    assertLogError(
      () => parseLoggedEntry(Uint8Array.of(0xff, 0xfe)),
      'LOG_ENTRY_INVALID',
      /^leaf: expected UTF-8/,
    );
    assertLogError(
      () => parseLoggedEntry(Buffer.from('[]')),
      'LOG_ENTRY_INVALID',
      /^leaf: expected a JSON object$/,
    );
  });

  it('refuses a leaf with a field the canonical form does not have', () => {
    const leaf = JSON.parse(
      Buffer.from(
        canonicalizeEntry(parseProposedEntry(hashedRekordProposal(testKey('p256')), 'v1')),
      ).toString(),
    ) as {
      spec: Record<string, unknown>;
    };
    leaf.spec['extra'] = 1;
    assertLogError(
      () => parseLoggedEntry(Buffer.from(JSON.stringify(leaf))),
      'LOG_ENTRY_INVALID',
      /^spec\.extra: expected no such field$/,
    );
  });

  it('refuses a kind it does not know with LOG_ENTRY_UNSUPPORTED', () => {
    assertLogError(
      () => parseLoggedEntry(Buffer.from('{"apiVersion":"0.0.1","kind":"rekord","spec":{}}')),
      'LOG_ENTRY_UNSUPPORTED',
      /^leaf: expected a hashedrekord, dsse or intoto entry the log knows, received "rekord" "0\.0\.1"$/,
    );
  });
});
