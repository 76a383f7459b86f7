import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const sigil = fileURLToPath(new URL('../../src/cli/sigil.ts', import.meta.url));
/** What `npm start` preloads: libuv's thread pool sized to the CPUs (src/cli/threadpool.cjs). */
const threadpool = fileURLToPath(new URL('../../src/cli/threadpool.cjs', import.meta.url));

export interface SigilUpSummary {
  version: string;
  stateDir: string;
  endpoints: { name: string; url: string }[];
  log: { origin: string; verifierKey: string; publicKeyPem: string; storage: string };
  rekorV1: { origin: string; treeId: string; logId: string; publicKeyPem: string; verifierKey: string };
  services: string[];
  ca: {
    url: string;
    oidcIssuer: string;
    oidcIssuerTrusted: boolean;
    ctLog: { url: string; origin: string };
    trustConfigFile: string;
    trustedRootFile: string;
  };
  /** With `--policies DIR`: the admission webhook (HTTPS) and its generated serving CA. */
  webhook?: { url: string; policiesDir: string; policies: number; caCertificateFile?: string };
}

/** An ID token for `subject`/`email` from the running Sigil's development issuer. */
export async function devToken(sigil: RunningSigil, subject: string, email?: string): Promise<string> {
  const response = await fetch(`${sigil.summary.ca.oidcIssuer}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ subject, ...(email ? { email } : {}) }),
  });
  if (!response.ok) throw new Error(`dev issuer: HTTP ${response.status}: ${await response.text()}`);
  return ((await response.json()) as { id_token: string }).id_token;
}

export interface RunningSigil {
  summary: SigilUpSummary;
  /** Base URL of the HTTP server. */
  url: string;
  child: ChildProcess;
  stderr(): string;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
  cleanup(): Promise<void>;
}

/** Runs the real `sigil up` (the README's run command, on a free port and a temporary state folder). */
export async function startSigil(
  options: {
    stateDir?: string;
    args?: string[];
    nodeArgs?: string[];
    /** Instead of `up`, e.g. `['serve', 'log', 'ctlog']`. */
    command?: string[];
    env?: NodeJS.ProcessEnv;
  } = {},
): Promise<RunningSigil> {
  const stateDir = options.stateDir ?? (await mkdtemp(join(tmpdir(), 'sigil-e2e-')));
  const child = spawn(
    process.execPath,
    [
      ...(options.nodeArgs ?? []),
      '--require',
      threadpool,
      '--import',
      'tsx',
      sigil,
      ...(options.command ?? ['up']),
      '--port',
      '0',
      '--json',
      ...(options.args ?? []),
    ],
    {
      env: { ...process.env, SIGIL_STATE: stateDir, SIGIL_LOG_LEVEL: 'warn', ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = once(child, 'exit').then(() => {
    throw new Error(`sigil up exited before it was up:\n${stderr}`);
  });
  const [line] = (await Promise.race([once(createInterface({ input: child.stdout }), 'line'), exited])) as [
    string,
  ];
  const summary = JSON.parse(line) as SigilUpSummary;
  const url = new URL(summary.endpoints.find((endpoint) => endpoint.name === 'health')!.url).origin;
  const stop = async (signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> => {
    if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
    child.kill(signal);
    const [code] = (await once(child, 'exit')) as [number | null];
    return code;
  };
  return {
    summary,
    url,
    child,
    stderr: () => stderr,
    stop,
    async cleanup() {
      await stop();
      if (!options.stateDir) await rm(stateDir, { recursive: true, force: true });
    },
  };
}
