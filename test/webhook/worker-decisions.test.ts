import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { ClusterImagePolicy } from '../../src/policy/index.ts';
import type { RegistryAccess } from '../../src/webhook/index.ts';
import {
  LocalDecisions,
  serveWorker,
  staticPolicySource,
  WorkerDecisions,
  type Channel,
  type PrimaryMessage,
  type ReviewScope,
  type WorkerMessage,
} from '../../src/webhook/index.ts';
import { clusterImagePolicies, hangingRegistry, NO_TRUST } from './fixtures.ts';

/**
 * A webhook worker and its primary, joined by an in-memory channel that carries JSON as the cluster's
 * does: the worker answers what it has decided before by itself, asks the primary for the rest, follows
 * policy changes, and denies (never hangs) when the primary does not answer.
 */

const DIGEST = `sha256:${'b'.repeat(64)}`;

const FROZEN = clusterImagePolicies(`
apiVersion: policy.sigstore.dev/v1beta1
kind: ClusterImagePolicy
metadata: {name: frozen}
spec:
  images: [{glob: "evil.example/**"}]
  authorities: [{name: freeze, static: {action: fail, message: frozen}}]
`);
const BY_SPEC = clusterImagePolicies(`
apiVersion: policy.sigstore.dev/v1beta1
kind: ClusterImagePolicy
metadata: {name: single}
spec:
  images: [{glob: "evil.example/**"}]
  authorities: [{name: always, static: {action: pass}}]
  policy: {type: cel, data: "spec.containers.size() == 1", includeSpec: true}
`);

function scope(object: unknown = {}, deadlineMs = 2_000): ReviewScope {
  return {
    resource: {
      group: '',
      version: 'v1',
      resource: 'pods',
      kind: 'Pod',
      namespace: 'apps',
      labels: {},
      object,
    },
    namespace: 'apps',
    serviceAccountName: 'default',
    imagePullSecrets: [],
    deadlineAt: Date.now() + deadlineMs,
    deadline: new Promise(() => undefined),
  };
}

describe('webhook workers: decisions asked of the primary', () => {
  let registry: Awaited<ReturnType<typeof hangingRegistry>>;
  let silentHost: string;
  let access: RegistryAccess;

  before(async () => {
    registry = await hangingRegistry();
    silentHost = registry.host;
    access = registry.access;
  });

  after(() => registry.close());

  /** A primary over `policies` and one worker; `asked` lists what the worker sent. */
  function pair(initial: ClusterImagePolicy[], options: { deliver?: boolean } = {}) {
    const source = staticPolicySource({ policies: initial });
    const local = new LocalDecisions({ source, trustedRoot: NO_TRUST, registry: access });
    const toWorker = new Set<(message: PrimaryMessage) => void>();
    const toPrimary = new Set<(message: WorkerMessage) => void>();
    const asked: WorkerMessage[] = [];
    const json = <T>(message: T): T => JSON.parse(JSON.stringify(message)) as T;
    const workerEnd: Channel<WorkerMessage, PrimaryMessage> = {
      send(message) {
        asked.push(message);
        if (options.deliver === false) return;
        setImmediate(() => toPrimary.forEach((listener) => listener(json(message))));
      },
      onMessage: (listener) => toWorker.add(listener),
    };
    const primaryEnd: Channel<PrimaryMessage, WorkerMessage> = {
      send: (message) => setImmediate(() => toWorker.forEach((listener) => listener(json(message)))),
      onMessage: (listener) => toPrimary.add(listener),
    };
    const worker = new WorkerDecisions(workerEnd, { graceMs: 50 });
    const stop = serveWorker(local, primaryEnd);
    return { source, worker, asked, stop };
  }

  const settle = () => new Promise((resolve) => setImmediate(resolve));

  it('asks once for an image and answers it again by itself, until the policies change', async () => {
    const { source, worker, asked, stop } = pair(FROZEN);
    assert.equal(worker.ready, false);
    await settle(); // the policy facts arrive
    assert.equal(worker.ready, true);
    const image = `evil.example/app@${DIGEST}`;
    const first = await worker.decide(image, scope());
    assert.equal(first.decision.outcome, 'denied');
    assert.ok(first.keptUntil !== undefined, 'the primary says how long the decision holds');
    const second = await worker.decide(image, scope());
    assert.deepEqual(second, first);
    assert.equal(asked.length, 1, 'the second review was answered by the worker');

    source.replace({ policies: [] });
    await settle();
    const after = await worker.decide(image, scope());
    assert.equal(after.decision.noMatchingPolicy, true, 'the new policies decide');
    assert.equal(asked.length, 2);
    stop();
  });

  it('asks every time when a policy reads the object, sending the object along', async () => {
    const { worker, asked, stop } = pair(BY_SPEC);
    await settle();
    const image = `evil.example/app@${DIGEST}`;
    const one = await worker.decide(image, scope({ spec: { containers: [{ image }] } }));
    const two = await worker.decide(image, scope({ spec: { containers: [{ image }, { image }] } }));
    assert.deepEqual([one.decision.outcome, two.decision.outcome], ['allowed', 'denied']);
    assert.equal(asked.length, 2);
    assert.ok(asked.every((message) => message.scope.resource.object !== undefined));
    stop();
  });

  it("passes on the primary's reason a tag cannot be resolved, and takes a digest as written", async () => {
    const { worker, asked, stop } = pair(FROZEN);
    await settle();
    assert.equal(await worker.resolve(`evil.example/app@${DIGEST}`, scope()), DIGEST);
    await assert.rejects(worker.resolve('Not A Reference', scope()), /reference/i);
    assert.equal(asked.length, 0, 'neither needed the primary');
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as { port: number }).port;
    await new Promise((resolve) => closed.close(resolve));
    await assert.rejects(worker.resolve(`127.0.0.1:${port}/app:v1`, scope()), /ECONNREFUSED|refused/i);
    assert.equal(asked.length, 1);
    stop();
  });

  it('denies, naming the image, when the primary does not answer before the deadline', async () => {
    const { worker, stop } = pair(FROZEN, { deliver: false });
    const image = `${silentHost}/app@${DIGEST}`;
    const started = performance.now();
    const decided = await worker.decide(image, scope({}, 100));
    assert.ok(performance.now() - started < 1_000);
    assert.equal(decided.decision.outcome, 'denied');
    assert.match(
      decided.decision.policies[0]!.reason!.message,
      /timed out verifying .*primary process did not answer/,
    );
    stop();
  });
});
