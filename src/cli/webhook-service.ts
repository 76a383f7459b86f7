import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile, rename } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { Logger } from '../core/index.ts';
import { issueServingCertificate } from '../ca/index.ts';
import { createRegistryClient, loadDockerConfig } from '../oci/index.ts';
import {
  createApp,
  createFastRoutes,
  listen,
  registerWebhookMetrics,
  webhookRoutes,
  type ServerMetrics,
} from '../server/index.ts';
import type { TrustMaterial } from '../verify/index.ts';
import { createAdmissionHandler, LocalDecisions, RegistryAccess } from '../webhook/index.ts';
import type { LogLevel } from './config.ts';
import { startWebhookWorkers } from './webhook-workers.ts';
import { CliError } from './errors.ts';
import { watchPolicyDirectory, type PolicyDirectory } from './policy-directory.ts';

/**
 * The admission webhook as a service: policies from a watched folder, AdmissionReviews over HTTPS on
 * `/validate` and `/mutate` (the API server calls webhooks over TLS only), with health, readiness and
 * metrics beside them. Without a certificate of its own it serves one issued by a CA it generates once
 * in the state folder, so the `caBundle` of a webhook configuration stays valid across restarts.
 */

export interface WebhookSettings {
  readonly policiesDir: string;
  readonly tlsCertFile?: string;
  readonly tlsKeyFile?: string;
  readonly noMatch: 'deny' | 'allow';
  readonly mutation: boolean;
  readonly mutationDisabledNamespaces: readonly string[];
  /** Time a review may take, ms. */
  readonly deadlineMs: number;
  readonly allowInsecureRegistry: boolean;
  /** Namespace of Secrets named by `key.secretRef` without one. */
  readonly controllerNamespace: string;
  /** Processes serving the webhook port: 1 is this one; more are workers (webhook-workers.ts). */
  readonly workers: number;
}

export interface StartWebhookOptions {
  readonly settings: WebhookSettings;
  readonly host: string;
  readonly port: number;
  readonly stateDir: string;
  readonly trustedRoot: TrustMaterial;
  readonly env: NodeJS.ProcessEnv;
  readonly logger: Logger;
  /** The level of the workers' loggers. */
  readonly logLevel: LogLevel;
  readonly metrics: ServerMetrics;
}

export interface RunningWebhook {
  /** `https://host:port`. */
  readonly url: string;
  /** The generated serving certificate's CA (the webhook configuration's caBundle), when generated. */
  readonly caCertificatePem?: string;
  readonly caCertificateFile?: string;
  readonly policies: PolicyDirectory;
  close(): Promise<void>;
}

export const DEFAULT_WEBHOOK_DEADLINE_MS = 8_000;

export async function startWebhook(options: StartWebhookOptions): Promise<RunningWebhook> {
  const { settings, logger, metrics } = options;
  const webhookLogger = logger.child({ service: 'webhook' });
  const policies = await watchPolicyDirectory(settings.policiesDir, { logger: webhookLogger });
  const instruments = registerWebhookMetrics(metrics);
  const dockerConfig = join(
    options.env.DOCKER_CONFIG ?? join(options.env.HOME ?? homedir(), '.docker'),
    'config.json',
  );
  const registry = new RegistryAccess({
    defaultCredentials: await loadDockerConfig(dockerConfig),
    createClient: (credentials) =>
      createRegistryClient({
        credentials,
        allowInsecureRegistries: settings.allowInsecureRegistry,
        onResponse: instruments.onRegistryResponse,
        userAgent: 'sigil-webhook',
        logger: webhookLogger,
      }),
    logger: webhookLogger,
  });
  const decisions = new LocalDecisions({
    source: policies,
    trustedRoot: options.trustedRoot,
    registry,
    noMatch: settings.noMatch,
    controllerNamespace: settings.controllerNamespace,
    metrics: instruments.webhook,
  });
  const mutation = { enabled: settings.mutation, disabledNamespaces: settings.mutationDisabledNamespaces };
  const tls = await servingFiles(options);
  let server: { url: string; close(): Promise<void> };
  try {
    if (settings.workers > 1) {
      server = await startWebhookWorkers({
        count: settings.workers,
        config: {
          host: options.host,
          port: options.port,
          certFile: tls.certFile,
          keyFile: tls.keyFile,
          mutation: mutation.enabled,
          mutationDisabledNamespaces: mutation.disabledNamespaces,
          deadlineMs: settings.deadlineMs,
          logLevel: options.logLevel,
        },
        decisions,
        metrics,
        logger: webhookLogger,
      });
    } else {
      const handler = createAdmissionHandler({
        decisions,
        mutation,
        deadlineMs: settings.deadlineMs,
        metrics: instruments.webhook,
        logger: webhookLogger,
      });
      const fastRoutes = createFastRoutes({ logger: webhookLogger, metrics });
      for (const route of webhookRoutes(handler)) fastRoutes.add(route);
      const app = createApp({
        logger: webhookLogger,
        metrics,
        readiness: [{ name: 'webhook', check: () => policies.current().generation > 0 }],
      });
      server = await listen(fastRoutes.listener(app), {
        host: options.host,
        port: options.port,
        tls: { certFile: tls.certFile, keyFile: tls.keyFile },
        logger: webhookLogger,
      });
    }
  } catch (error) {
    policies.close();
    await registry.close();
    throw error;
  }
  webhookLogger.info(
    {
      url: server.url,
      policies: policies.current().policies.length,
      dir: settings.policiesDir,
      workers: settings.workers,
    },
    'webhook is up',
  );
  return {
    url: server.url,
    ...(tls.caCertificatePem
      ? { caCertificatePem: tls.caCertificatePem, caCertificateFile: tls.caFile }
      : {}),
    policies,
    async close() {
      await server.close();
      policies.close();
      await registry.close();
    },
  };
}

/** The given certificate and key, or a generated pair kept in `<state>/webhook/`. */
async function servingFiles(
  options: StartWebhookOptions,
): Promise<{ certFile: string; keyFile: string; caCertificatePem?: string; caFile?: string }> {
  const { tlsCertFile, tlsKeyFile } = options.settings;
  if (tlsCertFile !== undefined || tlsKeyFile !== undefined) {
    if (tlsCertFile === undefined || tlsKeyFile === undefined) {
      throw new CliError(
        'CLI_OPTION_INVALID',
        '--tls-cert and --tls-key: give both, or neither to generate a pair',
      );
    }
    return { certFile: tlsCertFile, keyFile: tlsKeyFile };
  }
  const dir = join(options.stateDir, 'webhook');
  const files = {
    certFile: join(dir, 'tls.crt'),
    keyFile: join(dir, 'tls.key'),
    caFile: join(dir, 'ca.crt'),
  };
  if (![files.certFile, files.keyFile, files.caFile].every((file) => existsSync(file))) {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const hosts = [...new Set([options.host, '127.0.0.1', 'localhost'])].filter(
      (host) => host !== '0.0.0.0' && host !== '::',
    );
    const issued = await issueServingCertificate({ hosts });
    await writeAtomically(files.keyFile, issued.privateKeyPem, 0o600);
    await writeAtomically(files.certFile, issued.certificatePem, 0o644);
    await writeAtomically(files.caFile, issued.caCertificatePem, 0o644);
  }
  return { ...files, caCertificatePem: await readFile(files.caFile, 'utf8') };
}

async function writeAtomically(path: string, text: string, mode: number): Promise<void> {
  const temporary = `${path}.tmp`;
  await writeFile(temporary, text, { mode });
  await rename(temporary, path);
}
