import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { decodeBase64, encodeBase64, encodeUtf8, publicKeyDer } from '../../src/core/index.ts';
import {
  cosignCheckpoint,
  createCosignatureSigner,
  createCosignatureVerifier,
  createEd25519Signer,
  createEd25519Verifier,
  hashChildren,
  hashLeaf,
  signCheckpoint,
} from '../../src/merkle/index.ts';
import { parseBundle } from '../../src/verify/bundle.ts';
import type { InclusionProof, TlogEntry } from '../../src/verify/bundle.types.ts';
import { VerificationError, type VerificationErrorCode } from '../../src/verify/errors.ts';
import { verifyTlogInclusion } from '../../src/verify/tlog-inclusion.ts';
import { noteKeyHash } from '../../src/verify/tlog-instance.ts';
import type { TransparencyLogInstance } from '../../src/verify/trust.types.ts';
import { vectorPath } from '../tools/vectors.ts';
import { failsWith, flipByte, loadTlogCase, loadTrust } from './tlog-fixtures.ts';

/** The part of the bundle JSON the checkpoint is moved in. */
interface BundleJson {
  verificationMaterial: { tlogEntries: { inclusionProof: { checkpoint?: unknown } }[] };
}

function withProof(entry: TlogEntry, change: Partial<InclusionProof>): TlogEntry {
  const proof = entry.inclusionProof;
  assert.ok(proof);
  return { ...entry, inclusionProof: { ...proof, ...change } };
}

/** The checkpoint with bit 0 of byte `index` of its `line`-th signature (key ID included) flipped. */
function flipSignatureByte(checkpoint: string, line: number, index: number): string {
  const lines = checkpoint.split('\n');
  const at = lines.findIndex((text) => text.startsWith('\u2014 ')) + line;
  const [dash, name, signature] = (lines[at] ?? '').split(' ');
  lines[at] = `${dash} ${name} ${encodeBase64(flipByte(decodeBase64(signature ?? ''), index))}`;
  return lines.join('\n');
}

const PASSING = [
  'happy-path-v0.1',
  'happy-path-v0.2',
  'happy-path-v0.3',
  'happy-path-v0.3-new-mediaType',
  'happy-path-intoto-in-dsse-v3',
  'intoto-with-custom-trust-root',
  'bundle-with-sct-with-extensions',
  'managed-key-happy-path',
  'rekor2-happy-path',
  'rekor2-dsse-happy-path',
  'rekor2-checkpoint-cosigned',
  'rekor2-checkpoint-multiple-cosigs',
  'rekor2-checkpoint-origin-not-first',
  'rekor2-checkpoint-two-sigs-cosigned',
  'rekor2-checkpoint-two-sigs-from-origin',
];

const FAILING: Readonly<Record<string, VerificationErrorCode>> = {
  'checkpoint-bad-keyhint_fail': 'VERIFY_TLOG_CHECKPOINT_ERROR',
  'checkpoint-wrong-roothash_fail': 'VERIFY_TLOG_CHECKPOINT_ERROR',
  'inclusion-proof-corrupted-hash_fail': 'VERIFY_TLOG_INCLUSION_PROOF_ERROR',
  'invalid-checkpoint-signature_fail': 'VERIFY_TLOG_CHECKPOINT_ERROR',
  'rekor2-checkpoint-missing-log-signature_fail': 'VERIFY_TLOG_CHECKPOINT_ERROR',
  'rekor2-checkpoint-missing-origin_fail': 'VERIFY_TLOG_CHECKPOINT_ERROR',
  'rekor2-checkpoint-missing-root-hash_fail': 'VERIFY_TLOG_CHECKPOINT_ERROR',
  'rekor2-checkpoint-missing-size_fail': 'VERIFY_TLOG_CHECKPOINT_ERROR',
  'rekor2-checkpoint-no-matching-signature_fail': 'VERIFY_TLOG_CHECKPOINT_ERROR',
};

