// spec.match as upstream policy-controller's GetMatchingPolicies applies it
// (pkg/apis/config/image_policies.go), with Kubernetes label selector semantics.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  matchesLabelSelector,
  matchesResource,
  parseClusterImagePolicy,
  policiesFor,
  type AdmittedResource,
  type LabelSelector,
} from '../../src/policy/index.ts';

const deployment: AdmittedResource = {
  group: 'apps',
  version: 'v1',
  resource: 'deployments',
  kind: 'Deployment',
  namespace: 'default',
  labels: { app: 'web', tier: 'frontend' },
};
const pod: AdmittedResource = {
  group: '',
  version: 'v1',
  resource: 'pods',
  kind: 'Pod',
  labels: { match: 'match' },
};

const IMAGE = `registry.test/app@sha256:${'a'.repeat(64)}`;

function policy(name: string, match?: unknown[]) {
  return parseClusterImagePolicy({
    apiVersion: 'policy.sigstore.dev/v1beta1',
    kind: 'ClusterImagePolicy',
    metadata: { name },
    spec: {
      images: [{ glob: 'registry.test/*' }],
      authorities: [{ static: { action: 'pass' } }],
      ...(match ? { match } : {}),
    },
  });
}

describe('matchesLabelSelector', () => {
  const selector = (partial: Partial<LabelSelector>): LabelSelector => ({
    matchLabels: {},
    matchExpressions: [],
    ...partial,
  });
  const labels = { app: 'web', tier: 'frontend' };
  const cases: [string, LabelSelector, boolean][] = [
    ['an empty selector matches everything', selector({}), true],
    ['matchLabels holds when every pair is equal', selector({ matchLabels: { app: 'web' } }), true],
    ['matchLabels fails on a different value', selector({ matchLabels: { app: 'db' } }), false],
    ['matchLabels fails on a missing label', selector({ matchLabels: { env: 'prod' } }), false],
    [
      'In holds for a listed value',
      selector({ matchExpressions: [{ key: 'tier', operator: 'In', values: ['backend', 'frontend'] }] }),
      true,
    ],
    [
      'In fails for an unlisted value',
      selector({ matchExpressions: [{ key: 'tier', operator: 'In', values: ['backend'] }] }),
      false,
    ],
    [
      'In fails for a missing label',
      selector({ matchExpressions: [{ key: 'env', operator: 'In', values: ['prod'] }] }),
      false,
    ],
    [
      'NotIn holds for an unlisted value',
      selector({ matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['backend'] }] }),
      true,
    ],
    [
      'NotIn fails for a listed value',
      selector({ matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['frontend'] }] }),
      false,
    ],
    [
      'NotIn holds for a missing label (Kubernetes)',
      selector({ matchExpressions: [{ key: 'env', operator: 'NotIn', values: ['prod'] }] }),
      true,
    ],
    [
      'Exists holds for a present label',
      selector({ matchExpressions: [{ key: 'app', operator: 'Exists', values: [] }] }),
      true,
    ],
    [
      'Exists fails for a missing label',
      selector({ matchExpressions: [{ key: 'env', operator: 'Exists', values: [] }] }),
      false,
    ],
    [
      'DoesNotExist holds for a missing label',
      selector({ matchExpressions: [{ key: 'env', operator: 'DoesNotExist', values: [] }] }),
      true,
    ],
    [
      'DoesNotExist fails for a present label',
      selector({ matchExpressions: [{ key: 'app', operator: 'DoesNotExist', values: [] }] }),
      false,
    ],
    [
      'labels and expressions are ANDed',
      selector({
        matchLabels: { app: 'web' },
        matchExpressions: [{ key: 'tier', operator: 'In', values: ['backend'] }],
      }),
      false,
    ],
  ];
  for (const [what, given, expected] of cases) {
    it(what, () => assert.equal(matchesLabelSelector(given, labels), expected));
  }

  it('does not read labels from the prototype chain', () => {
    assert.equal(
      matchesLabelSelector(
        selector({ matchExpressions: [{ key: 'toString', operator: 'Exists', values: [] }] }),
        {},
      ),
      false,
    );
  });
});

describe('matchesResource', () => {
  const entry = (group: string, version: string, resource: string) => ({ group, version, resource });

  it('matches every resource when match is empty', () => {
    assert.equal(matchesResource([], deployment), true);
  });

  it('compares group, version and resource exactly', () => {
    assert.equal(matchesResource([entry('apps', 'v1', 'deployments')], deployment), true);
    assert.equal(matchesResource([entry('', 'v1', 'deployments')], deployment), false);
    assert.equal(matchesResource([entry('apps', 'v1beta1', 'deployments')], deployment), false);
    assert.equal(matchesResource([entry('apps', 'v1', 'statefulsets')], deployment), false);
  });

  it('takes version * as any version (the e2e match-resource-label policy)', () => {
    assert.equal(matchesResource([entry('', '*', 'pods')], pod), true);
    assert.equal(matchesResource([entry('', '*', 'pods')], deployment), false);
  });

  it("narrows by group and version only when resource is ''", () => {
    assert.equal(matchesResource([entry('apps', 'v1', '')], deployment), true);
    assert.equal(matchesResource([entry('batch', 'v1', '')], deployment), false);
  });

  it('applies the selector of the entry that matches the resource (any entry, OR)', () => {
    const selected = {
      ...entry('apps', 'v1', 'deployments'),
      selector: { matchLabels: { app: 'db' }, matchExpressions: [] },
    };
    assert.equal(matchesResource([selected], deployment), false);
    assert.equal(matchesResource([selected, entry('apps', 'v1', '')], deployment), true);
  });
});

describe('policiesFor', () => {
  const byLabel = policy('pods-labelled', [
    { resource: 'pods', version: '*', selector: { matchLabels: { match: 'match' } } },
  ]);
  const deployments = policy('deployments', [{ group: 'apps', version: 'v1', resource: 'deployments' }]);
  const everywhere = policy('everywhere');

  it('keeps the policies whose globs and match fit, in order', () => {
    assert.deepEqual(
      policiesFor(IMAGE, [byLabel, deployments, everywhere], pod).map((each) => each.metadata.name),
      ['pods-labelled', 'everywhere'],
    );
    assert.deepEqual(
      policiesFor(IMAGE, [byLabel, deployments, everywhere], deployment).map((each) => each.metadata.name),
      ['deployments', 'everywhere'],
    );
  });

  it('drops a pod policy whose selector does not match the labels', () => {
    assert.deepEqual(policiesFor(IMAGE, [byLabel], { ...pod, labels: {} }), []);
  });

  it('ignores match without a resource (sigil policy test)', () => {
    assert.equal(policiesFor(IMAGE, [byLabel, deployments], undefined).length, 2);
  });

  it('drops a policy whose globs do not match the image', () => {
    assert.deepEqual(policiesFor(`elsewhere.test/app@sha256:${'a'.repeat(64)}`, [everywhere], pod), []);
  });
});
