import assert from 'node:assert/strict';
import { generateKeyPairSync, verify } from 'node:crypto';
import { describe, it } from 'node:test';
import { formatCheckpointBody, verifyCheckpoint } from '../../src/merkle/checkpoint.ts';
import type { Checkpoint } from '../../src/merkle/checkpoint.ts';
import {
  cosignCheckpoint,
  createCosignatureSigner,
  createCosignatureVerifier,
  formatCosignedMessage,
  readCosignatureTimestamp,
  verifyCosignedCheckpoint,
} from '../../src/merkle/cosignature.ts';
import { createEd25519Signer, createNoteVerifier, parseVerifierKey } from '../../src/merkle/note-keys.ts';
import { parseSignedNote, signNote } from '../../src/merkle/signed-note.ts';
import type { NoteSignature } from '../../src/merkle/signed-note.types.ts';
import { assertMerkleError, bundleCheckpoint, logVerifiersOf, noteCases, noteKeys } from './note-fixtures.ts';

const checkpoint: Checkpoint = {
  origin: 'sigil.example/log',
  size: 1234,
  rootHash: new Uint8Array(32).fill(9),
  extensions: [],
};
const body = formatCheckpointBody(checkpoint);
const log = createEd25519Signer('sigil.example/log', generateKeyPairSync('ed25519').privateKey);
const logVerifier = createNoteVerifier(log.verifierKey);
const signed = signNote(body, [log]);
const witness1 = generateKeyPairSync('ed25519');
const witness2 = generateKeyPairSync('ed25519');
const cosigner1 = createCosignatureVerifier('witness.example/w1', witness1.publicKey);
const cosigner2 = createCosignatureVerifier('witness.example/w2', witness2.publicKey);

function cosignedByBoth(): string {
  const once = cosignCheckpoint(
    signed,
    [logVerifier],
    createCosignatureSigner('witness.example/w1', witness1.privateKey, 1700000000),
  );
  return cosignCheckpoint(
    once,
    [logVerifier],
    createCosignatureSigner('witness.example/w2', witness2.privateKey, 1700000001),
  );
}

describe('cosignature timestamps (cases.json cosignature_v1_timestamps)', () => {
  const [timestamped, plain, gibberish] = noteCases.cosignature_v1_timestamps.cases;

  it('reads the timestamp of a cosignature/v1 signature', () => {
    assert.equal(noteCases.cosignature_v1_timestamps.cases.length, 3);
    assert.equal(readCosignatureTimestamp(timestamped?.signature_base64 ?? ''), 1727964367);
  });

  it('rejects a plain Ed25519 note signature (68 bytes) and gibberish', () => {
    assertMerkleError(
      () => readCosignatureTimestamp(plain?.signature_base64 ?? ''),
      'MERKLE_COSIGNATURE_INVALID',
      /76 bytes/,
    );
    assertMerkleError(
      () => readCosignatureTimestamp(gibberish?.signature_base64 ?? ''),
      'MERKLE_COSIGNATURE_INVALID',
    );
  });

  it('reads the time of the tlog-cosignature spec example (1679315147)', () => {
    const line =
      'jWbPPwAAAABkGFDLEZMHwSRaJNiIDoe9DYn/zXcrtPHeolMI5OWXEhZCB9dlrDJsX3b2oyin1nPZqhf5nNo0xUe+mbIUBkBIfZ+qnA==';
    assert.equal(readCosignatureTimestamp(line), 1679315147);
  });
});

