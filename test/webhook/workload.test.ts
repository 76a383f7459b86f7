// triageRequest over connaisseur's 29 real AdmissionReview bodies (/work/shared/vectors/connaisseur,
// admission_requests/, see its README; the image lists below were read from the files), plus reviews
// written here for what the vectors lack: batch/v1 CronJob, subresources, scale-downs, deletes, dry runs.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';

import { parseAdmissionReview } from '../../src/webhook/admission-review.ts';
import type { AdmissionRequest } from '../../src/webhook/admission-review.ts';
import { WebhookError } from '../../src/webhook/errors.ts';
import { triageRequest } from '../../src/webhook/workload.ts';
import type { Triage, Workload } from '../../src/webhook/workload.ts';

const VECTORS = new URL('../../../shared/vectors/connaisseur/admission_requests/', import.meta.url);
const triageVector = (name: string): Triage =>
  triageRequest(parseAdmissionReview(readFileSync(new URL(name, VECTORS), 'utf8')));

const CHARLIE = `securesystemsengineering/charlie-image@sha256:91ac9b26df583762234c1cdb2fc930364754ccc59bc752a2bfe298d2ea68f9ff`;
const POD = '/spec';
const TEMPLATE = '/spec/template/spec';
const CRON = '/spec/jobTemplate/spec/template/spec';

/** `[image, pointer, container]`; the list is read from the pointer. */
type Row = readonly [string, string, string];

/** Vectors that are checked: the kind and the images, in order. */
const CHECKED: Record<string, { kind: string; images: readonly Row[] }> = {
  '01_deployment.json': {
    kind: 'Deployment',
    images: [
      ['securesystemsengineering/alice-image:test', `${TEMPLATE}/containers/0/image`, 'test-connaisseur'],
    ],
  },
  '02_pod.json': { kind: 'Pod', images: [[CHARLIE, `${POD}/containers/0/image`, 'test-connaisseur']] },
  '03_replicaset.json': {
    kind: 'ReplicaSet',
    images: [
      ['securesystemsengineering/sample-san-sama:hai', `${TEMPLATE}/containers/0/image`, 'test-connaisseur'],
    ],
  },
  '04_cronjob.json': { kind: 'CronJob', images: [['busybox', `${CRON}/containers/0/image`, 'yooob']] },
  '05_replication_controller.json': {
    kind: 'ReplicationController',
    images: [['nginx', `${TEMPLATE}/containers/0/image`, 'nginx']],
  },
  '06_daemonset.json': {
    kind: 'DaemonSet',
    images: [
      [
        'quay.io/fluentd_elasticsearch/fluentd:v2.5.2',
        `${TEMPLATE}/containers/0/image`,
        'fluentd-elasticsearch',
      ],
    ],
  },
  '07_statefulset.json': {
    kind: 'StatefulSet',
    images: [['registry.k8s.io/nginx-slim:0.8', `${TEMPLATE}/containers/0/image`, 'nginx']],
  },
  '08_job.json': { kind: 'Job', images: [['perl:5.34.0', `${TEMPLATE}/containers/0/image`, 'pi']] },
  '09_dply_multi_image.json': {
    kind: 'Deployment',
    images: [
      ['redis:alpine', `${TEMPLATE}/containers/0/image`, 'redis'],
      ['mysql:8', `${TEMPLATE}/containers/1/image`, 'mysql'],
      ['busybox:1.32', `${TEMPLATE}/initContainers/0/image`, 'init'],
    ],
  },
  '13_unknown_parent.json': {
    kind: 'Pod',
    images: [[CHARLIE, `${POD}/containers/0/image`, 'test-connaisseur']],
  },
  '14_deny_me_job.json': {
    kind: 'Job',
    images: [
      [
        CHARLIE.replace('securesystemsengineering/charlie-image', 'my.reg/deny-me'),
        `${TEMPLATE}/containers/0/image`,
        'pi',
      ],
    ],
  },
  '15_allow_me_job.json': {
    kind: 'Job',
    images: [
      [
        CHARLIE.replace('securesystemsengineering/charlie-image', 'my.reg/allow-me'),
        `${TEMPLATE}/containers/0/image`,
        'pi',
      ],
    ],
  },
  '16_mismatch_uid.json': {
    kind: 'Pod',
    images: [[CHARLIE, `${POD}/containers/0/image`, 'test-connaisseur']],
  },
  '17_deny_me_pod.json': {
    kind: 'Pod',
    images: [
      [
        CHARLIE.replace('securesystemsengineering/charlie-image', 'my.reg/deny-me'),
        `${POD}/containers/0/image`,
        'test-connaisseur',
      ],
    ],
  },
  '18_allow_me_pod.json': {
    kind: 'Pod',
    images: [
      [
        CHARLIE.replace('securesystemsengineering/charlie-image', 'my.reg/allow-me'),
        `${POD}/containers/0/image`,
        'test-connaisseur',
      ],
    ],
  },
  '19_pod_initcontainer.json': {
    kind: 'Pod',
    images: [
      [CHARLIE, `${POD}/containers/0/image`, 'test-connaisseur'],
      ['nginx', `${POD}/initContainers/0/image`, 'my-initcontainer'],
    ],
  },
  '20_pod_ephemeralcontainer.json': {
    kind: 'Pod',
    images: [
      [CHARLIE, `${POD}/containers/0/image`, 'test-connaisseur'],
      ['nginx', `${POD}/ephemeralContainers/0/image`, 'my-initcontainer'],
    ],
  },
  '22_allow_me_with_index_docker_io.json': {
    kind: 'Pod',
    images: [['test-image', `${POD}/containers/0/image`, 'test-connaisseur']],
  },
  '23_alice_digest_dpl.json': {
    kind: 'Deployment',
    images: [
      [
        'securesystemsengineering/alice-image@sha256:1234567890123456123456789012345612345678901234561234567890123456',
        `${TEMPLATE}/containers/0/image`,
        'test-connaisseur',
      ],
    ],
  },
  '24_alice_tag_digest_dpl.json': {
    kind: 'Deployment',
    images: [
      [
        'securesystemsengineering/alice-image:test@sha256:1234567890123456123456789012345612345678901234561234567890123456',
        `${TEMPLATE}/containers/0/image`,
        'test-connaisseur',
      ],
    ],
  },
};

