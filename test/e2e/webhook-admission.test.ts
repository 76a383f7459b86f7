import { pushTestImage } from '../tools/images.ts';
import assert from 'node:assert/strict';
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { Agent, request as httpsRequest } from 'node:https';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import {
  cosignTag,
  createRegistryClient,
  parseImageReference,
  staticCredentials,
  type ClosableRegistryClient,
} from '../../src/oci/index.ts';
import { buildProgram, runCli, type CliIo } from '../../src/cli/program.ts';
import { freePort } from '../tools/ports.ts';
import { startRegistry, type RunningRegistry } from '../tools/registry.ts';
import { run } from '../tools/service.ts';
import { devToken, startSigil, type RunningSigil } from '../tools/sigil-process.ts';
import { toolPath } from '../tools/tools.ts';
import { vectorPath } from '../tools/vectors.ts';

const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const EMAIL = 'images@example.com';
const OTHER_EMAIL = 'other@example.com';
const REVIEW_DEADLINE_MS = 4_000;
const PULL_USER = { name: 'puller', password: 'pull-secret-password' };

/** Where each workload kind keeps its pod spec, as the API server sends it. */
const WORKLOAD_KINDS = [
  { kind: 'Pod', group: '', resource: 'pods', path: ['spec'] },
  { kind: 'Deployment', group: 'apps', resource: 'deployments', path: ['spec', 'template', 'spec'] },
  { kind: 'ReplicaSet', group: 'apps', resource: 'replicasets', path: ['spec', 'template', 'spec'] },
  { kind: 'StatefulSet', group: 'apps', resource: 'statefulsets', path: ['spec', 'template', 'spec'] },
  { kind: 'DaemonSet', group: 'apps', resource: 'daemonsets', path: ['spec', 'template', 'spec'] },
  { kind: 'Job', group: 'batch', resource: 'jobs', path: ['spec', 'template', 'spec'] },
  {
    kind: 'CronJob',
    group: 'batch',
    resource: 'cronjobs',
    path: ['spec', 'jobTemplate', 'spec', 'template', 'spec'],
  },
  {
    kind: 'ReplicationController',
    group: '',
    resource: 'replicationcontrollers',
    path: ['spec', 'template', 'spec'],
  },
] as const;
type WorkloadKind = (typeof WORKLOAD_KINDS)[number];
const POD = WORKLOAD_KINDS[0];
const DEPLOYMENT = WORKLOAD_KINDS[1];

interface AdmissionAnswer {
  apiVersion: string;
  kind: string;
  response: {
    uid: string;
    allowed: boolean;
    status?: { code: number; message?: string; reason?: string };
    warnings?: string[];
    patchType?: string;
    patch?: string;
  };
}

/**
 * The admission webhook as `sigil up --policies DIR` runs it, end to end: a policy folder written by
 * the test, images pushed to Debian's distribution registry (one anonymous, one behind htpasswd, one
 * whose requests are counted alone) and signed for real — keylessly by cosign and by `sigil sign`
 * against this sigil's CA and log, and with a key whose public half is a Secret in the folder — and
 * AdmissionReviews POSTed over HTTPS trusting only the serving CA the summary names. Every decision is
 * asserted by the exact reason the API server would show.
 */