describe('real witness cosignatures (sigstore-conformance rekor2-dsse-happy-path)', () => {
  const dir = 'sigstore-conformance/bundle-verify/rekor2-dsse-happy-path';
  const envelope = bundleCheckpoint(`${dir}/bundle.sigstore.json`);

  it('verifies the staging log signature and ignores the three witnesses whose keys are unknown', () => {
    const { note } = verifyCheckpoint(envelope, logVerifiersOf(`${dir}/trusted_root.json`));
    assert.deepEqual(
      note.unverified.map((s) => s.keyName),
      [
        'witness.stagemole.eu',
        'staging.witness.transparency.goog/ring-any-bells',
        'witness.navigli.sunlight.geomys.org',
      ],
    );
    assert.deepEqual(note.unverified.map(readCosignatureTimestamp), [1778700214, 1778700214, 1778700214]);
  });

  it('fails the cosignature quorum when the witnesses are required but unverifiable', () => {
    const unrelated = createCosignatureVerifier(
      'witness.stagemole.eu',
      generateKeyPairSync('ed25519').publicKey,
    );
    assertMerkleError(
      () => verifyCosignedCheckpoint(envelope, logVerifiersOf(`${dir}/trusted_root.json`), [unrelated]),
      'MERKLE_COSIGNATURE_INVALID',
      /at least 1 witnesses, received 0/,
    );
  });

  it('accepts the remora.n621.de witness vkey (type 0x04)', () => {
    const vkey = noteKeys.valid_vkeys.find((k) => k.vkey.startsWith('remora'))?.vkey ?? '';
    assert.equal(createNoteVerifier(vkey).signatureType, 0x04);
  });
});

