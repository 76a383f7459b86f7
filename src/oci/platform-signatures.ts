import type { Descriptor, ImageReference } from './oci.types.ts';
import type { RegistryClient } from './registry-client.types.ts';
import { withDigest } from './reference.ts';
import { discoverSignatures, type DiscoveryOptions, type SignatureArtifacts } from './signature-discovery.ts';

/** One platform manifest of a multi-arch image, with what signs it. */
export interface PlatformArtifacts {
  /** `linux/amd64`, `linux/arm/v7`; `unknown` when the index gives no platform. */
  readonly platform: string;
  readonly descriptor: Descriptor;
  readonly artifacts: SignatureArtifacts;
}

/** The image's own signatures and, for an index, each platform manifest's. */
export interface ImageArtifacts {
  readonly image: SignatureArtifacts;
  /** Empty unless the image is an index (a multi-arch image). */
  readonly platforms: readonly PlatformArtifacts[];
}

/**
 * The signature artifacts of `image` (by digest) and, when it is an index, of every platform manifest
 * it lists. The digest the pod names is the one that must be signed; the per-platform lists are for
 * reporting which platforms are signed too (cosign `sign --recursive` signs each). Lookups run
 * concurrently; attestation manifests listed in an index (`unknown/unknown`) are skipped.
 */
export async function discoverImageArtifacts(
  client: RegistryClient,
  image: ImageReference,
  options: DiscoveryOptions = {},
): Promise<ImageArtifacts> {
  const [artifacts, fetched] = await Promise.all([
    discoverSignatures(client, image, options),
    client.getManifest(image),
  ]);
  if (fetched.manifest.kind !== 'index') return { image: artifacts, platforms: [] };
  const manifests = fetched.manifest.manifests.filter(
    (descriptor) =>
      !(descriptor.platform?.os === 'unknown' && descriptor.platform.architecture === 'unknown'),
  );
  const platforms = await Promise.all(
    manifests.map(async (descriptor) => ({
      platform: describePlatform(descriptor),
      descriptor,
      artifacts: await discoverSignatures(client, withDigest(image, descriptor.digest), options),
    })),
  );
  return { image: artifacts, platforms };
}

function describePlatform(descriptor: Descriptor): string {
  const platform = descriptor.platform;
  if (!platform) return 'unknown';
  return [platform.os, platform.architecture, platform.variant].filter(Boolean).join('/');
}
