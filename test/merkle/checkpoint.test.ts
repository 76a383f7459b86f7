import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { describe, it } from 'node:test';
import {
  formatCheckpointBody,
  formatRekorV1Origin,
  parseCheckpointBody,
  parseRekorV1Origin,
  readRekorV1Timestamp,
  signCheckpoint,
  verifyCheckpoint,
  withRekorV1Timestamp,
} from '../../src/merkle/checkpoint.ts';
import type { Checkpoint } from '../../src/merkle/checkpoint.ts';
import type { MerkleErrorCode } from '../../src/merkle/errors.ts';
import { createNoteSigner, createNoteVerifier } from '../../src/merkle/note-keys.ts';
import { readRfc6962Timestamp } from '../../src/merkle/rfc6962-note.ts';
import { signNote } from '../../src/merkle/signed-note.ts';
import { vectorPath } from '../tools/vectors.ts';
import {
  PRODUCTION_TRUSTED_ROOT,
  assertMerkleError,
  bundleCheckpoint,
  logVerifiersOf,
  noteCases,
  noteKeys,
  readNote,
  readVectorText,
} from './note-fixtures.ts';

const root = new Uint8Array(32).fill(7);
const rootBase64 = Buffer.from(root).toString('base64');

describe('checkpoint bodies (tlog-checkpoint §Note text)', () => {
  it('parses the transparency-dev/formats bodies; where formats is laxer than C2SP, rejects as C2SP says', () => {
    const cases = noteCases.checkpoint_body_parse.cases;
    assert.equal(cases.length, 12);
    for (const { body, expected } of cases) {
      // formats accepts any root hash length ("bananas", 37 bytes) and empty extension lines; C2SP
      // requires an RFC 6962 root (32 bytes here) and non-empty extension lines. Both are rejected.
      const rootBytes = body.split('\n')[2] ?? '';
      const laxer =
        /^valid/.test(expected) && (Buffer.from(rootBytes, 'base64').length !== 32 || /\n\n/.test(body));
      if (/^error/.test(expected) || laxer) {
        assertMerkleError(() => parseCheckpointBody(body), 'MERKLE_CHECKPOINT_MALFORMED');
      } else {
        assert.ok(parseCheckpointBody(body));
      }
    }
    // The same bodies with a 32-byte root parse, keeping origin, size and extension lines.
    const parsed = parseCheckpointBody(`Log\n9944\n${rootBase64}\nlots\nof\nlines\n`);
    assert.deepEqual(parsed, {
      origin: 'Log',
      size: 9944,
      rootHash: root,
      extensions: ['lots', 'of', 'lines'],
    });
  });

  it('parses the go.sum tree notes, the ancestor of checkpoints (sumdb/tlog ParseTree)', () => {
    const cases = noteCases.sumdb_tree_note_parse.cases;
    assert.equal(cases.length, 5);
    for (const { body, expected } of cases) {
      // ParseTree also pins the origin, which a generic checkpoint parser leaves to its caller.
      const parse = () => {
        const checkpoint = parseCheckpointBody(body);
        assert.equal(checkpoint.origin, 'go.sum database tree');
        return checkpoint;
      };
      if (/^error/.test(expected)) assert.throws(parse);
      else assert.equal(parse().size, 123456789012);
    }
  });

  for (const [what, body] of [
    ['a leading zero', `o\n0123\n${rootBase64}\n`],
    ['a plus sign', `o\n+1\n${rootBase64}\n`],
    ['a space after the size', `o\n1 \n${rootBase64}\n`],
    ['a size above 2^53 - 1', `o\n9007199254740992\n${rootBase64}\n`],
    ['a size above 2^64 - 1', `o\n18446744073709551616\n${rootBase64}\n`],
    ['hex', `o\n0x10\n${rootBase64}\n`],
    ['an empty size', `o\n\n${rootBase64}\n`],
    ['unpadded base64', `o\n1\n${rootBase64.replace('=', '')}\n`],
    ['a 31-byte root', `o\n1\n${Buffer.alloc(31).toString('base64')}\n`],
    ['a 33-byte root', `o\n1\n${Buffer.alloc(33).toString('base64')}\n`],
    ['an empty extension line', `o\n1\n${rootBase64}\next\n\n`],
    ['no final newline', `o\n1\n${rootBase64}`],
    ['CRLF', `o\r\n1\r\n${rootBase64}\r\n`],
    ['an empty origin', `\n1\n${rootBase64}\n`],
    ['only two lines', `o\n1\n`],
  ] as const) {
    it(`rejects a body with ${what}`, () => {
      assertMerkleError(() => parseCheckpointBody(body), 'MERKLE_CHECKPOINT_MALFORMED');
    });
  }

  it('formats and parses back, with size 0 and extension lines', () => {
    for (const checkpoint of [
      { origin: 'example.com/log', size: 0, rootHash: root, extensions: [] },
      {
        origin: 'rekor.sigstore.dev - 1193050959916656506',
        size: 2 ** 53 - 1,
        rootHash: root,
        extensions: ['x'],
      },
    ] satisfies Checkpoint[]) {
      assert.deepEqual(parseCheckpointBody(formatCheckpointBody(checkpoint)), checkpoint);
    }
    assert.equal(
      formatCheckpointBody({ origin: 'o', size: 3, rootHash: root, extensions: [] }),
      `o\n3\n${rootBase64}\n`,
    );
  });

  for (const [what, checkpoint] of [
    ['a newline in the origin', { origin: 'a\n5', size: 1, rootHash: root, extensions: [] }],
    ['a newline in an extension', { origin: 'o', size: 1, rootHash: root, extensions: ['a\nb'] }],
    ['an empty extension', { origin: 'o', size: 1, rootHash: root, extensions: [''] }],
    ['a negative size', { origin: 'o', size: -1, rootHash: root, extensions: [] }],
    ['a fractional size', { origin: 'o', size: 1.5, rootHash: root, extensions: [] }],
    ['a short root', { origin: 'o', size: 1, rootHash: root.subarray(1), extensions: [] }],
    ['a control character', { origin: 'o\u0007', size: 1, rootHash: root, extensions: [] }],
  ] satisfies [string, Checkpoint][]) {
    it(`refuses to format ${what}`, () => {
      assertMerkleError(() => formatCheckpointBody(checkpoint), 'MERKLE_CHECKPOINT_MALFORMED');
    });
  }
});

