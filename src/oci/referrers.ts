import { decodeUtf8, parseJson } from '../core/index.ts';
import { describeDigestProblem } from './digest.ts';
import { OciError } from './errors.ts';
import type { RegistryHttp } from './internal/registry-http.ts';
import { header, readBody } from './internal/transport.ts';
import { MEDIA_TYPES, parseManifest } from './manifest.ts';
import type { Descriptor, ImageIndex, ImageManifest, ImageReference } from './oci.types.ts';
import type { RegistryClient } from './registry-client.types.ts';
import { nextPage } from './tags.ts';

/**
 * OCI distribution spec v1.1 "Listing Referrers": `GET /v2/<name>/referrers/<digest>[?artifactType=]`
 * answers an image index of the manifests whose `subject` is `digest`. A registry without the API
 * answers 404; then the referrers tag schema stands in: an index tagged `<alg>-<hex>` that clients
 * maintain themselves when they push a manifest with a subject ("Pushing Manifests with Subject").
 */

/** Registries whose 404 showed they have no referrers route, per client (asked once, not per image). */
const withoutReferrersApi = new WeakMap<RegistryHttp, Set<string>>();

/** The referrers tag schema: `<alg>-<encoded>`, the algorithm cut to 32 and the encoded part to 64 characters. */
export function referrersTag(digest: string): string {
  const problem = describeDigestProblem(digest);
  if (problem) throw new OciError('OCI_REFERENCE_INVALID', `referrers subject digest: ${problem}`);
  const [algorithm = '', encoded = ''] = digest.split(':');
  return `${algorithm.slice(0, 32)}-${encoded.slice(0, 64)}`;
}

export async function listReferrers(
  http: RegistryHttp,
  client: RegistryClient,
  reference: ImageReference,
  digest: string,
  artifactType: string | undefined,
): Promise<Descriptor[]> {
  const tag = referrersTag(digest);
  const unsupported = withoutReferrersApi.get(http) ?? new Set<string>();
  withoutReferrersApi.set(http, unsupported);
  const filter = (descriptors: readonly Descriptor[]) =>
    descriptors.filter(
      (descriptor) => artifactType === undefined || descriptor.artifactType === artifactType,
    );

  if (!unsupported.has(reference.registry)) {
    const fromApi = await fromReferrersApi(http, reference, digest, artifactType);
    if (Array.isArray(fromApi)) return filter(fromApi);
    if (fromApi === 'no-route') unsupported.add(reference.registry);
  }
  const index = await client.findManifest(reference, tag);
  if (index === undefined) return [];
  if (index.manifest.kind !== 'index') {
    throw new OciError(
      'OCI_MANIFEST_INVALID',
      `referrers tag ${reference.repository}:${tag}: expected an image index, received a manifest`,
    );
  }
  return filter(index.manifest.manifests);
}

/**
 * The API's answer, all pages. On 404: 'no-route' when the body is not a distribution error (the
 * registry has no such route: remembered), 'not-found' when it is (an unknown repository, or a
 * registry that words its missing routes that way: the tag schema is asked, not remembered).
 */
async function fromReferrersApi(
  http: RegistryHttp,
  reference: ImageReference,
  digest: string,
  artifactType: string | undefined,
): Promise<Descriptor[] | 'no-route' | 'not-found'> {
  const origin = http.baseUrl(reference.registry).origin;
  const query = artifactType === undefined ? '' : `?artifactType=${encodeURIComponent(artifactType)}`;
  let url: URL | undefined = new URL(`/v2/${reference.repository}/referrers/${digest}${query}`, origin);
  const what = `referrers of ${reference.repository}@${digest}`;
  const descriptors: Descriptor[] = [];
  for (let page = 0; url !== undefined; page++) {
    if (page >= http.options.maxTagPages) {
      throw new OciError(
        'OCI_TOO_LARGE',
        `${what} in registry ${reference.registry}: more than ${page} pages`,
      );
    }
    const response = await http.send(reference, {
      method: 'GET',
      path: url,
      headers: { accept: MEDIA_TYPES.ociIndex },
      actions: 'pull',
    });
    if (response.status === 404 && page === 0) {
      // A registry with the API answers 200 (an empty index) for an unknown subject.
      const { bytes } = await readBody(response, { maxBytes: 16 * 1024, what }).catch(() => ({
        bytes: new Uint8Array(),
      }));
      return isDistributionError(bytes) ? 'not-found' : 'no-route';
    }
    if (response.status !== 200) return http.fail(reference, response, what);
    const { bytes } = await readBody(response, {
      maxBytes: http.options.maxManifestBytes,
      what: `${what} from ${reference.registry}`,
    });
    const parsed = parseManifest(
      bytes,
      header(response.headers, 'content-type'),
      `${what} from ${reference.registry}`,
    );
    if (parsed.manifest.kind !== 'index') {
      throw new OciError(
        'OCI_MANIFEST_INVALID',
        `${what} from ${reference.registry}: expected an image index`,
      );
    }
    descriptors.push(...parsed.manifest.manifests);
    url = nextPage(response, url, origin, reference.registry);
  }
  return descriptors;
}

type PushManifestBytes = (
  reference: ImageReference,
  bytes: Uint8Array,
  mediaType: string,
  tagOrDigest: string,
) => Promise<{ digest: string }>;

/**
 * After pushing `manifest` (which has a subject) to a registry that did not answer `OCI-Subject`: adds
 * its descriptor to the referrers tag index of the subject, creating the index when there is none.
 * Not atomic: two clients updating one tag at once can lose an entry (the spec accepts this).
 */
export async function recordReferrer(
  client: RegistryClient,
  reference: ImageReference,
  manifest: ImageManifest | ImageIndex,
  pushed: { mediaType: string; digest: string; size: number },
  push: PushManifestBytes,
): Promise<void> {
  const subject = manifest.subject!;
  const tag = referrersTag(subject.digest);
  const artifactType =
    manifest.kind === 'manifest' ? (manifest.artifactType ?? manifest.config.mediaType) : undefined;
  const entry = {
    mediaType: pushed.mediaType,
    digest: pushed.digest,
    size: pushed.size,
    ...(artifactType === undefined ? {} : { artifactType }),
    ...(manifest.annotations ? { annotations: manifest.annotations } : {}),
  };
  const existing = await client.findManifest(reference, tag);
  let index: { schemaVersion: 2; mediaType: string; manifests: unknown[] } & Record<string, unknown>;
  if (existing === undefined) {
    index = { schemaVersion: 2, mediaType: MEDIA_TYPES.ociIndex, manifests: [] };
  } else if (existing.manifest.kind !== 'index') {
    throw new OciError(
      'OCI_MANIFEST_INVALID',
      `referrers tag ${reference.repository}:${tag}: expected an image index, received a manifest`,
    );
  } else {
    if (existing.manifest.manifests.some((descriptor) => descriptor.digest === pushed.digest)) return;
    // Keep the index as it was (fields Sigil does not model included), with one more entry.
    index = parseJson(decodeUtf8(existing.bytes)) as typeof index;
  }
  index.manifests.push(entry);
  const bytes = new TextEncoder().encode(JSON.stringify(index));
  await push(reference, bytes, MEDIA_TYPES.ociIndex, tag);
}

function isDistributionError(bytes: Uint8Array): boolean {
  try {
    const json = JSON.parse(Buffer.from(bytes).toString('utf8')) as { errors?: unknown };
    return Array.isArray(json.errors);
  } catch {
    return false;
  }
}
