import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { describe, it } from 'node:test';
import { parseCheckpointBody } from '../../src/merkle/checkpoint.ts';
import { MerkleError } from '../../src/merkle/errors.ts';
import type { MerkleErrorCode } from '../../src/merkle/errors.ts';
import { createEd25519Signer, createNoteVerifier, parseSignerKey } from '../../src/merkle/note-keys.ts';
import { readRfc6962Timestamp, signedTreeHeadToCheckpoint } from '../../src/merkle/rfc6962-note.ts';
import type { Rfc6962NoteVerifier } from '../../src/merkle/rfc6962-note.ts';
import {
  formatSignedNote,
  isValidKeyName,
  openSignedNote,
  parseSignedNote,
  signNote,
} from '../../src/merkle/signed-note.ts';
import {
  assertMerkleError,
  noteCases,
  noteKeys,
  readNote,
  readVectorText,
  verifierSetsOf,
} from './note-fixtures.ts';

type Outcome = { verified: string[]; unverified: number } | MerkleErrorCode;

/**
 * The outcome of every case of vectors/signed-note/cases.json, one per verifier set, as the case's
 * `expected` text states it (for a lookup by name and key ID, as sumdb/note `VerifierList` does).
 */
const EXPECTED: Record<string, Outcome[]> = {
  'notes/c2sp-example-com-foo.note': [{ verified: ['example.com/foo'], unverified: 0 }],
  'notes/c2sp-quasimodo.note': ['MERKLE_NOTE_UNKNOWN_KEY'],
  'notes/c2sp-checkpoint-behind-the-sofa.note': ['MERKLE_NOTE_UNKNOWN_KEY'],
  'notes/peter-signed.note': [
    { verified: ['PeterNeumann'], unverified: 0 },
    { verified: ['PeterNeumann'], unverified: 0 },
  ],
  'notes/peter-enoch-signed.note': [
    { verified: ['PeterNeumann'], unverified: 1 },
    { verified: ['PeterNeumann', 'EnochRoot'], unverified: 0 },
    'MERKLE_NOTE_UNKNOWN_KEY',
  ],
  'notes/enoch-signed.note': ['MERKLE_NOTE_KEY_AMBIGUOUS'],
  'notes/peter-101-sigs.note': ['MERKLE_NOTE_MALFORMED', 'MERKLE_NOTE_MALFORMED'],
  'notes/peter-invalid-sig.note': ['MERKLE_NOTE_SIGNATURE_INVALID'],
  'notes/dup-verified-and-unverified.note': [{ verified: ['PeterNeumann'], unverified: 2 }],
  'notes/malformed-text-only.note': ['MERKLE_NOTE_MALFORMED'],
  'notes/malformed-text-blank-no-sig.note': ['MERKLE_NOTE_MALFORMED'],
  'notes/malformed-sig-missing-final-newline.note': ['MERKLE_NOTE_MALFORMED'],
  'notes/malformed-leading-0x01.note': ['MERKLE_NOTE_MALFORMED'],
  'notes/malformed-leading-0xff.note': ['MERKLE_NOTE_MALFORMED'],
  'notes/malformed-bad-name.note': ['MERKLE_NOTE_MALFORMED'],
  'notes/malformed-unexpected-line.note': ['MERKLE_NOTE_MALFORMED'],
  'notes/peter-sig-misnamed.note': ['MERKLE_NOTE_UNKNOWN_KEY'],
  'notes/peter-sig-wrong-hash.note': ['MERKLE_NOTE_UNKNOWN_KEY'],
  'notes/rekor-ecdsa-checkpoint.note': [
    { verified: ['rekor.sigstore.dev'], unverified: 0 },
    'MERKLE_NOTE_UNKNOWN_KEY',
  ],
  'notes/rekor-ecdsa-checkpoint-invalid-sig.note': ['MERKLE_NOTE_UNKNOWN_KEY'],
  'notes/pixel6-ecdsa-checkpoint.note': [{ verified: ['pixel6_transparency_log'], unverified: 0 }],
  'notes/rome-ct-rfc6962-checkpoint.note': [{ verified: ['rome.ct.filippo.io/2024h1'], unverified: 0 }],
  'notes/rome-ct-rfc6962-checkpoint-borked.note': ['MERKLE_NOTE_SIGNATURE_INVALID'],
  'notes/argon2024-sth.json': [{ verified: ['ct.googleapis.com/logs/us1/argon2024'], unverified: 0 }],
};

