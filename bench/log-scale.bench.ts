// How the log behaves at 1,000,000 entries (SQLite): restart time, inclusion proofs per second, and
// append throughput at 1M compared with 10k. Prints each figure beside its target.
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
/** Runs per figure; the median is printed (this VM's throughput varies ±20 % run to run). */
const RUNS = 3;
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

const dir = await mkdtemp(join(tmpdir(), 'sigil-scale-'));
try {
  // At 10,000 entries: a fresh log per run, so each run starts from the same size.
  const smallRuns: number[] = [];
  for (let run = 0; run < RUNS; run++) {
    const log = await open(join(dir, `small-${run}.db`));
    await append(log, SMALL);
    smallRuns.push(await append(log, MEASURED));
    await log.close();
  }
  const small = median(smallRuns);

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

  // The first appends after a restart run on a cold page cache; the figure with the target is the
  // next run, warm as the 10,000-entry one is.
  const afterRestart = await append(log, MEASURED);
  const largeRuns: number[] = [];
  for (let run = 0; run < RUNS; run++) largeRuns.push(await append(log, MEASURED));
  const large = median(largeRuns);
  await log.close();

  report(`restart of a ${size.toLocaleString('en-US')}-entry log, s`, restart, { atMost: 2 });
  report('inclusion proofs/s (checked against the checkpoint), in process', proofRate, { atLeast: 5_000 });
  const runs = (values: number[]) => `, median of ${values.map((value) => Math.round(value)).join(' / ')}`;
  report(`appends/s at ${SMALL.toLocaleString('en-US')} entries${runs(smallRuns)}`, small, {});
  report(`appends/s at ${size.toLocaleString('en-US')} entries, first after restart`, afterRestart, {});
  report(`appends/s at ${(size + MEASURED).toLocaleString('en-US')} entries${runs(largeRuns)}`, large, {
    atLeast: small * 0.8,
  });
} finally {
  await rm(dir, { recursive: true, force: true });
}
