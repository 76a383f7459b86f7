import { describeDigestProblem, digestAlgorithm, digestOf, isDigest } from './digest.ts';
import { OciError } from './errors.ts';
import { discard, header, readBody } from './internal/transport.ts';
import { RegistryHttp } from './internal/registry-http.ts';
import { MANIFEST_ACCEPT, parseManifest } from './manifest.ts';
import type { Descriptor, FetchedManifest, ImageReference } from './oci.types.ts';
import { listReferrers, recordReferrer } from './referrers.ts';
import { resolveRegistryClientOptions, type RegistryClientOptions } from './registry-options.ts';
import type { RegistryClient } from './registry-client.types.ts';
import { listTags } from './tags.ts';
import { ContentCache } from './internal/content-cache.ts';

/** A RegistryClient that owns connections: `close()` ends them (a CLI run, a test). */
export interface ClosableRegistryClient extends RegistryClient {
  /** Closes the client's connection pool; the client MUST NOT be used afterwards. */
  close(): Promise<void>;
}

const TAG = /^[\w][\w.-]{0,127}$/;

/**
 * A registry client on undici (OCI distribution spec v1.1, Docker registry v2). Options are resolved
 * once (see RegistryClientOptions for units and defaults); misuse throws TypeError. One connection
 * pool, token cache and challenge memory per client: create one per process and reuse it.
 */
