import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { startRegistry, type RunningRegistry } from '../tools/registry.ts';

const sha256 = (data: Uint8Array | string) => `sha256:${createHash('sha256').update(data).digest('hex')}`;

describe('the distribution registry (Debian docker-registry)', () => {
  let registry: RunningRegistry;
  const repository = 'sigil/smoke';

  before(async () => {
    registry = await startRegistry();
  });

  after(() => registry?.stop());

  /** Monolithic upload (OCI distribution spec: POST then PUT with the digest). */
  async function pushBlob(content: Uint8Array): Promise<string> {
    const digest = sha256(content);
    const start = await fetch(`${registry.url}/v2/${repository}/blobs/uploads/`, { method: 'POST' });
    assert.equal(start.status, 202);
    const location = new URL(start.headers.get('location')!, registry.url);
    location.searchParams.set('digest', digest);
    const put = await fetch(location, {
      method: 'PUT',
      headers: { 'content-type': 'application/octet-stream' },
      body: content,
    });
    assert.equal(put.status, 201, await put.text());
    assert.equal(put.headers.get('docker-content-digest'), digest);
    return digest;
  }

  it('stores a blob and a manifest, and serves both back by tag and by digest', async () => {
    const config = new TextEncoder().encode(
      JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] } }),
    );
    const layer = new TextEncoder().encode('sigil layer contents\n');
    const configDigest = await pushBlob(config);
    const layerDigest = await pushBlob(layer);

    const manifest = JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: {
        mediaType: 'application/vnd.oci.image.config.v1+json',
        digest: configDigest,
        size: config.length,
      },
      layers: [
        { mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: layerDigest, size: layer.length },
      ],
    });
    const put = await fetch(`${registry.url}/v2/${repository}/manifests/v1`, {
      method: 'PUT',
      headers: { 'content-type': 'application/vnd.oci.image.manifest.v1+json' },
      body: manifest,
    });
    assert.equal(put.status, 201, await put.text());
    const manifestDigest = sha256(manifest);
    assert.equal(put.headers.get('docker-content-digest'), manifestDigest);

    const byTag = await fetch(`${registry.url}/v2/${repository}/manifests/v1`, {
      headers: { accept: 'application/vnd.oci.image.manifest.v1+json' },
    });
    assert.equal(byTag.status, 200);
    assert.equal(byTag.headers.get('docker-content-digest'), manifestDigest);
    assert.equal(await byTag.text(), manifest);

    const byDigest = await fetch(`${registry.url}/v2/${repository}/manifests/${manifestDigest}`, {
      method: 'HEAD',
      headers: { accept: 'application/vnd.oci.image.manifest.v1+json' },
    });
    assert.equal(byDigest.status, 200);

    const blob = await fetch(`${registry.url}/v2/${repository}/blobs/${layerDigest}`);
    assert.equal(blob.status, 200);
    assert.deepEqual(new Uint8Array(await blob.arrayBuffer()), layer);
  });

  it('refuses a blob whose content does not match its digest', async () => {
    const start = await fetch(`${registry.url}/v2/${repository}/blobs/uploads/`, { method: 'POST' });
    const location = new URL(start.headers.get('location')!, registry.url);
    location.searchParams.set('digest', sha256('something else'));
    const put = await fetch(location, { method: 'PUT', body: 'the real content' });
    assert.equal(put.status, 400);
    assert.equal(((await put.json()) as { errors: { code: string }[] }).errors[0]?.code, 'DIGEST_INVALID');
  });
});
