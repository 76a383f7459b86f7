import { stringify } from 'yaml';
import { CLUSTER_IMAGE_POLICY_SCHEMA, TRUST_ROOT_SCHEMA } from './internal/crd-schemas.ts';

/**
 * The CustomResourceDefinitions of `policy.sigstore.dev`, as upstream policy-controller installs them:
 * cluster-scoped, v1alpha1 stored and v1beta1 served. Both versions share one schema, so the apiserver
 * converts between them without a webhook (strategy None). `crds/*.yaml` holds this output; regenerate
 * it with the command in {@link CRD_REGENERATE_COMMAND}.
 */

export const CRD_REGENERATE_COMMAND =
  'node --import tsx -e "import(\'./src/policy/custom-resource-definitions.ts\').then((m) => m.writeCustomResourceDefinitionFiles())" && npx prettier --write crds';

type Document = Record<string, unknown>;

const AGE_COLUMN = { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' };

function customResourceDefinition(
  names: { kind: string; plural: string; singular: string; shortNames?: string[] },
  schema: Document,
  printerColumns: Document[],
): Document {
  const version = (name: string, storage: boolean): Document => ({
    name,
    served: true,
    storage,
    subresources: { status: {} },
    additionalPrinterColumns: [...printerColumns, AGE_COLUMN],
    schema: { openAPIV3Schema: schema },
  });
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${names.plural}.policy.sigstore.dev` },
    spec: {
      group: 'policy.sigstore.dev',
      names: { ...names, categories: ['sigstore'] },
      scope: 'Cluster',
      conversion: { strategy: 'None' },
      versions: [version('v1alpha1', true), version('v1beta1', false)],
    },
  };
}

/** The ClusterImagePolicy and TrustRoot CRDs, as data. */
export function buildCustomResourceDefinitions(): { clusterImagePolicy: Document; trustRoot: Document } {
  return {
    clusterImagePolicy: customResourceDefinition(
      {
        kind: 'ClusterImagePolicy',
        plural: 'clusterimagepolicies',
        singular: 'clusterimagepolicy',
        shortNames: ['cip'],
      },
      CLUSTER_IMAGE_POLICY_SCHEMA,
      [
        { name: 'Images', type: 'string', jsonPath: '.spec.images[*].glob' },
        { name: 'Mode', type: 'string', jsonPath: '.spec.mode' },
      ],
    ),
    trustRoot: customResourceDefinition(
      { kind: 'TrustRoot', plural: 'trustroots', singular: 'trustroot' },
      TRUST_ROOT_SCHEMA,
      [],
    ),
  };
}

/** A CRD as the YAML text stored in `crds/`. */
export function formatCustomResourceDefinition(crd: Document): string {
  return `# Generated from src/policy/internal/crd-schemas.ts; do not edit. Regenerate with:\n# ${CRD_REGENERATE_COMMAND}\n${stringify(crd, { lineWidth: 0, aliasDuplicateObjects: false })}`;
}

/** Writes `crds/clusterimagepolicy.yaml` and `crds/trustroot.yaml` under `directory` (default `crds`). */
export async function writeCustomResourceDefinitionFiles(directory = 'crds'): Promise<void> {
  const { writeFile, mkdir } = await import('node:fs/promises');
  const crds = buildCustomResourceDefinitions();
  await mkdir(directory, { recursive: true });
  await writeFile(
    `${directory}/clusterimagepolicy.yaml`,
    formatCustomResourceDefinition(crds.clusterImagePolicy),
  );
  await writeFile(`${directory}/trustroot.yaml`, formatCustomResourceDefinition(crds.trustRoot));
}
