// How the log behaves at 1,000,000 entries (SQLite): restart time, inclusion proofs per second, and
// append throughput at 1M compared with 10k (within 20 %). Prints each figure beside its target.
//
//   node --import tsx bench/log-scale.bench.ts      (SIGIL_BENCH_SCALE=N changes the large size)
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteStorage, TransparencyLog } from '../src/log/index.ts';
import { createNoteSigner, hashLeaf } from '../src/merkle/index.ts';
import { report } from './report.ts';

const LARGE = Number(process.env.SIGIL_BENCH_SCALE ?? 1_000_000);
const SMALL = 10_000;
const MEASURED = 50_000;
/** Rounds of the append figures; the median is printed (this VM's throughput varies ±20 % run to run). */
const RUNS = 5;
const signer = createNoteSigner('bench.sigil.test', generateKeyPairSync('ed25519').privateKey);

function open(path: string): Promise<TransparencyLog> {
  return TransparencyLog.open({
    storage: new SqliteStorage({ path }),
    origin: 'bench.sigil.test',
    signers: [signer],
  });
}

/** Appends `count` entries of ~400 bytes with 64 appends in flight; returns entries/s to a checkpoint. */
async function append(log: TransparencyLog, count: number, progress = false): Promise<number> {
  const start = performance.now();
  const target = (log.latestCheckpoint()?.size ?? 0) + count;
  let sent = 0;
  const worker = async () => {
    while (sent < count) {
      sent += 1;
      const leaf = randomBytes(400);
      await log.append({
        leaf,
        leafHash: hashLeaf(leaf),
        searchKeys: [`artifact:sha256:${leaf.subarray(0, 32).toString('hex')}`],
      });
      if (progress && sent % 100_000 === 0)
        process.stderr.write(`  … ${sent.toLocaleString('en-US')} appended\n`);
    }
  };
  await Promise.all(Array.from({ length: 4096 }, worker));
  await log.waitForCheckpoint(target);
  return count / ((performance.now() - start) / 1000);
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

/** A fresh log grown to SMALL entries, then MEASURED more: entries/s of the measured part. */
async function smallRun(path: string): Promise<number> {
  const log = await open(path);
  try {
    await append(log, SMALL);
    return await append(log, MEASURED);
  } finally {
    await log.close();
  }
}

const dir = await mkdtemp(join(tmpdir(), 'sigil-scale-'));
try {
  const path = join(dir, 'log.db');
  let log = await open(path);
  await append(log, SMALL + MEASURED);
  process.stderr.write(`building a ${LARGE.toLocaleString('en-US')}-entry log…\n`);
  await append(log, LARGE - SMALL - MEASURED, true);
  await log.close();

  const restartStart = performance.now();
  log = await open(path);
  const restart = (performance.now() - restartStart) / 1000;
  const size = log.latestCheckpoint()!.size;

  const checkpoint = log.latestCheckpoint()!;
  const proofs = 20_000;
  const leaves = await Promise.all(
    Array.from({ length: 2_000 }, () => log.storage.readLeaves(Math.floor(Math.random() * size), 1)),
  );
  const proofStart = performance.now();
  for (let i = 0; i < proofs; i++) {
    const leaf = leaves[i % leaves.length]![0]!;
    await log.inclusionProof(leaf.index, checkpoint, leaf.leafHash);
  }
  const proofRate = proofs / ((performance.now() - proofStart) / 1000);

  // The first appends after a restart run on a cold page cache; the figures with the target come after.
  const afterRestart = await append(log, MEASURED);
  // Rounds of one run at 10,000 entries (a fresh log each time, so every run starts from the same size)
  // and one on the large log, back to back: this VM's speed drifts by a fifth over minutes, and the
  // figure is how the log's own cost grows, so each round compares two runs made seconds apart.
  const smallRuns: number[] = [];
  const largeRuns: number[] = [];
  for (let round = 0; round < RUNS; round++) {
    smallRuns.push(await smallRun(join(dir, `small-${round}.db`)));
    largeRuns.push(await append(log, MEASURED));
  }
  await log.close();
  const ratios = largeRuns.map((large, round) => large / smallRuns[round]!);

  report(`restart of a ${size.toLocaleString('en-US')}-entry log, s`, restart, { atMost: 2 });
  report('inclusion proofs/s (checked against the checkpoint), in process', proofRate, { atLeast: 5_000 });
  const runs = (values: number[], digits = 0) =>
    `, median of ${values.map((value) => value.toFixed(digits)).join(' / ')}`;
  report(`appends/s at ${SMALL.toLocaleString('en-US')} entries${runs(smallRuns)}`, median(smallRuns), {});
  report(`appends/s at ${size.toLocaleString('en-US')} entries, first after restart`, afterRestart, {});
  report(
    `appends/s at ${(size + MEASURED).toLocaleString('en-US')}+ entries${runs(largeRuns)}`,
    median(largeRuns),
    {},
  );
  report(`appends/s at 1M ÷ at 10k, round by round${runs(ratios, 2)}`, median(ratios), { atLeast: 0.8 });
} finally {
  await rm(dir, { recursive: true, force: true });
}
