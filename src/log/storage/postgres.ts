import pg from 'pg';
import { LogError } from '../errors.ts';
import type {
  LeafToSequence,
  LogStorage,
  SequenceOutcome,
  StoredCheckpoint,
  StoredLeaf,
  StoredObject,
  StoredTile,
  TreeState,
} from './storage.types.ts';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS leaves (
  idx BIGINT PRIMARY KEY,
  leaf_hash BYTEA NOT NULL UNIQUE,
  leaf BYTEA NOT NULL,
  integrated_time BIGINT NOT NULL
);
CREATE TABLE IF NOT EXISTS search_keys (
  key TEXT NOT NULL,
  idx BIGINT NOT NULL,
  PRIMARY KEY (key, idx)
);
CREATE TABLE IF NOT EXISTS tiles (
  level INTEGER NOT NULL,
  idx BIGINT NOT NULL,
  hashes BYTEA NOT NULL,
  PRIMARY KEY (level, idx)
);
CREATE TABLE IF NOT EXISTS sequence_state (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  next_index BIGINT NOT NULL
);
INSERT INTO sequence_state (id, next_index) VALUES (1, 0) ON CONFLICT (id) DO NOTHING;
CREATE TABLE IF NOT EXISTS tree_state (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  size BIGINT NOT NULL,
  root_hash BYTEA NOT NULL
);
CREATE TABLE IF NOT EXISTS checkpoints (
  size BIGINT PRIMARY KEY,
  root_hash BYTEA NOT NULL,
  note TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS objects (
  key BYTEA PRIMARY KEY,
  value BYTEA NOT NULL
);
`;

export interface PostgresStorageOptions {
  /** `postgres://user:password@host:port/database`. */
  connectionString: string;
  /** Largest number of pooled connections. Default 8. */
  maxConnections?: number;
  /**
   * PostgreSQL schema holding this log's tables, so several logs can share one database (e.g.
   * `rekor_v1`). Lower-case letters, digits and underscores. Default `public`.
   */
  schema?: string;
}

interface LeafRow {
  idx: string;
  leaf_hash: Buffer;
  leaf: Buffer;
  integrated_time: string;
}

/**
 * PostgreSQL (and PostgreSQL-compatible engines) through `pg`. Sequencing takes a row lock on
 * `sequence_state`, so several Sigil processes may append to one database and still get gap-free,
 * consecutive indices; each batch is one transaction, durable when COMMIT returns.
 */
export class PostgresStorage implements LogStorage {
  readonly driver = 'postgres';
  readonly #pool: pg.Pool;
  readonly #schema: string;
  #opened = false;

