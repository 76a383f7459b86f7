/**
 * The shapes `src/oci` hands to the rest of Sigil: image references, descriptors, manifests and the
 * signature artifacts found beside an image. Parsed and validated at the edge (reference.ts,
 * manifest parsing); everything here is trusted data.
 */

/** A parsed image reference (distribution `reference` grammar, Docker's normalization). */
export interface ImageReference {
  /** Registry host as used on the wire, with port: `registry-1.docker.io`, `127.0.0.1:5000`. */
  readonly registry: string;
  /** Repository path: `library/nginx`, `sigil/app`. */
  readonly repository: string;
  readonly tag?: string;
  /** `sha256:<64 hex>` (or another registered algorithm) when the reference names one. */
  readonly digest?: string;
  /** The canonical string: `registry/repository[:tag][@digest]`. */
  readonly canonical: string;
}

/** OCI descriptor (image-spec `descriptor.md`). */
export interface Descriptor {
  readonly mediaType: string;
  readonly digest: string;
  readonly size: number;
  readonly annotations?: Readonly<Record<string, string>>;
  readonly artifactType?: string;
  readonly platform?: Platform;
}

export interface Platform {
  readonly architecture: string;
  readonly os: string;
  readonly variant?: string;
}

/** A manifest or index as fetched: its exact bytes (for digests), its digest and its parsed form. */
export interface FetchedManifest {
  readonly digest: string;
  readonly mediaType: string;
  readonly bytes: Uint8Array;
  readonly manifest: ImageManifest | ImageIndex;
}

/** OCI image manifest / Docker v2 schema 2 manifest. */
export interface ImageManifest {
  readonly kind: 'manifest';
  readonly schemaVersion: 2;
  readonly mediaType?: string;
  readonly artifactType?: string;
  readonly config: Descriptor;
  readonly layers: readonly Descriptor[];
  readonly subject?: Descriptor;
  readonly annotations?: Readonly<Record<string, string>>;
}

/** OCI image index / Docker manifest list. */
export interface ImageIndex {
  readonly kind: 'index';
  readonly schemaVersion: 2;
  readonly mediaType?: string;
  readonly manifests: readonly Descriptor[];
  readonly subject?: Descriptor;
  readonly annotations?: Readonly<Record<string, string>>;
}
