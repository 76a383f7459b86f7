import assert from 'node:assert/strict';
import { createPublicKey, generateKeyPairSync, randomBytes } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { describe, it } from 'node:test';
import { createCosignatureVerifier } from '../../src/merkle/cosignature.ts';
import {
  createEcdsaSigner,
  createEcdsaVerifier,
  createEd25519Signer,
  createEd25519Verifier,
  createNoteSigner,
  createNoteVerifier,
  ecdsaKeyId,
  formatSignerKey,
  parseSignerKey,
  parseVerifierKey,
} from '../../src/merkle/note-keys.ts';
import { signCheckpoint, verifyCheckpoint } from '../../src/merkle/checkpoint.ts';
import type { Checkpoint } from '../../src/merkle/checkpoint.ts';
import {
  createRfc6962Signer,
  createRfc6962Verifier,
  readRfc6962Timestamp,
  rfc6962LogName,
  signedTreeHeadToCheckpoint,
} from '../../src/merkle/rfc6962-note.ts';
import { computeKeyId, openSignedNote, parseSignedNote, signNote } from '../../src/merkle/signed-note.ts';
import { NoteSignatureType } from '../../src/merkle/signed-note.types.ts';
import {
  PRODUCTION_TRUSTED_ROOT,
  assertMerkleError,
  noteKeys,
  readNote,
  readTrustedRoot,
  readVectorText,
} from './note-fixtures.ts';

const peterVkey = 'PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW';
const root = new Uint8Array(32).fill(7);
const peterText =
  "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n";

describe('verifier keys (keys.json)', () => {
  it('lists 9 valid and 9 invalid vkeys', () => {
    assert.equal(noteKeys.valid_vkeys.length, 9);
    assert.equal(noteKeys.invalid_vkeys.length, 9);
  });

  for (const { vkey, type } of noteKeys.valid_vkeys) {
    it(`accepts ${vkey.split('+')[0]} (${type}) and formats it back unchanged`, () => {
      const verifier = createNoteVerifier(vkey);
      assert.equal(verifier.verifierKey, vkey);
      assert.equal(verifier.signatureType, parseVerifierKey(vkey).type);
    });
  }

  for (const { vkey, expected } of noteKeys.invalid_vkeys.filter((k) => !k.vkey.startsWith('('))) {
    it(`rejects ${vkey.slice(0, 40)}… (${expected})`, () => {
      if (vkey.startsWith('logandmap')) {
        // The upstream case hands a public key to the signer-key parser.
        assertMerkleError(() => parseSignerKey(vkey), 'MERKLE_SIGNER_KEY_INVALID');
        return;
      }
      assertMerkleError(() => createNoteVerifier(vkey), 'MERKLE_VERIFIER_KEY_INVALID');
    });
  }

  it('rejects every proper substring of a vkey and every one-byte increment of it (TestNewVerifier)', () => {
    let rejected = 0;
    const variants = new Set<string>();
    for (let start = 0; start < peterVkey.length; start++) {
      for (let end = start + 1; end <= peterVkey.length; end++) {
        if (end - start < peterVkey.length) variants.add(peterVkey.slice(start, end));
      }
    }
    for (let i = 0; i < peterVkey.length; i++) {
      const bumped = String.fromCharCode(peterVkey.charCodeAt(i) + 1);
      variants.add(peterVkey.slice(0, i) + bumped + peterVkey.slice(i + 1));
    }
    for (const variant of variants) {
      assertMerkleError(() => createNoteVerifier(variant), 'MERKLE_VERIFIER_KEY_INVALID');
      rejected++;
    }
    assert.ok(rejected > 2000);
  });

  it('rejects the signature types it cannot verify, naming the type', () => {
    const mlDsa = Buffer.concat([Buffer.of(0x06), Buffer.alloc(1312)]).toString('base64');
    assertMerkleError(() => createNoteVerifier(`w+00000000+${mlDsa}`), 'MERKLE_VERIFIER_KEY_INVALID', /0x06/);
    assertMerkleError(() => createNoteVerifier('w+00000000+/wEB'), 'MERKLE_VERIFIER_KEY_INVALID', /0xff/);
  });

  it('derives the vkeys of the CT logs from their SPKI and submission URL (RFC6962VerifierString)', () => {
    for (const [name, entry] of Object.entries(noteKeys.ct_log_spki_der_b64)) {
      if (typeof entry === 'string') continue;
      const der = Buffer.from(entry.der, 'base64');
      const bare = entry.url.replace('https://', '');
      for (const url of [entry.url, bare, bare.replace(/\/$/, '')]) {
        assert.equal(createRfc6962Verifier(rfc6962LogName(url), der).verifierKey, entry.expected_vkey, name);
      }
      assertMerkleError(
        () => createRfc6962Verifier(`${rfc6962LogName(entry.url)}+cheese`, der),
        'MERKLE_VERIFIER_KEY_INVALID',
      );
    }
  });

  it('treats an Ed25519 key as a cosigner under the 0x04 key ID (NewVerifierForCosignatureV1)', () => {
    const ed25519 = parseVerifierKey('TEST+7997405c+AQcC+FTVKf0jlTdHDY3rbevmnKxxPjigCXlVtGe6RIr6');
    const cosigner = createCosignatureVerifier(ed25519.keyName, ed25519.publicKey);
    assert.equal(
      cosigner.keyId,
      computeKeyId('TEST', NoteSignatureType.cosignatureEd25519, ed25519.publicKey),
    );
    assert.notEqual(cosigner.keyId, ed25519.keyId);
    assert.equal(createNoteVerifier(cosigner.verifierKey).signatureType, 0x04);
  });

  it('gives the public-good Rekor key the key ID that starts its log ID (c0d23d6a)', () => {
    const rekor = readTrustedRoot(PRODUCTION_TRUSTED_ROOT).tlogs.find(
      (t) => t.baseUrl === 'https://rekor.sigstore.dev',
    );
    assert.ok(rekor);
    const spki = Buffer.from(rekor.publicKey.rawBytes, 'base64');
    const logId = Buffer.from(rekor.logId.keyId, 'base64');
    assert.equal(ecdsaKeyId(spki), logId.readUInt32BE(0));
    assert.equal(createEcdsaVerifier('rekor.sigstore.dev', spki).keyId, 0xc0d23d6a);
  });
});