describe('cosigning a checkpoint', () => {
  it('signs "cosignature/v1\\ntime <t>\\n" + body, with key ID || timestamp || signature', () => {
    const cosigned = parseSignedNote(cosignedByBoth());
    const line = cosigned.signatures.find((s) => s.keyName === 'witness.example/w1');
    assert.ok(line);
    assert.equal(line.keyId, cosigner1.keyId);
    assert.equal(line.signature.length, 72);
    assert.equal(readCosignatureTimestamp(line), 1700000000);
    const message = Buffer.from(`cosignature/v1\ntime 1700000000\n${body}`);
    assert.equal(formatCosignedMessage(1700000000, body), message.toString());
    assert.ok(verify(null, message, witness1.publicKey, line.signature.subarray(8)));
  });

  it('verifies a quorum of cosigners and returns their timestamps', () => {
    const result = verifyCosignedCheckpoint(cosignedByBoth(), [logVerifier], [cosigner1, cosigner2]);
    assert.deepEqual(result.checkpoint, checkpoint);
    assert.deepEqual(
      result.cosignatures.map((c) => [c.keyName, c.timestamp]),
      [
        ['witness.example/w1', 1700000000],
        ['witness.example/w2', 1700000001],
      ],
    );
  });

  it('replaces an earlier cosignature by the same witness instead of adding a second', () => {
    const again = cosignCheckpoint(
      cosignedByBoth(),
      [logVerifier],
      createCosignatureSigner('witness.example/w1', witness1.privateKey, 1800000000),
    );
    const result = verifyCosignedCheckpoint(again, [logVerifier], [cosigner1, cosigner2]);
    assert.equal(parseSignedNote(again).signatures.length, 3);
    assert.deepEqual(result.cosignatures.map((c) => c.timestamp).sort(), [1700000001, 1800000000]);
  });

  it('fails below the quorum, which defaults to every cosigner', () => {
    const once = cosignCheckpoint(
      signed,
      [logVerifier],
      createCosignatureSigner('witness.example/w1', witness1.privateKey, 1),
    );
    assertMerkleError(
      () => verifyCosignedCheckpoint(once, [logVerifier], [cosigner1, cosigner2]),
      'MERKLE_COSIGNATURE_INVALID',
    );
    assert.equal(
      verifyCosignedCheckpoint(once, [logVerifier], [cosigner1, cosigner2], { quorum: 1 }).cosignatures
        .length,
      1,
    );
    assert.throws(() => verifyCosignedCheckpoint(once, [logVerifier], [cosigner1], { quorum: 2 }), TypeError);
  });

  it('requires the log signature: cosignatures alone do not make a checkpoint', () => {
    const cosigned = parseSignedNote(cosignedByBoth());
    const witnessesOnly = signNote(
      body,
      [],
      cosigned.signatures.filter((s) => s.keyName !== 'sigil.example/log'),
    );
    assertMerkleError(
      () => verifyCosignedCheckpoint(witnessesOnly, [logVerifier], [cosigner1, cosigner2]),
      'MERKLE_NOTE_UNKNOWN_KEY',
    );
  });

  it('rejects the whole note when a known cosigner signature does not verify', () => {
    const cosigned = parseSignedNote(cosignedByBoth());
    const forged: NoteSignature[] = cosigned.signatures.map((s) =>
      s.keyName === 'witness.example/w2'
        ? { ...s, signature: Uint8Array.from(s.signature, (b, i) => (i === 70 ? b ^ 1 : b)) }
        : s,
    );
    assertMerkleError(
      () => verifyCosignedCheckpoint(signNote(body, [], forged), [logVerifier], [cosigner1, cosigner2]),
      'MERKLE_NOTE_SIGNATURE_INVALID',
      /witness\.example\/w2/,
    );
  });

  it('fails a cosignature moved to a different time or checkpoint', () => {
    const cosigned = parseSignedNote(cosignedByBoth());
    const retimed = cosigned.signatures.map((s) => {
      if (s.keyName !== 'witness.example/w1') return s;
      const signature = Uint8Array.from(s.signature);
      signature[7] = (signature[7] ?? 0) + 1;
      return { ...s, signature };
    });
    assertMerkleError(
      () => verifyCosignedCheckpoint(signNote(body, [], retimed), [logVerifier], [cosigner1]),
      'MERKLE_NOTE_SIGNATURE_INVALID',
    );
    assert.equal(
      cosigner1.verify(body.replace('1234', '1235'), cosigned.signatures[1]?.signature ?? new Uint8Array()),
      false,
    );
  });

  it('refuses to cosign what the log did not sign', () => {
    const cosigner = createCosignatureSigner('witness.example/w1', witness1.privateKey, 1);
    const stranger = createNoteVerifier(
      createEd25519Signer('sigil.example/log', generateKeyPairSync('ed25519').privateKey).verifierKey,
    );
    assertMerkleError(() => cosignCheckpoint(signed, [stranger], cosigner), 'MERKLE_NOTE_UNKNOWN_KEY');
    const forged = signed.replace('1234', '1235');
    assertMerkleError(
      () => cosignCheckpoint(forged, [logVerifier], cosigner),
      'MERKLE_NOTE_SIGNATURE_INVALID',
    );
  });

  it('refuses to cosign text that is not a checkpoint, and a verifier never accepts it', () => {
    const cosigner = createCosignatureSigner('witness.example/w1', witness1.privateKey, 1);
    assertMerkleError(() => cosigner.sign('not\na checkpoint\n'), 'MERKLE_CHECKPOINT_MALFORMED');
    assert.equal(cosigner1.verify('not\na checkpoint\n', new Uint8Array(72)), false);
  });

  it('never verifies a timestamp beyond 2^53 - 1 or a signature of the wrong length', () => {
    const signature = new Uint8Array(72).fill(0xff);
    assert.equal(cosigner1.verify(body, signature), false);
    assert.equal(cosigner1.verify(body, new Uint8Array(64)), false);
  });

  it('refuses bad timestamps and keys when creating a cosigner', () => {
    assert.throws(() => createCosignatureSigner('w', witness1.privateKey, -1), TypeError);
    assert.throws(() => createCosignatureSigner('w', witness1.privateKey, 1.5), TypeError);
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    assertMerkleError(() => createCosignatureSigner('w', ec.privateKey, 1), 'MERKLE_SIGNER_KEY_INVALID');
    assertMerkleError(() => createCosignatureVerifier('w', ec.publicKey), 'MERKLE_VERIFIER_KEY_INVALID');
    assertMerkleError(
      () => createCosignatureVerifier('w w', witness1.publicKey),
      'MERKLE_VERIFIER_KEY_INVALID',
    );
  });

  it('publishes a 0x04 vkey that createNoteVerifier turns back into the same cosigner', () => {
    const signer = createCosignatureSigner('witness.example/w1', witness1.privateKey, 1);
    assert.equal(signer.verifierKey, cosigner1.verifierKey);
    assert.equal(parseVerifierKey(signer.verifierKey).type, 0x04);
    assert.equal(createNoteVerifier(signer.verifierKey).keyId, cosigner1.keyId);
  });
});
