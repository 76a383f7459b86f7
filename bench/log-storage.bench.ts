// Storage engine alone: durable appends per second through the Sequencer into SQLite (and PostgreSQL
// when SIGIL_BENCH_POSTGRES=1 starts a throwaway cluster). Prints each figure beside its target.
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Sequencer } from '../src/log/sequencer.ts';
import { PostgresStorage } from '../src/log/storage/postgres.ts';
import { SqliteStorage } from '../src/log/storage/sqlite.ts';
import type { LogStorage, NewLeaf } from '../src/log/storage/storage.types.ts';
import { startPostgres } from '../test/tools/postgres.ts';
import { report } from './report.ts';

const TOTAL = Number(process.env.SIGIL_BENCH_ENTRIES ?? 200_000);

function makeLeaves(count: number): NewLeaf[] {
  return Array.from({ length: count }, () => {
    const leaf = randomBytes(400); // about the size of a hashedrekord body
    const leafHash = createHash('sha256')
      .update(Buffer.from([0]))
      .update(leaf)
      .digest();
    return { leaf, leafHash, searchKeys: [`sha256:${leafHash.toString('hex')}`] };
  });
}

async function measure(storage: LogStorage, leaves: NewLeaf[]): Promise<number> {
  await storage.open();
  const sequencer = new Sequencer(storage);
  const start = performance.now();
  let next = 0;
  // Keep the queue full, as many concurrent clients would.
  const worker = async () => {
    while (next < leaves.length) await sequencer.add(leaves[next++]!);
  };
  await Promise.all(Array.from({ length: 16_384 }, worker));
  const seconds = (performance.now() - start) / 1000;
  await sequencer.close();
  await storage.close();
  return leaves.length / seconds;
}

const dir = await mkdtemp(join(tmpdir(), 'sigil-bench-'));
try {
  const leaves = makeLeaves(TOTAL);
  const sqlite = await measure(new SqliteStorage({ path: join(dir, 'log.db') }), leaves);
  report('storage: durable appends/s, SQLite', sqlite, { atLeast: 50_000 });
  if (process.env.SIGIL_BENCH_POSTGRES === '1') {
    const postgres = await startPostgres();
    try {
      const rate = await measure(
        new PostgresStorage({ connectionString: postgres.connectionString }),
        leaves,
      );
      report('storage: durable appends/s, PostgreSQL', rate, {});
    } finally {
      await postgres.stop();
    }
  }
} finally {
  await rm(dir, { recursive: true, force: true });
}
