// parseAdmissionReview over connaisseur's 29 real AdmissionReview bodies (/work/shared/vectors/connaisseur,
// admission_requests/, see its README) and hostile variants; the response builders against the shape
// the API server checks (apiserver webhook/request/admissionreview.go, endpoints/filters/warning.go).
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { describe, it } from 'node:test';

import {
  errorReviewResponse,
  normalizeWarnings,
  parseAdmissionReview,
  reviewResponse,
} from '../../src/webhook/admission-review.ts';
import { WebhookError } from '../../src/webhook/errors.ts';

const VECTORS = new URL('../../../shared/vectors/connaisseur/admission_requests/', import.meta.url);
const readVector = (name: string): string => readFileSync(new URL(name, VECTORS), 'utf8');

const POD_UID = '0c3331b6-1812-11ea-b3fc-02897404852e';
const DEPLOYMENT_UID = '3a3a7b38-5512-4a85-94bb-3562269e0a6a';
const JOB_UID = '4b84524b-2dc4-4e69-935d-833c86ff0c10';

/** What each vector parses to (read from the files), or the start of the message it is rejected with. */
const EXPECTED: Record<
  string,
  { uid: string; kind: string; operation: string; apiVersion: string } | string
> = {
  '01_deployment.json': {
    uid: DEPLOYMENT_UID,
    kind: 'apps/v1 Deployment',
    operation: 'CREATE',
    apiVersion: 'v1beta1',
  },
  '02_pod.json': { uid: POD_UID, kind: '/v1 Pod', operation: 'CREATE', apiVersion: 'v1' },
  '03_replicaset.json': {
    uid: 'f8c8b687-fe68-48e2-8e2b-329567556307',
    kind: 'apps/v1 ReplicaSet',
    operation: 'CREATE',
    apiVersion: 'v1beta1',
  },
  '04_cronjob.json': {
    uid: '1d5c9e9a-a985-41ef-b87f-4bc6057e94a2',
    kind: 'batch/v1beta1 CronJob',
    operation: 'CREATE',
    apiVersion: 'v1beta1',
  },
  '05_replication_controller.json': {
    uid: 'faa399ba-a51b-4790-a404-dd1aaac7421e',
    kind: '/v1 ReplicationController',
    operation: 'CREATE',
    apiVersion: 'v1',
  },
  '06_daemonset.json': {
    uid: '083cbdfe-ae0e-48ef-b944-8c4585c4aa90',
    kind: 'apps/v1 DaemonSet',
    operation: 'CREATE',
    apiVersion: 'v1',
  },
  '07_statefulset.json': {
    uid: '9412459c-09dc-4c90-b022-639eea4d2b2c',
    kind: 'apps/v1 StatefulSet',
    operation: 'CREATE',
    apiVersion: 'v1',
  },
  '08_job.json': { uid: JOB_UID, kind: 'batch/v1 Job', operation: 'CREATE', apiVersion: 'v1' },
  '09_dply_multi_image.json': {
    uid: '4784c1dc-553f-4d53-a8d3-23c4bda880b6',
    kind: 'apps/v1 Deployment',
    operation: 'CREATE',
    apiVersion: 'v1beta1',
  },
  '10_update.json': {
    uid: '6418f614-b7f1-4c57-94bf-14fc30b2d791',
    kind: 'apps/v1 ReplicaSet',
    operation: 'UPDATE',
    apiVersion: 'v1',
  },
  '11_role.json': {
    uid: 'a13ec2e3-9c34-4fb7-9522-b191691b70e1',
    kind: 'rbac.authorization.k8s.io/v1 Role',
    operation: 'CREATE',
    apiVersion: 'v1',
  },
  '12_err_pod.json': { uid: POD_UID, kind: '/v1 Pod', operation: 'CREATE', apiVersion: 'v1' },
  '13_unknown_parent.json': { uid: POD_UID, kind: '/v1 Pod', operation: 'CREATE', apiVersion: 'v1beta1' },
  '14_deny_me_job.json': { uid: JOB_UID, kind: 'batch/v1 Job', operation: 'CREATE', apiVersion: 'v1' },
  '15_allow_me_job.json': { uid: JOB_UID, kind: 'batch/v1 Job', operation: 'CREATE', apiVersion: 'v1' },
  '16_mismatch_uid.json': { uid: POD_UID, kind: '/v1 Pod', operation: 'CREATE', apiVersion: 'v1' },
  '17_deny_me_pod.json': { uid: POD_UID, kind: '/v1 Pod', operation: 'CREATE', apiVersion: 'v1' },
  '18_allow_me_pod.json': { uid: POD_UID, kind: '/v1 Pod', operation: 'CREATE', apiVersion: 'v1' },
  '19_pod_initcontainer.json': { uid: POD_UID, kind: '/v1 Pod', operation: 'CREATE', apiVersion: 'v1' },
  '20_pod_ephemeralcontainer.json': { uid: POD_UID, kind: '/v1 Pod', operation: 'CREATE', apiVersion: 'v1' },
  '21_broken_admission_request.json': 'request.uid: expected a non-empty string, received nothing',
  '22_allow_me_with_index_docker_io.json': {
    uid: POD_UID,
    kind: '/v1 Pod',
    operation: 'CREATE',
    apiVersion: 'v1',
  },
  '23_alice_digest_dpl.json': {
    uid: DEPLOYMENT_UID,
    kind: 'apps/v1 Deployment',
    operation: 'CREATE',
    apiVersion: 'v1beta1',
  },
  '24_alice_tag_digest_dpl.json': {
    uid: DEPLOYMENT_UID,
    kind: 'apps/v1 Deployment',
    operation: 'CREATE',
    apiVersion: 'v1beta1',
  },
  '25_null_request.json': 'admission review: expected an object, received null',
  '26_broken_update_admission_request.json': 'request.uid: expected a non-empty string, received nothing',
  '27_deleted_deployment.json': {
    uid: DEPLOYMENT_UID,
    kind: 'apps/v1 Deployment',
    operation: 'CREATE',
    apiVersion: 'v1beta1',
  },
  '28_deleted_deployment_updated.json': {
    uid: DEPLOYMENT_UID,
    kind: 'apps/v1 Deployment',
    operation: 'UPDATE',
    apiVersion: 'v1beta1',
  },
  '29_deleted_deployment_update_for_delete.json': {
    uid: DEPLOYMENT_UID,
    kind: 'apps/v1 Deployment',
    operation: 'UPDATE',
    apiVersion: 'v1beta1',
  },
};