describe('verifyTlogInclusion on the conformance bundles', () => {
  for (const name of PASSING) {
    it(`accepts the inclusion proof and checkpoint of ${name}`, () => {
      const { entry, log } = loadTlogCase(name);
      verifyTlogInclusion(entry, log);
      // The second call is answered from the checkpoint cache and must agree.
      verifyTlogInclusion(entry, log);
    });
  }

  for (const [name, code] of Object.entries(FAILING)) {
    it(`rejects ${name} with ${code}`, () => {
      const { entry, log } = loadTlogCase(name);
      assert.throws(() => verifyTlogInclusion(entry, log), failsWith(code));
    });
  }

  describe('when the inclusion proof is old and for another leaf (invalid-inclusion-proof_fail)', () => {
    it('rejects it with VERIFY_TLOG_INCLUSION_PROOF_ERROR', () => {
      // parseBundle refuses this v0.2 bundle for its missing checkpoint; the happy-path-v0.2 checkpoint
      // (same entry, a later tree) is added so that the proof itself is what gets checked.
      const dir = vectorPath('sigstore-conformance/bundle-verify');
      const read = (name: string) =>
        JSON.parse(readFileSync(`${dir}/${name}/bundle.sigstore.json`, 'utf8')) as BundleJson;
      const json = read('invalid-inclusion-proof_fail');
      const [stale] = json.verificationMaterial.tlogEntries;
      const [current] = read('happy-path-v0.2').verificationMaterial.tlogEntries;
      assert.ok(stale && current);
      stale.inclusionProof.checkpoint = current.inclusionProof.checkpoint;
      const [entry] = parseBundle(json).verificationMaterial.tlogEntries;
      assert.ok(entry);
      const { log } = loadTlogCase('happy-path-v0.2');
      assert.throws(() => verifyTlogInclusion(entry, log), failsWith('VERIFY_TLOG_INCLUSION_PROOF_ERROR'));
    });
  });

  describe('when a v0.1 inclusion proof has no checkpoint (bundle-with-root-cert_fail)', () => {
    it('rejects it with VERIFY_TLOG_CHECKPOINT_ERROR: an unsigned root proves nothing', () => {
      const { entry, log } = loadTlogCase('bundle-with-root-cert_fail');
      assert.equal(entry.inclusionProof?.checkpoint, '');
      assert.throws(() => verifyTlogInclusion(entry, log), failsWith('VERIFY_TLOG_CHECKPOINT_ERROR'));
    });
  });
});

