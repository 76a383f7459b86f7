import { encodeBase64, signingKeyAlgorithm, systemClock, type Clock } from '../core/index.ts';
import { TransparencyLog, type LogStorage, type TransparencyLogOptions } from '../log/index.ts';
import { isValidKeyName, rfc6962LogName } from '../merkle/index.ts';
import { CtLog, type CtLogOptions } from './ct-log.ts';
import { CtTimestamps, checkpointTimestamp, createCtCheckpointSigner } from './timestamps.ts';

export interface OpenCtLogOptions extends Omit<CtLogOptions, 'log' | 'timestamps'> {
  /** The log's own storage (a database or schema of its own: its objects table holds issuers). */
  storage: LogStorage;
  /**
   * Checkpoint origin and key name: the submission prefix as a schema-less URL without trailing slash
   * (static-ct-api §Checkpoints), e.g. `ct.example.com/2026h1`.
   */
  origin: string;
  /** Time for SCTs and tree heads. Default: the system clock. */
  clock?: Clock;
  /** Tuning of the log engine, as TransparencyLog.open takes it. */
  engine?: Pick<
    TransparencyLogOptions,
    'sequencer' | 'integrator' | 'tiles' | 'inclusionTimeoutMs' | 'retryDelayMs'
  >;
}

/**
 * Opens a static-ct-api log: the engine over `storage`, with checkpoints signed by `key` as
 * RFC6962NoteSignatures under `origin`, and SCT and tree head timestamps that never go back behind the
 * stored checkpoint's. Throws TypeError for bad options before anything is opened.
 */
export async function openCtLog(options: OpenCtLogOptions): Promise<CtLog> {
  const { storage, key, origin, engine, ...rest } = options;
  if (origin !== rfc6962LogName(origin) || !isValidKeyName(origin)) {
    throw new TypeError(
      `origin: expected the submission prefix without scheme or trailing slash, in lower case (e.g. ${JSON.stringify(rfc6962LogName(origin) || 'ct.example.com/2026h1')}), received ${JSON.stringify(origin)}`,
    );
  }
  if (key.type !== 'private' || signingKeyAlgorithm(key) !== 'ecdsa-p256') {
    throw new TypeError(
      `key: expected an ECDSA P-256 private key, received a ${key.type} ${key.asymmetricKeyType ?? ''} key`,
    );
  }
  const probe = createCtCheckpointSigner(origin, key, new CtTimestamps());
  await storage.open();
  const stored = await storage.latestCheckpoint();
  const timestamps = new CtTimestamps(
    options.clock ?? systemClock,
    stored ? checkpointTimestamp(stored.note, probe) : 0,
  );
  const log = await TransparencyLog.open({
    ...engine,
    storage,
    origin,
    signers: [createCtCheckpointSigner(origin, key, timestamps)],
    ...(rest.logger ? { logger: rest.logger } : {}),
  });
  let ct: CtLog;
  try {
    ct = new CtLog({ ...rest, key, log, timestamps });
  } catch (error) {
    await log.close();
    throw error;
  }
  rest.logger?.info(
    {
      origin,
      logId: encodeBase64(ct.logId),
      roots: ct.roots().length,
      driver: storage.driver,
      treeSize: log.latestCheckpoint()?.size ?? 0,
    },
    'certificate transparency log opened',
  );
  return ct;
}
