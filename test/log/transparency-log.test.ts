import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  createNoteSigner,
  createNoteVerifier,
  hashLeaf,
  verifyCheckpoint,
  verifyConsistency,
  verifyInclusion,
} from '../../src/merkle/index.ts';
import { LogError, Publisher, SqliteStorage, TransparencyLog } from '../../src/log/index.ts';
import type { NewLeaf, StoredCheckpoint } from '../../src/log/index.ts';

const signer = createNoteSigner('log.sigil.test', generateKeyPairSync('ed25519').privateKey);
const verifier = createNoteVerifier(signer.verifierKey);

function entry(text: string): NewLeaf {
  const leaf = new TextEncoder().encode(text);
  return { leaf, leafHash: hashLeaf(leaf), searchKeys: [] };
}

function assertProven(index: number, leaf: NewLeaf, checkpoint: StoredCheckpoint, proof: Uint8Array[]): void {
  const { checkpoint: body } = verifyCheckpoint(checkpoint.note, [verifier], { origin: 'log.sigil.test' });
  assert.equal(body.size, checkpoint.size);
  assert.deepEqual(body.rootHash, checkpoint.rootHash);
  assert.ok(index < checkpoint.size);
  verifyInclusion(index, checkpoint.size, leaf.leafHash, proof, checkpoint.rootHash);
}

describe('TransparencyLog over SQLite', () => {
  let dir: string;
  let log: TransparencyLog;
  const open = () =>
    TransparencyLog.open({
      storage: new SqliteStorage({ path: join(dir, 'log.db') }),
      origin: 'log.sigil.test',
      signers: [signer],
      sequencer: { maxBatchAgeMs: 2 },
    });

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sigil-tlog-'));
    log = await open();
  });

  after(async () => {
    await log.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('publishes a signed checkpoint of the empty tree on first open', () => {
    const checkpoint = log.latestCheckpoint();
    assert.equal(checkpoint?.size, 0);
    verifyCheckpoint(checkpoint.note, [verifier]);
  });

  it('proves each of 300 concurrent appends in a signed checkpoint that covers it', async () => {
    const leaves = Array.from({ length: 300 }, (_, i) => entry(`concurrent ${i}`));
    const proven = await Promise.all(leaves.map((leaf) => log.appendAndProve(leaf)));
    assert.deepEqual(
      proven.map((p) => p.outcome.index).sort((a, b) => a - b),
      Array.from({ length: 300 }, (_, i) => i),
    );
    proven.forEach((p, i) => assertProven(p.outcome.index, leaves[i]!, p.checkpoint, p.proof));
  });

  it('answers a duplicate with the original index, proven', async () => {
    const again = entry('concurrent 7');
    const proven = await log.appendAndProve(again);
    assert.equal(proven.outcome.kind, 'duplicate');
    assertProven(proven.outcome.index, again, proven.checkpoint, proven.proof);
  });

  describe('after a restart', () => {
    it('keeps its checkpoint, continues the tree, and proves the new tree consistent with the old', async () => {
      const before = log.latestCheckpoint()!;
      await log.close();
      log = await open();
      assert.equal(log.latestCheckpoint()?.size, before.size);
      const leaf = entry('after restart');
      const proven = await log.appendAndProve(leaf);
      assert.equal(proven.outcome.index, before.size);
      assertProven(proven.outcome.index, leaf, proven.checkpoint, proven.proof);
      const consistency = await log.consistencyProof(before.size, proven.checkpoint.size);
      verifyConsistency(
        before.size,
        proven.checkpoint.size,
        consistency,
        before.rootHash,
        proven.checkpoint.rootHash,
      );
    });
  });

  describe('when storage returns a wrong hash in a complete tile', () => {
    it('refuses proofs through it with LOG_STORAGE_CORRUPT and still proves the leaves outside it', async () => {
      await log.close();
      const storage = new SqliteStorage({ path: join(dir, 'log.db') });
      const readTiles = storage.readTiles.bind(storage);
      // Leaf 100's hash in tile 0/0 (leaves 0–255) is altered; the tiles above it are not.
      storage.readTiles = async (ids) =>
        (await readTiles(ids)).map((tile) => {
          if (tile.level !== 0 || tile.index !== 0) return tile;
          const hashes = new Uint8Array(tile.hashes);
          hashes[100 * 32] = hashes[100 * 32]! ^ 1;
          return { ...tile, hashes };
        });
      const corrupted = await TransparencyLog.open({ storage, origin: 'log.sigil.test', signers: [signer] });
      try {
        // A leaf of tile 0/1 is proven from tile 1/0, whose hash of leaves 0–255 is the right one.
        const leaf = entry('beside a corrupt tile');
        const proven = await corrupted.appendAndProve(leaf);
        assertProven(proven.outcome.index, leaf, proven.checkpoint, proven.proof);
        const [leafHash5] = await storage.readLeafHashes(5, 1);
        await assert.rejects(corrupted.inclusionProof(5, proven.checkpoint, leafHash5!), (error: unknown) => {
          assert.ok(error instanceof LogError);
          assert.equal(error.code, 'LOG_STORAGE_CORRUPT');
          assert.match(error.message, /inclusion proof of entry 5 does not reach the checkpoint root/);
          return true;
        });
      } finally {
        await corrupted.close();
        log = await open();
      }
    });
  });

  describe('once closed', () => {
    it('refuses appends with LOG_CLOSED', async () => {
      const closing = await open();
      await closing.close();
      await assert.rejects(
        closing.append(entry('late')),
        (error: unknown) => (error as LogError).code === 'LOG_CLOSED',
      );
    });
  });
});

describe('Publisher', () => {
  it('fails a wait that no checkpoint answers with LOG_INCLUSION_UNAVAILABLE', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sigil-publisher-'));
    const storage = new SqliteStorage({ path: join(dir, 'log.db') });
    await storage.open();
    try {
      const publisher = new Publisher(storage, { origin: 'o', signers: [signer] });
      await publisher.open();
      await assert.rejects(publisher.waitFor(5, 20), (error: unknown) => {
        assert.ok(error instanceof LogError);
        assert.equal(error.code, 'LOG_INCLUSION_UNAVAILABLE');
        return true;
      });
    } finally {
      await storage.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('refuses to be built without a signer', () => {
    assert.throws(
      () => new Publisher({} as never, { origin: 'o', signers: [] }),
      /at least one checkpoint signer/,
    );
  });
});
