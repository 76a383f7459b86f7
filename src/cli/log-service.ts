import { join } from 'node:path';
import { publicKeyPem, type Logger } from '../core/index.ts';
import { PostgresStorage, SqliteStorage, TransparencyLog, type LogStorage } from '../log/index.ts';
import { createNoteSigner } from '../merkle/index.ts';
import { loadOrCreateKey, loadOrCreateSetting } from './key-store.ts';

export interface LogServiceOptions {
  stateDir: string;
  /** `postgres://…` to use PostgreSQL; SQLite in the state folder otherwise. */
  database?: string | undefined;
  /** The log's public base URL; its host (and port) becomes the checkpoint origin on first start. */
  publicUrl: string;
  logger: Logger;
}

export interface RunningLogService {
  log: TransparencyLog;
  origin: string;
  publicKeyPem: string;
  /** The note verifier key (vkey) clients configure to check checkpoints. */
  verifierKey: string;
  storage: string;
}

/**
 * Opens the transparency log on the embedded defaults: its key and origin are created in the state
 * folder on first start and reused after, so the log keeps its identity across restarts.
 */
export async function startLogService(options: LogServiceOptions): Promise<RunningLogService> {
  const dir = join(options.stateDir, 'log');
  const { key, created } = await loadOrCreateKey(join(dir, 'signing-key.pem'), 'ecdsa-p256');
  // C2SP tlog-checkpoint: the origin is the log's URL without scheme (rekor-tiles uses its hostname).
  const origin = await loadOrCreateSetting(join(dir, 'origin'), new URL(options.publicUrl).host);
  const storage: LogStorage = options.database
    ? new PostgresStorage({ connectionString: options.database })
    : new SqliteStorage({ path: join(dir, 'log.db') });
  const signer = createNoteSigner(origin, key);
  const log = await TransparencyLog.open({
    storage,
    origin,
    signers: [signer],
    logger: options.logger.child({ service: 'log' }),
  });
  options.logger.info(
    { origin, storage: storage.driver, keyCreated: created, size: log.latestCheckpoint()?.size },
    'transparency log open',
  );
  return {
    log,
    origin,
    publicKeyPem: publicKeyPem(key),
    verifierKey: signer.verifierKey,
    storage: options.database ? 'postgres' : join(dir, 'log.db'),
  };
}
