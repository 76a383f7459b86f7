import { availableParallelism, homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { CliError } from './errors.ts';

/** The flags every server command accepts; strings as commander hands them over. */
export interface ServerFlags {
  state?: string;
  host?: string;
  port?: string;
  json?: boolean;
  logLevel?: string;
  database?: string;
  publicUrl?: string;
  maxBodyBytes?: string;
  admissionWorkers?: string;
  caConfig?: string;
  ctUrl?: string;
  ctRoots?: string;
}

export interface ServerConfig {
  /** Absolute folder for keys and databases. */
  stateDir: string;
  host: string;
  port: number;
  json: boolean;
  logLevel: LogLevel;
  /** `postgres://…` for the log's storage; undefined for SQLite in the state folder. */
  database: string | undefined;
  /** The base URL clients reach Sigil at; undefined to use the listening address. */
  publicUrl: string | undefined;
  /** Largest request body the write endpoints accept, in bytes. */
  maxBodyBytes: number;
  /** Worker threads that validate and verify log entries; 0 verifies on the main thread. */
  admissionWorkers: number;
  /** A Fulcio-shaped OIDC issuer config file for the CA; undefined trusts the development issuer. */
  caConfig: string | undefined;
  /** The CA keys' passphrase (SIGIL_CA_PASSPHRASE); undefined uses a generated one in the state folder. */
  caPassphrase: string | undefined;
  /** The CT log a CA reaches over HTTP when the CT log runs elsewhere (its submission prefix). */
  ctUrl: string | undefined;
  /** PEM roots a separately served CT log accepts; undefined: the CA root in the state folder. */
  ctRootsFile: string | undefined;
}

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export const DEFAULT_PORT = 7070;
export const DEFAULT_HOST = '127.0.0.1';
export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;
/**
 * One admission worker per CPU beyond the first, which the main thread keeps busy sequencing, proving
 * and answering (measured with bench/log-http on 2 cores: dsse 2,000–2,250 entries/s with one worker,
 * 1,770–1,830 with two).
 */
export const DEFAULT_ADMISSION_WORKERS = Math.max(1, availableParallelism() - 1);

/**
 * Resolves flags and environment into a validated, frozen configuration. Precedence: flag, then
 * environment (`SIGIL_STATE`, `SIGIL_HOST`, `SIGIL_PORT`, `SIGIL_LOG_LEVEL`, `SIGIL_DATABASE`,
 * `SIGIL_PUBLIC_URL`, `SIGIL_MAX_BODY_BYTES`, `SIGIL_ADMISSION_WORKERS`, `SIGIL_CA_CONFIG`, `SIGIL_CT_URL`,
 * `SIGIL_CT_ROOTS`; the CA
 * passphrase only from `SIGIL_CA_PASSPHRASE`, never a flag), then default.
 */
export function resolveServerConfig(flags: ServerFlags, env: NodeJS.ProcessEnv): Readonly<ServerConfig> {
  const stateDir = resolve(flags.state ?? env.SIGIL_STATE ?? defaultStateDir(env));
  const host = flags.host ?? env.SIGIL_HOST ?? DEFAULT_HOST;
  const port = parsePort(flags.port ?? env.SIGIL_PORT, flags.port === undefined ? 'SIGIL_PORT' : '--port');
  const logLevel = parseLogLevel(flags.logLevel ?? env.SIGIL_LOG_LEVEL ?? 'info');
  const database = flags.database ?? env.SIGIL_DATABASE;
  if (database !== undefined && !/^postgres(ql)?:\/\//.test(database)) {
    throw new CliError(
      'CLI_OPTION_INVALID',
      `--database: expected a postgres:// URL, received ${JSON.stringify(redactUrl(database))}`,
    );
  }
  const publicUrl = flags.publicUrl ?? env.SIGIL_PUBLIC_URL;
  if (publicUrl !== undefined && !/^https?:\/\/[^/]+\/?$/.test(publicUrl)) {
    throw new CliError(
      'CLI_OPTION_INVALID',
      `--public-url: expected http(s)://host[:port], received ${JSON.stringify(publicUrl)}`,
    );
  }
  const maxBodyBytes = parseCount(
    flags.maxBodyBytes === undefined
      ? ['SIGIL_MAX_BODY_BYTES', env.SIGIL_MAX_BODY_BYTES]
      : ['--max-body-bytes', flags.maxBodyBytes],
    { min: 1024, fallback: DEFAULT_MAX_BODY_BYTES },
  );
  const admissionWorkers = parseCount(
    flags.admissionWorkers === undefined
      ? ['SIGIL_ADMISSION_WORKERS', env.SIGIL_ADMISSION_WORKERS]
      : ['--admission-workers', flags.admissionWorkers],
    { min: 0, max: 64, fallback: DEFAULT_ADMISSION_WORKERS },
  );
  return Object.freeze({
    stateDir,
    host,
    port,
    json: flags.json ?? false,
    logLevel,
    database,
    publicUrl: publicUrl?.replace(/\/$/, ''),
    maxBodyBytes,
    admissionWorkers,
    caConfig: flags.caConfig ?? env.SIGIL_CA_CONFIG,
    caPassphrase: env.SIGIL_CA_PASSPHRASE || undefined,
    ctUrl: (flags.ctUrl ?? env.SIGIL_CT_URL)?.replace(/\/$/, ''),
    ctRootsFile: flags.ctRoots ?? env.SIGIL_CT_ROOTS,
  });
}

/** `$XDG_DATA_HOME/sigil`, or `~/.local/share/sigil` where XDG_DATA_HOME is unset (XDG Base Directory). */
export function defaultStateDir(env: NodeJS.ProcessEnv): string {
  const dataHome = env.XDG_DATA_HOME && env.XDG_DATA_HOME.startsWith('/') ? env.XDG_DATA_HOME : undefined;
  return join(dataHome ?? join(env.HOME ?? homedir(), '.local', 'share'), 'sigil');
}

/** A connection URL with its password replaced, for messages and logs. */
export function redactUrl(url: string): string {
  return url.replace(/\/\/([^:/@]*):[^@/]*@/, '//$1:***@');
}

export function parsePort(value: string | undefined, source: string): number {
  if (value === undefined) return DEFAULT_PORT;
  if (!/^\d{1,5}$/.test(value) || Number(value) > 65_535) {
    throw new CliError(
      'CLI_OPTION_INVALID',
      `${source}: expected a port number from 0 to 65535, received ${JSON.stringify(value)}`,
    );
  }
  return Number(value);
}

/** A whole number from a flag or variable (`[source, value]`), within [min, max]; `fallback` when unset. */
export function parseCount(
  [source, value]: [string, string | undefined],
  { min, max = Number.MAX_SAFE_INTEGER, fallback }: { min: number; max?: number; fallback: number },
): number {
  if (value === undefined) return fallback;
  const count = Number(value);
  if (!/^\d{1,16}$/.test(value) || count < min || count > max) {
    throw new CliError(
      'CLI_OPTION_INVALID',
      `${source}: expected a whole number from ${min}${max < Number.MAX_SAFE_INTEGER ? ` to ${max}` : ''}, received ${JSON.stringify(value)}`,
    );
  }
  return count;
}

function parseLogLevel(value: string): LogLevel {
  if ((LOG_LEVELS as readonly string[]).includes(value)) return value as LogLevel;
  throw new CliError(
    'CLI_OPTION_INVALID',
    `log level: expected one of ${LOG_LEVELS.join(', ')}, received ${JSON.stringify(value)}`,
  );
}