function open(file: string, verifiers: readonly string[]) {
  const known = verifiers.map((vkey) => createNoteVerifier(vkey));
  if (!file.endsWith('.json')) return openSignedNote(readNote(file), known);
  const note = signedTreeHeadToCheckpoint(
    readVectorText(`signed-note/${file}`),
    known[0] as Rfc6962NoteVerifier,
  );
  return openSignedNote(note, known);
}

describe('the signed-note vectors (cases.json)', () => {
  const sets = noteCases.cases.flatMap((c) => verifierSetsOf(c).map((set, index) => ({ c, set, index })));

  it('has the 24 notes and 29 verifier sets this suite knows an outcome for', () => {
    assert.equal(noteCases.cases.length, 24);
    assert.equal(sets.length, 29);
    assert.deepEqual(noteCases.cases.map((c) => c.file).sort(), Object.keys(EXPECTED).sort());
    for (const c of noteCases.cases) assert.equal(verifierSetsOf(c).length, EXPECTED[c.file]?.length, c.file);
  });

  for (const { c, set, index } of sets) {
    const outcome = EXPECTED[c.file]?.[index];
    const stated = set.expected.split(/[:.(]/)[0] ?? '';
    it(`${c.file} with ${set.verifiers.length} verifier(s): ${stated}`, () => {
      assert.ok(outcome !== undefined);
      // The table must agree with the words of the vector.
      if (/^valid/.test(set.expected)) assert.equal(typeof outcome, 'object');
      if (/^error|MUST reject/.test(set.expected)) assert.equal(typeof outcome, 'string');
      if (typeof outcome === 'string') {
        assertMerkleError(() => open(c.file, set.verifiers), outcome);
        return;
      }
      const note = open(c.file, set.verifiers);
      assert.deepEqual(
        note.verified.map((s) => s.keyName),
        outcome.verified,
      );
      assert.equal(note.unverified.length, outcome.unverified);
    });
  }

  it('reads the Argon 2024 STH as the checkpoint and tree head timestamp upstream states', () => {
    const verifier = createNoteVerifier(noteCases.cases.at(-1)?.verifiers?.[0] ?? '') as Rfc6962NoteVerifier;
    const note = parseSignedNote(
      signedTreeHeadToCheckpoint(readVectorText('signed-note/notes/argon2024-sth.json'), verifier),
    );
    assert.equal(
      note.text,
      'ct.googleapis.com/logs/us1/argon2024\n1267285836\nSHySaYoaGIV5oCMANTytRfUjfzXb7wvO9xQiGkDJlfQ=\n',
    );
    assert.equal(readRfc6962Timestamp(note.signatures[0]?.signature ?? new Uint8Array()), 1711642477482);
  });

  it('parses the multi-line UTF-8 body of the spec example and the checkpoint example', () => {
    const quasimodo = parseSignedNote(readNote('notes/c2sp-quasimodo.note'));
    assert.equal(quasimodo.text.split('\n').length, 5);
    assert.match(quasimodo.text, /\ned è subito sera\.\n$/);
    const sofa = parseCheckpointBody(
      parseSignedNote(readNote('notes/c2sp-checkpoint-behind-the-sofa.note')).text,
    );
    assert.equal(sofa.origin, 'example.com/behind-the-sofa');
    assert.equal(sofa.size, 20852163);
    assert.equal(
      Buffer.from(sofa.rootHash).toString('base64'),
      'CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=',
    );
  });

  it('drops repeated signatures as sumdb/note does, keeping the distinct unverified ones', () => {
    const note = open('notes/dup-verified-and-unverified.note', [
      'PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW',
    ]);
    assert.deepEqual(
      note.unverified.map((s) => s.keyName),
      ['EnochRoot', 'EnochRoot'],
    );
    assert.notDeepEqual(note.unverified[0]?.signature, note.unverified[1]?.signature);
  });
});

const peterText =
  "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n";
const peterVkey = 'PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW';
const peterNote = new TextDecoder().decode(readNote('notes/peter-signed.note'));
const peter = [createNoteVerifier(peterVkey)];
const peterSigner = (() => {
  const key = parseSignerKey(noteKeys.test_private_keys[0]?.skey ?? '');
  return createEd25519Signer(key.keyName, key.privateKey);
})();

describe('when a signed note is hostile', () => {
  it('rejects every truncation of a valid note with a MerkleError', () => {
    for (let length = 0; length < peterNote.length; length++) {
      assert.throws(
        () => openSignedNote(peterNote.slice(0, length), peter),
        (error: unknown) => error instanceof MerkleError && error.code.startsWith('MERKLE_NOTE_'),
        `prefix of ${length}`,
      );
    }
  });

  // Moving the last blank line moves the text/signature boundary: the signature then covers other text.
  for (const [what, note] of [
    ['an extra blank line before the signatures', peterNote.replace('\n\n', '\n\n\n')],
    ['a blank line between two signatures', `${peterNote}\n${peterNote.split('\n\n')[1]}`],
  ] as const) {
    it(`rejects ${what} with MERKLE_NOTE_SIGNATURE_INVALID`, () => {
      assertMerkleError(() => openSignedNote(note, peter), 'MERKLE_NOTE_SIGNATURE_INVALID');
    });
  }

  for (const [what, note] of [
    ['a blank line after the signatures', `${peterNote}\n`],
    ['CRLF line endings', peterNote.replaceAll('\n', '\r\n')],
    ['a tab in the text', peterNote.replace(' ', '\t')],
    ['a NUL in a signature line', peterNote.replace('x08go', 'x08\u0000go')],
    ['a hyphen instead of the em dash', peterNote.replace('\u2014', '-')],
    ['no space after the em dash', peterNote.replace('\u2014 ', '\u2014')],
    ['a no-break space in the key name', peterNote.replace('PeterNeumann', 'Peter\u00a0Neumann')],
    ['a next-line character in the key name', peterNote.replace('PeterNeumann', 'Peter\u0085Neumann')],
    ['a plus in the key name', peterNote.replace('PeterNeumann', 'Peter+Neumann')],
    ['an empty key name', peterNote.replace('PeterNeumann', '')],
    ['unpadded base64', peterNote.replace('AM=\n', 'AM\n')],
    ['base64url', peterNote.replace('x08go/', 'x08go_')],
    ['a second space before the signature', peterNote.replace('Neumann x08', 'Neumann  x08')],
    ['a 4-byte signature', `${peterText}\n\u2014 PeterNeumann x08gow==\n`],
    ['a lone surrogate', peterNote.replace('If', '\ud800If')],
  ] as const) {
    it(`rejects ${what} with MERKLE_NOTE_MALFORMED`, () => {
      assertMerkleError(() => openSignedNote(note, peter), 'MERKLE_NOTE_MALFORMED');
    });
  }

  for (const [what, bytes] of [
    ['a lone continuation byte', [0x80]],
    ['an overlong encoding', [0xc0, 0xaf]],
    ['an encoded surrogate', [0xed, 0xa0, 0x80]],
    ['a code point above U+10FFFF', [0xf4, 0x90, 0x80, 0x80]],
    ['a truncated sequence', [0xe2, 0x80]],
  ] as const) {
    it(`rejects non-UTF-8 bytes (${what}) with MERKLE_NOTE_MALFORMED`, () => {
      const note = Buffer.concat([Buffer.from(bytes), Buffer.from(peterNote)]);
      assertMerkleError(() => openSignedNote(note, peter), 'MERKLE_NOTE_MALFORMED', /expected UTF-8/);
    });
  }

  it('rejects a note over the size limit before looking at it', () => {
    const huge = `${'a'.repeat(1024 * 1024)}\n\n${peterNote.split('\n\n')[1]}`;
    assertMerkleError(() => openSignedNote(huge, peter), 'MERKLE_NOTE_MALFORMED', /at most 1048576 bytes/);
    assertMerkleError(() => openSignedNote(Buffer.from(huge), peter), 'MERKLE_NOTE_MALFORMED', /at most/);
    assertMerkleError(
      () => openSignedNote(peterNote, peter, { maxBytes: 100 }),
      'MERKLE_NOTE_MALFORMED',
      /at most 100/,
    );
  });

  it('rejects 0 signature lines and 1000 signature lines, and accepts 100', () => {
    const line = peterNote.split('\n\n')[1] ?? '';
    assertMerkleError(() => openSignedNote(`${peterText}\n`, peter), 'MERKLE_NOTE_MALFORMED');
    assertMerkleError(
      () => openSignedNote(`${peterText}\n${line.repeat(1000)}`, peter),
      'MERKLE_NOTE_MALFORMED',
      /at most 100 signature lines, received 1000/,
    );
    assert.equal(openSignedNote(`${peterText}\n${line.repeat(100)}`, peter).verified.length, 1);
  });

  it('refuses a signature limit below the 16 the spec requires, as misuse', () => {
    assert.throws(() => parseSignedNote(peterNote, { maxSignatures: 15 }), TypeError);
    assert.throws(() => parseSignedNote(peterNote, { maxBytes: 0 }), TypeError);
  });

  it('never lets a throwing verifier escape: it counts as an invalid signature', () => {
    const throwing = {
      keyName: 'PeterNeumann',
      keyId: 0xc74f20a3,
      verify: () => {
        throw new Error('boom');
      },
    };
    assertMerkleError(() => openSignedNote(peterNote, [throwing]), 'MERKLE_NOTE_SIGNATURE_INVALID');
  });
});

describe('signing a note', () => {
  it('reproduces the upstream note byte for byte (Ed25519 is deterministic)', () => {
    assert.equal(signNote(peterText, [peterSigner]), peterNote);
    assert.equal(formatSignedNote(parseSignedNote(peterNote)), peterNote);
  });

  it('keeps existing signatures and replaces one by the same key, as sumdb/note Sign', () => {
    const enoch = generateKeyPairSync('ed25519').privateKey;
    const enochSigner = createEd25519Signer('EnochRoot', enoch);
    const twice = signNote(peterText, [enochSigner], parseSignedNote(peterNote).signatures);
    assert.equal(parseSignedNote(twice).signatures.length, 2);
    const again = signNote(peterText, [peterSigner], parseSignedNote(twice).signatures);
    assert.deepEqual(
      parseSignedNote(again).signatures.map((s) => s.keyName),
      ['EnochRoot', 'PeterNeumann'],
    );
    const opened = openSignedNote(again, [...peter, createNoteVerifier(enochSigner.verifierKey)]);
    assert.equal(opened.verified.length, 2);
  });

  it('keeps a leading byte order mark in the signed text', () => {
    const note = signNote(`\ufeff${peterText}`, [peterSigner]);
    const opened = openSignedNote(Buffer.from(note, 'utf8'), peter);
    assert.equal(opened.text, `\ufeff${peterText}`);
    assertMerkleError(() => openSignedNote(note.slice(1), peter), 'MERKLE_NOTE_SIGNATURE_INVALID');
  });

  it('signs text with empty lines and DEL, which the format allows', () => {
    const text = 'a\n\nb\u007f\n\n';
    assert.equal(openSignedNote(signNote(text, [peterSigner]), peter).text, text);
  });

  for (const [what, text] of [
    ['text without a final newline', 'hello'],
    ['empty text', ''],
    ['a carriage return', 'a\r\n'],
    ['a lone surrogate', '\udc00\n'],
  ] as const) {
    it(`refuses ${what} with MERKLE_NOTE_MALFORMED`, () => {
      assertMerkleError(() => signNote(text, [peterSigner]), 'MERKLE_NOTE_MALFORMED');
    });
  }

  it('refuses to produce a note without signatures', () => {
    assert.throws(() => signNote(peterText, []), TypeError);
  });

  it('accepts the key names the spec allows and no others', () => {
    for (const name of ['example.com/log42', 'ünïcode', 'a', 'oid/1.3.6.1.4.1'])
      assert.ok(isValidKeyName(name), name);
    for (const name of ['', 'a b', 'a+b', 'a\u3000b', 'a\u2028b', 'a\tb'])
      assert.ok(!isValidKeyName(name), name);
  });
});