describe('verifyTlogInclusion against hostile proofs', () => {
  const { entry, log } = loadTlogCase('happy-path-v0.3');
  const proof = entry.inclusionProof;
  assert.ok(proof);

  it('rejects every one-bit change of every proof hash with VERIFY_TLOG_INCLUSION_PROOF_ERROR', () => {
    proof.hashes.forEach((hash, at) => {
      for (let index = 0; index < hash.length; index++) {
        const hashes = proof.hashes.map((other, i) => (i === at ? flipByte(other, index) : other));
        assert.throws(
          () => verifyTlogInclusion(withProof(entry, { hashes }), log),
          failsWith('VERIFY_TLOG_INCLUSION_PROOF_ERROR'),
        );
      }
    });
  });

  it('rejects every one-bit change of the root hash with VERIFY_TLOG_INCLUSION_PROOF_ERROR', () => {
    for (let index = 0; index < proof.rootHash.length; index++) {
      const rootHash = flipByte(proof.rootHash, index);
      assert.throws(
        () => verifyTlogInclusion(withProof(entry, { rootHash }), log),
        failsWith('VERIFY_TLOG_INCLUSION_PROOF_ERROR'),
      );
    }
  });

  const reshaped: [string, Partial<InclusionProof>][] = [
    ['an extra hash', { hashes: [...proof.hashes, new Uint8Array(32)] }],
    ['a missing hash', { hashes: proof.hashes.slice(0, -1) }],
    [
      'a short hash',
      { hashes: [proof.hashes[0]?.subarray(0, 31) ?? new Uint8Array(), ...proof.hashes.slice(1)] },
    ],
    ['a short root hash', { rootHash: proof.rootHash.subarray(1) }],
    ['the next leaf index', { logIndex: proof.logIndex + 1 }],
    ['a leaf index at the tree size', { logIndex: proof.treeSize }],
    ['a larger tree size', { treeSize: proof.treeSize + 1 }],
    ['an empty tree', { treeSize: 0 }],
  ];
  for (const [what, change] of reshaped) {
    it(`rejects a proof with ${what} with VERIFY_TLOG_INCLUSION_PROOF_ERROR`, () => {
      assert.throws(
        () => verifyTlogInclusion(withProof(entry, change), log),
        failsWith('VERIFY_TLOG_INCLUSION_PROOF_ERROR'),
      );
    });
  }

  it('rejects a changed body (another leaf) with VERIFY_TLOG_INCLUSION_PROOF_ERROR', () => {
    const changed = { ...entry, canonicalizedBody: flipByte(entry.canonicalizedBody, 0) };
    assert.throws(() => verifyTlogInclusion(changed, log), failsWith('VERIFY_TLOG_INCLUSION_PROOF_ERROR'));
  });

  it('rejects an entry without an inclusion proof with VERIFY_TLOG_INCLUSION_PROOF_ERROR', () => {
    const { inclusionProof: _, ...bare } = entry;
    assert.throws(() => verifyTlogInclusion(bare, log), failsWith('VERIFY_TLOG_INCLUSION_PROOF_ERROR'));
  });

  describe('when the proof index does not belong to the entry', () => {
    it('accepts a Rekor v1 shard-local index below the entry index', () => {
      assert.ok(proof.logIndex < entry.logIndex);
      verifyTlogInclusion(entry, log);
    });

    it('rejects a Rekor v1 proof index above the entry index with VERIFY_TLOG_INCLUSION_PROOF_ERROR', () => {
      const changed = { ...entry, logIndex: proof.logIndex - 1 };
      assert.throws(() => verifyTlogInclusion(changed, log), failsWith('VERIFY_TLOG_INCLUSION_PROOF_ERROR'));
    });

    it('rejects a Rekor v2 entry whose index differs from its proof with VERIFY_TLOG_INCLUSION_PROOF_ERROR', () => {
      const v2 = loadTlogCase('rekor2-happy-path');
      const changed = { ...v2.entry, logIndex: v2.entry.logIndex + 1 };
      assert.throws(
        () => verifyTlogInclusion(changed, v2.log),
        failsWith('VERIFY_TLOG_INCLUSION_PROOF_ERROR'),
      );
    });
  });

  for (const name of ['happy-path-v0.3', 'rekor2-checkpoint-cosigned']) {
    it(`rejects every one-bit change of the log's checkpoint signature in ${name} with VERIFY_TLOG_CHECKPOINT_ERROR`, () => {
      const subject = loadTlogCase(name);
      const checkpoint = subject.entry.inclusionProof?.checkpoint ?? '';
      const line = checkpoint.split('\n').find((text) => text.startsWith('\u2014 ')) ?? '';
      const length = decodeBase64(line.split(' ')[2] ?? '').length;
      assert.ok(length > 36);
      for (let index = 0; index < length; index++) {
        const changed = withProof(subject.entry, { checkpoint: flipSignatureByte(checkpoint, 0, index) });
        assert.throws(
          () => verifyTlogInclusion(changed, subject.log),
          failsWith('VERIFY_TLOG_CHECKPOINT_ERROR'),
        );
      }
    });
  }

  it('rejects one-character truncations of the checkpoint with a VerificationError', () => {
    const checkpoint = proof.checkpoint;
    for (let end = 0; end < checkpoint.length; end++) {
      const changed = withProof(entry, { checkpoint: checkpoint.slice(0, end) + checkpoint.slice(end + 1) });
      assert.throws(
        () => verifyTlogInclusion(changed, log),
        (error: unknown) => error instanceof VerificationError,
      );
    }
  });

  describe('when a checkpoint verified for one log is presented for another', () => {
    it('rejects it with VERIFY_TLOG_CHECKPOINT_ERROR although it is cached', () => {
      verifyTlogInclusion(entry, log);
      const other = loadTrust(
        vectorPath('sigstore-conformance/bundle-verify/rekor2-happy-path/trusted_root.json'),
      );
      const stagingV1 = other.tlogs.find((candidate) => candidate.baseUrl === 'https://rekor.sigstage.dev');
      assert.ok(stagingV1);
      assert.throws(() => verifyTlogInclusion(entry, stagingV1), failsWith('VERIFY_TLOG_CHECKPOINT_ERROR'));
    });
  });
});

