import type { Descriptor, FetchedManifest, ImageReference } from './oci.types.ts';

/**
 * What the rest of Sigil needs from a registry (implemented by registry-client.ts on undici). Every
 * method authenticates as the registry asks (anonymous, basic, bearer challenge), retries 429/5xx with
 * backoff, and throws OciError with a code on failure. Digests of fetched content are always checked.
 */
export interface RegistryClient {
  /** tag → digest (HEAD, falling back to GET when a registry answers HEAD without a digest). */
  resolveDigest(reference: ImageReference): Promise<string>;
  /** The manifest or index `reference` names (by digest when it has one, else by tag). */
  getManifest(reference: ImageReference): Promise<FetchedManifest>;
  /** The manifest at `tagOrDigest` in `reference`'s repository, or undefined on 404. */
  findManifest(reference: ImageReference, tagOrDigest: string): Promise<FetchedManifest | undefined>;
  /** A blob, checked against `descriptor.digest` and `descriptor.size`, at most `maxBytes`. */
  getBlob(reference: ImageReference, descriptor: Descriptor, maxBytes?: number): Promise<Uint8Array>;
  listTags(reference: ImageReference): Promise<string[]>;
  /**
   * Manifests whose `subject` is `digest` (OCI 1.1 referrers API; when the registry has none, the
   * `sha256-<hex>` tag schema fallback), optionally filtered by artifact type.
   */
  listReferrers(reference: ImageReference, digest: string, artifactType?: string): Promise<Descriptor[]>;
  /** Uploads a blob (monolithic POST + PUT) unless the registry already has it; returns its descriptor. */
  pushBlob(reference: ImageReference, bytes: Uint8Array, mediaType: string): Promise<Descriptor>;
  /** PUTs a manifest or index under `tagOrDigest`; returns its digest. */
  pushManifest(
    reference: ImageReference,
    bytes: Uint8Array,
    mediaType: string,
    tagOrDigest: string,
  ): Promise<string>;
}
