import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Option, type Command } from 'commander';
import { describeError, isSigilError, type Logger } from '../core/index.ts';
import { LOG_LEVELS, resolveServerConfig, type LogLevel } from './config.ts';
import { webhookClient, type PodReview } from './demo-admission.ts';
import { freeLoopbackPort, planRegistry, pushDemoImage, type PlannedRegistry } from './demo-registry.ts';
import { DEMO_EMAIL, signKeyless } from './demo-signing.ts';
import { CliError } from './errors.ts';
import { registryClientFor } from './image-trust.ts';
import { createLogger } from './logger.ts';
import type { CliIo } from './program.ts';
import { startAll, type UpResult } from './up.ts';
import { readVersion } from './version.ts';
import { DEFAULT_WEBHOOK_DEADLINE_MS, type WebhookSettings } from './webhook-service.ts';

/**
 * `sigil demo`: a newcomer's walk through the whole stack in one command. It starts Sigil (CA, logs,
 * OIDC issuer, admission webhook) in a temporary folder with one keyless policy, a registry, pushes two
 * images, signs one keylessly with `sigil sign`, and asks the webhook about a pod of each as the API
 * server would. Exit 0 when the signed image is admitted and the unsigned one denied, 1 otherwise.
 */

interface DemoFlags {
  registry?: string;
  keep?: boolean;
  json?: boolean;
  logLevel?: LogLevel;
}

const POLICY_NAME = 'demo-signed';
/** How kubectl would name the webhook in a denial; the name a webhook configuration gives it. */
const WEBHOOK_NAME = 'policy.sigil.dev';
const IMAGES = [
  { pod: 'signed', repository: 'demo/signed', tag: 'v1', sign: true },
  { pod: 'unsigned', repository: 'demo/unsigned', tag: 'v1', sign: false },
] as const;
const STEPS = 6;

export function addDemoCommand(program: Command, io: CliIo): void {
  program
    .command('demo')
    .description(
      'start Sigil and a registry, sign an image keylessly and watch the admission webhook admit it and deny an unsigned one',
    )
    .option(
      '--registry <host:port>',
      'push to this registry (plain HTTP on loopback); default: start /usr/bin/docker-registry',
    )
    .option('--keep', 'keep everything running until Ctrl-C, and print the URLs')
    .option('--json', 'print a machine-readable summary at the end (progress goes to stderr)')
    .addOption(
      new Option('--log-level <level>', "the services' log level, on stderr (default error)").choices(
        LOG_LEVELS,
      ),
    )
    .action((flags: DemoFlags) => runDemo(flags, io));
}

/** What `--json` prints. */
export interface DemoSummary {
  /** `as-expected`: the signed image admitted, the unsigned one denied. */
  outcome: 'as-expected' | 'unexpected';
  registry: { host: string; started: boolean };
  sigil: { url: string; webhookUrl: string; stateDir: string; policiesDir: string; trustConfigFile: string };
  signature: { image: string; digest: string; identity: string; issuer: string; logIndex: number };
  reviews: PodReview[];
  seconds: number;
}

