import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { PostgresStorage } from '../../src/log/storage/postgres.ts';
import { startPostgres, type RunningPostgres } from '../tools/postgres.ts';
import { describeStorageContract, leafOf } from './storage-contract.ts';

describeStorageContract('postgres', async () => {
  const postgres = await startPostgres();
  const handles: PostgresStorage[] = [];
  const open = () => {
    const storage = new PostgresStorage({ connectionString: postgres.connectionString });
    handles.push(storage);
    return storage;
  };
  return {
    storage: open(),
    reopen: open,
    cleanup: async () => {
      for (const handle of handles) await handle.close().catch(() => undefined);
      await postgres.stop();
    },
  };
});

describe('postgres storage shared by several Sigil processes', () => {
  let postgres: RunningPostgres;
  before(async () => {
    postgres = await startPostgres();
  });
  after(() => postgres?.stop());

  it('hands out gap-free, unique indices to concurrent sequencers', async () => {
    const nodes = [0, 1, 2].map(() => new PostgresStorage({ connectionString: postgres.connectionString }));
    await Promise.all(nodes.map((node) => node.open()));
    const batches = await Promise.all(
      nodes.flatMap((node, n) =>
        Array.from({ length: 10 }, (_, b) =>
          node.sequence(
            Array.from({ length: 20 }, (_, i) => leafOf(`node${n}-batch${b}-leaf${i}`)),
            1,
          ),
        ),
      ),
    );
    const indices = batches
      .flat()
      .map((outcome) => outcome.index)
      .sort((a, b) => a - b);
    assert.deepEqual(
      indices,
      Array.from({ length: 600 }, (_, index) => index),
    );
    assert.equal(await nodes[0]!.sequencedSize(), 600);
    await Promise.all(nodes.map((node) => node.close()));
  });
});
