import { randomBytes, type KeyObject } from 'node:crypto';
import { join } from 'node:path';
import { publicKeyPem, type Logger } from '../core/index.ts';
import {
  PostgresStorage,
  RekorV1,
  RekorV2,
  SqliteStorage,
  TransparencyLog,
  type LogStorage,
} from '../log/index.ts';
import { createNoteSigner, formatRekorV1Origin } from '../merkle/index.ts';
import { loadOrCreateKey, loadOrCreateSetting } from './key-store.ts';

export interface LogServiceOptions {
  stateDir: string;
  /** `postgres://…` to use PostgreSQL; SQLite in the state folder otherwise. */
  database?: string | undefined;
  /** The public base URL; its hostname becomes the logs' identity (origin, key name) on first start. */
  publicUrl: string;
  logger: Logger;
}

export interface RunningLog {
  log: TransparencyLog;
  origin: string;
  publicKeyPem: string;
  /** The note verifier key (vkey) clients configure to check checkpoints. */
  verifierKey: string;
  storage: string;
}

export interface RunningLogServices {
  /** The tiles log (C2SP tlog-tiles at the server root; the Rekor v2 personality). */
  tiles: RunningLog;
  rekorV2: RekorV2;
  /** The Rekor v1 log, a separate tree with its own key, origin `<host> - <tree ID>`. */
  rekorV1: RekorV1;
  rekorV1Log: RunningLog;
  close(): Promise<void>;
}

/**
 * Opens Sigil's transparency logs on the embedded defaults. Each log's key, origin and (for v1) tree
 * ID are created in the state folder on first start and reused after, so a log keeps its identity
 * across restarts. v1 and tiles are separate trees, as upstream runs Rekor v1 and v2 as separate logs.
 */
export async function startLogServices(options: LogServiceOptions): Promise<RunningLogServices> {
  const dir = join(options.stateDir, 'log');
  // sigstore-go checks Rekor v2 checkpoints with a note verifier named after the log URL's hostname
  // (without port; sigstore-go pkg/verify/tlog.go), and rekor-tiles uses its hostname as origin.
  const host = new URL(options.publicUrl).hostname;

  const tilesKey = await loadOrCreateKey(join(dir, 'signing-key.pem'), 'ecdsa-p256');
  // C2SP tlog-checkpoint: the origin is the log's URL without scheme (rekor-tiles uses its hostname).
  const tilesOrigin = await loadOrCreateSetting(join(dir, 'origin'), host);
  const tiles = await openLog(options, 'log.db', 'public', tilesOrigin, tilesOrigin, tilesKey.key);

  const v1Key = await loadOrCreateKey(join(dir, 'rekor-v1-key.pem'), 'ecdsa-p256');
  const v1Host = await loadOrCreateSetting(join(dir, 'rekor-v1-hostname'), host);
  const treeId = BigInt(await loadOrCreateSetting(join(dir, 'rekor-v1-tree-id'), newTreeId().toString()));
  // sigstore/rekor pkg/util/checkpoint.go: origin `<hostname> - <tree ID>`, signed by key name <hostname>.
  const v1 = await openLog(
    options,
    'rekor-v1.db',
    'rekor_v1',
    formatRekorV1Origin(v1Host, treeId),
    v1Host,
    v1Key.key,
  );
  const rekorV1 = new RekorV1({ log: v1.log, key: v1Key.key, treeId });

  for (const [name, running] of [
    ['tiles', tiles],
    ['rekor-v1', v1],
  ] as const) {
    options.logger.info(
      {
        log: name,
        origin: running.origin,
        storage: running.storage,
        size: running.log.latestCheckpoint()?.size,
      },
      'transparency log open',
    );
  }
  return {
    tiles,
    rekorV2: new RekorV2({ log: tiles.log, key: tilesKey.key }),
    rekorV1,
    rekorV1Log: v1,
    close: async () => {
      await Promise.all([tiles.log.close(), v1.log.close()]);
    },
  };
}

async function openLog(
  options: LogServiceOptions,
  file: string,
  schema: string,
  origin: string,
  keyName: string,
  key: KeyObject,
): Promise<RunningLog> {
  const storage: LogStorage = options.database
    ? new PostgresStorage({ connectionString: options.database, schema })
    : new SqliteStorage({ path: join(options.stateDir, 'log', file) });
  const signer = createNoteSigner(keyName, key);
  const log = await TransparencyLog.open({
    storage,
    origin,
    signers: [signer],
    logger: options.logger.child({ service: 'log', origin }),
  });
  return {
    log,
    origin,
    publicKeyPem: publicKeyPem(key),
    verifierKey: signer.verifierKey,
    storage: options.database ? `postgres (schema ${schema})` : join(options.stateDir, 'log', file),
  };
}

/** A random positive 63-bit tree ID, as Trillian assigns. */
function newTreeId(): bigint {
  return randomBytes(8).readBigUInt64BE() >> 1n || 1n;
}