describe('signer keys (keys.json)', () => {
  const [peter, logandmap] = noteKeys.test_private_keys;

  it('signs the upstream text into the upstream note, byte for byte', () => {
    assert.ok(peter);
    const key = parseSignerKey(peter.skey);
    const signer = createEd25519Signer(key.keyName, key.privateKey);
    assert.equal(signer.verifierKey, peterVkey);
    assert.deepEqual(
      Buffer.from(signNote(peterText, [signer])),
      Buffer.from(readNote('notes/peter-signed.note')),
    );
    assert.equal(formatSignerKey(key.keyName, key.privateKey), peter.skey);
  });

  it('derives the published logandmap vkey from its signer key', () => {
    assert.ok(logandmap);
    const key = parseSignerKey(logandmap.skey);
    assert.equal(
      createEd25519Signer(key.keyName, key.privateKey).verifierKey,
      'logandmap+38581672+Ab/PCr1eCclRPRMBqw/r5An1xO71MCnImLiospEq6b4l',
    );
  });

  for (const [what, skey] of [
    ['a wrong key ID', 'PRIVATE+KEY+PeterNeumann+c74f20a4+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz'],
    ['a missing prefix', 'PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz'],
    ['a short seed', 'PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKA=='],
    ['another type', 'PRIVATE+KEY+PeterNeumann+c74f20a3+AoEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz'],
    ['a bad name', 'PRIVATE+KEY+Peter Neumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz'],
  ] as const) {
    it(`rejects a signer key with ${what}, without echoing it`, () => {
      assert.throws(
        () => parseSignerKey(skey),
        (error: unknown) => {
          assert.ok(error instanceof Error);
          assert.equal((error as { code?: string }).code, 'MERKLE_SIGNER_KEY_INVALID');
          assert.ok(!error.message.includes('AYEKFALV'));
          return true;
        },
      );
    });
  }
});

describe('signing and verifying with fresh keys', () => {
  const keys: [string, KeyObject][] = [
    ['ed25519', generateKeyPairSync('ed25519').privateKey],
    ['ecdsa p-256', generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey],
    ['ecdsa p-384', generateKeyPairSync('ec', { namedCurve: 'P-384' }).privateKey],
    ['ecdsa p-521', generateKeyPairSync('ec', { namedCurve: 'P-521' }).privateKey],
  ];
  for (const [what, privateKey] of keys) {
    it(`round-trips sign → vkey → verify with ${what}`, () => {
      const signer = createNoteSigner('sigil.example/log', privateKey);
      const verifier = createNoteVerifier(signer.verifierKey);
      const note = signNote('sigil\n', [signer]);
      assert.equal(openSignedNote(note, [verifier]).verified[0]?.verifier, verifier);
      const other = createNoteSigner('sigil.example/log', generateKeyPairSync('ed25519').privateKey);
      assertMerkleError(
        () => openSignedNote(signNote('tampered\n', [signer]).replace('tampered', 'tamperee'), [verifier]),
        'MERKLE_NOTE_SIGNATURE_INVALID',
      );
      assertMerkleError(
        () => openSignedNote(signNote('sigil\n', [other]), [verifier]),
        'MERKLE_NOTE_UNKNOWN_KEY',
      );
    });
  }

  it('builds the same verifier from a KeyObject, a raw key and a DER SPKI', () => {
    const ed = generateKeyPairSync('ed25519').publicKey;
    const raw = parseVerifierKey(createEd25519Verifier('n', ed).verifierKey).publicKey;
    assert.equal(createEd25519Verifier('n', raw).verifierKey, createEd25519Verifier('n', ed).verifierKey);
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey;
    const spki = ec.export({ type: 'spki', format: 'der' });
    assert.equal(createEcdsaVerifier('n', spki).verifierKey, createEcdsaVerifier('n', ec).verifierKey);
  });

  it('refuses keys of the wrong kind with the key error of their role', () => {
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const k1 = generateKeyPairSync('ec', { namedCurve: 'secp256k1' });
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
    assertMerkleError(() => createEd25519Signer('n', ec.privateKey), 'MERKLE_SIGNER_KEY_INVALID');
    assertMerkleError(() => createEcdsaSigner('n', k1.privateKey), 'MERKLE_SIGNER_KEY_INVALID', /secp256k1/);
    assertMerkleError(() => createEcdsaSigner('n', ec.publicKey), 'MERKLE_SIGNER_KEY_INVALID');
    assertMerkleError(() => createEcdsaVerifier('n', rsa.publicKey), 'MERKLE_VERIFIER_KEY_INVALID');
    assertMerkleError(() => createEd25519Verifier('n', new Uint8Array(31)), 'MERKLE_VERIFIER_KEY_INVALID');
    assertMerkleError(
      () => createEcdsaVerifier('n', new Uint8Array([0x30, 0x03])),
      'MERKLE_VERIFIER_KEY_INVALID',
    );
    assertMerkleError(
      () => createEd25519Signer('bad name', generateKeyPairSync('ed25519').privateKey),
      'MERKLE_SIGNER_KEY_INVALID',
    );
    assertMerkleError(
      () => createEcdsaVerifier('n', createPublicKey(k1.privateKey)),
      'MERKLE_VERIFIER_KEY_INVALID',
    );
  });
});

