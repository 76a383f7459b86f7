import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { startPostgres, type RunningPostgres } from '../tools/postgres.ts';

const sigil = fileURLToPath(new URL('../../src/cli/sigil.ts', import.meta.url));

describe('sigil up --database postgres://…', () => {
  let postgres: RunningPostgres;
  let dir: string;

  before(async () => {
    postgres = await startPostgres();
    dir = await mkdtemp(join(tmpdir(), 'sigil-up-pg-'));
  });

  after(async () => {
    await postgres?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('keeps the log in PostgreSQL and publishes its checkpoint there', async () => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', sigil, 'up', '--port', '0', '--json', '--database', postgres.connectionString],
      {
        env: { ...process.env, SIGIL_STATE: dir, SIGIL_LOG_LEVEL: 'warn' },
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    try {
      const [line] = (await once(createInterface({ input: child.stdout }), 'line')) as [string];
      const summary = JSON.parse(line) as {
        log: { storage: string };
        endpoints: { name: string; url: string }[];
      };
      assert.equal(summary.log.storage, 'postgres (schema public)');
      const note = await (
        await fetch(summary.endpoints.find((endpoint) => endpoint.name === 'log')!.url)
      ).text();
      const client = new pg.Client({ connectionString: postgres.connectionString });
      await client.connect();
      const stored = await client.query<{ note: string }>(
        'SELECT note FROM checkpoints ORDER BY size DESC LIMIT 1',
      );
      await client.end();
      assert.equal(stored.rows[0]?.note, note);
    } finally {
      child.kill('SIGTERM');
      await once(child, 'exit');
    }
  });
});
