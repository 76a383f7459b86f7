import { createPublicKey, type KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../core/index.ts';
import {
  DevOidcIssuer,
  KeylessCa,
  certifiedIdentity,
  createTokenVerifier,
  parseIssuerConfig,
  resolveIssuerConfig,
  type CaSigner,
  type CtSubmitter,
  type IssuerConfig,
} from '../ca/index.ts';
import { openCtLog, type CtLog } from '../ctlog/index.ts';
import { PostgresStorage, SqliteStorage, type LogStorage } from '../log/index.ts';
import { loadOrCreateCa } from './ca-state.ts';
import { CliError } from './errors.ts';
import { loadOrCreateKey, loadOrCreateSetting } from './key-store.ts';

export interface CaServiceOptions {
  stateDir: string;
  /** `postgres://…` for the CT log's storage (schema `ctlog`); SQLite in the state folder otherwise. */
  database: string | undefined;
  publicUrl: string;
  /** A Fulcio-shaped issuer config (YAML/JSON) that replaces the default, which trusts the dev issuer. */
  issuerConfigFile: string | undefined;
  /** SIGIL_CA_PASSPHRASE. */
  passphrase: string | undefined;
  logger: Logger;
}

export interface RunningCaServices {
  ca: KeylessCa;
  signer: CaSigner;
  ct: CtLog;
  ctOrigin: string;
  ctPublicKey: KeyObject;
  /** The development issuer (always served; trusted by the CA only in the default config). */
  devIssuer: DevOidcIssuer;
  devIssuerUrl: string;
  issuerConfig: IssuerConfig;
  close(): Promise<void>;
}

/** Where the services live under the public URL. */
export const CA_PATHS = { ctLog: '/ct-log', oidc: '/oidc' } as const;

/**
 * The keyless CA of the embedded default, with its CT log and the development OIDC issuer, all in
 * this process: the CA submits precertificates to the CT log directly (no HTTP hop), and trusts the
 * dev issuer unless an issuer config file says otherwise.
 */
export async function startCaServices(options: CaServiceOptions): Promise<RunningCaServices> {
  const { signer } = await loadOrCreateCa({
    dir: join(options.stateDir, 'ca'),
    passphrase: options.passphrase,
    logger: options.logger.child({ service: 'ca' }),
  });
  const base = options.publicUrl.replace(/\/$/, '');
  const devIssuerUrl = `${base}${CA_PATHS.oidc}`;
  const devKey = await loadOrCreateKey(join(options.stateDir, 'oidc', 'signing-key.pem'), 'ecdsa-p256');
  const devIssuer = new DevOidcIssuer({ issuerUrl: devIssuerUrl, privateKey: devKey.key });

  const ctKey = await loadOrCreateKey(join(options.stateDir, 'ctlog', 'signing-key.pem'), 'ecdsa-p256');
  // static-ct-api: the origin is the submission prefix without scheme (the host without port, as the
  // other logs use it), fixed on first start.
  const ctOrigin = await loadOrCreateSetting(
    join(options.stateDir, 'ctlog', 'origin'),
    `${new URL(base).hostname}${CA_PATHS.ctLog}`,
  );
  const storage: LogStorage = options.database
    ? new PostgresStorage({ connectionString: options.database, schema: 'ctlog' })
    : new SqliteStorage({ path: join(options.stateDir, 'ctlog', 'ct.db') });
  const ct = await openCtLog({
    storage,
    key: ctKey.key,
    origin: ctOrigin,
    roots: [signer.chain.at(-1)!],
    logger: options.logger.child({ service: 'ctlog' }),
  });

  try {
    const issuerConfig = options.issuerConfigFile
      ? await readIssuerConfig(options.issuerConfigFile)
      : resolveIssuerConfig(
          {
            'oidc-issuers': {
              [devIssuerUrl]: { 'issuer-url': devIssuerUrl, 'client-id': 'sigstore', type: 'email' },
            },
          },
          'the default issuer config (the development issuer)',
        );
    const verifier = createTokenVerifier({
      config: issuerConfig,
      logger: options.logger.child({ service: 'oidc' }),
    });
    const inProcessCt: CtSubmitter = {
      addPreChain: async (chain) => (await ct.addPreChainFromLocalCa(chain)).json,
    };
    const ca = new KeylessCa({
      signer,
      identities: { verify: async (token) => certifiedIdentity(await verifier.authenticate(token)) },
      ct: inProcessCt,
    });
    return {
      ca,
      signer,
      ct,
      ctOrigin,
      ctPublicKey: createPublicKey(ctKey.key),
      devIssuer,
      devIssuerUrl,
      issuerConfig,
      close: () => ct.close(),
    };
  } catch (error) {
    await ct.close();
    throw error;
  }
}

async function readIssuerConfig(file: string): Promise<IssuerConfig> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (cause) {
    throw new CliError(
      'CLI_OPTION_INVALID',
      `--ca-config: cannot read ${file} (${(cause as Error).message})`,
      {
        cause,
      },
    );
  }
  return parseIssuerConfig(text, file);
}
