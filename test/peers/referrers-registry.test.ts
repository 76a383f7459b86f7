import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { startReferrersRegistry } from '../tools/referrers-registry.ts';
import { startRegistry, type RunningRegistry } from '../tools/registry.ts';

// OCI distribution spec v1.1 "Listing Referrers" and "Pushing Manifests with Subject", with raw fetch.

const sha256 = (data: Uint8Array | string) => `sha256:${createHash('sha256').update(data).digest('hex')}`;
const ociManifest = 'application/vnd.oci.image.manifest.v1+json';
const ociIndex = 'application/vnd.oci.image.index.v1+json';
const bundleType = 'application/vnd.dev.sigstore.bundle.v0.3+json';
const inTotoType = 'application/vnd.in-toto+json';

interface Index {
  schemaVersion: number;
  mediaType: string;
  manifests: { mediaType: string; digest: string; size: number; artifactType?: string }[];
}

async function pushBlob(registry: RunningRegistry, repository: string, content: string) {
  const digest = sha256(content);
  const start = await fetch(`${registry.url}/v2/${repository}/blobs/uploads/`, { method: 'POST' });
  assert.equal(start.status, 202);
  const location = new URL(start.headers.get('location')!, registry.url);
  location.searchParams.set('digest', digest);
  const put = await fetch(location, { method: 'PUT', body: content });
  assert.equal(put.status, 201, await put.text());
  return { digest, size: Buffer.byteLength(content) };
}

async function pushManifest(registry: RunningRegistry, repository: string, reference: string, body: object) {
  const bytes = JSON.stringify(body);
  const response = await fetch(`${registry.url}/v2/${repository}/manifests/${reference}`, {
    method: 'PUT',
    headers: { 'content-type': ociManifest },
    body: bytes,
  });
  assert.equal(response.status, 201, await response.text());
  return { response, descriptor: { mediaType: ociManifest, digest: sha256(bytes), size: bytes.length } };
}

/** An image (config + one layer), then manifests that name it as their subject. */
async function pushImage(registry: RunningRegistry, repository: string) {
  const config = await pushBlob(registry, repository, '{"architecture":"amd64","os":"linux"}');
  const layer = await pushBlob(registry, repository, 'layer contents\n');
  return pushManifest(registry, repository, 'v1', {
    schemaVersion: 2,
    mediaType: ociManifest,
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config },
    layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', ...layer }],
  });
}

/** cosign v3 `--new-bundle-format` shape: empty config, artifactType on the manifest, the bundle as layer. */
async function pushBundleReferrer(registry: RunningRegistry, repository: string, subject: object) {
  const empty = await pushBlob(registry, repository, '{}');
  const bundle = await pushBlob(
    registry,
    repository,
    '{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json"}',
  );
  const body = {
    schemaVersion: 2,
    mediaType: ociManifest,
    artifactType: bundleType,
    config: { mediaType: 'application/vnd.oci.empty.v1+json', ...empty },
    layers: [{ mediaType: bundleType, ...bundle }],
    subject,
  };
  return pushManifest(registry, repository, sha256(JSON.stringify(body)), body);
}

describe('the referrers registry (go-containerregistry with the OCI 1.1 referrers API)', () => {
  let registry: RunningRegistry;
  const repository = 'sigil/referrers';
  let image: { mediaType: string; digest: string; size: number };
  let bundle: { mediaType: string; digest: string; size: number };
  let attestation: { mediaType: string; digest: string; size: number };
  let subjectHeader: string | null;

  before(async () => {
    registry = await startReferrersRegistry();
    image = (await pushImage(registry, repository)).descriptor;
    const pushed = await pushBundleReferrer(registry, repository, image);
    subjectHeader = pushed.response.headers.get('oci-subject');
    bundle = pushed.descriptor;
    // An artifact typed only by its config media type (no artifactType field).
    const statement = await pushBlob(registry, repository, '{"_type":"https://in-toto.io/Statement/v1"}');
    const body = {
      schemaVersion: 2,
      mediaType: ociManifest,
      config: { mediaType: inTotoType, ...statement },
      layers: [{ mediaType: inTotoType, ...statement }],
      subject: image,
    };
    attestation = (await pushManifest(registry, repository, 'attestation', body)).descriptor;
  });

  after(() => registry?.stop());

  async function referrers(query = ''): Promise<{ response: Response; index: Index }> {
    const response = await fetch(`${registry.url}/v2/${repository}/referrers/${image.digest}${query}`);
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('content-type'), ociIndex);
    return { response, index: (await response.json()) as Index };
  }

  it('answers OCI-Subject to a manifest pushed with a subject', () => {
    assert.equal(subjectHeader, image.digest);
  });

  it('lists every manifest whose subject is the image in an OCI index, with its artifactType', async () => {
    const { response, index } = await referrers();
    assert.equal(response.headers.get('oci-filters-applied'), null);
    assert.equal(index.schemaVersion, 2);
    assert.equal(index.mediaType, ociIndex);
    const expected = [
      { ...bundle, artifactType: bundleType },
      { ...attestation, artifactType: inTotoType },
    ].sort((a, b) => a.digest.localeCompare(b.digest));
    assert.deepEqual(
      index.manifests.map(({ mediaType, digest, size, artifactType }) => ({
        mediaType,
        digest,
        size,
        artifactType,
      })),
      expected,
    );
  });

  it('filters by ?artifactType= and says so in OCI-Filters-Applied', async () => {
    const { response, index } = await referrers(`?artifactType=${encodeURIComponent(bundleType)}`);
    assert.equal(response.headers.get('oci-filters-applied'), 'artifactType');
    assert.deepEqual(
      index.manifests.map((descriptor) => descriptor.digest),
      [bundle.digest],
    );
  });

  it('answers an empty index for a digest nothing refers to', async () => {
    const response = await fetch(
      `${registry.url}/v2/${repository}/referrers/${sha256('nothing refers to me')}`,
    );
    assert.equal(response.status, 200);
    assert.deepEqual(((await response.json()) as Index).manifests, []);
  });
});

describe('the distribution registry (Debian docker-registry 2.8) and referrers', () => {
  let registry: RunningRegistry;
  const repository = 'sigil/no-referrers';

  before(async () => {
    registry = await startRegistry();
  });

  after(() => registry?.stop());

  it('stores a manifest with a subject but answers no OCI-Subject and 404 for the referrers endpoint', async () => {
    const image = (await pushImage(registry, repository)).descriptor;
    const pushed = await pushBundleReferrer(registry, repository, image);
    assert.equal(pushed.response.headers.get('oci-subject'), null);
    const stored = await fetch(`${registry.url}/v2/${repository}/manifests/${pushed.descriptor.digest}`, {
      headers: { accept: ociManifest },
    });
    assert.equal(stored.status, 200);
    assert.equal(((await stored.json()) as { subject: { digest: string } }).subject.digest, image.digest);

    // So a client must fall back to the referrers tag schema (`sha256-<hex>` index tag).
    const response = await fetch(`${registry.url}/v2/${repository}/referrers/${image.digest}`);
    assert.equal(response.status, 404);
  });
});