describe('RFC 6962 note signatures (static-ct-api §Checkpoints)', () => {
  const origin = 'ct.sigil.example/2026h1';
  for (const [what, pair] of [
    ['ecdsa p-256', generateKeyPairSync('ec', { namedCurve: 'P-256' })],
    ['rsa 2048', generateKeyPairSync('rsa', { modulusLength: 2048 })],
  ] as const) {
    it(`signs and verifies a tree head with ${what}, carrying the timestamp`, () => {
      const verifier = createRfc6962Verifier(origin, pair.publicKey);
      const checkpoint: Checkpoint = { origin, size: 9, rootHash: randomBytes(32), extensions: [] };
      const note = signCheckpoint(checkpoint, [createRfc6962Signer(origin, pair.privateKey, 1767225600000)]);
      const verified = verifyCheckpoint(note, [verifier]);
      assert.equal(
        readRfc6962Timestamp(verified.note.verified[0]?.signature ?? new Uint8Array()),
        1767225600000,
      );
      // The signature does not cover the origin: a changed origin line must still fail.
      assertMerkleError(
        () => verifyCheckpoint(note.replace(origin, `x${origin}`), [verifier]),
        'MERKLE_NOTE_SIGNATURE_INVALID',
      );
    });
  }

  it('refuses to sign extension lines or another origin, as the tree head cannot cover them', () => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const signer = createRfc6962Signer(origin, privateKey, 0);
    const withExtension: Checkpoint = { origin, size: 1, rootHash: root, extensions: ['x'] };
    assertMerkleError(() => signCheckpoint(withExtension, [signer]), 'MERKLE_CHECKPOINT_MALFORMED');
    assertMerkleError(
      () => signCheckpoint({ ...withExtension, origin: 'o', extensions: [] }, [signer]),
      'MERKLE_CHECKPOINT_MALFORMED',
    );
    assert.throws(() => createRfc6962Signer(origin, privateKey, -1), TypeError);
  });

  it('rejects the upstream STH variants that must fail: bad JSON and a bad signature', () => {
    const verifier = createRfc6962Verifier(
      origin,
      generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey,
    );
    const sth = readVectorText('signed-note/notes/argon2024-sth.json');
    assertMerkleError(
      () => signedTreeHeadToCheckpoint(`Bananas are cool : ${sth}`, verifier),
      'MERKLE_CHECKPOINT_MALFORMED',
    );
    const banana = sth.replace(/"tree_head_signature":"[^"]*"/, '"tree_head_signature":"BananaSignature"');
    assertMerkleError(() => signedTreeHeadToCheckpoint(banana, verifier), 'MERKLE_CHECKPOINT_MALFORMED');
    for (const hostile of ['null', '[]', '{"tree_size":-1}', '{"tree_size":1.5,"timestamp":1}']) {
      assertMerkleError(() => signedTreeHeadToCheckpoint(hostile, verifier), 'MERKLE_CHECKPOINT_MALFORMED');
    }
    // Converting only moves bytes; the converted checkpoint of another log does not verify.
    const converted = signedTreeHeadToCheckpoint(sth, verifier);
    assert.equal(parseSignedNote(converted).signatures[0]?.keyId, verifier.keyId);
    assertMerkleError(() => verifyCheckpoint(converted, [verifier]), 'MERKLE_NOTE_SIGNATURE_INVALID');
  });
});
