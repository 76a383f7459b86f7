import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { vectorPath } from './vectors.ts';

/** The repository connaisseur's mock registry serves, and the one the images are loaded into. */
export const connaisseurRepository = 'securesystemsengineering/testimage';

export interface ConnaisseurImages {
  repository: string;
  /** Image tag → image manifest digest (`multi-cosigned-alice`, `multi-cosigned-alice-bob-charlie`, `keyless`). */
  images: Record<string, string>;
  /** Cosign signature tag (`sha256-<image hex>.sig`) → signature manifest digest. */
  signatures: Record<string, string>;
  /**
   * Config and layer blobs the image manifests reference that the vectors do not hold (the images'
   * own config and filesystem layers). With `storageDirectory` each was planted as a placeholder whose
   * content does NOT hash to its digest; without it the registry holds no blob under that digest.
   */
  missingBlobs: string[];
}

export interface LoadConnaisseurOptions {
  /**
   * The registry's filesystem storage root (`RunningRegistry.storageDirectory`). Distribution refuses a
   * manifest whose blobs it does not hold (MANIFEST_BLOB_UNKNOWN) and verifies every pushed blob's
   * digest, so the blobs missing from the vectors can only be planted in its storage. Default: none,
   * for registries that accept such manifests (the referrers registry).
   */
  storageDirectory?: string;
  /** Sent as the Authorization header of every request (e.g. `Bearer <token>` for a token-auth registry). */
  authorization?: string;
}

type Send = (url: string | URL, init?: RequestInit) => Promise<Response>;

const manifestMediaTypes = [
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
];

interface Descriptor {
  digest: string;
}
interface Manifest {
  mediaType?: string;
  config?: Descriptor;
  layers?: Descriptor[];
}

const sha256 = (bytes: Uint8Array | string) => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

/**
 * Pushes connaisseur's cosign test images (shared/vectors/connaisseur/cosign/securesystemsengineering/
 * testimage: manifests by tag, blobs by digest) into a registry with raw HTTP, each manifest byte for
 * byte so its digest is the one the vectors' README states; checks each with a HEAD by tag.
 * `co-unsigned` is left out: its manifest is `{}`, which no registry stores.
 */
export async function loadConnaisseurImages(
  registryUrl: string,
  options: LoadConnaisseurOptions = {},
): Promise<ConnaisseurImages> {
  const root = vectorPath('connaisseur/cosign/securesystemsengineering/testimage');
  const send: Send = (url, init = {}) =>
    fetch(url, {
      ...init,
      headers: {
        ...(init.headers as Record<string, string> | undefined),
        ...(options.authorization ? { authorization: options.authorization } : {}),
      },
    });
  const blobs = new Map<string, Buffer>();
  for (const file of await readdir(join(root, 'blobs'))) {
    blobs.set(file.replace(/\.json$/, ''), await readFile(join(root, 'blobs', file)));
  }
  const manifests: { tag: string; bytes: Buffer; manifest: Manifest }[] = [];
  for (const file of (await readdir(join(root, 'manifests'))).sort()) {
    const bytes = await readFile(join(root, 'manifests', file));
    const manifest = JSON.parse(bytes.toString('utf8')) as Manifest;
    if (!manifest.mediaType) continue;
    manifests.push({ tag: file.replace(/\.json$/, ''), bytes, manifest });
  }
  for (const { manifest } of manifests) addCosignConfig(manifest, blobs);

  const result: ConnaisseurImages = {
    repository: connaisseurRepository,
    images: {},
    signatures: {},
    missingBlobs: [],
  };
  const base = `${registryUrl}/v2/${connaisseurRepository}`;
  for (const { tag, bytes, manifest } of manifests) {
    for (const { digest } of [manifest.config, ...(manifest.layers ?? [])].filter((d) => d !== undefined)) {
      if ((await send(`${base}/blobs/${digest}`, { method: 'HEAD' })).status === 200) continue;
      const content = blobs.get(digest);
      if (content) {
        await pushBlob(send, base, digest, content);
        continue;
      }
      if (!result.missingBlobs.includes(digest)) result.missingBlobs.push(digest);
      if (options.storageDirectory) await plantPlaceholder(options.storageDirectory, digest);
    }
    const digest = await pushManifest(send, base, tag, bytes, manifest.mediaType!);
    (tag.endsWith('.sig') ? result.signatures : result.images)[tag] = digest;
  }
  return result;
}

