import type { Command } from 'commander';
import { CliError } from './errors.ts';
import { parseCount, parsePort } from './config.ts';
import { DEFAULT_WEBHOOK_DEADLINE_MS, type WebhookSettings } from './webhook-service.ts';

/** The webhook's flags, as commander hands them over (`--no-mutation` gives `mutation: false`). */
export interface WebhookFlags {
  policies?: string;
  webhookPort?: string;
  tlsCert?: string;
  tlsKey?: string;
  ifNoMatch?: string;
  mutation?: boolean;
  mutationOffNamespaces?: string;
  reviewDeadline?: string;
  allowInsecureRegistry?: boolean;
  controllerNamespace?: string;
  webhookWorkers?: string;
}

export const DEFAULT_WEBHOOK_PORT = 8443;

/** Adds the webhook's options to `sigil up` and `sigil serve webhook`. */
export function addWebhookOptions(command: Command, options: { withPort: boolean }): Command {
  if (options.withPort) {
    command.option(
      '--webhook-port <n>',
      `HTTPS port of the admission webhook, 0 for any free one (env SIGIL_WEBHOOK_PORT; default ${DEFAULT_WEBHOOK_PORT})`,
    );
  }
  return command
    .option(
      '--policies <dir>',
      'folder of ClusterImagePolicy/TrustRoot YAML the webhook enforces, watched (env SIGIL_POLICIES)',
    )
    .option(
      '--tls-cert <file>',
      'webhook serving certificate (PEM), reloaded when it changes; default: generated in the state folder',
    )
    .option('--tls-key <file>', 'private key of --tls-cert (PEM)')
    .option('--if-no-match <action>', 'when no policy matches an image: deny or allow (default deny)')
    .option('--no-mutation', 'do not pin image tags to digests (and do not require pinned images)')
    .option('--mutation-off-namespaces <list>', 'comma-separated namespaces where tags are not pinned')
    .option(
      '--review-deadline <ms>',
      `time a review may take before verifications count as timed out (default ${DEFAULT_WEBHOOK_DEADLINE_MS}; keep it below the webhook timeoutSeconds)`,
    )
    .option('--allow-insecure-registry', 'allow plain HTTP to registries other than localhost')
    .option(
      '--controller-namespace <ns>',
      'namespace of Secrets named by key.secretRef (default sigil-system)',
    )
    .option(
      '--webhook-workers <n>',
      'processes serving the webhook port, each on its own core; images are still verified once, here (env SIGIL_WEBHOOK_WORKERS; default 1: this process)',
    );
}

/** The webhook settings, or undefined when no policy folder is given. */
export function resolveWebhookSettings(
  flags: WebhookFlags,
  env: NodeJS.ProcessEnv,
): { settings: WebhookSettings; port: number } | undefined {
  const policiesDir = flags.policies ?? env.SIGIL_POLICIES;
  if (policiesDir === undefined) {
    for (const flag of [
      'tlsCert',
      'tlsKey',
      'ifNoMatch',
      'mutationOffNamespaces',
      'reviewDeadline',
      'webhookWorkers',
    ] as const) {
      if (flags[flag] !== undefined) {
        throw new CliError(
          'CLI_OPTION_INVALID',
          `--${kebab(flag)} configures the webhook: pass --policies DIR too`,
        );
      }
    }
    return undefined;
  }
  const noMatch = flags.ifNoMatch ?? 'deny';
  if (noMatch !== 'deny' && noMatch !== 'allow') {
    throw new CliError(
      'CLI_OPTION_INVALID',
      `--if-no-match: expected deny or allow, received ${JSON.stringify(noMatch)}`,
    );
  }
  const port =
    flags.webhookPort !== undefined
      ? parsePort(flags.webhookPort, '--webhook-port')
      : env.SIGIL_WEBHOOK_PORT !== undefined
        ? parsePort(env.SIGIL_WEBHOOK_PORT, 'SIGIL_WEBHOOK_PORT')
        : DEFAULT_WEBHOOK_PORT;
  return {
    port,
    settings: Object.freeze({
      policiesDir,
      ...(flags.tlsCert !== undefined ? { tlsCertFile: flags.tlsCert } : {}),
      ...(flags.tlsKey !== undefined ? { tlsKeyFile: flags.tlsKey } : {}),
      noMatch,
      mutation: flags.mutation ?? true,
      mutationDisabledNamespaces: (flags.mutationOffNamespaces ?? '')
        .split(',')
        .map((each) => each.trim())
        .filter((each) => each.length > 0),
      deadlineMs: parseCount(['--review-deadline', flags.reviewDeadline], {
        min: 100,
        max: 29_000,
        fallback: DEFAULT_WEBHOOK_DEADLINE_MS,
      }),
      allowInsecureRegistry: flags.allowInsecureRegistry ?? false,
      controllerNamespace: flags.controllerNamespace ?? 'sigil-system',
      workers: parseCount(
        flags.webhookWorkers !== undefined
          ? ['--webhook-workers', flags.webhookWorkers]
          : ['SIGIL_WEBHOOK_WORKERS', env.SIGIL_WEBHOOK_WORKERS],
        { min: 1, max: 64, fallback: 1 },
      ),
    }),
  };
}

function kebab(name: string): string {
  return name.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`);
}
