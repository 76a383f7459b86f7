import type { RegistryClient } from '../../src/oci/index.ts';
import { parseImageReference } from '../../src/oci/index.ts';

const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';

/**
 * Pushes a one-layer OCI image to `host/repository:tag` whose content is made from `seed` (the same seed
 * gives the same digest) and returns its manifest digest.
 */
export async function pushTestImage(
  client: RegistryClient,
  host: string,
  repository: string,
  tag: string,
  seed: string,
): Promise<string> {
  const reference = parseImageReference(`${host}/${repository}:${tag}`);
  const layer = await client.pushBlob(
    reference,
    Buffer.from(`layer ${seed}`),
    'application/vnd.oci.image.layer.v1.tar',
  );
  const config = await client.pushBlob(
    reference,
    Buffer.from(
      JSON.stringify({
        architecture: 'amd64',
        os: 'linux',
        rootfs: { type: 'layers', diff_ids: [layer.digest] },
      }),
    ),
    'application/vnd.oci.image.config.v1+json',
  );
  const manifest = Buffer.from(
    JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, config, layers: [layer] }),
  );
  return client.pushManifest(reference, manifest, OCI_MANIFEST, tag);
}
