import { X509Certificate, createPublicKey } from 'node:crypto';
import { writeFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../core/index.ts';
import { fulcioConfiguration } from '../ca/index.ts';
import {
  buildClientTrustConfig,
  buildSigningConfig,
  buildTrustedRoot,
  type DeploymentTrust,
} from '../tuf/index.ts';
import { createAdmissionPool, inProcessAdmitter, type EntryAdmitter } from '../log/index.ts';
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
import { CA_PATHS, startCaServices, type RunningCaServices } from './ca-service.ts';
import { startLogServices, type RunningLogServices } from './log-service.ts';
import { prepareStateDir } from './state.ts';

/** One endpoint that `sigil up` started, as printed to the user. */
export interface StartedEndpoint {
  name: string;
  url: string;
  description: string;
}

export interface UpSummary {
  version: string;
  stateDir: string;
  endpoints: StartedEndpoint[];
  log: { origin: string; storage: string; publicKeyPem: string; verifierKey: string };
  rekorV1: { origin: string; treeId: string; logId: string; publicKeyPem: string; verifierKey: string };
  ca: {
    url: string;
    /** The development OIDC issuer, and whether the CA trusts it (only with the default issuer config). */
    oidcIssuer: string;
    oidcIssuerTrusted: boolean;
    ctLog: { url: string; origin: string };
    /** ClientTrustConfig (TrustedRoot + SigningConfig) and the TrustedRoot alone, in the state folder. */
    trustConfigFile: string;
    trustedRootFile: string;
  };
}

export interface UpResult extends UpSummary {
  stop(): Promise<void>;
}

/**
 * Starts every service Sigil has in one process on the embedded defaults: the HTTP server (health,
 * readiness, metrics) and the transparency log with its C2SP tiles, on SQLite in the state folder
 * unless a PostgreSQL URL is configured.
 */
export async function startAll(
  config: Readonly<ServerConfig>,
  version: string,
  logger: Logger,
): Promise<UpResult> {
  await prepareStateDir(config.stateDir);
  const services = createRouter();
  let logReady = false;
  const readiness: ReadinessCheck[] = [{ name: 'log', check: () => logReady }];
  const metrics = createServerMetrics();
  const app = createApp({ logger, metrics, readiness, routers: [services] });
  const fastRoutes = createFastRoutes({ logger, metrics });
  // Listen first: with --port 0 the URL, and so the log's origin, is only known once bound.
  const server = await listen(fastRoutes.listener(app), { host: config.host, port: config.port });
  let admitter: EntryAdmitter | undefined;
  let logs: RunningLogServices | undefined;
  let caServices: RunningCaServices | undefined;
  try {
    const publicUrl = config.publicUrl ?? server.url;
    logs = await startLogServices({
      stateDir: config.stateDir,
      database: config.database,
      publicUrl,
      logger,
    });
    services.use(createTlogTilesRouter(logs.tiles.log));
    const countAppend = registerLogMetrics(metrics, {
      'rekor-v1': logs.rekorV1Log.log,
      tiles: logs.tiles.log,
    });
    // Entries are validated and their signatures verified on worker threads, so every core verifies
    // while the main thread sequences, proves and answers.
    if (config.admissionWorkers > 0) {
      const pool = createAdmissionPool({ size: config.admissionWorkers });
      registerAdmissionMetrics(metrics, pool);
      admitter = pool;
    } else {
      admitter = inProcessAdmitter();
    }
    const writes = { admitter, countAppend, maxBodyBytes: config.maxBodyBytes };
    fastRoutes.add(rekorV1WriteRoute(logs.rekorV1, writes));
    fastRoutes.add(rekorV2WriteRoute(logs.rekorV2, writes));
    services.use(createRekorV1Router(logs.rekorV1, { maxBodyBytes: config.maxBodyBytes }));

    caServices = await startCaServices({
      stateDir: config.stateDir,
      database: config.database,
      publicUrl,
      issuerConfigFile: config.caConfig,
      passphrase: config.caPassphrase,
      logger,
    });
    const fulcio = {
      configuration: () => fulcioConfigurationOf(caServices!),
      onIssued: registerCaMetrics(metrics),
      logger: logger.child({ service: 'ca' }),
    };
    fastRoutes.add(fulcioSigningRoute(caServices.ca, fulcio));
    services.use(createFulcioRouter(caServices.ca, fulcio));
    services.use(CA_PATHS.ctLog, createCtLogRouter(caServices.ct, { countAppend }));
    services.use(CA_PATHS.oidc, createDevOidcRouter(caServices.devIssuer));
    const trust = deploymentTrust(publicUrl, logs, caServices, config.caConfig === undefined);
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
    logReady = true;
    logger.info(
      { config: { ...config, database: config.database && redactUrl(config.database) }, url: server.url },
      'sigil is up',
    );
    return {
      version,
      stateDir: config.stateDir,
      endpoints: [
        {
          name: 'log',
          url: `${publicUrl}/checkpoint`,
          description: 'transparency log checkpoint (C2SP tlog-tiles)',
        },
        {
          name: 'rekor',
          url: `${publicUrl}/api/v1/log`,
          description: 'Rekor v1 API (--rekor-url is the base URL)',
        },
        {
          name: 'ca',
          url: `${publicUrl}/api/v2/configuration`,
          description: 'keyless CA, Fulcio API (--fulcio-url is the base URL)',
        },
        {
          name: 'ct-log',
          url: `${publicUrl}${CA_PATHS.ctLog}/checkpoint`,
          description: 'certificate transparency log (C2SP static-ct-api)',
        },
        {
          name: 'oidc',
          url: caServices.devIssuerUrl,
          description: 'OIDC issuer, FOR DEVELOPMENT ONLY: `sigil token` mints ID tokens',
        },
        {
          name: 'trust',
          url: `${publicUrl}/trust-config.json`,
          description: 'client trust config (TrustedRoot + SigningConfig)',
        },
        { name: 'health', url: `${server.url}/healthz`, description: 'liveness' },
        { name: 'ready', url: `${server.url}/readyz`, description: 'readiness of every service' },
        { name: 'metrics', url: `${server.url}/metrics`, description: 'Prometheus metrics' },
      ],
      log: {
        origin: logs.tiles.origin,
        storage: logs.tiles.storage,
        publicKeyPem: logs.tiles.publicKeyPem,
        verifierKey: logs.tiles.verifierKey,
      },
      rekorV1: {
        origin: logs.rekorV1Log.origin,
        treeId: logs.rekorV1.treeId.toString(),
        logId: logs.rekorV1.logId,
        publicKeyPem: logs.rekorV1.publicKeyPem,
        verifierKey: logs.rekorV1Log.verifierKey,
      },
      ca: {
        url: publicUrl,
        oidcIssuer: caServices.devIssuerUrl,
        oidcIssuerTrusted: config.caConfig === undefined,
        ctLog: { url: `${publicUrl}${CA_PATHS.ctLog}`, origin: caServices.ctOrigin },
        trustConfigFile,
        trustedRootFile,
      },
      stop: async () => {
        await server.close();
        await admitter?.close();
        await caServices?.close();
        await logs?.close();
      },
    };
  } catch (error) {
    await server.close();
    await admitter?.close();
    await caServices?.close();
    await logs?.close();
    throw error;
  }
}

/** What clients must trust in this deployment: its CA chain, its logs and its CT log. */
function deploymentTrust(
  publicUrl: string,
  logs: RunningLogServices,
  ca: RunningCaServices,
  trustsDevIssuer: boolean,
): DeploymentTrust {
  const intermediate = new X509Certificate(ca.signer.chain[0]!);
  const root = new X509Certificate(ca.signer.chain.at(-1)!);
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
      chain: ca.signer.chain,
      organization: subject(root.subject, 'O'),
      commonName: subject(root.subject, 'CN'),
      validFrom,
    },
    rekorV1Logs: [log(publicUrl, logs.rekorV1.publicKeyPem)],
    tileLogs: [log(publicUrl, logs.tiles.publicKeyPem)],
    ctLogs: [{ url: `${publicUrl}${CA_PATHS.ctLog}`, publicKey: ca.ctPublicKey, validFrom }],
    ...(trustsDevIssuer ? { oidcUrl: ca.devIssuerUrl } : {}),
  };
}

