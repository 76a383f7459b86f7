import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { fixedClock } from '../../src/core/index.ts';
import type { RegistryAccess } from '../../src/webhook/index.ts';
import {
  createAdmissionHandler,
  staticPolicySource,
  type AdmissionHandlerOptions,
  type AdmissionReviewResponse,
  type WebhookMetrics,
} from '../../src/webhook/index.ts';
import { clusterImagePolicies, hangingRegistry, NO_TRUST } from './fixtures.ts';

/**
 * The handler's decisions that need no signature: skips, unknown kinds, malformed reviews, static
 * authorities, warn mode, no-match, pinning rules, policy changes and the review deadline (against a
 * registry that accepts connections and never answers). Signed images against real registries are
 * test/e2e/webhook-admission.test.ts's.
 */

const DIGEST = `sha256:${'a'.repeat(64)}`;

const STATIC_POLICIES = clusterImagePolicies(`
apiVersion: policy.sigstore.dev/v1beta1
kind: ClusterImagePolicy
metadata: {name: system}
spec:
  images: [{glob: "registry.k8s.io/**"}]
  authorities: [{static: {action: pass}}]
---
apiVersion: policy.sigstore.dev/v1beta1
kind: ClusterImagePolicy
metadata: {name: no-evil}
spec:
  images: [{glob: "evil.example/**"}]
  authorities: [{name: blocklist, static: {action: fail, message: known bad}}]
---
apiVersion: policy.sigstore.dev/v1beta1
kind: ClusterImagePolicy
metadata: {name: rollout}
spec:
  mode: warn
  images: [{glob: "staging.example/**"}]
  authorities: [{name: not-yet, static: {action: fail}}]
---
apiVersion: policy.sigstore.dev/v1beta1
kind: ClusterImagePolicy
metadata: {name: slow}
spec:
  images: [{glob: "127.0.0.1:*/**"}]
  authorities:
    - name: ci
      keyless:
        identities: [{issuer: https://issuer.example, subject: ci@example.com}]
`);

function review(
  object: unknown,
  extra: Record<string, unknown> = {},
  kind = { group: '', version: 'v1', kind: 'Pod' },
  resource = { group: '', version: 'v1', resource: 'pods' },
): string {
  return JSON.stringify({
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: { uid: 'uid-1', kind, resource, namespace: 'apps', operation: 'CREATE', object, ...extra },
  });
}

function pod(...images: string[]) {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'p', namespace: 'apps' },
    spec: { containers: images.map((image, index) => ({ name: `c${index}`, image })) },
  };
}

function recordingMetrics(): WebhookMetrics & { calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    review: (endpoint, outcome) => calls.push(`review ${endpoint} ${outcome}`),
    policyDecision: (policy, outcome) => calls.push(`policy ${policy} ${outcome}`),
    verification: (_seconds, outcome) => calls.push(`verification ${outcome}`),
    cacheLookup: (cache, lookup) => calls.push(`cache ${cache} ${lookup}`),
  };
}

