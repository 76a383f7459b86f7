import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { LogError } from '../../src/log/errors.ts';
import { Sequencer } from '../../src/log/sequencer.ts';
import { SqliteStorage } from '../../src/log/storage/sqlite.ts';
import { leafOf } from './storage-contract.ts';

describe('Sequencer', () => {
  let dir: string;
  let storage: SqliteStorage;
  let sizes: number[];

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sigil-sequencer-'));
    storage = new SqliteStorage({ path: join(dir, 'log.db') });
    await storage.open();
    sizes = [];
  });

  afterEach(async () => {
    await storage.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('writes leaves in batches of at most maxBatchSize and resolves each with its index in arrival order', async () => {
    const sequencer = new Sequencer(storage, {
      maxBatchSize: 10,
      maxBatchAgeMs: 1,
      onSequenced: (size) => sizes.push(size),
    });
    const outcomes = await Promise.all(
      Array.from({ length: 25 }, (_, i) => sequencer.add(leafOf(`leaf-${i}`))),
    );
    assert.deepEqual(
      outcomes.map((outcome) => outcome.index),
      Array.from({ length: 25 }, (_, i) => i),
    );
    assert.deepEqual(sizes, [10, 20, 25]);
    assert.equal(await storage.sequencedSize(), 25);
  });

  it('lets leaves that arrive after a write share the next one until the write interval has passed', async () => {
    const sequencer = new Sequencer(storage, {
      maxBatchAgeMs: 0,
      minWriteIntervalMs: 300,
      onSequenced: (size) => sizes.push(size),
    });
    // `second` arrives while the first write is running.
    const sequence = storage.sequence.bind(storage);
    let second: Promise<unknown> | undefined;
    storage.sequence = (leaves, integratedTime) => {
      const writing = sequence(leaves, integratedTime);
      second ??= sequencer.add(leafOf('second'));
      return writing;
    };
    await sequencer.add(leafOf('first'));
    await new Promise((resolve) => setImmediate(resolve));
    // Back to back, `second` would be written alone now; within the interval, `third` joins it.
    const third = sequencer.add(leafOf('third'));
    const outcomes = await Promise.all([second as Promise<{ index: number }>, third]);
    assert.deepEqual(
      outcomes.map((outcome) => outcome.index),
      [1, 2],
    );
    assert.deepEqual(sizes, [1, 3]);
  });

  it('writes a lone leaf once the batch age passes, stamped with the batch time', async () => {
    const sequencer = new Sequencer(storage, { maxBatchSize: 1000, maxBatchAgeMs: 20, now: () => 1_234 });
    assert.deepEqual(await sequencer.add(leafOf('alone')), {
      kind: 'added',
      index: 0,
      integratedTime: 1_234,
    });
    assert.equal((await storage.readLeaves(0, 1))[0]?.integratedTime, 1_234);
  });

  it('acknowledges a leaf only once it is in storage', async () => {
    const sequencer = new Sequencer(storage, { maxBatchAgeMs: 1 });
    const { index } = await sequencer.add(leafOf('durable'));
    const reopened = new SqliteStorage({ path: join(dir, 'log.db') });
    await reopened.open();
    assert.equal((await reopened.readLeaves(index, 1))[0]?.index, index);
    await reopened.close();
  });

  it('reports a duplicate with the index of the original', async () => {
    const sequencer = new Sequencer(storage, { maxBatchAgeMs: 1 });
    await sequencer.add(leafOf('x'));
    await sequencer.add(leafOf('y'));
    assert.deepEqual(await sequencer.add(leafOf('x')), { kind: 'duplicate', index: 0 });
  });

  describe('when more leaves are pending than maxPending', () => {
    it('refuses the excess with LOG_OVERLOADED and writes the rest', async () => {
      const sequencer = new Sequencer(storage, { maxBatchSize: 2, maxPending: 4, maxBatchAgeMs: 1 });
      const results = await Promise.allSettled(
        Array.from({ length: 6 }, (_, i) => sequencer.add(leafOf(`p-${i}`))),
      );
      assert.deepEqual(
        results.map((result) => result.status),
        ['fulfilled', 'fulfilled', 'fulfilled', 'fulfilled', 'rejected', 'rejected'],
      );
      const refused = results[4] as PromiseRejectedResult;
      assert.ok(refused.reason instanceof LogError);
      assert.equal(refused.reason.code, 'LOG_OVERLOADED');
      assert.equal(await storage.sequencedSize(), 4);
    });
  });

  describe('when the storage fails', () => {
    it('rejects every leaf of the batch and acknowledges none', async () => {
      const sequencer = new Sequencer(storage, { maxBatchAgeMs: 1 });
      await storage.close();
      const results = await Promise.allSettled([sequencer.add(leafOf('f1')), sequencer.add(leafOf('f2'))]);
      for (const result of results) {
        assert.equal(result.status, 'rejected');
        assert.equal((result.reason as LogError).code, 'LOG_CLOSED');
      }
      await storage.open();
      assert.equal(await storage.sequencedSize(), 0);
    });
  });

  describe('on close', () => {
    it('writes what it accepted, then refuses new leaves with LOG_CLOSED', async () => {
      const sequencer = new Sequencer(storage, { maxBatchSize: 100, maxBatchAgeMs: 10_000 });
      const accepted = [sequencer.add(leafOf('c1')), sequencer.add(leafOf('c2'))];
      await sequencer.close();
      assert.deepEqual(
        (await Promise.all(accepted)).map((outcome) => outcome.index),
        [0, 1],
      );
      await assert.rejects(
        sequencer.add(leafOf('c3')),
        (error: unknown) => (error as LogError).code === 'LOG_CLOSED',
      );
    });
  });

  it('rejects contradictory options at construction', () => {
    assert.throws(() => new Sequencer(storage, { maxBatchSize: 0 }), TypeError);
    assert.throws(
      () => new Sequencer(storage, { maxBatchSize: 100, maxPending: 10 }),
      /maxPending \(10\) must be at least maxBatchSize \(100\)/,
    );
  });
});
