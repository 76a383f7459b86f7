import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import {
  createNoteVerifier,
  hashLeaf,
  verifyCheckpoint,
  verifyConsistency,
  verifyInclusion,
  type Checkpoint,
} from '../../src/merkle/index.ts';
import { HashedRekordSigner, postJson } from '../tools/rekor-entries.ts';
import { startSigil } from '../tools/sigil-process.ts';
import type { RekorV1EntryValue as LogEntryValue } from '../../src/log/index.ts';

const fromHex = (hex: string) => new Uint8Array(Buffer.from(hex, 'hex'));

describe('the log killed with SIGKILL while clients append', () => {
  const dirs: string[] = [];
  after(async () => {
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });

  it('keeps every acknowledged entry at its index, provable, in a tree consistent with every checkpoint seen before', async () => {
    const stateDir = await mkdtemp(join(tmpdir(), 'sigil-crash-'));
    dirs.push(stateDir);
    const first = await startSigil({ stateDir });
    const verifier = createNoteVerifier(first.summary.rekorV1.verifierKey);
    const signer = new HashedRekordSigner();
    const acknowledged = new Map<string, number>(); // uuid → logIndex
    const checkpointsSeen: Checkpoint[] = [];
    let killed = false;

    const client = async () => {
      while (!killed) {
        try {
          const response = await postJson(`${first.url}/api/v1/log/entries`, signer.proposal());
          if (response.status !== 201) continue;
          const entry = (await response.json()) as Record<string, LogEntryValue>;
          const [entryId, value] = Object.entries(entry)[0]!;
          acknowledged.set(entryId.slice(16), value.logIndex);
        } catch {
          // the connection died with the process: that entry was never acknowledged
        }
      }
    };
    const watcher = async () => {
      while (!killed) {
        try {
          const info = (await (await fetch(`${first.url}/api/v1/log`)).json()) as { signedTreeHead: string };
          checkpointsSeen.push(verifyCheckpoint(info.signedTreeHead, [verifier]).checkpoint);
        } catch {
          // ditto
        }
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    };
    const running = [...Array.from({ length: 8 }, client), watcher()];
    while (acknowledged.size < 300) await new Promise((resolve) => setTimeout(resolve, 20));
    await first.stop('SIGKILL');
    killed = true;
    await Promise.all(running);

    const second = await startSigil({ stateDir });
    try {
      const info = (await (await fetch(`${second.url}/api/v1/log`)).json()) as { signedTreeHead: string };
      const latest = verifyCheckpoint(info.signedTreeHead, [verifier]).checkpoint;
      assert.ok(latest.size >= acknowledged.size);

      for (const [uuid, logIndex] of acknowledged) {
        const response = await fetch(`${second.url}/api/v1/log/entries/${uuid}`);
        assert.equal(response.status, 200, `acknowledged entry ${uuid} is gone`);
        const value = Object.values((await response.json()) as Record<string, LogEntryValue>)[0]!;
        assert.equal(value.logIndex, logIndex, `entry ${uuid} moved`);
        const proof = value.verification.inclusionProof;
        const checkpoint = verifyCheckpoint(proof.checkpoint, [verifier]).checkpoint;
        const leafHash = hashLeaf(Buffer.from(value.body, 'base64'));
        assert.equal(Buffer.from(leafHash).toString('hex'), uuid);
        verifyInclusion(logIndex, checkpoint.size, leafHash, proof.hashes.map(fromHex), checkpoint.rootHash);
      }

      assert.ok(checkpointsSeen.length > 0);
      for (const seen of checkpointsSeen.filter((c) => c.size > 0)) {
        const response = await fetch(
          `${second.url}/api/v1/log/proof?firstSize=${seen.size}&lastSize=${latest.size}`,
        );
        assert.equal(response.status, 200);
        const { hashes } = (await response.json()) as { hashes: string[] };
        verifyConsistency(seen.size, latest.size, hashes.map(fromHex), seen.rootHash, latest.rootHash);
      }
    } finally {
      await second.stop();
    }
  });
});