describe('admission handler', () => {
  let registry: Awaited<ReturnType<typeof hangingRegistry>>;
  let silentHost: string;
  let access: RegistryAccess;

  before(async () => {
    registry = await hangingRegistry();
    silentHost = registry.host;
    access = registry.access;
  });

  after(() => registry.close());

  function handler(options: Partial<AdmissionHandlerOptions> = {}) {
    const source = staticPolicySource({ policies: STATIC_POLICIES });
    const metrics = recordingMetrics();
    return {
      source,
      metrics,
      handler: createAdmissionHandler({
        source,
        trustedRoot: NO_TRUST,
        registry: access,
        metrics,
        ...options,
      }),
    };
  }

  async function validate(body: string, options: Partial<AdmissionHandlerOptions> = {}) {
    return (await handler(options).handler.validate(body)) as AdmissionReviewResponse;
  }

  it('allows an image a static policy passes, echoing the uid and apiVersion', async () => {
    const answer = await validate(review(pod(`registry.k8s.io/pause:3.9@${DIGEST}`)));
    assert.equal(answer.apiVersion, 'admission.k8s.io/v1');
    assert.equal(answer.response.uid, 'uid-1');
    assert.equal(answer.response.allowed, true);
    assert.equal(answer.response.status, undefined);
  });

  it('denies with one line naming the image, the policy, the authority and the reason', async () => {
    const answer = await validate(review(pod(`evil.example/app@${DIGEST}`)));
    assert.equal(answer.response.allowed, false);
    assert.equal(answer.response.status?.code, 403);
    assert.equal(
      answer.response.status?.message,
      `image evil.example/app@${DIGEST} denied by policy no-evil: authority blocklist: disallowed by static policy: known bad`,
    );
  });

  it('joins the denials of several images of one pod', async () => {
    const answer = await validate(
      review(pod(`evil.example/a@${DIGEST}`, `docker.io/library/nginx@${DIGEST}`)),
    );
    assert.match(
      answer.response.status?.message ?? '',
      /evil\.example\/a@.* denied by policy no-evil.*; image docker\.io\/library\/nginx@.* denied: no matching policies/,
    );
  });

  it('allows a warn-mode failure with a warning, and an unmatched image when no-match is allow', async () => {
    const warned = await validate(review(pod(`staging.example/app@${DIGEST}`)));
    assert.equal(warned.response.allowed, true);
    assert.deepEqual(warned.response.warnings, [
      `image staging.example/app@${DIGEST} allowed with warnings by policy rollout (warn mode): authority not-yet: disallowed by static policy`,
    ]);
    const unmatched = await validate(review(pod(`docker.io/library/nginx@${DIGEST}`)), { noMatch: 'allow' });
    assert.equal(unmatched.response.allowed, true);
  });

  it('never blocks deletes, status updates or scale-downs', async () => {
    const deployment = (replicas: number) => ({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'd', namespace: 'apps' },
      spec: {
        replicas,
        template: { spec: { containers: [{ name: 'c', image: `evil.example/a@${DIGEST}` }] } },
      },
    });
    const apps = [
      { group: 'apps', version: 'v1', kind: 'Deployment' },
      { group: 'apps', version: 'v1', resource: 'deployments' },
    ] as const;
    const scaleDown = await validate(
      review(deployment(1), { operation: 'UPDATE', oldObject: deployment(3) }, apps[0], apps[1]),
    );
    assert.equal(scaleDown.response.allowed, true);
    const scaleUp = await validate(
      review(deployment(3), { operation: 'UPDATE', oldObject: deployment(1) }, apps[0], apps[1]),
    );
    assert.equal(scaleUp.response.allowed, false);
    const deleted = await validate(
      review(undefined, { operation: 'DELETE', oldObject: pod(`evil.example/a@${DIGEST}`) }),
    );
    assert.equal(deleted.response.allowed, true);
    const status = await validate(
      review(pod(`evil.example/a@${DIGEST}`), {
        operation: 'UPDATE',
        subResource: 'status',
        oldObject: pod(`evil.example/a@${DIGEST}`),
      }),
    );
    assert.equal(status.response.allowed, true);
  });

  it('allows an unknown kind with a warning on /validate only', async () => {
    const { handler: h } = handler();
    const role = review(
      { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name: 'r' } },
      {},
      { group: 'rbac.authorization.k8s.io', version: 'v1', kind: 'Role' },
      { group: 'rbac.authorization.k8s.io', version: 'v1', resource: 'roles' },
    );
    const validated = (await h.validate(role)) as AdmissionReviewResponse;
    assert.equal(validated.response.allowed, true);
    assert.match(validated.response.warnings?.[0] ?? '', /Role is not a workload kind/);
    const mutated = (await h.mutate(role)) as AdmissionReviewResponse;
    assert.equal(mutated.response.warnings, undefined);
  });

  it('answers a malformed review with a 400 denial naming the field, keeping the uid when readable', async () => {
    const noUid = await validate(
      '{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":7}}',
    );
    assert.equal(noUid.response.uid, '');
    assert.equal(noUid.response.status?.code, 400);
    assert.match(noUid.response.status?.message ?? '', /request\.uid/);
    const noImage = await validate(review({ kind: 'Pod', spec: { containers: [{ name: 'c' }] } }));
    assert.equal(noImage.response.uid, 'uid-1');
    assert.equal(noImage.response.status?.code, 400);
    assert.match(noImage.response.status?.message ?? '', /\/spec\/containers\/0\/image/);
    const notJson = await validate('{');
    assert.equal(notJson.response.allowed, false);
  });

  it('denies an image by tag when mutation is on, and says how to fix it', async () => {
    const answer = await validate(review(pod('registry.k8s.io/pause:3.9')));
    assert.equal(answer.response.allowed, false);
    assert.match(
      answer.response.status?.message ?? '',
      /image registry\.k8s\.io\/pause:3\.9 denied .*not pinned to a digest.*\/mutate/,
    );
  });

  it('neither pins nor requires a pin for an image an UPDATE left unchanged', async () => {
    const before = pod(`${silentHost}/app:v1`);
    const after = { ...before, metadata: { ...before.metadata, labels: { team: 'a' } } };
    const { handler: h } = handler({ deadlineMs: 200 });
    const body = review(after, { operation: 'UPDATE', oldObject: before });
    const mutated = (await h.mutate(body)) as AdmissionReviewResponse;
    assert.equal(mutated.response.allowed, true);
    assert.equal(mutated.response.patch, undefined, 'an unchanged image is not pinned');
    // Verified by its tag instead (here the registry hangs, so it times out) rather than refused as unpinned.
    const validated = (await h.validate(body)) as AdmissionReviewResponse;
    assert.match(validated.response.status?.message ?? '', /timed out verifying/);
  });

  it('pins nothing and requires no pin in a namespace with mutation off', async () => {
    const { handler: h } = handler({ mutation: { enabled: true, disabledNamespaces: ['apps'] } });
    const mutated = (await h.mutate(review(pod(`${silentHost}/app:v1`)))) as AdmissionReviewResponse;
    assert.equal(mutated.response.patch, undefined);
  });

  it('denies within the deadline when the registry hangs: timed out verifying IMAGE against POLICY', async () => {
    const started = performance.now();
    const answer = await validate(review(pod(`${silentHost}/app:v1`)), {
      deadlineMs: 300,
      mutation: { enabled: false, disabledNamespaces: [] },
    });
    const elapsed = performance.now() - started;
    assert.equal(answer.response.allowed, false);
    assert.equal(
      answer.response.status?.message,
      `image ${silentHost}/app:v1 denied by policy slow: timed out verifying ${silentHost}/app:v1 against slow`,
    );
    assert.ok(elapsed < 1_000, `answered in ${elapsed.toFixed(0)} ms`);
  });

  it('applies a changed policy set to the next review', async () => {
    const { handler: h, source } = handler();
    const body = review(pod(`evil.example/app@${DIGEST}`));
    assert.equal(((await h.validate(body)) as AdmissionReviewResponse).response.allowed, false);
    source.replace({ policies: STATIC_POLICIES.filter((policy) => policy.metadata.name !== 'no-evil') });
    const after = (await h.validate(body)) as AdmissionReviewResponse;
    assert.match(after.response.status?.message ?? '', /no matching policies/);
  });

  it('reports reviews and policy verdicts to the metrics', async () => {
    const { handler: h, metrics } = handler();
    await h.validate(review(pod(`evil.example/app@${DIGEST}`, `registry.k8s.io/pause@${DIGEST}`)));
    await h.validate(review(undefined, { operation: 'DELETE' }));
    assert.deepEqual(metrics.calls, [
      'cache decision miss',
      'cache decision miss',
      'policy no-evil failed',
      'policy system passed',
      'review validate denied',
      'review validate skipped',
    ]);
  });

  it('keeps a decided image for the next reviews until what it was made from goes stale', async () => {
    const clock = fixedClock(new Date('2026-01-01T00:00:00Z'));
    const { handler: h, metrics } = handler({ clock, cache: { successTtlMs: 60_000 } });
    const decide = async (uid: string) => {
      const body = review(pod(`evil.example/app@${DIGEST}`), { uid });
      return ((await h.validate(body)) as AdmissionReviewResponse).response;
    };
    const first = await decide('uid-a');
    const second = await decide('uid-b');
    assert.equal(second.uid, 'uid-b', "the answer carries the review's own uid");
    assert.deepEqual({ ...second, uid: first.uid }, first);
    clock.set(new Date('2026-01-01T00:01:01Z'));
    await decide('uid-c');
    const lookups = metrics.calls.filter((call) => call.startsWith('cache decision'));
    assert.deepEqual(lookups, ['cache decision miss', 'cache decision hit', 'cache decision miss']);
  });

  it('keeps decisions per label set when a policy matches by label, and none when a policy reads the object', async () => {
    const byLabel = clusterImagePolicies(`
apiVersion: policy.sigstore.dev/v1beta1
kind: ClusterImagePolicy
metadata: {name: web-frozen}
spec:
  images: [{glob: "registry.k8s.io/**"}]
  match: [{version: v1, resource: pods, selector: {matchLabels: {app: web}}}]
  authorities: [{name: freeze, static: {action: fail, message: frozen}}]
`);
    const labelled = (app: string) => {
      const object = pod(`registry.k8s.io/pause@${DIGEST}`);
      return review({ ...object, metadata: { ...object.metadata, labels: { app } } });
    };
    const source = staticPolicySource({ policies: byLabel });
    const h = createAdmissionHandler({ source, trustedRoot: NO_TRUST, registry: access, noMatch: 'allow' });
    const allowed = async (body: string) =>
      ((await h.validate(body)) as AdmissionReviewResponse).response.allowed;
    assert.deepEqual(
      [await allowed(labelled('web')), await allowed(labelled('db')), await allowed(labelled('web'))],
      [false, true, false],
    );

    // A CIP-level policy with includeSpec sees the whole pod: the same image in another pod is decided anew.
    const bySpec = clusterImagePolicies(`
apiVersion: policy.sigstore.dev/v1beta1
kind: ClusterImagePolicy
metadata: {name: single-container}
spec:
  images: [{glob: "registry.k8s.io/**"}]
  authorities: [{name: always, static: {action: pass}}]
  policy: {type: cel, data: "spec.containers.size() == 1", includeSpec: true}
`);
    const metrics = recordingMetrics();
    const strict = createAdmissionHandler({
      source: staticPolicySource({ policies: bySpec }),
      trustedRoot: NO_TRUST,
      registry: access,
      metrics,
    });
    const image = `registry.k8s.io/pause@${DIGEST}`;
    const verdict = async (body: string) =>
      ((await strict.validate(body)) as AdmissionReviewResponse).response.allowed;
    assert.deepEqual(
      [await verdict(review(pod(image))), await verdict(review(pod(image, image)))],
      [true, false],
    );
    assert.deepEqual(
      metrics.calls.filter((call) => call.startsWith('cache decision')),
      [],
    );
  });
});
