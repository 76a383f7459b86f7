import { Command, Option } from 'commander';
import { describeError, isSigilError } from '../core/index.ts';
import {
  DEFAULT_HOST,
  DEFAULT_MAX_BODY_BYTES,
  DEFAULT_PORT,
  LOG_LEVELS,
  resolveServerConfig,
  type ServerFlags,
} from './config.ts';
import { createLogger } from './logger.ts';
import { addCaCommands } from './ca-commands.ts';
import { addClientCommands } from './client-commands.ts';
import { addLogCommands } from './log-commands.ts';
import { addVerifyCommands } from './verify-commands.ts';
import { addImageCommands } from './image-commands.ts';
import { addPolicyCommands } from './policy-commands.ts';
import {
  SIGIL_SERVICES,
  formatUp,
  startAll,
  startServices,
  type SigilService,
  type UpResult,
  type UpSummary,
} from './up.ts';
import { CliError } from './errors.ts';
import type { Logger } from '../core/index.ts';
import { readVersion } from './version.ts';

/** What a command may touch outside itself; `process` in production, captured in tests. */
export interface CliIo {
  env: NodeJS.ProcessEnv;
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  /** Resolves when the user asks the process to stop (SIGINT or SIGTERM). */
  untilStopped: () => Promise<string>;
}

/** Adds the options every long-running command shares: --state, --host, --port, --json, --log-level. */
export function addServerOptions(command: Command): Command {
  return command
    .option('--state <dir>', 'folder for keys and databases (env SIGIL_STATE; default ~/.local/share/sigil)')
    .option('--host <address>', `interface to listen on (env SIGIL_HOST; default ${DEFAULT_HOST})`)
    .option('--port <n>', `port to listen on, 0 for any free one (env SIGIL_PORT; default ${DEFAULT_PORT})`)
    .option('--json', 'print machine-readable JSON instead of text')
    .option(
      '--database <url>',
      'postgres:// URL for the log (env SIGIL_DATABASE; default SQLite in the state folder)',
    )
    .option(
      '--public-url <url>',
      'base URL clients use to reach Sigil (env SIGIL_PUBLIC_URL; default the listen address)',
    )
    .option(
      '--max-body-bytes <n>',
      `largest entry request the log accepts (env SIGIL_MAX_BODY_BYTES; default ${DEFAULT_MAX_BODY_BYTES})`,
    )
    .option(
      '--admission-workers <n>',
      'threads that verify log entries, 0 for the main thread (env SIGIL_ADMISSION_WORKERS; default one per CPU beyond the first)',
    )
    .option(
      '--ca-config <file>',
      "the CA's OIDC issuers, Fulcio's config shape in YAML or JSON (env SIGIL_CA_CONFIG; default: trust the development issuer)",
    )
    .addOption(
      new Option('--log-level <level>', 'log level (env SIGIL_LOG_LEVEL; default info)').choices(LOG_LEVELS),
    );
}

export function buildProgram(io: CliIo): Command {
  const version = readVersion();
  const program = new Command('sigil')
    .description('Admission control for signed container images, with the Sigstore trust services in the box')
    .version(version, '-v, --version')
    .showHelpAfterError('(run sigil --help for usage)')
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr });

  addServerOptions(
    program.command('up').description('run every Sigil service in one process on the embedded defaults'),
  ).action(async (flags: ServerFlags) => {
    const config = resolveServerConfig(flags, io.env);
    const logger = createLogger(config.logLevel);
    await serveUntilStopped(await startAll(config, version, logger), config.json, logger, io);
  });

  addServerOptions(
    program
      .command('serve')
      .description(
        `run some of Sigil's services in this process: ${SIGIL_SERVICES.join(', ')} (a CA without ctlog needs --ct-url)`,
      )
      .argument('<services...>', `one or more of ${SIGIL_SERVICES.join(', ')}`),
  )
    .option(
      '--ct-url <url>',
      'the CT log a CA submits to when ctlog runs elsewhere, e.g. http://host:7070/ct-log (env SIGIL_CT_URL)',
    )
    .option(
      '--ct-roots <file>',
      'PEM roots a CT log accepts (env SIGIL_CT_ROOTS; default the CA root in the state folder)',
    )
    .action(async (names: string[], flags: ServerFlags) => {
      const selected = parseServices(names);
      const config = resolveServerConfig(flags, io.env);
      const logger = createLogger(config.logLevel);
      await serveUntilStopped(
        await startServices(config, version, logger, selected),
        config.json,
        logger,
        io,
      );
    });

  addLogCommands(program, io);
  addCaCommands(program, io);
  addClientCommands(program, io);
  addVerifyCommands(program, io);
  addImageCommands(program, io);
  addPolicyCommands(program, io);

  program
    .command('version')
    .description('print the version')
    .option('--json', 'print machine-readable JSON')
    .action((flags: { json?: boolean }) => {
      io.stdout(flags.json ? `${JSON.stringify({ version })}\n` : `sigil ${version}\n`);
    });

  return program;
}

/** Prints what started, waits for SIGINT/SIGTERM, stops. */
async function serveUntilStopped(running: UpResult, json: boolean, logger: Logger, io: CliIo): Promise<void> {
  const { stop, ...summary } = running;
  io.stdout(json ? `${JSON.stringify(summary satisfies UpSummary)}\n` : formatUp(summary));
  const signal = await io.untilStopped();
  logger.info({ signal }, 'stopping');
  await stop();
  logger.info('stopped');
}

function parseServices(names: readonly string[]): SigilService[] {
  const unknown = names.filter((name) => !(SIGIL_SERVICES as readonly string[]).includes(name));
  if (unknown.length > 0) {
    throw new CliError(
      'CLI_OPTION_INVALID',
      `services: expected some of ${SIGIL_SERVICES.join(', ')}, received ${unknown.join(', ')}`,
    );
  }
  return [...new Set(names)] as SigilService[];
}

/** Runs the CLI and returns the process exit code: 0 ok, 1 failed, 2 usage error. */
export async function runCli(program: Command, argv: readonly string[], io: CliIo): Promise<number> {
  program.exitOverride();
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return 0;
  } catch (error) {
    if (isCommanderExit(error)) return error.exitCode === 0 ? 0 : 2;
    const prefix = isSigilError(error) ? `${error.code}: ` : '';
    io.stderr(`${program.name()}: ${prefix}${describeError(error)}\n`);
    return 1;
  }
}

function isCommanderExit(error: unknown): error is { exitCode: number } {
  return (
    typeof error === 'object' &&
    error !== null &&
    typeof (error as { code?: unknown }).code === 'string' &&
    (error as { code: string }).code.startsWith('commander.')
  );
}