async function runDemo(flags: DemoFlags, io: CliIo): Promise<void> {
  const began = Date.now();
  const print = (text: string) => (flags.json ? io.stderr : io.stdout)(`${text}\n`);
  const step = (index: number, text: string) => print(`${index}/${STEPS} ${text}…`);
  const detail = (label: string, value: string) => print(`    ${label.padEnd(20)}  ${value}`);
  // The demo's signatures live beside its images, whatever the user's cosign setup says.
  const env = { ...io.env, COSIGN_REPOSITORY: undefined };
  const planned = await planRegistry(flags.registry);
  const root = await mkdtemp(join(tmpdir(), 'sigil-demo-'));
  const cleanup: (() => Promise<void>)[] = [() => rm(root, { recursive: true, force: true })];
  const logger = createLogger(flags.logLevel ?? 'error');
  let summary: DemoSummary;
  try {
    step(1, 'starting Sigil (CA, logs, webhook)');
    const stack = await startStack(root, planned, logger, env);
    cleanup.push(() => stack.up.stop());
    const webhook = stack.up.webhook!;
    const ca = stack.up.ca!;
    detail('sigil', `${stack.url}  (keyless CA, transparency logs, OIDC issuer for development)`);
    detail('webhook', `${webhook.url}  (/mutate, /validate over HTTPS)`);
    detail('policy', `${POLICY_NAME}: ${planned.host}/demo/** signed keyless by ${DEMO_EMAIL}`);
    detail('', stack.policyFile);

    step(2, planned.description);
    const client = await registryClientFor(env, false);
    cleanup.push(() => client.close());
    const registry = await planned.start(client);
    cleanup.push(() => registry.stop());

    step(3, `pushing ${IMAGES.map((image) => `${image.repository}:${image.tag}`).join(' and ')}`);
    const now = new Date();
    const digests = new Map<string, string>();
    for (const image of IMAGES) {
      const digest = await pushDemoImage(client, registry.host, image.repository, image.tag, now);
      digests.set(image.repository, digest);
      detail(`${image.repository}:${image.tag}`, digest);
    }

    const toSign = IMAGES.find((image) => image.sign)!;
    const signedName = `${registry.host}/${toSign.repository}:${toSign.tag}`;
    step(
      4,
      `signing ${toSign.repository}:${toSign.tag} keylessly (a development ID token for ${DEMO_EMAIL})`,
    );
    const signature = await signKeyless(
      { client, env, root, issuer: ca.oidcIssuer, trustConfigFile: ca.trustConfigFile },
      signedName,
      digests.get(toSign.repository)!,
    );
    detail('command', signature.command);
    detail('certificate identity', `${signature.identity} (issuer ${signature.issuer})`);
    detail(
      'log index',
      `${signature.logIndex}  (${stack.url}/api/v1/log/entries?logIndex=${signature.logIndex})`,
    );

    step(5, 'asking the webhook about a pod of each, as the API server would (/mutate, then /validate)');
    const reviewer = webhookClient(webhook.url, await readFile(webhook.caCertificateFile!, 'utf8'));
    const reviews: PodReview[] = [];
    try {
      for (const image of IMAGES) {
        const review = await reviewer.review(image.pod, `${registry.host}/${image.repository}:${image.tag}`);
        reviews.push(review);
        for (const line of formatReview(review, `${image.repository}:${image.tag}`)) print(line);
      }
    } finally {
      await reviewer.close();
    }
    const asExpected = reviews.every((review, index) => review.allowed === IMAGES[index]!.sign);
    print('');
    print('Try it yourself:');
    print(
      `  sigil policy test --policy ${stack.policiesDir} --trust-config ${ca.trustConfigFile} ${registry.host}/demo/unsigned:v1`,
    );
    if (!flags.keep) print('  (with sigil demo --keep, everything keeps running while you try)');
    summary = {
      outcome: asExpected ? 'as-expected' : 'unexpected',
      registry: { host: registry.host, started: registry.started },
      sigil: {
        url: stack.url,
        webhookUrl: webhook.url,
        stateDir: stack.up.stateDir,
        policiesDir: stack.policiesDir,
        trustConfigFile: ca.trustConfigFile,
      },
      signature: {
        image: signedName,
        digest: digests.get(toSign.repository)!,
        identity: signature.identity,
        issuer: signature.issuer,
        logIndex: signature.logIndex,
      },
      reviews,
      seconds: 0,
    };
    if (flags.keep) {
      print('');
      print('Running until Ctrl-C:');
      for (const endpoint of stack.up.endpoints) print(`  ${endpoint.name.padEnd(8)}  ${endpoint.url}`);
      print(`  ${'registry'.padEnd(8)}  ${registry.host}`);
      if (flags.json) io.stdout(`${JSON.stringify({ ...summary, seconds: elapsed(began) })}\n`);
      await io.untilStopped();
    }
    step(6, 'stopping everything');
  } finally {
    for (const close of cleanup.reverse()) {
      await close().catch((error: unknown) => print(`    cleanup: ${describeError(error)}`));
    }
  }
  summary.seconds = elapsed(began);
  if (flags.json && !flags.keep) io.stdout(`${JSON.stringify(summary)}\n`);
  else print(`done in ${summary.seconds} s`);
  if (summary.outcome !== 'as-expected') {
    throw new CliError(
      'CLI_CHECK_FAILED',
      `demo: expected demo/signed:v1 admitted and demo/unsigned:v1 denied, received ${summary.reviews
        .map((review) => `${review.pod} ${review.allowed ? 'admitted' : 'denied'}`)
        .join(', ')}`,
    );
  }
}