/**
 * A cosign signature image's config is not in the vectors, but cosign writes it deterministically (an
 * empty go-containerregistry image config with one history entry and diff_id per layer), so it is
 * rebuilt here and kept only when it hashes to the digest the manifest names.
 */
function addCosignConfig(manifest: Manifest, blobs: Map<string, Buffer>): void {
  const layers = manifest.layers ?? [];
  if (!manifest.config || !layers.length || blobs.has(manifest.config.digest)) return;
  const config = Buffer.from(
    JSON.stringify({
      architecture: '',
      created: '0001-01-01T00:00:00Z',
      history: layers.map(() => ({ created: '0001-01-01T00:00:00Z' })),
      os: '',
      rootfs: { type: 'layers', diff_ids: layers.map((layer) => layer.digest) },
      config: {},
    }),
  );
  if (sha256(config) === manifest.config.digest) blobs.set(manifest.config.digest, config);
}

/** Monolithic upload (distribution spec: POST, then PUT with `?digest=`); the registry checks the digest. */
async function pushBlob(send: Send, base: string, digest: string, content: Uint8Array): Promise<void> {
  const start = await send(`${base}/blobs/uploads/`, { method: 'POST' });
  const location = start.headers.get('location');
  if (start.status !== 202 || !location) {
    throw new Error(
      `blob upload start for ${digest}: expected 202 with a location, received ${start.status}`,
    );
  }
  const url = new URL(location, base);
  url.searchParams.set('digest', digest);
  const put = await send(url, {
    method: 'PUT',
    headers: { 'content-type': 'application/octet-stream' },
    body: content,
  });
  if (put.status !== 201)
    throw new Error(`blob ${digest}: expected 201, received ${put.status} ${await put.text()}`);
}

async function pushManifest(
  send: Send,
  base: string,
  tag: string,
  bytes: Buffer,
  mediaType: string,
): Promise<string> {
  const expected = sha256(bytes);
  const put = await send(`${base}/manifests/${tag}`, {
    method: 'PUT',
    headers: { 'content-type': mediaType },
    body: bytes,
  });
  if (put.status !== 201) {
    throw new Error(`manifest ${tag}: expected 201, received ${put.status} ${await put.text()}`);
  }
  const head = await send(`${base}/manifests/${tag}`, {
    method: 'HEAD',
    headers: { accept: manifestMediaTypes.join(', ') },
  });
  const served = head.headers.get('docker-content-digest');
  if (head.status !== 200 || served !== expected) {
    throw new Error(
      `manifest ${tag}: expected HEAD 200 with digest ${expected}, received ${head.status} ${served}`,
    );
  }
  return expected;
}

/**
 * Writes a blob into distribution's filesystem layout (registry/storage/paths.go): the content under
 * blobs/, and the repository's layer link that makes it part of the repository.
 */
async function plantPlaceholder(storageDirectory: string, digest: string): Promise<void> {
  const hex = digest.slice('sha256:'.length);
  const v2 = join(storageDirectory, 'docker', 'registry', 'v2');
  const data = join(v2, 'blobs', 'sha256', hex.slice(0, 2), hex);
  const link = join(v2, 'repositories', connaisseurRepository, '_layers', 'sha256', hex);
  await mkdir(data, { recursive: true });
  await mkdir(link, { recursive: true });
  await writeFile(join(data, 'data'), `placeholder: the connaisseur vectors do not hold blob ${digest}\n`);
  await writeFile(join(link, 'link'), digest);
}