describe('verifyTlogInclusion with witness cosignatures', () => {
  const origin = 'log.example.dev';
  const logKey = generateKeyPairSync('ed25519');
  const witnessKey = generateKeyPairSync('ed25519');
  const logSigner = createEd25519Signer(origin, logKey.privateKey);
  const witness = createCosignatureVerifier('witness.example', witnessKey.publicKey);
  const witnessSigner = createCosignatureSigner('witness.example', witnessKey.privateKey, 1_700_000_000);
  const log: TransparencyLogInstance = {
    baseUrl: `https://${origin}`,
    hashAlgorithm: 'SHA2_256',
    publicKey: {
      key: logKey.publicKey,
      der: publicKeyDer(logKey.publicKey),
      details: 'PKIX_ED25519',
      validFor: { start: 0, end: Infinity },
    },
    logId: new Uint8Array(32),
  };
  const bodies = [encodeUtf8('{"leaf":0}'), encodeUtf8('{"leaf":1}')];
  const [leaf0, leaf1] = bodies.map((body) => hashLeaf(body));
  assert.ok(leaf0 && leaf1);
  const rootHash = hashChildren(leaf0, leaf1);
  const checkpoint = signCheckpoint({ origin, size: 2, rootHash, extensions: [] }, [logSigner]);
  const cosigned = cosignCheckpoint(
    checkpoint,
    [createEd25519Verifier(origin, logKey.publicKey)],
    witnessSigner,
  );
  const entry: TlogEntry = {
    logIndex: 1,
    logId: noteKeyHash(log, origin) ?? new Uint8Array(),
    kindVersion: { kind: 'hashedrekord', version: '0.0.2' },
    integratedTime: 0,
    canonicalizedBody: bodies[1] ?? new Uint8Array(),
    inclusionProof: { logIndex: 1, treeSize: 2, rootHash, hashes: [leaf0], checkpoint: cosigned },
  };

  it('accepts a cosigned checkpoint when no witness is configured, ignoring the cosignature', () => {
    verifyTlogInclusion(entry, log);
  });

  it('accepts it when the witness is configured and its cosignature verifies', () => {
    verifyTlogInclusion(entry, log, { cosignatureVerifiers: [witness] });
  });

  it('rejects a corrupted cosignature of a configured witness with VERIFY_TLOG_CHECKPOINT_ERROR', () => {
    const corrupted = withProof(entry, { checkpoint: flipSignatureByte(cosigned, 1, 20) });
    verifyTlogInclusion(corrupted, log);
    assert.throws(
      () => verifyTlogInclusion(corrupted, log, { cosignatureVerifiers: [witness] }),
      failsWith('VERIFY_TLOG_CHECKPOINT_ERROR'),
    );
  });

  it('rejects a checkpoint signed by the witness alone with VERIFY_TLOG_CHECKPOINT_ERROR', () => {
    const lines = cosigned.split('\n');
    const witnessOnly = [...lines.slice(0, 4), ...lines.slice(5)].join('\n');
    assert.throws(
      () =>
        verifyTlogInclusion(withProof(entry, { checkpoint: witnessOnly }), log, {
          cosignatureVerifiers: [witness],
        }),
      failsWith('VERIFY_TLOG_CHECKPOINT_ERROR'),
    );
  });

  // The key name is the origin's host: the log key signs for whatever origin its checkpoint names (Rekor
  // v1 shards share a key across tree IDs), but under that origin's name only.
  it('rejects a log signature filed under a name other than the origin with VERIFY_TLOG_CHECKPOINT_ERROR', () => {
    const otherOrigin = signCheckpoint({ origin: 'other.example.dev', size: 2, rootHash, extensions: [] }, [
      createEd25519Signer('other.example.dev', logKey.privateKey),
    ]);
    verifyTlogInclusion(withProof(entry, { checkpoint: otherOrigin }), log);
    const renamed = otherOrigin.replace('\u2014 other.example.dev', `\u2014 ${origin}`);
    assert.throws(
      () => verifyTlogInclusion(withProof(entry, { checkpoint: renamed }), log),
      failsWith('VERIFY_TLOG_CHECKPOINT_ERROR'),
    );
  });
});