interface DemoStack {
  readonly up: UpResult;
  /** `http://127.0.0.1:PORT`. */
  readonly url: string;
  readonly policiesDir: string;
  readonly policyFile: string;
}

/**
 * `sigil up --policies DIR --webhook-port 0` in `root`. The policy names the OIDC issuer, whose URL
 * holds Sigil's port, so the port is chosen first (and chosen again should another process take it).
 */
async function startStack(
  root: string,
  registry: PlannedRegistry,
  logger: Logger,
  env: NodeJS.ProcessEnv,
): Promise<DemoStack> {
  const policiesDir = join(root, 'policies');
  const policyFile = join(policiesDir, `${POLICY_NAME}.yaml`);
  await mkdir(policiesDir, { recursive: true });
  const settings: WebhookSettings = {
    policiesDir,
    noMatch: 'deny',
    mutation: true,
    mutationDisabledNamespaces: [],
    deadlineMs: DEFAULT_WEBHOOK_DEADLINE_MS,
    allowInsecureRegistry: false,
    controllerNamespace: 'sigil-system',
    workers: 1,
  };
  for (let attempt = 1; ; attempt += 1) {
    const port = await freeLoopbackPort();
    const url = `http://127.0.0.1:${port}`;
    await writeFile(policyFile, demoPolicy(registry.host, url));
    // Flags only, no environment: the user's SIGIL_* settings are for their own deployment.
    const config = resolveServerConfig(
      { state: join(root, 'state'), host: '127.0.0.1', port: String(port), admissionWorkers: '0' },
      {},
    );
    try {
      const up = await startAll(config, readVersion(), logger, { settings, port: 0, env });
      return { up, url, policiesDir, policyFile };
    } catch (error) {
      if (attempt < 3 && isSigilError(error) && error.code === 'SERVER_ADDRESS_IN_USE') continue;
      throw error;
    }
  }
}

/** The ClusterImagePolicy of the demo: its images must be signed keyless by the demo identity. */
function demoPolicy(registryHost: string, sigilUrl: string): string {
  return [
    `# Written by sigil demo: images under ${registryHost}/demo/ are admitted only with a keyless`,
    `# signature by ${DEMO_EMAIL}, certified by this Sigil's CA for a token of its development issuer.`,
    'apiVersion: policy.sigstore.dev/v1beta1',
    'kind: ClusterImagePolicy',
    'metadata:',
    `  name: ${POLICY_NAME}`,
    'spec:',
    '  images:',
    `    - glob: ${registryHost}/demo/**`,
    '  authorities:',
    '    - name: demo-identity',
    '      keyless:',
    `        url: ${sigilUrl}`,
    '        identities:',
    `          - issuer: ${sigilUrl}/oidc`,
    `            subject: ${DEMO_EMAIL}`,
    '',
  ].join('\n');
}

/** The lines of one pod's review: the digest pin, the decision, and what kubectl would have said. */
function formatReview(review: PodReview, name: string): string[] {
  const pins = review.patch.map(
    (operation) =>
      `    /mutate   ${operation.op} ${operation.path} → ${'value' in operation ? String(operation.value) : ''}`,
  );
  const kubectl = `    kubectl run ${review.pod} --image=${review.image}`;
  if (review.allowed) {
    return [
      ...pins,
      `✔ ${name} admitted (${review.admittedImage})`,
      kubectl,
      `    pod/${review.pod} created`,
    ];
  }
  const message = review.message ?? '(no message)';
  return [
    ...pins,
    `✘ ${name} denied: ${message}`,
    kubectl,
    `    Error from server (Forbidden): admission webhook "${WEBHOOK_NAME}" denied the request: ${message}`,
  ];
}

function elapsed(began: number): number {
  return Math.round((Date.now() - began) / 100) / 10;
}