describe('the admission webhook of sigil up --policies, against real registries and signatures', () => {
  let sigil: RunningSigil;
  let registry: RunningRegistry;
  let privateRegistry: RunningRegistry;
  let countedRegistry: RunningRegistry;
  let client: ClosableRegistryClient;
  let privateClient: ClosableRegistryClient;
  let blackHole: { server: Server; sockets: Set<Socket>; port: number };
  let closedPort: number;
  let dir: string;
  let policiesDir: string;
  let agent: Agent;
  let webhookUrl: string;
  let imageCount = 0;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sigil-webhook-e2e-'));
    policiesDir = join(dir, 'policies');
    const emptyDockerConfig = join(dir, 'no-docker-config');
    await Promise.all([mkdir(policiesDir), mkdir(emptyDockerConfig), mkdir(join(dir, 'docker'))]);
    [sigil, registry, privateRegistry, countedRegistry, blackHole, closedPort] = await Promise.all([
      startSigil({
        args: [
          '--policies',
          policiesDir,
          '--webhook-port',
          '0',
          '--review-deadline',
          String(REVIEW_DEADLINE_MS),
          '--mutation-off-namespaces',
          'gitops',
          // Two worker processes serve the port; the sigil process decides what they have not seen.
          '--webhook-workers',
          '2',
        ],
        // The webhook's own docker credentials must not open the private registry.
        env: { DOCKER_CONFIG: emptyDockerConfig },
      }),
      startRegistry(),
      startRegistry({ auth: { htpasswd: { [PULL_USER.name]: PULL_USER.password } } }),
      startRegistry(),
      startBlackHole(),
      freePort(),
    ]);
    assert.ok(sigil.summary.webhook?.caCertificateFile, 'the summary names the serving CA');
    webhookUrl = sigil.summary.webhook.url;
    assert.match(webhookUrl, /^https:\/\/127\.0\.0\.1:\d+$/);
    agent = new Agent({
      ca: await readFile(sigil.summary.webhook.caCertificateFile, 'utf8'),
      keepAlive: true,
      maxSockets: 64,
    });
    client = createRegistryClient();
    privateClient = createRegistryClient({
      credentials: staticCredentials({
        [privateRegistry.host]: { kind: 'basic', username: PULL_USER.name, password: PULL_USER.password },
      }),
    });
    await writeFile(join(dir, 'token'), await devToken(sigil, 'images', EMAIL));
    await writeFile(join(dir, 'other-token'), await devToken(sigil, 'other', OTHER_EMAIL));
    for (const name of ['signing', 'rotated-old', 'rotated-new']) {
      const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      await writeFile(join(dir, `${name}.key`), privateKey.export({ type: 'pkcs8', format: 'pem' }));
      await writeFile(join(dir, `${name}.pub`), publicKey.export({ type: 'spki', format: 'pem' }));
    }
    // The docker config `sigil sign` uses to push signatures to the private registry.
    const auth = Buffer.from(`${PULL_USER.name}:${PULL_USER.password}`).toString('base64');
    await writeFile(
      join(dir, 'docker', 'config.json'),
      JSON.stringify({ auths: { [privateRegistry.host]: { auth } } }),
    );
    await writePolicies();
  });

  after(async () => {
    agent?.destroy();
    await Promise.all([client?.close(), privateClient?.close()]);
    if (blackHole) {
      for (const socket of blackHole.sockets) socket.destroy();
      blackHole.server.close();
    }
    if (process.env.SIGIL_E2E_STDERR) process.stderr.write(sigil?.stderr() ?? '');
    await Promise.all([sigil?.cleanup(), registry?.stop(), privateRegistry?.stop(), countedRegistry?.stop()]);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  /** A TCP server that accepts connections and never answers: a registry that hangs. */
  async function startBlackHole(): Promise<{ server: Server; sockets: Set<Socket>; port: number }> {
    const sockets = new Set<Socket>();
    const server = createServer((socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => undefined);
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const address = server.address();
    return { server, sockets, port: typeof address === 'object' && address ? address.port : 0 };
  }

  const keylessAuthority = (name = 'sigil-ca', subject = EMAIL) => ({
    name,
    keyless: {
      url: sigil.summary.ca.url,
      identities: [{ issuer: sigil.summary.ca.oidcIssuer, subject }],
    },
  });
  const policy = (name: string, globs: string[], spec: Record<string, unknown>) => ({
    apiVersion: 'policy.sigstore.dev/v1beta1',
    kind: 'ClusterImagePolicy',
    metadata: { name },
    spec: { images: globs.map((glob) => ({ glob })), ...spec },
  });
  const keySecret = (name: string, keyFile: string) => async () => ({
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name, namespace: 'sigil-system' },
    stringData: { 'cosign.pub': await readFile(join(dir, keyFile), 'utf8') },
  });

  /** Writes a folder file as the API server would store it: whole, by rename (the folder is polled). */
  async function writeFolderFile(name: string, documents: unknown[]): Promise<void> {
    const path = join(policiesDir, name);
    await writeFile(`${path}.partial`, documents.map((each) => JSON.stringify(each)).join('\n---\n'));
    await rename(`${path}.partial`, path);
  }

  /**
   * The suite's policies. The keyless identities name this sigil's OIDC issuer, known only once it is
   * up, so the folder starts empty and the policies arrive as a change the webhook picks up.
   */
  async function writePolicies(): Promise<void> {
    const r = registry.host;
    const dockerConfigJson = JSON.stringify({
      auths: {
        [privateRegistry.host]: {
          auth: Buffer.from(`${PULL_USER.name}:${PULL_USER.password}`).toString('base64'),
        },
      },
    });
    await writeFolderFile('rotating-key.yaml', [await keySecret('rotating-key', 'rotated-old.pub')()]);
    await writeFolderFile('policies.yaml', [
      policy('keyless', [`${r}/keyless/**`], { authorities: [keylessAuthority()] }),
      policy('keyless-bundles', [`${r}/bundled/**`], {
        authorities: [{ ...keylessAuthority(), signatureFormat: 'bundle' }],
      }),
      policy('keyed', [`${r}/keyed/**`], {
        authorities: [{ name: 'release-key', key: { secretRef: { name: 'signing-key' } } }],
      }),
      await keySecret('signing-key', 'signing.pub')(),
      policy('rotated', [`${r}/rotated/**`], {
        authorities: [{ name: 'rotating-key', key: { secretRef: { name: 'rotating-key' } } }],
      }),
      policy('warned', [`${r}/warned/**`], { mode: 'warn', authorities: [keylessAuthority()] }),
      policy('pods-only', [`${r}/pods-only/**`], {
        match: [{ group: '', version: 'v1', resource: 'pods' }],
        authorities: [keylessAuthority()],
      }),
      policy('private', [`${privateRegistry.host}/**`], { authorities: [keylessAuthority()] }),
      policy('unreachable', [`127.0.0.1:${closedPort}/**`, `127.0.0.1:${blackHole.port}/**`], {
        authorities: [keylessAuthority()],
      }),
      policy('counted', [`${countedRegistry.host}/**`], { authorities: [keylessAuthority()] }),
      {
        apiVersion: 'v1',
        kind: 'Secret',
        type: 'kubernetes.io/dockerconfigjson',
        metadata: { name: 'regcred', namespace: 'team' },
        data: { '.dockerconfigjson': Buffer.from(dockerConfigJson).toString('base64') },
      },
      {
        apiVersion: 'v1',
        kind: 'ServiceAccount',
        metadata: { name: 'builder', namespace: 'team' },
        imagePullSecrets: [{ name: 'regcred' }],
      },
    ]);
    // Loaded once an image under the keyless glob is no longer "no matching policies".
    const probe = `${r}/keyless/probe@sha256:${'0'.repeat(64)}`;
    await eventually(async () => {
      const { message } = denial(await validate(review(POD, [probe])));
      return !message.endsWith('no matching policies');
    }, 'the policies written after start are loaded');
  }

  async function eventually(condition: () => Promise<boolean>, what: string, timeoutMs = 10_000) {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (await condition()) return;
      await delay(200);
    }
    assert.fail(`timed out after ${timeoutMs} ms waiting until ${what}`);
  }

  /** POSTs `body` (an object is sent as JSON) to the webhook over HTTPS, trusting only its CA. */
  function post(path: string, body: unknown): Promise<{ status: number; json: unknown; text: string }> {
    const payload = typeof body === 'string' ? body : JSON.stringify(body);
    return new Promise((resolve, reject) => {
      const request = httpsRequest(
        `${webhookUrl}${path}`,
        { method: 'POST', agent, headers: { 'content-type': 'application/json' } },
        (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let json: unknown;
            try {
              json = JSON.parse(text) as unknown;
            } catch {
              json = undefined;
            }
            resolve({ status: response.statusCode ?? 0, json, text });
          });
          response.on('error', reject);
        },
      );
      request.on('error', reject);
      request.end(payload);
    });
  }

  /** The AdmissionReview answer of an endpoint; anything but HTTP 200 fails the test. */
  async function admit(path: '/validate' | '/mutate', body: unknown): Promise<AdmissionAnswer> {
    const { status, json, text } = await post(path, body);
    assert.equal(status, 200, `${path} answered HTTP ${status}: ${text}`);
    const answer = json as AdmissionAnswer;
    assert.equal(answer.kind, 'AdmissionReview');
    assert.equal(answer.apiVersion, 'admission.k8s.io/v1');
    return answer;
  }
  const validate = (body: { request: { uid: string } }) => admitEcho('/validate', body);
  const mutate = (body: { request: { uid: string } }) => admitEcho('/mutate', body);
  async function admitEcho(path: '/validate' | '/mutate', body: { request: { uid: string } }) {
    const answer = await admit(path, body);
    assert.equal(answer.response.uid, body.request.uid, 'the answer echoes the uid');
    return answer;
  }

  /** `{message}` of a denial; fails when the review was allowed. */
  function denial(answer: AdmissionAnswer): { message: string; code: number } {
    assert.equal(answer.response.allowed, false, `expected a denial, got ${JSON.stringify(answer)}`);
    assert.ok(answer.response.status?.message !== undefined, 'a denial carries a message');
    return { message: answer.response.status.message, code: answer.response.status.code };
  }
  function allowed(answer: AdmissionAnswer): void {
    assert.equal(
      answer.response.allowed,
      true,
      `expected allowed, got ${JSON.stringify(answer.response.status ?? answer.response)}`,
    );
  }

  /** An AdmissionReview v1 CREATE of a `kind` whose pod spec runs `images`. */
  function review(
    kind: WorkloadKind,
    images: string[],
    options: { namespace?: string; podSpec?: Record<string, unknown> } = {},
  ) {
    const namespace = options.namespace ?? 'default';
    const podSpec = {
      containers: images.map((image, index) => ({ name: `c${index}`, image })),
      ...options.podSpec,
    };
    const name = `${kind.kind.toLowerCase()}-${++imageCount}`;
    const nested = kind.path.reduceRight<Record<string, unknown>>(
      (inner, key) => ({ [key]: inner }),
      podSpec,
    );
    const apiVersion = kind.group === '' ? 'v1' : `${kind.group}/v1`;
    return {
      apiVersion: 'admission.k8s.io/v1',
      kind: 'AdmissionReview',
      request: {
        uid: randomUUID(),
        kind: { group: kind.group, version: 'v1', kind: kind.kind },
        resource: { group: kind.group, version: 'v1', resource: kind.resource },
        name,
        namespace,
        operation: 'CREATE',
        userInfo: { username: 'e2e' },
        object: { apiVersion, kind: kind.kind, metadata: { name, namespace }, ...nested },
        dryRun: false,
      },
    };
  }

  /** Pushes a one-layer image (distinct per call) tagged `image-N`; returns the tag and digest forms. */
  async function pushImage(
    target: RunningRegistry,
    repository: string,
    registryClient = client,
  ): Promise<{ tagged: string; pinned: string; digest: string }> {
    const seed = `${++imageCount}-${randomUUID()}`;
    const tag = `image-${imageCount}`;
    const digest = await pushTestImage(registryClient, target.host, repository, tag, seed);
    return {
      tagged: `${target.host}/${repository}:${tag}`,
      pinned: `${target.host}/${repository}@${digest}`,
      digest,
    };
  }

  /** `sigil ARGS` in this process, as src/cli/sigil.ts runs it (a process start costs seconds of CPU). */
  async function sigilRun(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<string> {
    let stdout = '';
    let stderr = '';
    const io: CliIo = {
      env,
      stdout: (text) => (stdout += text),
      stderr: (text) => (stderr += text),
      untilStopped: () => new Promise(() => {}),
    };
    const code = await runCli(buildProgram(io), args, io);
    if (code !== 0) throw new Error(`sigil ${args.join(' ')} exited ${code}:\n${stderr}${stdout}`);
    return stdout;
  }
  const signKeyless = (image: string, token = 'token', env?: NodeJS.ProcessEnv) =>
    sigilRun(
      [
        'sign',
        image,
        '--trust-config',
        sigil.summary.ca.trustConfigFile,
        '--identity-token',
        join(dir, token),
      ],
      env,
    );
  const signWithKey = (image: string, keyName: string) =>
    sigilRun([
      'sign',
      image,
      '--trust-config',
      sigil.summary.ca.trustConfigFile,
      '--key',
      join(dir, `${keyName}.key`),
    ]);
  const cosignSign = (image: string, bundle: boolean) =>
    run(
      toolPath('cosign'),
      [
        'sign',
        '--yes',
        '--fulcio-url',
        sigil.summary.ca.url,
        '--rekor-url',
        sigil.url,
        '--use-signing-config=false',
        '--identity-token',
        join(dir, 'token'),
        '--allow-http-registry',
        `--new-bundle-format=${bundle}`,
        image,
      ],
      { cwd: dir },
    );

  /** The sum of a Prometheus counter's series whose labels include `labels`, from the webhook's /metrics. */
  async function counter(name: string, labels: Record<string, string>): Promise<number> {
    const response = await new Promise<string>((resolve, reject) => {
      httpsRequest(`${webhookUrl}/metrics`, { agent }, (res) => {
        let text = '';
        res.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
        res.on('end', () => resolve(text));
      })
        .on('error', reject)
        .end();
    });
    let sum = 0;
    for (const line of response.split('\n')) {
      const match = /^(\w+)\{([^}]*)\} (\S+)$/.exec(line);
      if (!match || match[1] !== name) continue;
      const series = Object.fromEntries(
        [...match[2]!.matchAll(/(\w+)="([^"]*)"/g)].map((each) => [each[1]!, each[2]!]),
      );
      if (Object.entries(labels).every(([key, value]) => series[key] === value)) sum += Number(match[3]);
    }
    return sum;
  }

  const issuer = () => sigil.summary.ca.oidcIssuer;

  describe('decisions, each with the reason kubectl would show', { concurrency: true }, () => {
    describe('every workload kind', { concurrency: true }, () => {
      let signed: { tagged: string; pinned: string; digest: string };
      let unsigned: { tagged: string; pinned: string; digest: string };

      before(async () => {
        [signed, unsigned] = await Promise.all([
          pushImage(registry, 'keyless/kinds'),
          pushImage(registry, 'keyless/kinds'),
        ]);
        await signKeyless(signed.pinned);
      });

      for (const kind of WORKLOAD_KINDS) {
        const pointer = `/${kind.path.join('/')}/containers/0/image`;
        it(`a ${kind.kind}: a signed image is allowed, an unsigned one denied, and /mutate pins the tag at ${pointer}`, async () => {
          allowed(await validate(review(kind, [signed.pinned])));
          assert.equal(
            denial(await validate(review(kind, [unsigned.pinned]))).message,
            `image ${unsigned.pinned} denied by policy keyless: authority sigil-ca: no signatures found (legacy format)`,
          );
          const answer = await mutate(review(kind, [signed.tagged]));
          allowed(answer);
          assert.equal(answer.response.patchType, 'JSONPatch');
          assert.deepEqual(JSON.parse(Buffer.from(answer.response.patch!, 'base64').toString('utf8')), [
            { op: 'replace', path: pointer, value: `${signed.tagged}@${signed.digest}` },
          ]);
        });
      }
    });

    describe('signers', { concurrency: true }, () => {
      it('an image cosign signed keylessly (legacy .sig) is allowed', async () => {
        const image = await pushImage(registry, 'keyless/cosign');
        await cosignSign(image.pinned, false);
        allowed(await validate(review(DEPLOYMENT, [image.pinned])));
      });

      it('an image cosign signed keylessly as a Sigstore bundle is allowed by a bundle-format policy', async () => {
        const image = await pushImage(registry, 'bundled/cosign');
        await cosignSign(image.pinned, true);
        allowed(await validate(review(POD, [image.pinned])));
      });

      it('an image sigil sign signed keylessly is allowed', async () => {
        const image = await pushImage(registry, 'keyless/sigil');
        await signKeyless(image.pinned);
        allowed(await validate(review(POD, [image.pinned])));
      });

      it('an image signed with sigil sign --key is allowed by the key in a Secret of sigil-system, another key is not', async () => {
        const [image, other] = await Promise.all([
          pushImage(registry, 'keyed/app'),
          pushImage(registry, 'keyed/app'),
        ]);
        await Promise.all([signWithKey(image.pinned, 'signing'), signWithKey(other.pinned, 'rotated-new')]);
        allowed(await validate(review(POD, [image.pinned])));
        assert.match(
          denial(await validate(review(POD, [other.pinned]))).message,
          new RegExp(
            `^image ${escape(other.pinned)} denied by policy keyed: authority release-key: no signatures verified \\(1 checked: VERIFY_SIGNATURE_ERROR: `,
          ),
        );
      });
    });

    describe('refusals', { concurrency: true }, () => {
      it('another identity: denied, naming the identity found', async () => {
        const image = await pushImage(registry, 'keyless/other');
        await signKeyless(image.pinned, 'other-token');
        assert.equal(
          denial(await validate(review(POD, [image.pinned]))).message,
          `image ${image.pinned} denied by policy keyless: authority sigil-ca: no signatures from subject ${EMAIL} and issuer ${issuer()} (found: ${OTHER_EMAIL} (issuer ${issuer()}))`,
        );
      });

      it('a signature copied onto another digest: denied as not verified (VERIFY_ARTIFACT_MISMATCH)', async () => {
        const [source, copy] = await Promise.all([
          pushImage(registry, 'keyless/copied'),
          pushImage(registry, 'keyless/copied'),
        ]);
        await signKeyless(source.pinned);
        const from = parseImageReference(source.pinned);
        const to = parseImageReference(copy.pinned);
        const sig = await client.findManifest(from, cosignTag(source.digest, 'sig'));
        assert.ok(sig);
        await client.pushManifest(to, sig.bytes, sig.mediaType, cosignTag(copy.digest, 'sig'));
        assert.match(
          denial(await validate(review(POD, [copy.pinned]))).message,
          new RegExp(
            `^image ${escape(copy.pinned)} denied by policy keyless: authority sigil-ca: no signatures verified \\(1 checked: VERIFY_ARTIFACT_MISMATCH: payload critical\\.image\\.docker-manifest-digest`,
          ),
        );
      });

      it('a signed payload edited afterwards: denied as not verified (VERIFY_SIGNATURE_ERROR)', async () => {
        const image = await pushImage(registry, 'keyless/tampered');
        await signKeyless(image.pinned);
        const reference = parseImageReference(image.pinned);
        const tag = cosignTag(image.digest, 'sig');
        const sig = await client.findManifest(reference, tag);
        assert.ok(sig?.manifest.kind === 'manifest');
        const layer = sig.manifest.layers[0]!;
        const payload = JSON.parse(Buffer.from(await client.getBlob(reference, layer)).toString('utf8')) as {
          optional: unknown;
        };
        payload.optional = { tampered: 'yes' };
        const tampered = await client.pushBlob(
          reference,
          Buffer.from(JSON.stringify(payload)),
          layer.mediaType,
        );
        const manifest = JSON.parse(Buffer.from(sig.bytes).toString('utf8')) as { layers: unknown[] };
        manifest.layers = [{ ...tampered, annotations: layer.annotations }];
        await client.pushManifest(reference, Buffer.from(JSON.stringify(manifest)), OCI_MANIFEST, tag);
        assert.match(
          denial(await validate(review(POD, [image.pinned]))).message,
          new RegExp(
            `^image ${escape(image.pinned)} denied by policy keyless: authority sigil-ca: no signatures verified \\(1 checked: VERIFY_SIGNATURE_ERROR: `,
          ),
        );
      });

      it('no policy matches: denied with no matching policies', async () => {
        const image = await pushImage(registry, 'unmatched/app');
        await signKeyless(image.pinned);
        assert.equal(
          denial(await validate(review(POD, [image.pinned]))).message,
          `image ${image.pinned} denied: no matching policies`,
        );
      });

      it('a warn-mode policy that fails: allowed, with the reason as a warning', async () => {
        const image = await pushImage(registry, 'warned/app');
        const answer = await validate(review(POD, [image.pinned]));
        allowed(answer);
        assert.deepEqual(answer.response.warnings, [
          `image ${image.pinned} allowed with warnings by policy warned (warn mode): authority sigil-ca: no signatures found (legacy format)`,
        ]);
      });

      it('two images, one unsigned: denied naming that image only', async () => {
        const [good, bad] = await Promise.all([
          pushImage(registry, 'keyless/pair'),
          pushImage(registry, 'keyless/pair'),
        ]);
        await signKeyless(good.pinned);
        assert.equal(
          denial(await validate(review(DEPLOYMENT, [good.pinned, bad.pinned]))).message,
          `image ${bad.pinned} denied by policy keyless: authority sigil-ca: no signatures found (legacy format)`,
        );
      });
    });

    describe('tags and mutation', { concurrency: true }, () => {
      let signed: { tagged: string; pinned: string; digest: string };

      before(async () => {
        signed = await pushImage(registry, 'keyless/tagged');
        await signKeyless(signed.pinned);
      });

      it('/validate denies a signed image written by tag where mutation is on, as unpinned', async () => {
        assert.equal(
          denial(await validate(review(POD, [signed.tagged]))).message,
          `image ${signed.tagged} denied by policy (digest pinning): not pinned to a digest; the mutating webhook (/mutate) pins tags when mutation is on — check that it is installed, or turn mutation off for this namespace`,
        );
      });

      it('in a --mutation-off-namespaces namespace, /mutate leaves the tag and /validate verifies what it resolves to', async () => {
        const mutated = await mutate(review(POD, [signed.tagged], { namespace: 'gitops' }));
        allowed(mutated);
        assert.equal(mutated.response.patch, undefined);
        allowed(await validate(review(POD, [signed.tagged], { namespace: 'gitops' })));
        const unsigned = await pushImage(registry, 'keyless/tagged');
        assert.equal(
          denial(await validate(review(POD, [unsigned.tagged], { namespace: 'gitops' }))).message,
          `image ${unsigned.tagged}@${unsigned.digest} denied by policy keyless: authority sigil-ca: no signatures found (legacy format)`,
        );
      });

      it('a policy matching pods only applies to a Pod, not to a Deployment of the same image', async () => {
        const image = await pushImage(registry, 'pods-only/app');
        await signKeyless(image.pinned);
        allowed(await validate(review(POD, [image.pinned])));
        assert.equal(
          denial(await validate(review(DEPLOYMENT, [image.pinned]))).message,
          `image ${image.pinned} denied: no matching policies`,
        );
        const unsigned = await pushImage(registry, 'pods-only/app');
        assert.equal(
          denial(await validate(review(POD, [unsigned.pinned]))).message,
          `image ${unsigned.pinned} denied by policy pods-only: authority sigil-ca: no signatures found (legacy format)`,
        );
      });
    });

    describe('registries that cannot answer', { concurrency: true }, () => {
      const digest = `sha256:${'ab'.repeat(32)}`;

      it('a registry that accepts connections and never answers: denied when the review deadline passes, naming the image', async () => {
        const image = `127.0.0.1:${blackHole.port}/app@${digest}`;
        const started = performance.now();
        const { message } = denial(await validate(review(POD, [image])));
        const elapsed = performance.now() - started;
        assert.equal(
          message,
          `image ${image} denied by policy unreachable: timed out verifying ${image} against unreachable`,
        );
        assert.ok(
          elapsed >= REVIEW_DEADLINE_MS - 100,
          `answered after ${Math.round(elapsed)} ms, before the deadline`,
        );
        assert.ok(elapsed < REVIEW_DEADLINE_MS + 1_000, `answered after ${Math.round(elapsed)} ms`);
      });

      // The same digest as the hanging registry's, concurrently: a verdict (or verification in flight)
      // for one registry must not answer for another.
      it('a registry whose port is closed: denied within the deadline, naming the image and the refused connection', async () => {
        const image = `127.0.0.1:${closedPort}/app@${digest}`;
        const started = performance.now();
        const { message } = denial(await validate(review(POD, [image])));
        const elapsed = performance.now() - started;
        const host = escape(`127.0.0.1:${closedPort}`);
        assert.match(
          message,
          new RegExp(
            `^image ${escape(image)} denied by policy unreachable: authority sigil-ca: OCI_REGISTRY_UNAVAILABLE: GET ${host}/v2/app/\\S+: ECONNREFUSED: connect ECONNREFUSED ${host} \\(after 4 attempts\\)$`,
          ),
        );
        assert.ok(elapsed < REVIEW_DEADLINE_MS, `answered after ${Math.round(elapsed)} ms`);
      });
    });

    describe('pull secrets of the pod and its ServiceAccount', { concurrency: true }, () => {
      let image: { tagged: string; pinned: string; digest: string };

      before(async () => {
        image = await pushImage(privateRegistry, 'team/app', privateClient);
        await signKeyless(image.pinned, 'token', { ...process.env, DOCKER_CONFIG: join(dir, 'docker') });
      });

      it('a Pod naming the dockerconfigjson Secret in imagePullSecrets is allowed', async () => {
        allowed(
          await validate(
            review(POD, [image.pinned], {
              namespace: 'team',
              podSpec: { imagePullSecrets: [{ name: 'regcred' }] },
            }),
          ),
        );
      });

      it('a Deployment whose ServiceAccount carries the Secret is allowed, and /mutate resolves its tag with it', async () => {
        const options = { namespace: 'team', podSpec: { serviceAccountName: 'builder' } };
        allowed(await validate(review(DEPLOYMENT, [image.pinned], options)));
        const answer = await mutate(review(DEPLOYMENT, [image.tagged], options));
        assert.deepEqual(JSON.parse(Buffer.from(answer.response.patch!, 'base64').toString('utf8')), [
          {
            op: 'replace',
            path: '/spec/template/spec/containers/0/image',
            value: `${image.tagged}@${image.digest}`,
          },
        ]);
      });

      it('the same Pod without the Secret (or in a namespace that has none) is denied as unauthorized, even right after it was allowed with it', async () => {
        // Allowed with the Secret first: what was read with its credentials must not answer for a pod without them.
        const withSecret = { namespace: 'team', podSpec: { imagePullSecrets: [{ name: 'regcred' }] } };
        allowed(await validate(review(POD, [image.pinned], withSecret)));
        for (const namespace of ['team', 'other-team']) {
          assert.equal(
            denial(await validate(review(POD, [image.pinned], { namespace }))).message,
            `image ${image.pinned} denied by policy private: authority sigil-ca: OCI_UNAUTHORIZED: registry ${privateRegistry.host} requires basic authentication and no credentials are configured for it`,
          );
        }
      });
    });

    describe('malformed reviews', { concurrency: true }, () => {
      it('connaisseur vectors 21 (no uid) and 25 (null): HTTP 200 denials with code 400 naming the field', async () => {
        const vector = async (name: string) =>
          readFile(vectorPath(`connaisseur/admission_requests/${name}`), 'utf8');
        const broken = await admit('/validate', await vector('21_broken_admission_request.json'));
        assert.deepEqual(broken.response.allowed, false);
        assert.equal(broken.response.uid, '');
        assert.equal(broken.response.status?.code, 400);
        assert.match(
          broken.response.status?.message ?? '',
          /request\.uid: expected a non-empty string, received nothing/,
        );
        const nothing = await admit('/mutate', await vector('25_null_request.json'));
        assert.equal(nothing.response.status?.code, 400);
        assert.match(
          nothing.response.status?.message ?? '',
          /admission review: expected an object, received null/,
        );
      });

      it('not JSON, and a container without an image: code 400 naming what is wrong; the next review still works', async () => {
        const garbage = await admit('/validate', '{"apiVersion": ');
        assert.equal(garbage.response.status?.code, 400);
        assert.match(garbage.response.status?.message ?? '', /admission review: expected JSON/);
        const body = review(POD, []);
        (body.request.object as unknown as { spec: { containers: unknown[] } }).spec.containers = [
          { name: 'no-image' },
        ];
        const noImage = await validate(body);
        assert.equal(noImage.response.status?.code, 400);
        assert.match(noImage.response.status?.message ?? '', /request\.object\.spec\.containers\[0\]\.image/);
        const image = await pushImage(registry, 'unmatched/after-garbage');
        assert.equal(
          denial(await validate(review(POD, [image.pinned]))).message,
          `image ${image.pinned} denied: no matching policies`,
        );
      });
    });
  });

  describe('the verification cache and singleflight, by counting registry requests', () => {
    it('20 concurrent reviews of one uncached image cost one discovery and one verification; a repeat costs no request', async () => {
      const [warmup, measured, contended] = await Promise.all([
        pushImage(countedRegistry, 'counted/app'),
        pushImage(countedRegistry, 'counted/app'),
        pushImage(countedRegistry, 'counted/app'),
      ]);
      await Promise.all([warmup, measured, contended].map((each) => signKeyless(each.pinned)));
      const requests = () => counter('sigil_registry_requests_total', { registry: countedRegistry.host });
      const lookups = async () => ({
        miss: await counter('sigil_webhook_cache_lookups_total', { cache: 'verification', result: 'miss' }),
        hit: await counter('sigil_webhook_cache_lookups_total', { cache: 'verification', result: 'hit' }),
        merged: await counter('sigil_webhook_cache_lookups_total', {
          cache: 'verification',
          result: 'merged',
        }),
        kept: await counter('sigil_webhook_cache_lookups_total', { cache: 'decision', result: 'hit' }),
      });
      // The first request to a registry may cost more (a /v2/ probe, a connection): not what is measured.
      allowed(await validate(review(POD, [warmup.pinned])));

      const before = await requests();
      allowed(await validate(review(POD, [measured.pinned])));
      const discovery = (await requests()) - before;
      assert.ok(discovery > 0, 'a verification reads the registry');

      const beforeContended = { requests: await requests(), ...(await lookups()) };
      const answers = await Promise.all(
        Array.from({ length: 20 }, () => validate(review(POD, [contended.pinned]))),
      );
      for (const answer of answers) allowed(answer);
      const afterContended = { requests: await requests(), ...(await lookups()) };
      assert.equal(
        afterContended.requests - beforeContended.requests,
        discovery,
        'registry requests for 20 reviews',
      );
      assert.equal(afterContended.miss - beforeContended.miss, 1, 'verification cache misses');
      assert.equal(
        afterContended.hit -
          beforeContended.hit +
          (afterContended.merged - beforeContended.merged) +
          (afterContended.kept - beforeContended.kept),
        19,
        'the other 19 reviews joined the work in flight, found its result or the decision made of it',
      );

      allowed(await validate(review(DEPLOYMENT, [contended.pinned])));
      const repeated = { requests: await requests(), ...(await lookups()) };
      assert.equal(repeated.requests - afterContended.requests, 0, 'a cached verdict costs no request');
      assert.equal(repeated.hit - afterContended.hit, 1);
      assert.equal(repeated.miss - afterContended.miss, 0);
    });
  });

  describe('webhook workers', () => {
    /** The pids of the sigil process's children: its webhook workers. */
    const workerPids = () =>
      readdirSync(`/proc/${sigil.child.pid}/task`).flatMap((task) =>
        readFileSync(`/proc/${sigil.child.pid}/task/${task}/children`, 'utf8')
          .split(' ')
          .filter(Boolean)
          .map(Number),
      );

    it('a worker that dies is replaced, and reviews are answered meanwhile by the other', async () => {
      const image = await pushImage(registry, 'keyless/workers');
      await signKeyless(image.pinned);
      const before = workerPids();
      assert.equal(before.length, 2, `two workers: ${before.join(', ')}`);
      process.kill(before[0]!, 'SIGKILL');
      await eventually(async () => {
        try {
          return (await validate(review(POD, [image.pinned]))).response.allowed;
        } catch {
          return false; // a keep-alive socket of the killed worker
        }
      }, 'a review is answered after a worker was killed');
      await eventually(async () => {
        const now = workerPids();
        return now.length === 2 && !now.includes(before[0]!);
      }, 'a new worker replaces the killed one');
      agent.destroy(); // the next requests open connections that the new worker may take too
      for (let index = 0; index < 8; index++) {
        allowed(await validate(review(POD, [image.pinned])));
        const ready = await new Promise<number>((resolve, reject) =>
          httpsRequest(`${webhookUrl}/readyz`, { agent }, (response) => {
            response.resume();
            resolve(response.statusCode ?? 0);
          })
            .on('error', reject)
            .end(),
        );
        assert.equal(ready, 200, 'every worker is ready once it knows the policies');
      }
    });
  });

  describe('a change of the policy folder', () => {
    it('a new policy file applies to the next reviews', async () => {
      const image = await pushImage(registry, 'reloaded/app');
      await signKeyless(image.pinned);
      assert.equal(
        denial(await validate(review(POD, [image.pinned]))).message,
        `image ${image.pinned} denied: no matching policies`,
      );
      await writeFolderFile('reloaded.yaml', [
        policy('reloaded', [`${registry.host}/reloaded/**`], { authorities: [keylessAuthority()] }),
      ]);
      await eventually(
        async () => (await validate(review(POD, [image.pinned]))).response.allowed,
        'the new policy admits the image',
        5_000,
      );
    });

    it('a Secret holding the key changes: the cached denial is dropped and the image admitted', async () => {
      const image = await pushImage(registry, 'rotated/app');
      await signWithKey(image.pinned, 'rotated-new');
      assert.match(
        denial(await validate(review(POD, [image.pinned]))).message,
        /denied by policy rotated: authority rotating-key: no signatures verified/,
      );
      // Denied again from the cache (failures are kept 30 s) until the Secret changes.
      assert.equal((await validate(review(POD, [image.pinned]))).response.allowed, false);
      await writeFolderFile('rotating-key.yaml', [await keySecret('rotating-key', 'rotated-new.pub')()]);
      await eventually(
        async () => (await validate(review(POD, [image.pinned]))).response.allowed,
        'the rotated key admits the image',
        5_000,
      );
    });
  });
});

describe('sigil up --webhook-workers with a certificate that does not load', () => {
  it('fails to start, saying why the worker could not listen', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sigil-webhook-workers-'));
    try {
      await mkdir(join(dir, 'policies'));
      await assert.rejects(
        startSigil({
          args: [
            ...['--policies', join(dir, 'policies'), '--webhook-port', '0', '--webhook-workers', '2'],
            ...['--tls-cert', join(dir, 'missing.crt'), '--tls-key', join(dir, 'missing.key')],
          ],
        }),
        (error: Error) => {
          // Both files are missing: whichever read fails first is named.
          assert.match(
            error.message,
            new RegExp(
              `CLI_WEBHOOK_WORKER_FAILED: webhook worker could not listen: SERVER_TLS_INVALID: .*${escape(join(dir, 'missing.'))}(crt|key)`,
            ),
          );
          return true;
        },
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