  constructor(options: PostgresStorageOptions) {
    const schema = options.schema ?? 'public';
    if (!/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) {
      throw new TypeError(
        `schema: expected lower-case letters, digits and underscores, received ${JSON.stringify(schema)}`,
      );
    }
    this.#schema = schema;
    this.#pool = new pg.Pool({
      connectionString: options.connectionString,
      max: options.maxConnections ?? 8,
      // Every pooled connection resolves this log's tables in its own schema.
      options: `-c search_path=${schema}`,
    });
    // An idle client's error (e.g. the server restarting) must not crash the process; the next query fails.
    this.#pool.on('error', () => undefined);
  }

  async open(): Promise<void> {
    if (this.#opened) return;
    // Concurrent CREATE TABLE IF NOT EXISTS can still collide in the catalog: serialize schema creation.
    await this.#transaction('open', async (client) => {
      await client.query('SELECT pg_advisory_xact_lock(7340001)');
      await client.query(`CREATE SCHEMA IF NOT EXISTS ${this.#schema}`);
      await client.query(SCHEMA);
    });
    this.#opened = true;
  }

  async close(): Promise<void> {
    this.#opened = false;
    await this.#pool.end();
  }

  sequence(leaves: readonly LeafToSequence[], integratedTime: number): Promise<SequenceOutcome[]> {
    return this.#transaction('sequence', async (client) => {
      const state = await client.query<{ next_index: string }>(
        'SELECT next_index FROM sequence_state WHERE id = 1 FOR UPDATE',
      );
      let next = Number(state.rows[0]?.next_index ?? 0);
      // Leaves built at their index are new by contract: only the others are looked up. A stored hash
      // that an indexed leaf repeats anyway fails the INSERT on the UNIQUE leaf_hash, and the batch.
      const lookedUp = leaves.flatMap((item) => ('atIndex' in item ? [] : [Buffer.from(item.leafHash)]));
      const existing = await client.query<{ idx: string; leaf_hash: Buffer }>(
        'SELECT idx, leaf_hash FROM leaves WHERE leaf_hash = ANY($1::bytea[])',
        [lookedUp],
      );
      const known = new Map(existing.rows.map((row) => [row.leaf_hash.toString('hex'), Number(row.idx)]));
      const outcomes: SequenceOutcome[] = [];
      const rows = { idx: [] as number[], hash: [] as Buffer[], leaf: [] as Buffer[] };
      const keys = { key: [] as string[], idx: [] as number[] };
      for (const item of leaves) {
        const { leaf, leafHash } = 'atIndex' in item ? item.atIndex(next) : item;
        const hex = Buffer.from(leafHash).toString('hex');
        const index = known.get(hex);
        if (index !== undefined) {
          if ('atIndex' in item) {
            throw new LogError(
              'LOG_ENTRY_INVALID',
              `leaf built for index ${next}: expected a leaf hash new to the log, received the hash of entry ${index}`,
            );
          }
          outcomes.push({ kind: 'duplicate', index });
          continue;
        }
        known.set(hex, next);
        rows.idx.push(next);
        rows.hash.push(Buffer.from(leafHash));
        rows.leaf.push(Buffer.from(leaf));
        for (const key of item.searchKeys) {
          keys.key.push(key);
          keys.idx.push(next);
        }
        outcomes.push({ kind: 'added', index: next });
        next += 1;
      }
      if (rows.idx.length > 0) {
        await client.query(
          `INSERT INTO leaves (idx, leaf_hash, leaf, integrated_time)
           SELECT idx, hash, leaf, $4 FROM unnest($1::bigint[], $2::bytea[], $3::bytea[]) AS t(idx, hash, leaf)`,
          [rows.idx, rows.hash, rows.leaf, integratedTime],
        );
        if (keys.key.length > 0) {
          await client.query(
            `INSERT INTO search_keys (key, idx) SELECT * FROM unnest($1::text[], $2::bigint[]) ON CONFLICT DO NOTHING`,
            [keys.key, keys.idx],
          );
        }
        await client.query('UPDATE sequence_state SET next_index = $1 WHERE id = 1', [next]);
      }
      return outcomes;
    });
  }

  async sequencedSize(): Promise<number> {
    const result = await this.#query<{ next_index: string }>(
      'read size',
      'SELECT next_index FROM sequence_state WHERE id = 1',
    );
    return Number(result.rows[0]?.next_index ?? 0);
  }

  async readLeaves(start: number, count: number): Promise<StoredLeaf[]> {
    const result = await this.#query<LeafRow>(
      'read leaves',
      'SELECT idx, leaf_hash, leaf, integrated_time FROM leaves WHERE idx >= $1 AND idx < $2 ORDER BY idx',
      [start, start + count],
    );
    return result.rows.map(toStoredLeaf);
  }

  async readLeafHashes(start: number, count: number): Promise<Uint8Array[]> {
    const result = await this.#query<{ leaf_hash: Buffer }>(
      'read leaf hashes',
      'SELECT leaf_hash FROM leaves WHERE idx >= $1 AND idx < $2 ORDER BY idx',
      [start, start + count],
    );
    return result.rows.map((row) => new Uint8Array(row.leaf_hash));
  }

  async findLeafByHash(leafHash: Uint8Array): Promise<StoredLeaf | undefined> {
    const result = await this.#query<LeafRow>(
      'find leaf',
      'SELECT idx, leaf_hash, leaf, integrated_time FROM leaves WHERE leaf_hash = $1',
      [Buffer.from(leafHash)],
    );
    const row = result.rows[0];
    return row && toStoredLeaf(row);
  }

  async search(key: string, limit: number): Promise<number[]> {
    const result = await this.#query<{ idx: string }>(
      'search',
      'SELECT idx FROM search_keys WHERE key = $1 ORDER BY idx LIMIT $2',
      [key, limit],
    );
    return result.rows.map((row) => Number(row.idx));
  }

  async readTreeState(): Promise<TreeState | undefined> {
    const result = await this.#query<{ size: string; root_hash: Buffer }>(
      'read tree state',
      'SELECT size, root_hash FROM tree_state WHERE id = 1',
    );
    const row = result.rows[0];
    return row && { size: Number(row.size), rootHash: new Uint8Array(row.root_hash) };
  }

  async readTiles(ids: readonly { level: number; index: number }[]): Promise<StoredTile[]> {
    if (ids.length === 0) return [];
    const result = await this.#query<{ level: number; idx: string; hashes: Buffer }>(
      'read tiles',
      `SELECT t.level, t.idx, t.hashes FROM tiles t
       JOIN unnest($1::int[], $2::bigint[]) AS wanted(level, idx) ON t.level = wanted.level AND t.idx = wanted.idx`,
      [ids.map((id) => id.level), ids.map((id) => id.index)],
    );
    return result.rows.map((row) => ({
      level: row.level,
      index: Number(row.idx),
      hashes: new Uint8Array(row.hashes),
    }));
  }

  writeIntegration(previousSize: number, state: TreeState, tiles: readonly StoredTile[]): Promise<void> {
    return this.#transaction('write integration', async (client) => {
      // Lock the row (or, before the first integration, the table's advisory lock) so the size check holds.
      await client.query('SELECT pg_advisory_xact_lock(7340002)');
      const current = await client.query<{ size: string }>('SELECT size FROM tree_state WHERE id = 1');
      const stored = Number(current.rows[0]?.size ?? 0);
      if (stored !== previousSize) {
        throw new LogError(
          'LOG_INTEGRATION_CONFLICT',
          `tree state: expected stored size ${previousSize}, received ${stored}; another integrator moved the tree`,
        );
      }
      if (tiles.length > 0) {
        await client.query(
          `INSERT INTO tiles (level, idx, hashes) SELECT * FROM unnest($1::int[], $2::bigint[], $3::bytea[])
           ON CONFLICT (level, idx) DO UPDATE SET hashes = excluded.hashes`,
          [
            tiles.map((tile) => tile.level),
            tiles.map((tile) => tile.index),
            tiles.map((tile) => Buffer.from(tile.hashes)),
          ],
        );
      }
      await client.query(
        `INSERT INTO tree_state (id, size, root_hash) VALUES (1, $1, $2)
         ON CONFLICT (id) DO UPDATE SET size = excluded.size, root_hash = excluded.root_hash`,
        [state.size, Buffer.from(state.rootHash)],
      );
    });
  }

  async writeObjects(objects: readonly StoredObject[]): Promise<void> {
    if (objects.length === 0) return;
    await this.#query(
      'write objects',
      `INSERT INTO objects (key, value) SELECT * FROM unnest($1::bytea[], $2::bytea[]) ON CONFLICT (key) DO NOTHING`,
      [objects.map((object) => Buffer.from(object.key)), objects.map((object) => Buffer.from(object.value))],
    );
  }

  async readObject(key: Uint8Array): Promise<Uint8Array | undefined> {
    const result = await this.#query<{ value: Buffer }>(
      'read object',
      'SELECT value FROM objects WHERE key = $1',
      [Buffer.from(key)],
    );
    const row = result.rows[0];
    return row && new Uint8Array(row.value);
  }

  async writeCheckpoint(checkpoint: StoredCheckpoint): Promise<void> {
    await this.#query(
      'write checkpoint',
      `INSERT INTO checkpoints (size, root_hash, note) VALUES ($1, $2, $3)
       ON CONFLICT (size) DO UPDATE SET root_hash = excluded.root_hash, note = excluded.note`,
      [checkpoint.size, Buffer.from(checkpoint.rootHash), checkpoint.note],
    );
  }

  async latestCheckpoint(): Promise<StoredCheckpoint | undefined> {
    const result = await this.#query<{ size: string; root_hash: Buffer; note: string }>(
      'read checkpoint',
      'SELECT size, root_hash, note FROM checkpoints ORDER BY size DESC LIMIT 1',
    );
    const row = result.rows[0];
    return row && { size: Number(row.size), rootHash: new Uint8Array(row.root_hash), note: row.note };
  }

  async #query<R extends pg.QueryResultRow>(
    step: string,
    text: string,
    values?: unknown[],
  ): Promise<pg.QueryResult<R>> {
    try {
      return await this.#pool.query<R>(text, values);
    } catch (cause) {
      throw storageFailure(step, cause);
    }
  }

  async #transaction<T>(step: string, body: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    let client: pg.PoolClient;
    try {
      client = await this.#pool.connect();
    } catch (cause) {
      throw storageFailure(step, cause);
    }
    try {
      await client.query('BEGIN');
      const result = await body(client);
      await client.query('COMMIT');
      return result;
    } catch (cause) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw storageFailure(step, cause);
    } finally {
      client.release();
    }
  }
}

function toStoredLeaf(row: LeafRow): StoredLeaf {
  return {
    index: Number(row.idx),
    leaf: new Uint8Array(row.leaf),
    leafHash: new Uint8Array(row.leaf_hash),
    integratedTime: Number(row.integrated_time),
  };
}

function storageFailure(step: string, cause: unknown): LogError {
  if (cause instanceof LogError) return cause;
  return new LogError('LOG_STORAGE_FAILED', `postgres ${step} failed: ${(cause as Error).message}`, {
    cause,
  });
}
