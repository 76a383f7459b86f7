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
import { addDemoCommand } from './demo-command.ts';
import {
  SIGIL_SERVICES,
  formatUp,
  startAll,
  startServices,
  type SigilService,
  type UpResult,
  type UpSummary,
  webhookHints,
} from './up.ts';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createServerMetrics } from '../server/index.ts';
import { readTrustConfig } from './image-trust.ts';
import { prepareStateDir } from './state.ts';
import { startWebhook } from './webhook-service.ts';
import {
  addWebhookOptions,
  DEFAULT_WEBHOOK_PORT,
  resolveWebhookSettings,
  type WebhookFlags,
} from './webhook-config.ts';
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

  addWebhookOptions(
    addServerOptions(
      program
        .command('up')
        .description(
          'run every Sigil service in one process on the embedded defaults (with --policies, the admission webhook too)',
        ),
    ),
    { withPort: true },
  ).action(async (flags: ServerFlags & WebhookFlags) => {
    const config = resolveServerConfig(flags, io.env);
    const webhook = resolveWebhookSettings(flags, io.env);
    const logger = createLogger(config.logLevel);
    await serveUntilStopped(
      await startAll(config, version, logger, webhook && { ...webhook, env: io.env }),
      config.json,
      logger,
      io,
    );
  });

  addServerOptions(
    program
      .command('serve')
      .description(
        `run some of Sigil's services in this process: ${SIGIL_SERVICES.join(', ')} (a CA without ctlog needs --ct-url), or the admission webhook alone: serve webhook --policies DIR --trust-config FILE`,
      )
      .argument('<services...>', `one or more of ${SIGIL_SERVICES.join(', ')}; or webhook`),
  )
    .option(
      '--ct-url <url>',
      'the CT log a CA submits to when ctlog runs elsewhere, e.g. http://host:7070/ct-log (env SIGIL_CT_URL)',
    )
    .option(
      '--ct-roots <file>',
      'PEM roots a CT log accepts (env SIGIL_CT_ROOTS; default the CA root in the state folder)',
    )
    .option(
      '--trust-config <file>',
      'webhook: trust-config.json (or trusted_root.json) keyless authorities verify against',
    )
    .action(async (names: string[], flags: ServerFlags & WebhookFlags & { trustConfig?: string }) => {
      if (names.includes('webhook')) {
        await serveWebhook(names, flags, io);
        return;
      }
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

  addWebhookOptions(
    program.commands.find((command) => command.name() === 'serve')!,
    { withPort: false },
  );

  addLogCommands(program, io);
  addCaCommands(program, io);
  addClientCommands(program, io);
  addVerifyCommands(program, io);
  addImageCommands(program, io);
  addPolicyCommands(program, io);
  addDemoCommand(program, io);

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

/** `sigil serve webhook`: the admission webhook alone, on --port (default 8443) over HTTPS. */
async function serveWebhook(
  names: readonly string[],
  flags: ServerFlags & WebhookFlags & { trustConfig?: string },
  io: CliIo,
): Promise<void> {
  if (names.some((name) => name !== 'webhook')) {
    throw new CliError(
      'CLI_OPTION_INVALID',
      'services: the webhook runs alone in `sigil serve webhook`, or beside every service in `sigil up --policies DIR`',
    );
  }
  const config = resolveServerConfig(
    { ...flags, port: flags.port ?? io.env.SIGIL_PORT ?? String(DEFAULT_WEBHOOK_PORT) },
    io.env,
  );
  const webhook = resolveWebhookSettings(flags, io.env);
  if (!webhook) {
    throw new CliError(
      'CLI_OPTION_INVALID',
      '--policies: the webhook needs a folder of ClusterImagePolicies (or SIGIL_POLICIES)',
    );
  }
  const trustFile = flags.trustConfig ?? join(config.stateDir, 'trust-config.json');
  if (flags.trustConfig === undefined && !existsSync(trustFile)) {
    throw new CliError(
      'CLI_OPTION_INVALID',
      `--trust-config: keyless authorities need a trusted root; pass --trust-config FILE (\`sigil up\` writes ${trustFile})`,
    );
  }
  const { trust } = await readTrustConfig(trustFile);
  const logger = createLogger(config.logLevel);
  await prepareStateDir(config.stateDir);
  const running = await startWebhook({
    settings: webhook.settings,
    host: config.host,
    port: config.port,
    stateDir: config.stateDir,
    trustedRoot: trust,
    env: io.env,
    logger,
    logLevel: config.logLevel,
    metrics: createServerMetrics(),
  });
  const summary = {
    url: running.url,
    policiesDir: webhook.settings.policiesDir,
    policies: running.policies.current().policies.length,
    ...(running.caCertificateFile ? { caCertificateFile: running.caCertificateFile } : {}),
  };
  io.stdout(
    config.json
      ? `${JSON.stringify({ webhook: summary })}\n`
      : `${webhookHints(summary).join('\n')}\n\nPress Ctrl-C to stop.\n`,
  );
  const signal = await io.untilStopped();
  logger.info({ signal }, 'stopping');
  await running.close();
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
