import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import { createInterface } from 'node:readline';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { DEBIAN_REGISTRY_BINARY } from '../../src/cli/demo-registry.ts';
import type { DemoSummary } from '../../src/cli/demo-command.ts';
import { freePort } from '../tools/ports.ts';
import { startRegistry, type RunningRegistry } from '../tools/registry.ts';

/**
 * `sigil demo` run as a user runs it: a process, with the Debian registry it starts itself or a
 * registry given with --registry. It must show the signed image admitted and the unsigned one denied
 * with the webhook's own message, exit 0 only then, and leave nothing running behind.
 */

const cli = fileURLToPath(new URL('../../src/cli/sigil.ts', import.meta.url));
/** What a newcomer waits at most for the whole walk (the demo takes a few seconds on this machine). */
const DEMO_BUDGET_MS = 20_000;

interface DemoRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

async function sigilDemo(args: string[]): Promise<DemoRun> {
  const child = spawn(process.execPath, ['--import', 'tsx', cli, 'demo', ...args], {
    env: { ...process.env, COSIGN_REPOSITORY: undefined },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  const [code] = (await once(child, 'exit')) as [number | null];
  clearTimeout(timer);
  return { code, stdout, stderr };
}

/** Whether anything still answers HTTP on `host` (`127.0.0.1:PORT`). */
async function answers(host: string): Promise<boolean> {
  return fetch(`http://${host}/v2/`, { signal: AbortSignal.timeout(2_000) }).then(
    () => true,
    () => false,
  );
}

const SIGNED_LINE = /^✔ demo\/signed:v1 admitted \(127\.0\.0\.1:\d+\/demo\/signed:v1@sha256:[0-9a-f]{64}\)$/m;
const UNSIGNED_LINE =
  /^✘ demo\/unsigned:v1 denied: image 127\.0\.0\.1:\d+\/demo\/unsigned:v1@sha256:[0-9a-f]{64} denied by policy demo-signed: authority demo-identity: no signatures found/m;

describe('sigil demo', () => {
  it(
    'with the Debian registry: signs, admits the signed pod, denies the unsigned one and exits 0 within 20 s',
    {
      skip: existsSync(DEBIAN_REGISTRY_BINARY)
        ? false
        : `needs ${DEBIAN_REGISTRY_BINARY} (apt-get install docker-registry)`,
    },
    async () => {
      const run = await sigilDemo([]);
      assert.equal(run.code, 0, run.stderr + run.stdout);
      assert.match(run.stdout, SIGNED_LINE);
      assert.match(run.stdout, UNSIGNED_LINE);
      const steps = [...run.stdout.matchAll(/^(\d)\/6 /gm)].map((match) => Number(match[1]));
      assert.deepEqual(steps, [1, 2, 3, 4, 5, 6]);
      assert.match(run.stdout, /^1\/6 starting Sigil \(CA, logs, webhook\)…$/m);
      assert.match(
        run.stdout,
        /certificate identity {2}demo@example\.com \(issuer http:\/\/127\.0\.0\.1:\d+\/oidc\)/,
      );
      assert.match(run.stdout, /log index +\d+ /);
      assert.match(run.stdout, /\/mutate {3}replace \/spec\/containers\/0\/image → /);
      assert.match(run.stdout, /admission webhook "[^"]+" denied the request: image /);
      assert.match(
        run.stdout,
        /sigil policy test --policy \S+ --trust-config \S+ 127\.0\.0\.1:\d+\/demo\/unsigned:v1/,
      );
      // The demo's own clock (the process start, tsx compiling the CLI, is the machine's, not the demo's).
      const seconds = Number(/^done in ([\d.]+) s$/m.exec(run.stdout)?.[1]);
      assert.ok(seconds * 1000 < DEMO_BUDGET_MS, `took ${seconds} s, budget ${DEMO_BUDGET_MS} ms`);
      // Everything it started is gone: the registry, and the temporary folder.
      const registryHost = /starting a registry \(\S+ on (127\.0\.0\.1:\d+),/.exec(run.stdout)?.[1];
      assert.ok(registryHost, run.stdout);
      assert.equal(await answers(registryHost), false, 'the started registry still answers');
      const root = /^ +(\/\S+)\/policies\/demo-signed\.yaml$/m.exec(run.stdout)?.[1];
      assert.ok(root, run.stdout);
      assert.equal(existsSync(root), false, `${root} was left behind`);
    },
  );

  it(
    'with --keep: keeps everything up until SIGINT, then stops it all and exits 0',
    {
      skip: existsSync(DEBIAN_REGISTRY_BINARY)
        ? false
        : `needs ${DEBIAN_REGISTRY_BINARY} (apt-get install docker-registry)`,
    },
    async () => {
      const child = spawn(process.execPath, ['--import', 'tsx', cli, 'demo', '--keep', '--json'], {
        env: { ...process.env, COSIGN_REPOSITORY: undefined },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stderr = '';
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      const exited = once(child, 'exit');
      try {
        const [line] = (await Promise.race([
          once(createInterface({ input: child.stdout }), 'line'),
          exited.then(() => assert.fail(`sigil demo --keep exited early:\n${stderr}`)),
        ])) as [string];
        const summary = JSON.parse(line) as DemoSummary;
        assert.equal(summary.outcome, 'as-expected');
        assert.match(stderr, /Running until Ctrl-C:/);
        assert.equal((await fetch(`${summary.sigil.url}/healthz`)).status, 200);
        assert.equal(await answers(summary.registry.host), true);
        child.kill('SIGINT');
        const [code] = (await exited) as [number | null];
        assert.equal(code, 0, stderr);
        assert.match(stderr, /^6\/6 stopping everything…$/m);
        assert.equal(await answers(summary.registry.host), false, 'the registry still answers');
        assert.equal(existsSync(summary.sigil.stateDir), false, 'the state folder was left behind');
      } finally {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      }
    },
  );

  describe('with --registry', () => {
    let registry: RunningRegistry;
    before(async () => {
      registry = await startRegistry();
    });
    after(async () => {
      await registry?.stop();
    });

    it('pushes and signs there, prints the --json summary on stdout and leaves the registry running', async () => {
      const run = await sigilDemo(['--registry', registry.host, '--json']);
      assert.equal(run.code, 0, run.stderr);
      assert.match(run.stderr, SIGNED_LINE);
      assert.match(run.stderr, UNSIGNED_LINE);
      const summary = JSON.parse(run.stdout) as DemoSummary;
      assert.equal(summary.outcome, 'as-expected');
      assert.deepEqual(summary.registry, { host: registry.host, started: false });
      assert.equal(summary.signature.identity, 'demo@example.com');
      assert.equal(summary.signature.issuer, `${summary.sigil.url}/oidc`);
      assert.ok(Number.isInteger(summary.signature.logIndex));
      const [signed, unsigned] = summary.reviews;
      assert.equal(signed?.allowed, true);
      assert.equal(signed.admittedImage, `${registry.host}/demo/signed:v1@${summary.signature.digest}`);
      assert.deepEqual(signed.patch, [
        { op: 'replace', path: '/spec/containers/0/image', value: signed.admittedImage },
      ]);
      assert.equal(unsigned?.allowed, false);
      assert.match(unsigned.message ?? '', /denied by policy demo-signed/);
      // The images and the signature stay in the given registry; the registry itself keeps running.
      const signature = await fetch(
        `${registry.url}/v2/demo/signed/manifests/${summary.signature.digest.replace(':', '-')}.sig`,
        { headers: { accept: 'application/vnd.oci.image.manifest.v1+json' } },
      );
      assert.equal(signature.status, 200);
    });

    it('exits 1 with the unexpected outcome when the webhook cannot see the signature', async () => {
      // Between the registry and everyone: the webhook (user agent sigil-webhook) is told the
      // `.sig` tag does not exist, while `sigil sign` and the demo's own reads see it.
      const proxy = await hideSignaturesFromWebhook(registry.url);
      try {
        const run = await sigilDemo(['--registry', proxy.host]);
        assert.equal(run.code, 1, run.stdout);
        assert.match(run.stdout, /^✘ demo\/signed:v1 denied: .*no signatures found/m);
        assert.match(run.stdout, /^✘ demo\/unsigned:v1 denied: /m);
        assert.match(
          run.stderr,
          /CLI_CHECK_FAILED: demo: expected demo\/signed:v1 admitted and demo\/unsigned:v1 denied, received signed denied, unsigned denied/,
        );
      } finally {
        await new Promise((resolve) => proxy.server.close(resolve));
      }
    });
  });

  it('fails with CLI_CHECK_FAILED naming the registry when --registry does not answer', async () => {
    const host = `127.0.0.1:${await freePort()}`;
    const run = await sigilDemo(['--registry', host]);
    assert.equal(run.code, 1);
    assert.match(
      run.stderr,
      new RegExp(`CLI_CHECK_FAILED: --registry ${host.replace(/\./g, '\\.')}: unreachable`),
    );
  });

  it('refuses a --registry that is not HOST:PORT with CLI_OPTION_INVALID', async () => {
    const run = await sigilDemo(['--registry', 'http://127.0.0.1:5000/v2']);
    assert.equal(run.code, 1);
    assert.match(run.stderr, /CLI_OPTION_INVALID: --registry: expected HOST:PORT/);
    assert.doesNotMatch(run.stdout, /1\/6/, 'nothing starts before the options are checked');
  });
});

/** A plain-HTTP proxy to `target` that answers 404 to the webhook's requests for cosign `.sig` manifests. */
async function hideSignaturesFromWebhook(target: string): Promise<{ host: string; server: Server }> {
  const upstream = new URL(target);
  const server = createServer((incoming, outgoing) => {
    const hidden =
      /\/manifests\/sha256-[0-9a-f]{64}\.sig$/.test(incoming.url ?? '') &&
      (incoming.headers['user-agent'] ?? '').startsWith('sigil-webhook');
    if (hidden) {
      outgoing.writeHead(404, { 'content-type': 'application/json' });
      outgoing.end(JSON.stringify({ errors: [{ code: 'MANIFEST_UNKNOWN', message: 'manifest unknown' }] }));
      return;
    }
    const forwarded = request(
      {
        host: upstream.hostname,
        port: upstream.port,
        method: incoming.method,
        path: incoming.url,
        headers: { ...incoming.headers, host: upstream.host },
      },
      (answer) => {
        outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(outgoing);
      },
    );
    forwarded.on('error', () => outgoing.destroy());
    incoming.pipe(forwarded);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address() as { port: number };
  return { host: `127.0.0.1:${address.port}`, server };
}