function expectCheck(triage: Triage): Workload {
  assert.equal(triage.action, 'check', `expected check, got ${JSON.stringify(triage)}`);
  return triage.workload;
}

function rows(workload: Workload): Row[] {
  return workload.images.map(({ image, pointer, container, list }) => {
    assert.equal(pointer.split('/').at(-3), list, `list of ${pointer}`);
    return [image, pointer, container];
  });
}

function rejectsField(action: () => unknown, message: string | RegExp): void {
  assert.throws(action, (error: unknown) => {
    assert.ok(error instanceof WebhookError, `expected a WebhookError, got ${String(error)}`);
    assert.equal(error.code, 'WEBHOOK_REVIEW_INVALID');
    if (typeof message === 'string') assert.equal(error.message, message);
    else assert.match(error.message, message);
    return true;
  });
}

describe('triageRequest over the connaisseur admission requests', () => {
  for (const [file, expected] of Object.entries(CHECKED)) {
    it(`checks the ${expected.kind} in ${file} with its images and pointers`, () => {
      const workload = expectCheck(triageVector(file));
      assert.equal(workload.kind, expected.kind);
      assert.deepEqual(rows(workload), expected.images);
    });
  }

  it('reads name, namespace, labels and the service account of the Deployment in 01', () => {
    const workload = expectCheck(triageVector('01_deployment.json'));
    assert.deepEqual(
      { ...workload, images: [] },
      {
        group: 'apps',
        version: 'v1',
        kind: 'Deployment',
        resource: 'deployments',
        name: 'charlie-deployment',
        namespace: 'test-connaisseur',
        labels: { app: 'test-connaisseur' },
        serviceAccountName: 'default',
        imagePullSecrets: [],
        images: [],
      },
    );
  });

  it('reads the v1beta1 CronJob in 04 from its job template', () => {
    const workload = expectCheck(triageVector('04_cronjob.json'));
    assert.deepEqual([workload.group, workload.version, workload.resource], ['batch', 'v1beta1', 'cronjobs']);
    assert.equal(workload.name, 'yooob');
  });

  it('skips the ReplicaSet UPDATE in 10, a scale-down from 4 to 2 replicas', () => {
    const triage = triageVector('10_update.json');
    assert.equal(triage.action, 'skip');
    assert.match(
      (triage as { reason: string }).reason,
      /scale-down of ReplicaSet default\/test-58d59c69bf from 4 to 2/,
    );
  });

  it('lets the Role in 11 through as an unknown kind, with a warning naming it', () => {
    assert.deepEqual(triageVector('11_role.json'), {
      action: 'allow-unknown',
      warning: 'rbac.authorization.k8s.io/v1 Role is not a workload kind sigil checks',
    });
  });

  it('rejects the Pod without a spec in 12 naming request.object.spec', () => {
    rejectsField(
      () => triageVector('12_err_pod.json'),
      'request.object.spec: expected an object, received nothing',
    );
  });

  for (const file of [
    '21_broken_admission_request.json',
    '25_null_request.json',
    '26_broken_update_admission_request.json',
  ]) {
    it(`rejects ${file} before triage`, () => {
      rejectsField(() => triageVector(file), /^(request\.uid|admission review): expected/);
    });
  }

  for (const file of [
    '27_deleted_deployment.json',
    '28_deleted_deployment_updated.json',
    '29_deleted_deployment_update_for_delete.json',
  ]) {
    it(`skips the Deployment being deleted in ${file}`, () => {
      assert.deepEqual(triageVector(file), {
        action: 'skip',
        reason: 'Deployment test-connaisseur/charlie-deployment is being deleted',
      });
    });
  }
});