describe('real checkpoints', () => {
  it('verifies the public-good Rekor v1 checkpoint of notes/ (origin "Rekor", size 798034)', () => {
    const { checkpoint } = verifyCheckpoint(readNote('notes/rekor-ecdsa-checkpoint.note'), [
      createNoteVerifier(noteKeys.valid_vkeys[3]?.vkey ?? ''),
    ]);
    assert.equal(checkpoint.origin, 'Rekor');
    assert.equal(checkpoint.size, 798034);
  });

  it('verifies the Pixel 6 (ECDSA) and rome Static CT (RFC 6962) checkpoints of notes/', () => {
    const pixel = verifyCheckpoint(readNote('notes/pixel6-ecdsa-checkpoint.note'), [
      createNoteVerifier(noteKeys.valid_vkeys[4]?.vkey ?? ''),
    ]);
    assert.deepEqual([pixel.checkpoint.origin, pixel.checkpoint.size], ['DEFAULT', 10]);
    const romeVerifier = createNoteVerifier(noteKeys.valid_vkeys[6]?.vkey ?? '');
    const rome = verifyCheckpoint(readNote('notes/rome-ct-rfc6962-checkpoint.note'), [romeVerifier], {
      origin: 'rome.ct.filippo.io/2024h1',
    });
    assert.equal(rome.checkpoint.size, 115474666);
    assert.equal(readRfc6962Timestamp(rome.note.verified[0]?.signature ?? new Uint8Array()), 1711519390034);
  });

  // Every checkpoint of the sigstore-conformance bundles, with the outcome the checkpoint alone decides:
  // most `_fail` cases fail later (inclusion proof, signature, identity), so their checkpoint is valid.
  const failing: Record<string, MerkleErrorCode> = {
    'bundle-from-wrong-instance_fail': 'MERKLE_NOTE_UNKNOWN_KEY',
    'checkpoint-bad-keyhint_fail': 'MERKLE_NOTE_UNKNOWN_KEY',
    'invalid-checkpoint-signature_fail': 'MERKLE_NOTE_SIGNATURE_INVALID',
    'rekor2-checkpoint-missing-log-signature_fail': 'MERKLE_NOTE_MALFORMED',
    'rekor2-checkpoint-missing-origin_fail': 'MERKLE_NOTE_SIGNATURE_INVALID',
    'rekor2-checkpoint-missing-root-hash_fail': 'MERKLE_NOTE_SIGNATURE_INVALID',
    'rekor2-checkpoint-missing-size_fail': 'MERKLE_NOTE_SIGNATURE_INVALID',
    'rekor2-checkpoint-no-matching-signature_fail': 'MERKLE_NOTE_UNKNOWN_KEY',
  };
  const dir = 'sigstore-conformance/bundle-verify';
  // bundle-malformed-json_fail is not JSON; every other bundle with an envelope counts.
  const bundles = readdirSync(vectorPath(dir)).filter((name) => {
    const path = `${dir}/${name}/bundle.sigstore.json`;
    return (
      name !== 'bundle-malformed-json_fail' &&
      existsSync(vectorPath(dir) + `/${name}/bundle.sigstore.json`) &&
      readVectorText(path).includes('"envelope"')
    );
  });

  it('finds the 62 conformance bundles that carry a checkpoint', () => {
    assert.equal(bundles.length, 62);
    for (const name of Object.keys(failing)) assert.ok(bundles.includes(name), name);
  });

  for (const name of bundles) {
    const code = failing[name];
    it(`conformance ${name}: ${code ?? 'the checkpoint verifies'}`, () => {
      const own = `${dir}/${name}/trusted_root.json`;
      const verifiers = logVerifiersOf(
        existsSync(vectorPath(dir) + `/${name}/trusted_root.json`) ? own : PRODUCTION_TRUSTED_ROOT,
      );
      const envelope = bundleCheckpoint(`${dir}/${name}/bundle.sigstore.json`);
      if (code) assertMerkleError(() => verifyCheckpoint(envelope, verifiers), code);
      else assert.ok(verifyCheckpoint(envelope, verifiers).checkpoint.size > 0);
    });
  }

  it('verifies the Rekor v1 checkpoints with a Timestamp line in the sigstore-js bundles', () => {
    const files = readdirSync(vectorPath('sigstore-js/tests-bundles'));
    const stamped = files.flatMap((file) => {
      const text = readVectorText(`sigstore-js/tests-bundles/${file}`);
      return text.includes('"envelope"') ? [bundleCheckpoint(`sigstore-js/tests-bundles/${file}`)] : [];
    });
    assert.equal(stamped.length, 6);
    for (const envelope of stamped) {
      const { checkpoint } = verifyCheckpoint(envelope, logVerifiersOf(PRODUCTION_TRUSTED_ROOT));
      assert.deepEqual(parseRekorV1Origin(checkpoint.origin), {
        hostname: 'rekor.sigstore.dev',
        treeId: 2605736670972794746n,
      });
      const timestamp = readRekorV1Timestamp(checkpoint);
      assert.ok(timestamp !== undefined && timestamp > 1_689_000_000_000_000_000n);
    }
  });
});

