import assert from 'node:assert/strict';
import { setTimeout as delay } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import {
  ApiextensionsV1Api,
  CoreV1Api,
  CustomObjectsApi,
  VersionApi,
  type V1CustomResourceDefinition,
} from '@kubernetes/client-node';
import { pinnedVersion } from '../tools/pins.ts';
import { startControlPlane, type RunningControlPlane } from '../tools/kube.ts';

const smokeCrd: V1CustomResourceDefinition = {
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name: 'smokes.test.sigil.dev' },
  spec: {
    group: 'test.sigil.dev',
    scope: 'Cluster',
    names: { plural: 'smokes', singular: 'smoke', kind: 'Smoke', listKind: 'SmokeList' },
    versions: [
      {
        name: 'v1',
        served: true,
        storage: true,
        schema: {
          openAPIV3Schema: {
            type: 'object',
            properties: {
              spec: { type: 'object', properties: { image: { type: 'string' } }, required: ['image'] },
            },
          },
        },
      },
    ],
  },
};

describe('a real Kubernetes control plane (etcd + kube-apiserver)', () => {
  let cluster: RunningControlPlane;

  before(async () => {
    cluster = await startControlPlane();
  });

  after(() => cluster?.stop());

  it('runs the pinned kube-apiserver version', async () => {
    const version = await cluster.kubeConfig().makeApiClient(VersionApi).getCode();
    assert.equal(
      version.gitVersion.replace(/\+.*$/, '').replace(/-.*$/, ''),
      pinnedVersion('KUBERNETES_VERSION'),
    );
  });

  it('creates a namespace and reads it back', async () => {
    const core = cluster.kubeConfig().makeApiClient(CoreV1Api);
    await core.createNamespace({
      body: { metadata: { name: 'sigil-smoke', labels: { 'policy.sigstore.dev/include': 'true' } } },
    });
    const read = await core.readNamespace({ name: 'sigil-smoke' });
    assert.equal(read.metadata?.labels?.['policy.sigstore.dev/include'], 'true');
  });

  it('creates a CRD, waits for it to be established, and stores a validated custom object', async () => {
    const config = cluster.kubeConfig();
    const extensions = config.makeApiClient(ApiextensionsV1Api);
    await extensions.createCustomResourceDefinition({ body: smokeCrd });
    for (let attempt = 0; ; attempt += 1) {
      const crd = await extensions.readCustomResourceDefinition({ name: smokeCrd.metadata!.name! });
      if (
        crd.status?.conditions?.some(
          (condition) => condition.type === 'Established' && condition.status === 'True',
        )
      )
        break;
      assert.ok(attempt < 100, 'CRD was not established within 10 s');
      await delay(100);
    }
    const objects = config.makeApiClient(CustomObjectsApi);
    const target = { group: 'test.sigil.dev', version: 'v1', plural: 'smokes' };
    await objects.createClusterCustomObject({
      ...target,
      body: {
        apiVersion: 'test.sigil.dev/v1',
        kind: 'Smoke',
        metadata: { name: 'one' },
        spec: { image: 'registry.local/app@sha256:00' },
      },
    });
    const read = (await objects.getClusterCustomObject({ ...target, name: 'one' })) as {
      spec: { image: string };
    };
    assert.equal(read.spec.image, 'registry.local/app@sha256:00');
    // The API server enforces the CRD's schema: a missing required field is a 422.
    await assert.rejects(
      objects.createClusterCustomObject({
        ...target,
        body: { apiVersion: 'test.sigil.dev/v1', kind: 'Smoke', metadata: { name: 'bad' }, spec: {} },
      }),
      (error: { code?: number }) => error.code === 422,
    );
  });
});