// Hand-written requests, already parsed: triage takes what parseAdmissionReview returns.
const RESOURCES: Record<string, readonly [group: string, version: string, resource: string]> = {
  Pod: ['', 'v1', 'pods'],
  Deployment: ['apps', 'v1', 'deployments'],
  StatefulSet: ['apps', 'v1', 'statefulsets'],
  CronJob: ['batch', 'v1', 'cronjobs'],
};

function request(kind: string, fields: Partial<AdmissionRequest> = {}): AdmissionRequest {
  const [group, version, resource] = RESOURCES[kind] ?? assert.fail(`no resource for ${kind}`);
  return {
    apiVersion: 'admission.k8s.io/v1',
    uid: 'u-1',
    kind: { group, version, kind },
    resource: { group, version, resource },
    operation: 'CREATE',
    namespace: 'apps',
    name: 'web',
    dryRun: false,
    ...fields,
  };
}

const podSpec = (image: unknown = 'nginx:1.27', extra: Record<string, unknown> = {}) => ({
  containers: [{ name: 'app', image }],
  ...extra,
});
const scalable = (replicas: number, image = 'nginx:1.27') => ({
  metadata: { name: 'web', labels: { tier: 'front', count: 3 } },
  spec: { replicas, template: { spec: podSpec(image) } },
});