describe('signing and verifying checkpoints', () => {
  const checkpoint: Checkpoint = { origin: 'sigil.example/log', size: 42, rootHash: root, extensions: [] };

  for (const [what, key] of [
    ['ed25519 (Rekor v2)', generateKeyPairSync('ed25519').privateKey],
    ['ecdsa p-256 (Rekor v1)', generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey],
  ] as const) {
    it(`signs and verifies with ${what}, checking the origin when asked`, () => {
      const signer = createNoteSigner('sigil.example/log', key);
      const verifier = createNoteVerifier(signer.verifierKey);
      const note = signCheckpoint(checkpoint, [signer]);
      assert.deepEqual(
        verifyCheckpoint(note, [verifier], { origin: 'sigil.example/log' }).checkpoint,
        checkpoint,
      );
      assertMerkleError(
        () => verifyCheckpoint(note, [verifier], { origin: 'other.example/log' }),
        'MERKLE_CHECKPOINT_ORIGIN_MISMATCH',
        /expected "other\.example\/log", received "sigil\.example\/log"/,
      );
    });
  }

  it('rejects a correctly signed note whose text is not a checkpoint', () => {
    const signer = createNoteSigner('n', generateKeyPairSync('ed25519').privateKey);
    const note = signNote('just\ntext\n', [signer]);
    assertMerkleError(
      () => verifyCheckpoint(note, [createNoteVerifier(signer.verifierKey)]),
      'MERKLE_CHECKPOINT_MALFORMED',
    );
  });
});

describe('Rekor v1 checkpoints', () => {
  it('formats and parses the `<hostname> - <tree ID>` origin', () => {
    assert.equal(
      formatRekorV1Origin('rekor.sigstore.dev', 1193050959916656506n),
      'rekor.sigstore.dev - 1193050959916656506',
    );
    assert.deepEqual(parseRekorV1Origin('localhost:8000 - 66685725041719'), {
      hostname: 'localhost:8000',
      treeId: 66685725041719n,
    });
    for (const origin of ['Rekor', 'a - 0', 'a - 01', 'a b - 1', 'a - 9223372036854775808', ' - 1']) {
      assert.equal(parseRekorV1Origin(origin), undefined, origin);
    }
    assert.throws(() => formatRekorV1Origin('a b', 1n), TypeError);
    assert.throws(() => formatRekorV1Origin('a', 0n), TypeError);
  });

  it('reads, replaces and validates the Timestamp extension line as RekorSTH does', () => {
    const base: Checkpoint = { origin: 'rekor.example - 1', size: 1, rootHash: root, extensions: ['other'] };
    assert.equal(readRekorV1Timestamp(base), undefined);
    const stamped = withRekorV1Timestamp(withRekorV1Timestamp(base, 1n), 1689177396617352539n);
    assert.deepEqual(stamped.extensions, ['other', 'Timestamp: 1689177396617352539']);
    assert.equal(
      readRekorV1Timestamp(parseCheckpointBody(formatCheckpointBody(stamped))),
      1689177396617352539n,
    );
    for (const line of ['Timestamp: 01', 'Timestamp: -1', 'Timestamp: 18446744073709551616', 'Timestamp: ']) {
      assertMerkleError(
        () => readRekorV1Timestamp({ ...base, extensions: [line] }),
        'MERKLE_CHECKPOINT_MALFORMED',
      );
    }
  });
});
