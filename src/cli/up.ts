import { X509Certificate, createPublicKey } from 'node:crypto';
import { readFile, writeFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../core/index.ts';
import { decodePem } from '../core/index.ts';
import { fulcioConfiguration, httpCtSubmitter, type CaSigner, type DevOidcIssuer } from '../ca/index.ts';
import {
  buildClientTrustConfig,
  buildSigningConfig,
  buildTrustedRoot,
  type DeploymentTrust,
} from '../tuf/index.ts';
import {
  createAdmissionPool,
  inProcessAdmitter,
  type AdmissionPool,
  type EntryAdmitter,
  type TransparencyLog,
} from '../log/index.ts';
import {
  createApp,
  createFastRoutes,
  createRouter,
  createServerMetrics,
  createRekorV1Router,
  createTlogTilesRouter,
  createCtLogRouter,
  createDevOidcRouter,
  createFulcioRouter,
  createTrustConfigRouter,
  fulcioSigningRoute,
  listen,
  registerCaMetrics,
  registerAdmissionMetrics,
  registerLogMetrics,
  rekorV1WriteRoute,
  rekorV2WriteRoute,
  type ReadinessCheck,
} from '../server/index.ts';
import { redactUrl, type ServerConfig } from './config.ts';
import {
  CA_PATHS,
  inProcessCtSubmitter,
  loadCaSigner,
  startCa,
  startCtLog,
  startDevIssuer,
  type RunningCa,
  type RunningCtLog,
} from './ca-service.ts';
import { CliError } from './errors.ts';
import { startLogServices, type RunningLogServices } from './log-service.ts';
import { parseTrustedRoot } from '../verify/index.ts';
import { startWebhook, type WebhookSettings } from './webhook-service.ts';
import { prepareStateDir, readOptionFile } from './state.ts';

/** One endpoint that `sigil up` started, as printed to the user. */
export interface StartedEndpoint {
  name: string;
  url: string;
  description: string;
}

export interface UpSummary {
  version: string;
  stateDir: string;
  /** The services running in this process. */
  services: SigilService[];
  endpoints: StartedEndpoint[];
  log?: { origin: string; storage: string; publicKeyPem: string; verifierKey: string };
  rekorV1?: { origin: string; treeId: string; logId: string; publicKeyPem: string; verifierKey: string };
  ca?: {
    url: string;
    /** The development OIDC issuer, and whether the CA trusts it (only with the default issuer config). */
    oidcIssuer: string;
    oidcIssuerTrusted: boolean;
    ctLog: { url: string; origin: string };
    /** ClientTrustConfig (TrustedRoot + SigningConfig) and the TrustedRoot alone, in the state folder. */
    trustConfigFile: string;
    trustedRootFile: string;
  };
  webhook?: WebhookSummary;
}

/** The admission webhook `sigil up --policies` runs beside the other services. */
export interface WebhookSummary {
  url: string;
  policiesDir: string;
  policies: number;
  /** The generated serving certificate's CA, for the webhook configuration's caBundle. */
  caCertificateFile?: string;
}

/** What `sigil up --policies DIR` adds: the webhook on its own HTTPS port, trusting this deployment. */
export interface UpWebhook {
  settings: WebhookSettings;
  port: number;
  env: NodeJS.ProcessEnv;
}

export interface UpResult extends UpSummary {
  stop: () => Promise<void>;
}

/** What `sigil serve` can run; `sigil up` runs them all. */
export const SIGIL_SERVICES = ['log', 'ctlog', 'ca', 'oidc'] as const;
export type SigilService = (typeof SIGIL_SERVICES)[number];

/** Starts every service Sigil has in one process on the embedded defaults (`sigil up`). */
export function startAll(
  config: Readonly<ServerConfig>,
  version: string,
  logger: Logger,
  webhook?: UpWebhook,
): Promise<UpResult> {
  return startServices(config, version, logger, SIGIL_SERVICES, webhook);
}

/**
 * Starts `selected` services behind one HTTP server (health, readiness, metrics): the transparency logs
 * (`log`: Rekor v1 and the tiles log, on SQLite in the state folder unless a PostgreSQL URL is
 * configured), the CT log (`ctlog`, under /ct-log), the keyless CA (`ca`, Fulcio's API at the root;
 * it reaches a CT log in this process directly, another one at --ct-url) and the development OIDC
 * issuer (`oidc`, under /oidc). With CA, CT log and logs together it writes the client trust config.
 */
export async function startServices(
  config: Readonly<ServerConfig>,
  version: string,
  logger: Logger,
  selected: readonly SigilService[],
  webhook?: UpWebhook,
): Promise<UpResult> {
  const runs = (service: SigilService) => selected.includes(service);
  if (runs('ca') && !runs('ctlog') && !config.ctUrl) {
    throw new CliError(
      'CLI_OPTION_INVALID',
      'the CA logs every certificate before issuing it: pass --ct-url with the CT log (e.g. http://host:7070/ct-log) or serve ctlog in the same process',
    );
  }
  await prepareStateDir(config.stateDir);
  const services = createRouter();
  let ready = false;
  const readiness: ReadinessCheck[] = [{ name: selected.join('+'), check: () => ready }];
  const metrics = createServerMetrics();
  const app = createApp({ logger, metrics, readiness, routers: [services] });
  const fastRoutes = createFastRoutes({ logger, metrics });
  // Listen first: with --port 0 the URL, and so the logs' origins, are only known once bound.
  const server = await listen(fastRoutes.listener(app), { host: config.host, port: config.port });
  const closers: (() => Promise<void>)[] = [];
  const stop = async () => {
    await server.close();
    for (const close of closers.reverse()) await close();
  };
  try {
    const publicUrl = config.publicUrl ?? server.url;
    const base = { stateDir: config.stateDir, database: config.database, publicUrl, logger };
    const summary: UpSummary = { version, stateDir: config.stateDir, services: [...selected], endpoints: [] };
    const endpoint = (name: string, url: string, description: string) =>
      summary.endpoints.push({ name, url, description });
    const runningLogs: Record<string, TransparencyLog> = {};
    const countAppend = registerLogMetrics(metrics, runningLogs);
    let logs: RunningLogServices | undefined;

    if (runs('log')) {
      logs = await startLogServices(base);
      closers.push(() => logs!.close());
      services.use(createTlogTilesRouter(logs.tiles.log));
      runningLogs['rekor-v1'] = logs.rekorV1Log.log;
      runningLogs.tiles = logs.tiles.log;
      // Entries are validated and their signatures verified on worker threads, so every core verifies
      // while the main thread sequences, proves and answers; the workers also sign and render the
      // Rekor v1 LogEntries the answers carry.
      let admitter: EntryAdmitter;
      let renderer: AdmissionPool | undefined;
      if (config.admissionWorkers > 0) {
        renderer = createAdmissionPool({ size: config.admissionWorkers, rekorV1: logs.rekorV1.identity });
        registerAdmissionMetrics(metrics, renderer);
        admitter = renderer;
      } else {
        admitter = inProcessAdmitter();
      }
      closers.push(() => admitter.close());
      const writes = { admitter, countAppend, maxBodyBytes: config.maxBodyBytes };
      fastRoutes.add(rekorV1WriteRoute(logs.rekorV1, { ...writes, ...(renderer ? { renderer } : {}) }));
      fastRoutes.add(rekorV2WriteRoute(logs.rekorV2, writes));
      services.use(createRekorV1Router(logs.rekorV1, { maxBodyBytes: config.maxBodyBytes }));
      endpoint('log', `${publicUrl}/checkpoint`, 'transparency log checkpoint (C2SP tlog-tiles)');
      endpoint('rekor', `${publicUrl}/api/v1/log`, 'Rekor v1 API (--rekor-url is the base URL)');
      summary.log = {
        origin: logs.tiles.origin,
        storage: logs.tiles.storage,
        publicKeyPem: logs.tiles.publicKeyPem,
        verifierKey: logs.tiles.verifierKey,
      };
      summary.rekorV1 = {
        origin: logs.rekorV1Log.origin,
        treeId: logs.rekorV1.treeId.toString(),
        logId: logs.rekorV1.logId,
        publicKeyPem: logs.rekorV1.publicKeyPem,
        verifierKey: logs.rekorV1Log.verifierKey,
      };
    }

    // The CT log trusts the CA root of the state folder unless it is given its roots.
    const signer =
      runs('ca') || (runs('ctlog') && !config.ctRootsFile)
        ? await loadCaSigner({ ...base, passphrase: config.caPassphrase })
        : undefined;
    let ct: RunningCtLog | undefined;
    if (runs('ctlog')) {
      const roots = config.ctRootsFile ? await readRoots(config.ctRootsFile) : [signer!.chain.at(-1)!];
      ct = await startCtLog({ ...base, roots });
      closers.push(() => ct!.ct.close());
      runningLogs.ct = ct.ct.log;
      services.use(CA_PATHS.ctLog, createCtLogRouter(ct.ct, { countAppend }));
      endpoint('ct-log', `${ct.url}/checkpoint`, 'certificate transparency log (C2SP static-ct-api)');
    }

    let devIssuer: DevOidcIssuer | undefined;
    if (runs('oidc')) {
      devIssuer = await startDevIssuer(base);
      services.use(CA_PATHS.oidc, createDevOidcRouter(devIssuer));
      endpoint(
        'oidc',
        devIssuer.issuerUrl,
        'OIDC issuer, FOR DEVELOPMENT ONLY: `sigil token` mints ID tokens',
      );
    }

    let ca: RunningCa | undefined;
    if (runs('ca')) {
      ca = await startCa({
        ...base,
        signer: signer!,
        ct: ct ? inProcessCtSubmitter(ct.ct) : httpCtSubmitter({ url: config.ctUrl! }),
        issuerConfigFile: config.caConfig,
        devIssuerUrl: devIssuer?.issuerUrl,
      });
      const fulcio = {
        configuration: () => fulcioConfiguration(ca!.issuerConfig),
        onIssued: registerCaMetrics(metrics),
        logger: logger.child({ service: 'ca' }),
      };
      fastRoutes.add(fulcioSigningRoute(ca.ca, fulcio));
      services.use(createFulcioRouter(ca.ca, fulcio));
      endpoint(
        'ca',
        `${publicUrl}/api/v2/configuration`,
        'keyless CA, Fulcio API (--fulcio-url is the base URL)',
      );
    }

    if (logs && ct && ca && signer) {
      const trustsDevIssuer = devIssuer !== undefined && config.caConfig === undefined;
      const trust = deploymentTrust(
        publicUrl,
        logs,
        signer,
        ct,
        trustsDevIssuer ? devIssuer!.issuerUrl : undefined,
      );
      const documents = {
        trustConfig: buildClientTrustConfig(trust),
        trustedRoot: buildTrustedRoot(trust),
        signingConfig: buildSigningConfig(trust),
      };
      const trustConfigFile = join(config.stateDir, 'trust-config.json');
      const trustedRootFile = join(config.stateDir, 'trusted_root.json');
      await writeJsonFile(trustConfigFile, documents.trustConfig);
      await writeJsonFile(trustedRootFile, documents.trustedRoot);
      await writeJsonFile(join(config.stateDir, 'signing-config.json'), documents.signingConfig);
      services.use(createTrustConfigRouter(() => documents));
      endpoint(
        'trust',
        `${publicUrl}/trust-config.json`,
        'client trust config (TrustedRoot + SigningConfig)',
      );
      summary.ca = {
        url: publicUrl,
        oidcIssuer: devIssuer?.issuerUrl ?? `${publicUrl}${CA_PATHS.oidc}`,
        oidcIssuerTrusted: trustsDevIssuer,
        ctLog: { url: ct.url, origin: ct.origin },
        trustConfigFile,
        trustedRootFile,
      };
    }
    if (webhook) {
      if (!summary.ca) {
        throw new CliError(
          'CLI_OPTION_INVALID',
          '--policies: the webhook runs with `sigil up`, beside the CA and logs it trusts; use `sigil serve webhook --trust-config FILE` on its own',
        );
      }
      const running = await startWebhook({
        settings: webhook.settings,
        host: config.host,
        port: webhook.port,
        stateDir: config.stateDir,
        trustedRoot: parseTrustedRoot(
          JSON.parse(await readFile(summary.ca.trustedRootFile, 'utf8')) as object,
        ),
        env: webhook.env,
        logger,
        logLevel: config.logLevel,
        metrics,
      });
      closers.push(() => running.close());
      endpoint('webhook', `${running.url}/validate`, 'admission webhook (/validate, /mutate), HTTPS');
      summary.webhook = {
        url: running.url,
        policiesDir: webhook.settings.policiesDir,
        policies: running.policies.current().policies.length,
        ...(running.caCertificateFile ? { caCertificateFile: running.caCertificateFile } : {}),
      };
    }
    endpoint('health', `${server.url}/healthz`, 'liveness');
    endpoint('ready', `${server.url}/readyz`, 'readiness of every service');
    endpoint('metrics', `${server.url}/metrics`, 'Prometheus metrics');
    ready = true;
    logger.info(
      {
        services: selected,
        config: {
          ...config,
          database: config.database && redactUrl(config.database),
          caPassphrase: undefined,
        },
        url: server.url,
      },
      'sigil is up',
    );
    return { ...summary, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** What clients must trust in this deployment: its CA chain, its logs and its CT log. */
function deploymentTrust(
  publicUrl: string,
  logs: RunningLogServices,
  signer: CaSigner,
  ct: RunningCtLog,
  oidcUrl: string | undefined,
): DeploymentTrust {
  const intermediate = new X509Certificate(signer.chain[0]!);
  const root = new X509Certificate(signer.chain.at(-1)!);
  const subject = (name: string, field: string) => new RegExp(`^${field}=(.*)$`, 'm').exec(name)?.[1] ?? '';
  // Every service of the state folder starts being trusted with the CA: entries and certificates
  // from before it cannot carry its identities anyway.
  const validFrom = new Date(intermediate.validFrom).toISOString();
  const log = (url: string, publicKeyPem: string) => ({
    url,
    publicKey: createPublicKey(publicKeyPem),
    validFrom,
  });
  return {
    operator: new URL(publicUrl).hostname,
    certificateAuthority: {
      url: publicUrl,
      chain: signer.chain,
      organization: subject(root.subject, 'O'),
      commonName: subject(root.subject, 'CN'),
      validFrom,
    },
    rekorV1Logs: [log(publicUrl, logs.rekorV1.publicKeyPem)],
    tileLogs: [log(publicUrl, logs.tiles.publicKeyPem)],
    ctLogs: [{ url: ct.url, publicKey: ct.publicKey, validFrom }],
    ...(oidcUrl ? { oidcUrl } : {}),
  };
}

/** The CT log's roots from a PEM file (--ct-roots). */
async function readRoots(file: string): Promise<Uint8Array[]> {
  const text = await readOptionFile('--ct-roots', file);
  const roots = decodePem(text, file).filter((block) => block.label === 'CERTIFICATE');
  if (roots.length === 0)
    throw new CliError('CLI_OPTION_INVALID', `--ct-roots: ${file} holds no PEM CERTIFICATE`);
  return roots.map((block) => block.der);
}

/** Written to a temporary file and renamed: a reader never sees half a document. */
async function writeJsonFile(path: string, value: unknown): Promise<void> {
  const temporary = `${path}.tmp`;
  await writeFile(temporary, `${JSON.stringify(value, null, 2)}\n`, { mode: 0o644 });
  await rename(temporary, path);
}

/** The human-readable summary `sigil up` prints. */
export function formatUp(summary: UpSummary): string {
  const width = Math.max(8, ...summary.endpoints.map((endpoint) => endpoint.name.length));
  const row = (name: string, value: string) => `  ${name.padEnd(width)}  ${value}`;
  const lines = [
    `Sigil ${summary.version} is up`,
    row('state', summary.stateDir),
    ...summary.endpoints.map((endpoint) => row(endpoint.name, `${endpoint.url}  (${endpoint.description})`)),
    ...(summary.log
      ? [
          row('log key', summary.log.verifierKey),
          row('storage', summary.log.storage),
          '',
          'Log public key (PEM):',
          summary.log.publicKeyPem.trimEnd(),
        ]
      : []),
    ...(summary.rekorV1
      ? [
          '',
          `Rekor v1 public key (PEM; log ID ${summary.rekorV1.logId}):`,
          summary.rekorV1.publicKeyPem.trimEnd(),
        ]
      : []),
    ...(summary.ca ? ['', ...clientHints(summary.ca)] : []),
    ...(summary.webhook ? ['', ...webhookHints(summary.webhook)] : []),
    '',
    'Press Ctrl-C to stop.',
  ];
  return `${lines.join('\n')}\n`;
}

/** Where the webhook listens and how to try it. */
export function webhookHints(webhook: WebhookSummary): string[] {
  return [
    `Admission webhook: ${webhook.url} (/validate, /mutate) enforcing ${webhook.policies} ${webhook.policies === 1 ? 'policy' : 'policies'} from ${webhook.policiesDir}`,
    ...(webhook.caCertificateFile ? [`  serving CA (caBundle)  ${webhook.caCertificateFile}`] : []),
    `  try it: curl --cacert ${webhook.caCertificateFile ?? 'CA.pem'} -H 'content-type: application/json' --data @review.json ${webhook.url}/validate`,
  ];
}

/** How to point cosign, sigstore-js and sigstore-python at this deployment. */
export function clientHints(ca: NonNullable<UpSummary['ca']>): string[] {
  return [
    'Client trust material:',
    `  trust config  ${ca.trustConfigFile}  (ClientTrustConfig: TrustedRoot + SigningConfig)`,
    `  trusted root  ${ca.trustedRootFile}`,
    ca.oidcIssuerTrusted
      ? `  ID token      sigil token --issuer ${ca.oidcIssuer} --subject you --email you@example.com --out token  (DEVELOPMENT ONLY)`
      : `  ID token      from an issuer in --ca-config (the development issuer at ${ca.oidcIssuer} is not trusted), in a file named token`,
    '',
    'cosign (takes --identity-token as a file):',
    `  cosign sign-blob --fulcio-url ${ca.url} --rekor-url ${ca.url} --use-signing-config=false \\`,
    '    --identity-token token --bundle artifact.sigstore.json artifact',
    `  cosign verify-blob --trusted-root ${ca.trustedRootFile} --bundle artifact.sigstore.json \\`,
    `    --certificate-identity you@example.com --certificate-oidc-issuer ${ca.oidcIssuer} artifact`,
    'sigstore-python:',
    `  sigstore --trust-config ${ca.trustConfigFile} sign --identity-token "$(cat token)" artifact`,
    'sigstore-js:',
    `  sign(data, { fulcioURL: '${ca.url}', rekorURL: '${ca.url}', identityToken })`,
    `  verify with the TrustedRoot in ${ca.trustedRootFile}`,
  ];
}