function rejects(body: string | Uint8Array, message: string | RegExp): void {
  assert.throws(
    () => parseAdmissionReview(body),
    (error: unknown) => {
      assert.ok(error instanceof WebhookError, `expected a WebhookError, got ${String(error)}`);
      assert.equal(error.code, 'WEBHOOK_REVIEW_INVALID');
      if (typeof message === 'string') assert.equal(error.message, message);
      else assert.match(error.message, message);
      return true;
    },
  );
}

/** A minimal valid v1 review of a Pod, with `request` fields overridden. */
function review(request: Record<string, unknown>, top: Record<string, unknown> = {}): string {
  return JSON.stringify({
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    ...top,
    request: {
      uid: 'u-1',
      kind: { group: '', version: 'v1', kind: 'Pod' },
      resource: { group: '', version: 'v1', resource: 'pods' },
      operation: 'CREATE',
      ...request,
    },
  });
}

describe('parseAdmissionReview', () => {
  describe('over the 29 connaisseur admission requests', () => {
    it('covers every vector in the folder', () => {
      const files = readdirSync(VECTORS).filter((name) => name.endsWith('.json'));
      assert.deepEqual(files.sort(), Object.keys(EXPECTED).sort());
    });

    for (const [file, expected] of Object.entries(EXPECTED)) {
      if (typeof expected === 'string') {
        it(`rejects ${file} naming the field`, () => rejects(readVector(file), expected));
        continue;
      }
      it(`reads ${file} as ${expected.kind} ${expected.operation}`, () => {
        const request = parseAdmissionReview(readVector(file));
        assert.equal(request.uid, expected.uid);
        assert.equal(`${request.kind.group}/${request.kind.version} ${request.kind.kind}`, expected.kind);
        assert.equal(request.operation, expected.operation);
        assert.equal(request.apiVersion, `admission.k8s.io/${expected.apiVersion}`);
        assert.equal(typeof request.dryRun, 'boolean');
      });
    }

    it('reads the optional fields of a full v1 request', () => {
      const request = parseAdmissionReview(readVector('06_daemonset.json'));
      assert.deepEqual(request.resource, { group: 'apps', version: 'v1', resource: 'daemonsets' });
      assert.deepEqual(request.requestKind, { group: 'apps', version: 'v1', kind: 'DaemonSet' });
      assert.equal(request.name, 'fluentd-elasticsearch');
      assert.equal(request.namespace, 'kube-system');
      assert.equal(request.dryRun, false);
      assert.equal(request.oldObject, undefined, 'oldObject: null means absent');
      assert.equal(request.subResource, undefined);
      assert.ok(request.object !== null && typeof request.object === 'object');
    });

    it('defaults dryRun to false and keeps userInfo when the request has no dryRun', () => {
      const request = parseAdmissionReview(readVector('02_pod.json'));
      assert.equal(request.dryRun, false);
      assert.equal(request.name, undefined);
      assert.deepEqual(request.userInfo?.groups, [
        'system:serviceaccounts',
        'system:serviceaccounts:kube-system',
        'system:authenticated',
      ]);
    });

    it('reads the body from bytes as well as from a string', () => {
      const bytes = new TextEncoder().encode(readVector('08_job.json'));
      assert.deepEqual(parseAdmissionReview(bytes), parseAdmissionReview(readVector('08_job.json')));
    });
  });

  describe('when the body is hostile or malformed', () => {
    it('rejects text that is not JSON', () => rejects('{', /^admission review: expected JSON, /));
    it('rejects bytes that are not UTF-8', () => rejects(new Uint8Array([0x7b, 0xff, 0x7d]), /UTF-8/));
    it('rejects an array', () => rejects('[]', 'admission review: expected an object, received array'));
    it('rejects an empty object naming apiVersion', () =>
      rejects(
        '{}',
        'apiVersion: expected admission.k8s.io/v1 or admission.k8s.io/v1beta1, received nothing',
      ));
    it('rejects another apiVersion', () =>
      rejects(
        review({}, { apiVersion: 'admission.k8s.io/v2' }),
        /^apiVersion: .* received "admission.k8s.io\/v2"$/,
      ));
    it('rejects another kind', () =>
      rejects(review({}, { kind: 'Pod' }), 'kind: expected AdmissionReview, received "Pod"'));
    it('rejects a null request', () =>
      rejects(
        JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request: null }),
        'request: expected an object, received null',
      ));
    it('rejects a numeric uid', () =>
      rejects(review({ uid: 42 }), 'request.uid: expected a non-empty string, received number'));
    it('rejects an empty uid', () =>
      rejects(review({ uid: '' }), 'request.uid: expected a non-empty string, received string'));
    it('rejects an unknown operation', () =>
      rejects(
        review({ operation: 'PATCH' }),
        'request.operation: expected CREATE, UPDATE, DELETE or CONNECT, received "PATCH"',
      ));
    it('rejects a kind without its kind', () =>
      rejects(
        review({ kind: { group: '', version: 'v1' } }),
        'request.kind.kind: expected a string, received nothing',
      ));
    it('rejects a resource that is a string', () =>
      rejects(review({ resource: 'pods' }), 'request.resource: expected an object, received string'));
    it('rejects a dryRun that is not a boolean', () =>
      rejects(review({ dryRun: 'true' }), 'request.dryRun: expected a boolean, received string'));
    it('rejects a numeric namespace', () =>
      rejects(review({ namespace: 7 }), 'request.namespace: expected a string, received number'));
    it('rejects userInfo groups that are not strings', () =>
      rejects(
        review({ userInfo: { groups: ['a', 1] } }),
        'request.userInfo.groups[1]: expected a string, received number',
      ));

    it('carries the uid on errors found after the uid was read', () => {
      try {
        parseAdmissionReview(review({ operation: 'PATCH' }));
        assert.fail('expected a WebhookError');
      } catch (error) {
        assert.ok(error instanceof WebhookError);
        assert.equal(error.uid, 'u-1');
      }
    });
  });

  describe('when optional fields are empty', () => {
    it('treats empty strings and nulls as absent and a missing group as the core group', () => {
      const request = parseAdmissionReview(
        review({
          kind: { version: 'v1', kind: 'Pod' },
          subResource: '',
          name: '',
          object: null,
          options: null,
          requestKind: null,
        }),
      );
      assert.equal(request.kind.group, '');
      assert.equal('subResource' in request, false);
      assert.equal('name' in request, false);
      assert.equal('object' in request, false);
      assert.equal('requestKind' in request, false);
    });

    it('keeps a dry run as a dry run', () => {
      assert.equal(parseAdmissionReview(review({ dryRun: true })).dryRun, true);
    });
  });
});

