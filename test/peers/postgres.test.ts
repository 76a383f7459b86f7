import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { startPostgres, type RunningPostgres } from '../tools/postgres.ts';

describe('PostgreSQL (Debian postgresql, throwaway cluster)', () => {
  let postgres: RunningPostgres;

  before(async () => {
    postgres = await startPostgres();
  });

  after(() => postgres?.stop());

  it('accepts a pg connection, commits a transaction and reads it back', async () => {
    const client = new pg.Client({ connectionString: postgres.connectionString });
    await client.connect();
    try {
      const { rows } = await client.query<{ server_version_num: string }>('SHOW server_version_num');
      assert.ok(Number(rows[0]?.server_version_num) >= 150000);
      await client.query('CREATE TABLE entries (idx bigint PRIMARY KEY, body bytea NOT NULL)');
      await client.query('BEGIN');
      await client.query('INSERT INTO entries VALUES ($1, $2), ($3, $4)', [
        0,
        Buffer.from('a'),
        1,
        Buffer.from('b'),
      ]);
      await client.query('COMMIT');
      const read = await client.query<{ idx: string; body: Buffer }>(
        'SELECT idx, body FROM entries ORDER BY idx',
      );
      assert.deepEqual(
        read.rows.map((row) => [row.idx, row.body.toString()]),
        [
          ['0', 'a'],
          ['1', 'b'],
        ],
      );
    } finally {
      await client.end();
    }
  });

  it('stops, and then refuses connections', async () => {
    await postgres.stop();
    const client = new pg.Client({
      connectionString: postgres.connectionString,
      connectionTimeoutMillis: 2_000,
    });
    await assert.rejects(client.connect(), /ECONNREFUSED/);
  });
});
