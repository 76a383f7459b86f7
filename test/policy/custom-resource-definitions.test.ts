import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import {
  buildCustomResourceDefinitions,
  CRD_REGENERATE_COMMAND,
} from '../../src/policy/custom-resource-definitions.ts';
import {
  CLUSTER_IMAGE_POLICY_SCHEMA,
  KEYLESS_IDENTITIES_RULE_MESSAGE,
  TRUST_ROOT_SCHEMA,
} from '../../src/policy/internal/crd-schemas.ts';
import { toolPath } from '../tools/tools.ts';

const FILES = {
  clusterImagePolicy: new URL('../../crds/clusterimagepolicy.yaml', import.meta.url),
  trustRoot: new URL('../../crds/trustroot.yaml', import.meta.url),
};

interface Crd {
  spec: {
    versions: { name: string; served: boolean; storage: boolean; schema: { openAPIV3Schema: unknown } }[];
  };
}

function load(file: URL): Crd {
  return parse(readFileSync(file, 'utf8')) as Crd;
}

/** Structural schema rule: every node states its type unless it keeps unknown fields. */
function untypedNodes(schema: unknown, path: string): string[] {
  if (schema === null || typeof schema !== 'object') return [];
  const node = schema as Record<string, unknown>;
  const found: string[] = [];
  if (!('type' in node) && node['x-kubernetes-preserve-unknown-fields'] !== true) found.push(path);
  for (const [name, child] of Object.entries((node['properties'] as Record<string, unknown>) ?? {})) {
    found.push(...untypedNodes(child, `${path}.${name}`));
  }
  if (node['items']) found.push(...untypedNodes(node['items'], `${path}[]`));
  if (typeof node['additionalProperties'] === 'object') {
    found.push(...untypedNodes(node['additionalProperties'], `${path}{}`));
  }
  return found;
}

describe('crds/', () => {
  const built = buildCustomResourceDefinitions();
  const cases = [
    [
      'clusterimagepolicy.yaml',
      FILES.clusterImagePolicy,
      built.clusterImagePolicy,
      CLUSTER_IMAGE_POLICY_SCHEMA,
    ],
    ['trustroot.yaml', FILES.trustRoot, built.trustRoot, TRUST_ROOT_SCHEMA],
  ] as const;

  for (const [name, file, expected, parserSchema] of cases) {
    describe(name, () => {
      const crd = load(file);

      it('holds what src/policy generates', () => {
        assert.deepEqual(crd, expected, `crds/ is stale; regenerate with: ${CRD_REGENERATE_COMMAND}`);
      });

      it('serves v1alpha1 (stored) and v1beta1 with the schema the parser checks documents against', () => {
        assert.deepEqual(
          crd.spec.versions.map(({ name: version, served, storage }) => ({ version, served, storage })),
          [
            { version: 'v1alpha1', served: true, storage: true },
            { version: 'v1beta1', served: true, storage: false },
          ],
        );
        for (const version of crd.spec.versions)
          assert.deepEqual(version.schema.openAPIV3Schema, parserSchema);
      });

      it('has a structural schema: every field is typed', () => {
        assert.deepEqual(untypedNodes(parserSchema, '<root>'), []);
      });
    });
  }

  it('states the keyless identities rule with the message the parser reports', () => {
    const keyless = (
      (
        (CLUSTER_IMAGE_POLICY_SCHEMA['properties'] as Record<string, Record<string, unknown>>)['spec']?.[
          'properties'
        ] as Record<string, Record<string, unknown>>
      )['authorities']?.['items'] as Record<string, Record<string, Record<string, unknown>>>
    )['properties']?.['keyless'];
    assert.deepEqual(keyless?.['x-kubernetes-validations'], [
      {
        rule: 'has(self.identities) && size(self.identities) > 0',
        message: KEYLESS_IDENTITIES_RULE_MESSAGE,
        fieldPath: '.identities',
      },
    ]);
  });

  it('is accepted by kubeconform', async (t) => {
    let kubeconform: string;
    try {
      kubeconform = toolPath('kubeconform');
    } catch (error) {
      t.skip(`kubeconform is not installed: ${String(error)}`);
      return;
    }
    const run = promisify(execFile);
    const args = ['-strict', '-summary', FILES.clusterImagePolicy.pathname, FILES.trustRoot.pathname];
    const result = await run(kubeconform, args).then(
      ({ stdout }) => ({ ok: true, output: stdout }),
      (error: { stdout?: string; stderr?: string }) => ({
        ok: false,
        output: `${error.stdout ?? ''}${error.stderr ?? ''}`,
      }),
    );
    if (!result.ok && result.output.includes('failed downloading schema')) {
      t.skip('kubeconform cannot download the apiextensions.k8s.io/v1 schema (offline)');
      return;
    }
    assert.ok(result.ok, result.output);
  });
});