describe('reviewResponse', () => {
  const decodePatch = (patch: string | undefined): unknown => {
    assert.ok(patch !== undefined, 'expected a patch');
    return JSON.parse(Buffer.from(patch, 'base64').toString('utf8'));
  };

  it('answers an allowed request with uid and allowed only', () => {
    assert.deepEqual(reviewResponse('admission.k8s.io/v1', { uid: 'u-1', allowed: true, warnings: [] }), {
      apiVersion: 'admission.k8s.io/v1',
      kind: 'AdmissionReview',
      response: { uid: 'u-1', allowed: true },
    });
  });

  it('answers in the apiVersion the review came in', () => {
    const answer = reviewResponse('admission.k8s.io/v1beta1', { uid: 'u-1', allowed: true });
    assert.equal(answer.apiVersion, 'admission.k8s.io/v1beta1');
  });

  it('gives an allowed response a status only when it has a message', () => {
    const answer = reviewResponse('admission.k8s.io/v1', { uid: 'u-1', allowed: true, message: 'no policy' });
    assert.deepEqual(answer.response.status, { code: 200, message: 'no policy' });
  });

  it('denies with 403 Forbidden unless told otherwise', () => {
    const answer = reviewResponse('admission.k8s.io/v1', {
      uid: 'u-1',
      allowed: false,
      message: 'image nginx:1 is not signed',
    });
    assert.deepEqual(answer.response, {
      uid: 'u-1',
      allowed: false,
      status: { code: 403, message: 'image nginx:1 is not signed', reason: 'Forbidden' },
    });
  });

  it('denies with the code and reason given', () => {
    const answer = reviewResponse('admission.k8s.io/v1', {
      uid: 'u-1',
      allowed: false,
      message: 'registry unavailable',
      code: 503,
      reason: 'ServiceUnavailable',
    });
    assert.deepEqual(answer.response.status, {
      code: 503,
      message: 'registry unavailable',
      reason: 'ServiceUnavailable',
    });
  });

  it('carries a JSON Patch as base64 with patchType JSONPatch', () => {
    const patch = [
      { op: 'replace' as const, path: '/spec/containers/0/image', value: `nginx:1@sha256:${'a'.repeat(64)}` },
    ];
    const answer = reviewResponse('admission.k8s.io/v1', { uid: 'u-1', allowed: true, patch });
    assert.equal(answer.response.patchType, 'JSONPatch');
    assert.deepEqual(decodePatch(answer.response.patch), patch);
    assert.deepEqual(Object.keys(answer.response), ['uid', 'allowed', 'patchType', 'patch']);
  });

  it('omits an empty patch and its patchType', () => {
    const answer = reviewResponse('admission.k8s.io/v1', { uid: 'u-1', allowed: true, patch: [] });
    assert.equal('patch' in answer.response, false);
    assert.equal('patchType' in answer.response, false);
  });

  it('leaves the patch out of a denial', () => {
    const patch = [{ op: 'remove' as const, path: '/metadata/labels' }];
    const answer = reviewResponse('admission.k8s.io/v1', { uid: 'u-1', allowed: false, patch });
    assert.equal('patch' in answer.response, false);
  });

  it('passes warnings through, deduplicated', () => {
    const answer = reviewResponse('admission.k8s.io/v1', {
      uid: 'u-1',
      allowed: true,
      warnings: ['policy p failed in warn mode', 'policy p failed in warn mode', 'second'],
    });
    assert.deepEqual(answer.response.warnings, ['policy p failed in warn mode', 'second']);
  });
});