function fulcioConfigurationOf(ca: RunningCaServices): unknown {
  return fulcioConfiguration(ca.issuerConfig);
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
    row('log key', summary.log.verifierKey),
    row('storage', summary.log.storage),
    '',
    'Log public key (PEM):',
    summary.log.publicKeyPem.trimEnd(),
    '',
    `Rekor v1 public key (PEM; log ID ${summary.rekorV1.logId}):`,
    summary.rekorV1.publicKeyPem.trimEnd(),
    '',
    ...clientHints(summary),
    '',
    'Press Ctrl-C to stop.',
  ];
  return `${lines.join('\n')}\n`;
}

/** How to point cosign, sigstore-js and sigstore-python at this deployment. */
export function clientHints(summary: Pick<UpSummary, 'ca' | 'endpoints'>): string[] {
  const { ca } = summary;
  return [
    'Client trust material:',
    `  trust config  ${ca.trustConfigFile}  (ClientTrustConfig: TrustedRoot + SigningConfig)`,
    `  trusted root  ${ca.trustedRootFile}`,
    ca.oidcIssuerTrusted
      ? `  ID token      sigil token --issuer ${ca.oidcIssuer} --subject you --email you@example.com  (DEVELOPMENT ONLY)`
      : `  ID token      from an issuer in --ca-config (the development issuer at ${ca.oidcIssuer} is not trusted)`,
    '',
    'cosign:',
    `  cosign sign-blob --fulcio-url ${ca.url} --rekor-url ${ca.url} --use-signing-config=false \\`,
    '    --identity-token "$TOKEN" --bundle artifact.sigstore.json artifact',
    `  cosign verify-blob --trusted-root ${ca.trustedRootFile} --bundle artifact.sigstore.json \\`,
    `    --certificate-identity you@example.com --certificate-oidc-issuer ${ca.oidcIssuer} artifact`,
    'sigstore-python:',
    `  sigstore --trust-config ${ca.trustConfigFile} sign --identity-token "$TOKEN" artifact`,
    'sigstore-js:',
    `  sign({ fulcioURL: '${ca.url}', rekorURL: '${ca.url}', identityToken })`,
    `  verify with the TrustedRoot in ${ca.trustedRootFile}`,
  ];
}
