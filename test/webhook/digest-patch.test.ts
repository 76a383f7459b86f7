// digestPatch over workloads from connaisseur's admission requests (/work/shared/vectors/connaisseur,
// admission_requests/): the patch is applied to the object the review carried and read back through
// the base64 a response would carry.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';

import { parseAdmissionReview, reviewResponse } from '../../src/webhook/admission-review.ts';
import type { AdmissionRequest } from '../../src/webhook/admission-review.ts';
import { digestPatch, isPinned } from '../../src/webhook/digest-patch.ts';
import type { JsonPatchOperation } from '../../src/webhook/digest-patch.ts';
import { triageRequest } from '../../src/webhook/workload.ts';
import type { Workload } from '../../src/webhook/workload.ts';

const VECTORS = new URL('../../../shared/vectors/connaisseur/admission_requests/', import.meta.url);
const DIGEST_A = `sha256:${'a'.repeat(64)}`;
const DIGEST_B = `sha256:${'b'.repeat(64)}`;
const DIGEST_C = `sha256:${'c'.repeat(64)}`;

function load(name: string): { request: AdmissionRequest; workload: Workload } {
  const request = parseAdmissionReview(readFileSync(new URL(name, VECTORS), 'utf8'));
  const triage = triageRequest(request);
  assert.equal(triage.action, 'check');
  return { request, workload: (triage as { workload: Workload }).workload };
}

/** Applies `replace` operations (all digestPatch makes) by RFC 6901 pointer, to check the paths are real. */
function applyReplacements(document: unknown, patch: readonly JsonPatchOperation[]): unknown {
  const copy = structuredClone(document);
  for (const operation of patch) {
    assert.equal(operation.op, 'replace');
    const keys = operation.path.slice(1).split('/');
    const last = keys.pop() ?? assert.fail('empty pointer');
    let target = copy as Record<string, unknown>;
    for (const key of keys) target = target[key] as Record<string, unknown>;
    assert.ok(last in target, `${operation.path} must exist for a replace`);
    target[last] = (operation as { value: unknown }).value;
  }
  return copy;
}

describe('isPinned', () => {
  const cases: [string, boolean][] = [
    ['nginx', false],
    ['nginx:1.27', false],
    [`nginx@${DIGEST_A}`, true],
    [`nginx:1.27@${DIGEST_A}`, true],
    [`localhost:5000/app:v1@${DIGEST_A}`, true],
    [`nginx@sha512:${'d'.repeat(128)}`, true],
    ['nginx@sha256:1234', false],
    [`nginx@sha256:${'A'.repeat(64)}`, false],
    [`@${DIGEST_A}`, false],
    ['localhost:5000/app', false],
  ];
  for (const [image, pinned] of cases) {
    it(`says ${image.length > 40 ? `${image.slice(0, 40)}…` : image} is ${pinned ? '' : 'not '}pinned`, () => {
      assert.equal(isPinned(image), pinned);
    });
  }
});

describe('digestPatch', () => {
  it('pins every resolved image of the multi-image Deployment in 09, keeping name and tag', () => {
    const { workload } = load('09_dply_multi_image.json');
    const digests = new Map([
      ['redis:alpine', DIGEST_A],
      ['mysql:8', DIGEST_B],
      ['busybox:1.32', DIGEST_C],
    ]);
    assert.deepEqual(digestPatch(workload.images, digests), [
      { op: 'replace', path: '/spec/template/spec/containers/0/image', value: `redis:alpine@${DIGEST_A}` },
      { op: 'replace', path: '/spec/template/spec/containers/1/image', value: `mysql:8@${DIGEST_B}` },
      {
        op: 'replace',
        path: '/spec/template/spec/initContainers/0/image',
        value: `busybox:1.32@${DIGEST_C}`,
      },
    ]);
  });

  it('produces a patch that applies to the object the review carried', () => {
    const { request, workload } = load('19_pod_initcontainer.json');
    const patch = digestPatch(workload.images, new Map([['nginx', DIGEST_A]]));
    const patched = applyReplacements(request.object, patch) as {
      spec: { containers: { image: string }[]; initContainers: { image: string }[] };
    };
    assert.equal(patched.spec.initContainers[0]?.image, `nginx@${DIGEST_A}`);
    assert.equal(
      patched.spec.containers[0]?.image,
      workload.images[0]?.image,
      'the pinned container is untouched',
    );
  });

  it('reaches a CronJob image through its job template', () => {
    const { request, workload } = load('04_cronjob.json');
    const patch = digestPatch(workload.images, new Map([['busybox', DIGEST_B]]));
    const patched = applyReplacements(request.object, patch) as {
      spec: { jobTemplate: { spec: { template: { spec: { containers: { image: string }[] } } } } };
    };
    assert.equal(patched.spec.jobTemplate.spec.template.spec.containers[0]?.image, `busybox@${DIGEST_B}`);
  });

  it('leaves images already pinned alone, with or without a tag (23, 24)', () => {
    for (const file of ['23_alice_digest_dpl.json', '24_alice_tag_digest_dpl.json']) {
      const { workload } = load(file);
      const image = workload.images[0]?.image ?? assert.fail('no image');
      assert.deepEqual(digestPatch(workload.images, new Map([[image, DIGEST_A]])), []);
    }
  });

  it('leaves images the map does not name alone', () => {
    const { workload } = load('01_deployment.json');
    assert.deepEqual(
      digestPatch(workload.images, new Map([['securesystemsengineering/alice-image', DIGEST_A]])),
      [],
    );
  });

  it('does not append a digest to an image with a malformed one', () => {
    const images = [
      {
        image: 'nginx@sha256:12',
        pointer: '/spec/containers/0/image',
        container: 'a',
        list: 'containers' as const,
      },
    ];
    assert.deepEqual(digestPatch(images, new Map([['nginx@sha256:12', DIGEST_A]])), []);
  });

  it('patches each occurrence of an image used twice', () => {
    const images = [
      { image: 'envoy:1', pointer: '/spec/containers/0/image', container: 'a', list: 'containers' as const },
      {
        image: 'envoy:1',
        pointer: '/spec/initContainers/0/image',
        container: 'b',
        list: 'initContainers' as const,
      },
    ];
    assert.deepEqual(
      digestPatch(images, new Map([['envoy:1', DIGEST_A]])).map((operation) => operation.path),
      ['/spec/containers/0/image', '/spec/initContainers/0/image'],
    );
  });

  it('refuses a digest that is not well-formed (TypeError: a caller bug)', () => {
    const { workload } = load('05_replication_controller.json');
    assert.throws(() => digestPatch(workload.images, new Map([['nginx', 'sha256:abc']])), TypeError);
  });

  it('round-trips through the base64 patch of a mutating response', () => {
    const { request, workload } = load('08_job.json');
    const patch = digestPatch(workload.images, new Map([['perl:5.34.0', DIGEST_C]]));
    const answer = reviewResponse(request.apiVersion, { uid: request.uid, allowed: true, patch });
    const decoded = JSON.parse(
      Buffer.from(answer.response.patch ?? '', 'base64').toString('utf8'),
    ) as unknown;
    assert.deepEqual(decoded, [
      { op: 'replace', path: '/spec/template/spec/containers/0/image', value: `perl:5.34.0@${DIGEST_C}` },
    ]);
    assert.equal(answer.response.uid, '4b84524b-2dc4-4e69-935d-833c86ff0c10');
  });
});