describe('errorReviewResponse', () => {
  it('denies a malformed review with 400 BadRequest and the error message', () => {
    const error = new WebhookError(
      'WEBHOOK_REVIEW_INVALID',
      'request.uid: expected a string, received number',
    );
    assert.deepEqual(errorReviewResponse(undefined, error), {
      apiVersion: 'admission.k8s.io/v1',
      kind: 'AdmissionReview',
      response: {
        uid: '',
        allowed: false,
        status: {
          code: 400,
          message: 'request.uid: expected a string, received number',
          reason: 'BadRequest',
        },
      },
    });
  });

  it('answers with the uid when the review had one', () => {
    try {
      parseAdmissionReview(review({ dryRun: 1 }));
      assert.fail('expected a WebhookError');
    } catch (error) {
      assert.ok(error instanceof WebhookError);
      const answer = errorReviewResponse(error.uid, error, 'admission.k8s.io/v1beta1');
      assert.equal(answer.response.uid, 'u-1');
      assert.equal(answer.apiVersion, 'admission.k8s.io/v1beta1');
      assert.equal(answer.response.status?.message, 'request.dryRun: expected a boolean, received number');
    }
  });
});

describe('normalizeWarnings', () => {
  const runes = (text: string): number => Array.from(text).length;

  it('replaces control characters, which would make the API server drop the warning, with spaces', () => {
    assert.deepEqual(normalizeWarnings(['line one\nline two\t\u0085end\u007f']), ['line one line two  end']);
  });

  it('drops empty warnings and repeats', () => {
    assert.deepEqual(normalizeWarnings(['', '  ', 'a', 'a', 'b']), ['a', 'b']);
  });

  it('keeps a long warning whole while the total stays within 4 Ki runes', () => {
    const long = 'x'.repeat(1000);
    assert.deepEqual(normalizeWarnings([long, 'short']), [long, 'short']);
  });

  it('counts runes, not UTF-16 units, against the 4 Ki total', () => {
    // 3,000 astral characters are 6,000 UTF-16 units but 3,000 runes: within the limit.
    const emoji = '😀'.repeat(3000);
    assert.deepEqual(normalizeWarnings([emoji]), [emoji]);
  });

  describe('when the total exceeds 4 Ki runes', () => {
    const warnings = Array.from({ length: 40 }, (_, index) => `${index}:`.padEnd(300, 'w'));
    const fitted = normalizeWarnings(warnings);

    it('cuts each warning to 256 runes ending in an ellipsis', () => {
      assert.equal(runes(fitted[0] ?? ''), 256);
      assert.ok(fitted[0]?.startsWith('0:ww'));
      assert.ok(fitted[0]?.endsWith('…'));
    });

    it('says how many warnings it left out instead of dropping them silently', () => {
      const kept = fitted.length - 1;
      assert.equal(fitted.at(-1), `${warnings.length - kept} more warnings omitted`);
      assert.ok(kept >= 15, `kept ${kept}`);
    });

    it('stays within the 4 Ki runes the API server passes on', () => {
      assert.ok(fitted.reduce((total, warning) => total + runes(warning), 0) <= 4096);
    });
  });
});
