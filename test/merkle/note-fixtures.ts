import assert from 'node:assert/strict';
import { createPublicKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { MerkleError } from '../../src/merkle/errors.ts';
import type { MerkleErrorCode } from '../../src/merkle/errors.ts';
import { createEcdsaVerifier, createEd25519Verifier } from '../../src/merkle/note-keys.ts';
import type { NoteVerifier } from '../../src/merkle/signed-note.types.ts';
import { vectorPath } from '../tools/vectors.ts';

/**
 * Loads the signed-note vectors (shared/vectors/signed-note, see its README for provenance) and the
 * real checkpoints carried by the sigstore-conformance and sigstore-js bundles.
 */

export interface VerifierSet {
  verifiers: string[];
  expected: string;
}

export interface NoteCase {
  file: string;
  expected: string;
  verifiers?: string[];
  verifier_sets?: VerifierSet[];
}

export interface SignedNoteCases {
  cases: NoteCase[];
  cosignature_v1_timestamps: { cases: { signature_base64: string; expected: string }[] };
  checkpoint_body_parse: { cases: { body: string; expected: string }[] };
  sumdb_tree_note_parse: { cases: { body: string; expected: string }[] };
}

export interface SignedNoteKeys {
  valid_vkeys: { vkey: string; type: string }[];
  invalid_vkeys: { vkey: string; expected: string }[];
  test_private_keys: { skey: string; vkey?: string }[];
  ct_log_spki_der_b64: Record<string, { der: string; url: string; expected_vkey: string } | string>;
}

export function readVectorText(relativePath: string): string {
  return readFileSync(vectorPath(relativePath), 'utf8');
}

export function readNote(file: string): Uint8Array {
  return new Uint8Array(readFileSync(vectorPath(`signed-note/${file}`)));
}

export const noteCases = JSON.parse(readVectorText('signed-note/cases.json')) as SignedNoteCases;
export const noteKeys = JSON.parse(readVectorText('signed-note/keys.json')) as SignedNoteKeys;

/** The verifier sets of a case: `verifier_sets` when present, else its one `verifiers` list. */
export function verifierSetsOf(testCase: NoteCase): VerifierSet[] {
  return testCase.verifier_sets ?? [{ verifiers: testCase.verifiers ?? [], expected: testCase.expected }];
}

interface TrustedRoot {
  tlogs: { baseUrl: string; publicKey: { rawBytes: string }; logId: { keyId: string } }[];
}

/** The production trusted root (a copy from @sigstore/tuf, see vectors/npm-provenance). */
export const PRODUCTION_TRUSTED_ROOT = 'npm-provenance/sigstore-tuf-trusted_root.json';

export function readTrustedRoot(relativePath: string): TrustedRoot {
  return JSON.parse(readVectorText(relativePath)) as TrustedRoot;
}

/**
 * Checkpoint verifiers for every log of a trusted root: Rekor v1 signs with ECDSA (type 0x02), Rekor v2
 * with Ed25519 (type 0x01); both name the key after the log's host.
 */
export function logVerifiersOf(relativePath: string): NoteVerifier[] {
  return readTrustedRoot(relativePath).tlogs.map((log) => {
    const key = createPublicKey({
      key: Buffer.from(log.publicKey.rawBytes, 'base64'),
      format: 'der',
      type: 'spki',
    });
    const name = new URL(log.baseUrl).host;
    return key.asymmetricKeyType === 'ed25519'
      ? createEd25519Verifier(name, key)
      : createEcdsaVerifier(name, key);
  });
}

interface Bundle {
  verificationMaterial?: { tlogEntries?: { inclusionProof?: { checkpoint?: { envelope?: string } } }[] };
}

/** The checkpoint envelope of a bundle's first transparency-log entry. */
export function bundleCheckpoint(relativePath: string): string {
  const bundle = JSON.parse(readVectorText(relativePath)) as Bundle;
  const envelope = bundle.verificationMaterial?.tlogEntries?.[0]?.inclusionProof?.checkpoint?.envelope;
  assert.ok(envelope, `${relativePath} carries no checkpoint`);
  return envelope;
}

/** Asserts that `fn` throws a MerkleError with `code`, and a message matching `fragment` if given. */
export function assertMerkleError(fn: () => unknown, code: MerkleErrorCode, fragment?: RegExp): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof MerkleError, `expected MerkleError, received ${String(error)}`);
    assert.equal(error.code, code, error.message);
    if (fragment) assert.match(error.message, fragment);
    return true;
  });
}
