import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteStorage } from '../../src/log/storage/sqlite.ts';
import { describeStorageContract } from './storage-contract.ts';

describeStorageContract('sqlite', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'sigil-sqlite-'));
  const path = join(dir, 'log.db');
  let current = new SqliteStorage({ path });
  return {
    storage: current,
    reopen: () => (current = new SqliteStorage({ path })),
    cleanup: async () => {
      await current.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
});
