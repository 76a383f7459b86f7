import { createPublicKey, type KeyObject } from 'node:crypto';
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
import { readOptionFile } from './state.ts';
import { loadOrCreateKey, loadOrCreateSetting } from './key-store.ts';

export interface CaServiceOptions {
  stateDir: string;
  /** `postgres://…` for the CT log's storage (schema `ctlog`); SQLite in the state folder otherwise. */
  database: string | undefined;
  publicUrl: string;
  logger: Logger;
}

/** Where the services live under the public URL. */
export const CA_PATHS = { ctLog: '/ct-log', oidc: '/oidc' } as const;

export interface RunningCtLog {
  ct: CtLog;
  origin: string;
  publicKey: KeyObject;
  url: string;
}

/**
 * The certificate-transparency log, accepting chains to `roots` (DER; the CA's root under `sigil up`).
 * Its key, origin and database live in `<state>/ctlog`, fixed on first start.
 */
export async function startCtLog(
  options: CaServiceOptions & { roots: readonly Uint8Array[] },
): Promise<RunningCtLog> {
  const base = options.publicUrl.replace(/\/$/, '');
  const key = await loadOrCreateKey(join(options.stateDir, 'ctlog', 'signing-key.pem'), 'ecdsa-p256');
  // static-ct-api: the origin is the submission prefix without scheme (the host without port, as the
  // other logs use it), fixed on first start.
  const origin = await loadOrCreateSetting(
    join(options.stateDir, 'ctlog', 'origin'),
    `${new URL(base).hostname}${CA_PATHS.ctLog}`,
  );
  const storage: LogStorage = options.database
    ? new PostgresStorage({ connectionString: options.database, schema: 'ctlog' })
    : new SqliteStorage({ path: join(options.stateDir, 'ctlog', 'ct.db') });
  const ct = await openCtLog({
    storage,
    key: key.key,
    origin,
    roots: options.roots,
    logger: options.logger.child({ service: 'ctlog' }),
  });
  return { ct, origin, publicKey: createPublicKey(key.key), url: `${base}${CA_PATHS.ctLog}` };
}

/** The development OIDC issuer at `<public URL>/oidc`, its key in `<state>/oidc`. */
export async function startDevIssuer(options: CaServiceOptions): Promise<DevOidcIssuer> {
  const issuerUrl = `${options.publicUrl.replace(/\/$/, '')}${CA_PATHS.oidc}`;
  const key = await loadOrCreateKey(join(options.stateDir, 'oidc', 'signing-key.pem'), 'ecdsa-p256');
  return new DevOidcIssuer({ issuerUrl, privateKey: key.key });
}

export interface RunningCa {
  ca: KeylessCa;
  signer: CaSigner;
  issuerConfig: IssuerConfig;
}

/**
 * The keyless CA with its keys in `<state>/ca` (created on first start). Its issuers come from
 * `issuerConfigFile`, or — only when the development issuer runs in the same process — trust that
 * issuer alone. Every certificate is logged through `ct` first.
 */
export async function startCa(
  options: CaServiceOptions & {
    signer: CaSigner;
    ct: CtSubmitter;
    issuerConfigFile: string | undefined;
    devIssuerUrl: string | undefined;
  },
): Promise<RunningCa> {
  let issuerConfig: IssuerConfig;
  if (options.issuerConfigFile) issuerConfig = await readIssuerConfig(options.issuerConfigFile);
  else if (options.devIssuerUrl) {
    issuerConfig = resolveIssuerConfig(
      {
        'oidc-issuers': {
          [options.devIssuerUrl]: {
            'issuer-url': options.devIssuerUrl,
            'client-id': 'sigstore',
            type: 'email',
          },
        },
      },
      'the default issuer config (the development issuer)',
    );
  } else {
    throw new CliError(
      'CLI_OPTION_INVALID',
      'the CA needs OIDC issuers to trust: pass --ca-config with a Fulcio-shaped issuer config, or serve oidc in the same process',
    );
  }
  const verifier = createTokenVerifier({
    config: issuerConfig,
    logger: options.logger.child({ service: 'oidc' }),
  });
  const ca = new KeylessCa({
    signer: options.signer,
    identities: { verify: async (token) => certifiedIdentity(await verifier.authenticate(token)) },
    ct: options.ct,
  });
  return { ca, signer: options.signer, issuerConfig };
}

/** The CA's signer, from `<state>/ca` (created there on first start). */
export async function loadCaSigner(
  options: CaServiceOptions & { passphrase: string | undefined },
): Promise<CaSigner> {
  const { signer } = await loadOrCreateCa({
    dir: join(options.stateDir, 'ca'),
    passphrase: options.passphrase,
    logger: options.logger.child({ service: 'ca' }),
  });
  return signer;
}

/** Precertificates to a CT log in this process: its own CA's, so their signature is not checked twice. */
export function inProcessCtSubmitter(ct: CtLog): CtSubmitter {
  return { addPreChain: async (chain) => (await ct.addPreChainFromLocalCa(chain)).json };
}

async function readIssuerConfig(file: string): Promise<IssuerConfig> {
  return parseIssuerConfig(await readOptionFile('--ca-config', file), file);
}
