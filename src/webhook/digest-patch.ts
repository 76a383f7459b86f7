import { isDigest } from '../oci/index.ts';
import type { WorkloadImage } from './workload.ts';

/** One RFC 6902 JSON Patch operation; paths are RFC 6901 JSON pointers. */
export type JsonPatchOperation =
  | { readonly op: 'add' | 'replace' | 'test'; readonly path: string; readonly value: unknown }
  | { readonly op: 'remove'; readonly path: string }
  | { readonly op: 'move' | 'copy'; readonly from: string; readonly path: string };

/**
 * Whether `image` is pinned: it ends in `@<digest>` with a well-formed sha256/sha384/sha512 digest
 * (`name@sha256:…` or `name:tag@sha256:…`). A tag alone can move; only a digest names content.
 */
export function isPinned(image: string): boolean {
  const at = image.lastIndexOf('@');
  return at > 0 && isDigest(image.slice(at + 1));
}

/**
 * The patch that pins every image written by tag to the digest it resolved to. `digests` maps an
 * image as written (`WorkloadImage.image`) to its `sha256:…` digest. Each unpinned image found in the
 * map gets one `replace` of its pointer with `<image as written>@<digest>`: the name and tag stay as
 * the user wrote them (`redis:7` → `redis:7@sha256:…`), so the object still reads as it did and the
 * runtime pulls by digest. Pinned images (and malformed ones with an `@`) and images missing from the
 * map get no operation. A digest
 * that is not well-formed is a caller bug (TypeError): it would make the object unpullable.
 */
export function digestPatch(
  images: readonly WorkloadImage[],
  digests: ReadonlyMap<string, string>,
): JsonPatchOperation[] {
  const patch: JsonPatchOperation[] = [];
  for (const { image, pointer } of images) {
    // Pinned, or a malformed `@` no resolver could have answered: appending a digest would not help.
    if (image.includes('@')) continue;
    const digest = digests.get(image);
    if (digest === undefined) continue;
    if (!isDigest(digest)) {
      throw new TypeError(
        `digests[${JSON.stringify(image)}]: expected a digest such as sha256:<64 hex>, received ${JSON.stringify(digest)}`,
      );
    }
    patch.push({ op: 'replace', path: pointer, value: `${image}@${digest}` });
  }
  return patch;
}
