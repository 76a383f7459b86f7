import type { Descriptor, FetchedManifest, ImageReference } from './oci.types.ts';
import type { RegistryClient } from './registry-client.types.ts';
import { OciError } from './errors.ts';

/** cosign's legacy signature and attestation layers, and Sigstore bundles as OCI 1.1 referrers. */
export const SIMPLE_SIGNING_MEDIA_TYPE = 'application/vnd.dev.cosign.simplesigning.v1+json';
export const DSSE_ENVELOPE_MEDIA_TYPE = 'application/vnd.dsse.envelope.v1+json';
/** Sigstore bundle artifact types: v0.3 is what cosign v3 writes; older ones are read too. */
export const SIGSTORE_BUNDLE_ARTIFACT_TYPE = /^application\/vnd\.dev\.sigstore\.bundle(\.v0\.3)?\+json/;

/** A layer of a cosign `.sig` or `.att` manifest, with its blob (payload or DSSE envelope). */
export interface CosignLayer {
  readonly descriptor: Descriptor;
  readonly payload: Uint8Array;
  readonly annotations: Readonly<Record<string, string>>;
}

/** A Sigstore bundle attached to the image as an OCI 1.1 referrer. */
export interface ReferrerBundle {
  /** The digest of the referring artifact manifest. */
  readonly manifestDigest: string;
  readonly artifactType: string;
  /** The manifest's annotations (`dev.sigstore.bundle.content`, `.predicateType`, created). */
  readonly annotations: Readonly<Record<string, string>>;
  /** The bundle JSON, exactly as stored. */
  readonly bundle: Uint8Array;
}

/** Everything that may sign or attest one image digest, fetched once for every policy that needs it. */
export interface SignatureArtifacts {
  /** The image, by digest. */
  readonly image: ImageReference & { readonly digest: string };
  readonly signatures: readonly CosignLayer[];
  readonly attestations: readonly CosignLayer[];
  readonly bundles: readonly ReferrerBundle[];
}

export interface DiscoveryOptions {
  /**
   * Where cosign stored the `.sig`/`.att` tags when not beside the image (cosign's COSIGN_REPOSITORY,
   * policy-controller's `signaturePullSecrets`' `source.oci`): a repository reference without tag.
   */
  signatureRepository?: ImageReference;
  /** Prefix of the cosign tags (policy-controller `source.tagPrefix`). Default ''. */
  tagPrefix?: string;
  /** Largest signature layer or bundle read, in bytes. Default 4 MiB. */
  maxArtifactBytes?: number;
  /** Look for OCI 1.1 referrer bundles. Default true. */
  referrers?: boolean;
}

const DEFAULT_MAX_ARTIFACT_BYTES = 4 * 1024 * 1024;

/** The cosign tag of an image digest: `sha256:abc…` → `sha256-abc….sig`. */
export function cosignTag(digest: string, suffix: 'sig' | 'att', prefix = ''): string {
  return `${prefix}${digest.replace(':', '-')}.${suffix}`;
}

/**
 * Finds the signatures and attestations of `image` (which MUST name a digest): cosign's `.sig` and
 * `.att` tags in the image's repository or `signatureRepository`, and Sigstore bundles among the
 * digest's OCI 1.1 referrers (the tag-schema fallback on registries without the referrers API). The
 * three lookups and every blob run concurrently. Missing tags are empty lists, not errors; registry
 * failures throw OciError.
 */
export async function discoverSignatures(
  client: RegistryClient,
  image: ImageReference,
  options: DiscoveryOptions = {},
): Promise<SignatureArtifacts> {
  const digest = image.digest;
  if (digest === undefined) {
    throw new OciError(
      'OCI_REFERENCE_INVALID',
      `${image.canonical}: expected a reference by digest to find its signatures`,
    );
  }
  const maxBytes = options.maxArtifactBytes ?? DEFAULT_MAX_ARTIFACT_BYTES;
  const signatureRepository = options.signatureRepository ?? image;
  const layersAt = async (suffix: 'sig' | 'att', mediaType: string): Promise<CosignLayer[]> => {
    const manifest = await client.findManifest(
      signatureRepository,
      cosignTag(digest, suffix, options.tagPrefix),
    );
    if (manifest?.manifest.kind !== 'manifest') return [];
    const layers = manifest.manifest.layers.filter((layer) => layer.mediaType === mediaType);
    return Promise.all(
      layers.map(async (descriptor) => ({
        descriptor,
        payload: await client.getBlob(signatureRepository, descriptor, maxBytes),
        annotations: descriptor.annotations ?? {},
      })),
    );
  };
  const [signatures, attestations, bundles] = await Promise.all([
    layersAt('sig', SIMPLE_SIGNING_MEDIA_TYPE),
    layersAt('att', DSSE_ENVELOPE_MEDIA_TYPE),
    options.referrers === false ? Promise.resolve([]) : referrerBundles(client, image, digest, maxBytes),
  ]);
  return { image: { ...image, digest }, signatures, attestations, bundles };
}

async function referrerBundles(
  client: RegistryClient,
  image: ImageReference,
  digest: string,
  maxBytes: number,
): Promise<ReferrerBundle[]> {
  const referrers = await client.listReferrers(image, digest);
  const candidates = referrers.filter((descriptor) =>
    SIGSTORE_BUNDLE_ARTIFACT_TYPE.test(descriptor.artifactType ?? ''),
  );
  const found = await Promise.all(
    candidates.map(async (descriptor): Promise<ReferrerBundle | undefined> => {
      const fetched: FetchedManifest | undefined = await client.findManifest(image, descriptor.digest);
      if (fetched?.manifest.kind !== 'manifest') return undefined;
      const manifest = fetched.manifest;
      // The subject must be this image: a referrers listing is the registry's word, the manifest is signed data's.
      if (manifest.subject?.digest !== digest) return undefined;
      const layer = manifest.layers.find((each) => SIGSTORE_BUNDLE_ARTIFACT_TYPE.test(each.mediaType));
      if (!layer) return undefined;
      return {
        manifestDigest: fetched.digest,
        artifactType: manifest.artifactType ?? descriptor.artifactType ?? layer.mediaType,
        annotations: manifest.annotations ?? {},
        bundle: await client.getBlob(image, layer, maxBytes),
      };
    }),
  );
  return found.filter((bundle): bundle is ReferrerBundle => bundle !== undefined);
}