describe('triageRequest over hand-written requests', () => {
  it('checks a batch/v1 CronJob at its job template', () => {
    const object = { spec: { jobTemplate: { spec: { template: { spec: podSpec('busybox:1.36') } } } } };
    const workload = expectCheck(triageRequest(request('CronJob', { object })));
    assert.deepEqual(rows(workload), [['busybox:1.36', `${CRON}/containers/0/image`, 'app']]);
  });

  it('checks a StatefulSet that scales up', () => {
    const triage = triageRequest(
      request('StatefulSet', { operation: 'UPDATE', object: scalable(5), oldObject: scalable(3) }),
    );
    assert.deepEqual(rows(expectCheck(triage)), [['nginx:1.27', `${TEMPLATE}/containers/0/image`, 'app']]);
  });

  it('checks an UPDATE that keeps the replicas but changes the image', () => {
    const triage = triageRequest(
      request('Deployment', {
        operation: 'UPDATE',
        object: scalable(3, 'nginx:1.28'),
        oldObject: scalable(3),
      }),
    );
    assert.equal(expectCheck(triage).images[0]?.image, 'nginx:1.28');
  });

  it('skips a Deployment scaled down, even to a new image (upstream IsScalingDown)', () => {
    const triage = triageRequest(
      request('Deployment', { operation: 'UPDATE', object: scalable(1, 'evil:1'), oldObject: scalable(3) }),
    );
    assert.deepEqual(triage, {
      action: 'skip',
      reason: 'scale-down of Deployment apps/web from 3 to 1 replicas is never blocked',
    });
  });

  it('skips status and scale subresources', () => {
    for (const subResource of ['status', 'scale']) {
      const triage = triageRequest(
        request('Deployment', { operation: 'UPDATE', subResource, object: scalable(1) }),
      );
      assert.deepEqual(triage, {
        action: 'skip',
        reason: `subresource deployments/${subResource} is never blocked`,
      });
    }
  });

  it('skips DELETE and CONNECT', () => {
    assert.equal(
      triageRequest(request('Pod', { operation: 'DELETE', oldObject: { spec: podSpec() } })).action,
      'skip',
    );
    assert.equal(triageRequest(request('Pod', { operation: 'CONNECT', subResource: 'exec' })).action, 'skip');
  });

  it('checks every image of a pods/ephemeralcontainers UPDATE (the whole Pod since Kubernetes 1.22)', () => {
    const object = {
      metadata: { name: 'web' },
      spec: podSpec('nginx:1.27', { ephemeralContainers: [{ name: 'debugger-x1', image: 'busybox:1.36' }] }),
    };
    const workload = expectCheck(
      triageRequest(
        request('Pod', {
          operation: 'UPDATE',
          subResource: 'ephemeralcontainers',
          object,
          oldObject: object,
        }),
      ),
    );
    assert.equal(workload.subResource, 'ephemeralcontainers');
    assert.deepEqual(rows(workload), [
      ['nginx:1.27', `${POD}/containers/0/image`, 'app'],
      ['busybox:1.36', `${POD}/ephemeralContainers/0/image`, 'debugger-x1'],
    ]);
  });

  it('checks a dry run like any other request', () => {
    assert.equal(
      triageRequest(request('Pod', { dryRun: true, object: { spec: podSpec() } })).action,
      'check',
    );
  });

  it('reads the service account, pull secrets and string labels', () => {
    const object = {
      metadata: { labels: { team: 'a', bad: 1 } },
      spec: podSpec('nginx', {
        serviceAccountName: 'builder',
        imagePullSecrets: [{ name: 'regcred' }, {}, { name: '' }],
      }),
    };
    const workload = expectCheck(triageRequest(request('Pod', { object })));
    assert.equal(workload.serviceAccountName, 'builder');
    assert.deepEqual(workload.imagePullSecrets, ['regcred']);
    assert.deepEqual(workload.labels, { team: 'a' });
  });

  it('lets an unknown kind through with a warning naming group, version and kind', () => {
    const triage = triageRequest({
      ...request('Pod'),
      kind: { group: 'example.com', version: 'v2', kind: 'Widget' },
      resource: { group: 'example.com', version: 'v2', resource: 'widgets' },
    });
    assert.deepEqual(triage, {
      action: 'allow-unknown',
      warning: 'example.com/v2 Widget is not a workload kind sigil checks',
    });
  });

  describe('when the object is malformed', () => {
    it('rejects a CREATE without an object', () => {
      rejectsField(
        () => triageRequest(request('Pod')),
        'request.object: expected a Pod object, received nothing',
      );
    });

    it('rejects a Deployment whose template has no spec, naming request.object.spec.template.spec', () => {
      const object = { spec: { replicas: 1, template: { metadata: {} } } };
      rejectsField(
        () => triageRequest(request('Deployment', { object })),
        'request.object.spec.template.spec: expected an object, received nothing',
      );
    });

    it('rejects a container without an image, naming its pointer', () => {
      const object = {
        spec: { template: { spec: { containers: [{ name: 'a', image: 'x' }, { name: 'b' }] } } },
      };
      rejectsField(
        () => triageRequest(request('Deployment', { object })),
        'request.object.spec.template.spec.containers[1].image (/spec/template/spec/containers/1/image): expected a non-empty string, received nothing',
      );
    });

    it('rejects an image that is not a string', () => {
      rejectsField(
        () => triageRequest(request('Pod', { object: { spec: podSpec(7) } })),
        /\(\/spec\/containers\/0\/image\): expected a non-empty string, received number$/,
      );
    });

    it('rejects containers that are not an array', () => {
      rejectsField(
        () => triageRequest(request('Pod', { object: { spec: { initContainers: { name: 'a' } } } })),
        'request.object.spec.initContainers: expected an array, received object',
      );
    });
  });
});