export function createRegistryClient(options: RegistryClientOptions = {}): ClosableRegistryClient {
  const resolved = resolveRegistryClientOptions(options);
  const http = new RegistryHttp(resolved);
  const blobs = new ContentCache<Uint8Array>(resolved.contentCacheBytes);
  const manifests = new ContentCache<FetchedManifest & { readonly byteLength: number }>(
    resolved.contentCacheBytes,
  );

  async function fetchManifest(
    reference: ImageReference,
    tagOrDigest: string,
    allowMissing: boolean,
  ): Promise<FetchedManifest | undefined> {
    checkTagOrDigest(tagOrDigest);
    const cached = isDigest(tagOrDigest)
      ? manifests.get(reference.registry, reference.repository, tagOrDigest)
      : undefined;
    if (cached) return cached;
    const what = `manifest ${reference.repository}${isDigest(tagOrDigest) ? '@' : ':'}${tagOrDigest}`;
    const response = await http.send(reference, {
      method: 'GET',
      path: manifestPath(reference, tagOrDigest),
      headers: { accept: MANIFEST_ACCEPT },
      actions: 'pull',
    });
    if (response.status === 404 && allowMissing) {
      await discard(response.body);
      return undefined;
    }
    if (response.status !== 200) return http.fail(reference, response, what);
    const byDigest = isDigest(tagOrDigest);
    const algorithm = byDigest ? digestAlgorithm(tagOrDigest) : 'sha256';
    const { bytes, digest } = await readBody(response, {
      maxBytes: resolved.maxManifestBytes,
      what: `${what} from ${reference.registry}`,
      digestAlgorithm: algorithm,
    });
    const computed = digest!;
    if (byDigest && computed !== tagOrDigest) {
      throw new OciError(
        'OCI_DIGEST_MISMATCH',
        `${what} from ${reference.registry}: content hashes to ${computed}`,
      );
    }
    const announced = header(response.headers, 'docker-content-digest');
    if (announced !== undefined && announced.startsWith(`${algorithm}:`) && announced !== computed) {
      throw new OciError(
        'OCI_DIGEST_MISMATCH',
        `${what} from ${reference.registry}: registry announced ${announced}, content hashes to ${computed}`,
      );
    }
    const parsed = parseManifest(
      bytes,
      header(response.headers, 'content-type'),
      `${what} from ${reference.registry}`,
    );
    const fetched = Object.freeze({
      digest: computed,
      mediaType: parsed.mediaType,
      bytes,
      manifest: parsed.manifest,
    });
    manifests.set(reference.registry, reference.repository, computed, {
      ...fetched,
      byteLength: bytes.byteLength,
    });
    return fetched;
  }

  async function pushManifestBytes(
    reference: ImageReference,
    bytes: Uint8Array,
    mediaType: string,
    tagOrDigest: string,
  ): Promise<{ digest: string; subjectHandled: boolean }> {
    checkTagOrDigest(tagOrDigest);
    const digest = isDigest(tagOrDigest) ? digestOf(bytes, digestAlgorithm(tagOrDigest)) : digestOf(bytes);
    if (isDigest(tagOrDigest) && digest !== tagOrDigest) {
      throw new OciError('OCI_DIGEST_MISMATCH', `manifest to push as ${tagOrDigest} hashes to ${digest}`);
    }
    const what = `pushing manifest ${reference.repository}:${tagOrDigest}`;
    const response = await http.send(reference, {
      method: 'PUT',
      path: manifestPath(reference, tagOrDigest),
      headers: { 'content-type': mediaType },
      body: bytes,
      actions: 'pull,push',
    });
    if (response.status !== 201 && response.status !== 200) return http.fail(reference, response, what);
    await discard(response.body);
    const announced = header(response.headers, 'docker-content-digest');
    if (
      announced !== undefined &&
      announced.startsWith('sha256:') &&
      digest.startsWith('sha256:') &&
      announced !== digest
    ) {
      throw new OciError(
        'OCI_DIGEST_MISMATCH',
        `${what}: registry stored ${announced}, the manifest hashes to ${digest}`,
      );
    }
    return { digest, subjectHandled: header(response.headers, 'oci-subject') !== undefined };
  }

  const client: ClosableRegistryClient = {
    async resolveDigest(reference) {
      if (reference.digest !== undefined) return reference.digest;
      const tag = reference.tag ?? 'latest';
      const response = await http.send(reference, {
        method: 'HEAD',
        path: manifestPath(reference, tag),
        headers: { accept: MANIFEST_ACCEPT },
        actions: 'pull',
      });
      if (response.status !== 200)
        return http.fail(reference, response, `manifest ${reference.repository}:${tag}`);
      await discard(response.body);
      const announced = header(response.headers, 'docker-content-digest');
      if (announced !== undefined && isDigest(announced)) return announced;
      // A registry that answers HEAD without the digest: hash the manifest itself.
      const fetched = await fetchManifest(reference, tag, false);
      return fetched!.digest;
    },

    async getManifest(reference) {
      const fetched = await fetchManifest(reference, reference.digest ?? reference.tag ?? 'latest', false);
      return fetched!;
    },

    findManifest(reference, tagOrDigest) {
      return fetchManifest(reference, tagOrDigest, true);
    },

    async getBlob(reference, descriptor, maxBytes = resolved.maxBlobBytes) {
      const problem = describeDigestProblem(descriptor.digest);
      if (problem) throw new OciError('OCI_MANIFEST_INVALID', `blob descriptor digest: ${problem}`);
      const what = `blob ${reference.repository}@${descriptor.digest}`;
      if (!Number.isSafeInteger(descriptor.size) || descriptor.size < 0) {
        throw new OciError('OCI_MANIFEST_INVALID', `${what}: descriptor size must be a non-negative integer`);
      }
      if (descriptor.size > maxBytes) {
        throw new OciError(
          'OCI_TOO_LARGE',
          `${what}: expected at most ${maxBytes} bytes, descriptor declares ${descriptor.size}`,
        );
      }
      const cached = blobs.get(reference.registry, reference.repository, descriptor.digest);
      if (cached && cached.byteLength === descriptor.size) return cached;
      const response = await http.send(reference, {
        method: 'GET',
        path: `/v2/${reference.repository}/blobs/${descriptor.digest}`,
        actions: 'pull',
        followRedirects: true,
      });
      if (response.status !== 200) return http.fail(reference, response, what);
      let read: { bytes: Uint8Array; digest?: string };
      try {
        read = await readBody(response, {
          maxBytes: descriptor.size,
          what: `${what} from ${reference.registry}`,
          digestAlgorithm: digestAlgorithm(descriptor.digest),
        });
      } catch (error) {
        if (error instanceof OciError && error.code === 'OCI_TOO_LARGE') {
          throw new OciError(
            'OCI_DIGEST_MISMATCH',
            `${what}: content is larger than the declared ${descriptor.size} bytes`,
          );
        }
        throw error;
      }
      if (read.bytes.byteLength !== descriptor.size) {
        throw new OciError(
          'OCI_DIGEST_MISMATCH',
          `${what}: expected ${descriptor.size} bytes, received ${read.bytes.byteLength}`,
        );
      }
      if (read.digest !== descriptor.digest) {
        throw new OciError('OCI_DIGEST_MISMATCH', `${what}: content hashes to ${read.digest}`);
      }
      blobs.set(reference.registry, reference.repository, descriptor.digest, read.bytes);
      return read.bytes;
    },

    listTags(reference) {
      return listTags(http, reference);
    },

    listReferrers(reference, digest, artifactType) {
      return listReferrers(http, client, reference, digest, artifactType);
    },

    async pushBlob(reference, bytes, mediaType) {
      const digest = digestOf(bytes);
      const descriptor: Descriptor = Object.freeze({ mediaType, digest, size: bytes.byteLength });
      const blobPath = `/v2/${reference.repository}/blobs/${digest}`;
      const what = `pushing blob ${reference.repository}@${digest}`;
      const head = await http.send(reference, { method: 'HEAD', path: blobPath, actions: 'pull,push' });
      await discard(head.body);
      if (head.status === 200) return descriptor;
      if (head.status !== 404) return http.fail(reference, head, what);

      const start = await http.send(reference, {
        method: 'POST',
        path: `/v2/${reference.repository}/blobs/uploads/`,
        actions: 'pull,push',
      });
      if (start.status !== 202) return http.fail(reference, start, what);
      await discard(start.body);
      const location = header(start.headers, 'location');
      if (!location)
        throw new OciError(
          'OCI_REGISTRY_ERROR',
          `${what}: registry ${reference.registry} gave no upload Location`,
        );
      const upload = new URL(location, http.baseUrl(reference.registry));
      upload.searchParams.set('digest', digest);
      const put = await http.send(reference, {
        method: 'PUT',
        path: upload,
        headers: { 'content-type': 'application/octet-stream' },
        body: bytes,
        actions: 'pull,push',
      });
      if (put.status !== 201) return http.fail(reference, put, what);
      await discard(put.body);
      const stored = header(put.headers, 'docker-content-digest');
      if (stored !== undefined && stored !== digest) {
        throw new OciError('OCI_DIGEST_MISMATCH', `${what}: registry stored ${stored}`);
      }
      return descriptor;
    },

    async pushManifest(reference, bytes, mediaType, tagOrDigest) {
      // Parse first: never push what Sigil itself could not read back.
      const { manifest } = parseManifest(bytes, mediaType, `manifest to push to ${reference.repository}`);
      const { digest, subjectHandled } = await pushManifestBytes(reference, bytes, mediaType, tagOrDigest);
      if (manifest.subject && !subjectHandled) {
        await recordReferrer(
          client,
          reference,
          manifest,
          { mediaType, digest, size: bytes.byteLength },
          pushManifestBytes,
        );
      }
      return digest;
    },

    close() {
      return http.close();
    },
  };
  return Object.freeze(client);
}

function manifestPath(reference: ImageReference, tagOrDigest: string): string {
  return `/v2/${reference.repository}/manifests/${tagOrDigest}`;
}

function checkTagOrDigest(tagOrDigest: string): void {
  if (isDigest(tagOrDigest) || TAG.test(tagOrDigest)) return;
  throw new OciError(
    'OCI_REFERENCE_INVALID',
    `expected a tag or a digest, received ${JSON.stringify(tagOrDigest.slice(0, 140))}`,
  );
}
