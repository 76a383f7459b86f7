import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { loadConnaisseurImages, type ConnaisseurImages } from '../tools/connaisseur-images.ts';
import { startReferrersRegistry } from '../tools/referrers-registry.ts';
import { startRegistry, type RunningRegistry } from '../tools/registry.ts';

// The image manifest digests stated in shared/vectors/connaisseur/README.md.
const statedDigests = {
  'multi-cosigned-alice': 'sha256:071bf7a986f1ca9cb2a1f0bc8392822a7777f90d58f2d2c6f271913e08de7c81',
  'multi-cosigned-alice-bob-charlie':
    'sha256:bfec161fecb0a887df7cb85e4da327c65986ccda7060cf3cd92171c6c90d7533',
  keyless: 'sha256:31dc72a13a0c34b40eb95419d2b2fd67320c856baf3b72da518023ee8d370aee',
};
const signatureLayers = { 'multi-cosigned-alice': 1, 'multi-cosigned-alice-bob-charlie': 3, keyless: 1 };
const accept = [
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json',
].join(', ');

const sha256 = (data: Uint8Array) => `sha256:${createHash('sha256').update(data).digest('hex')}`;

interface SignatureManifest {
  config: { digest: string };
  layers: { mediaType: string; digest: string; annotations: Record<string, string> }[];
}

async function fetchBytes(url: string, headers: Record<string, string> = {}) {
  const response = await fetch(url, { headers });
  assert.equal(response.status, 200, url);
  return { response, bytes: new Uint8Array(await response.arrayBuffer()) };
}

function describeLoadedInto(name: string, start: () => Promise<RunningRegistry>) {
  describe(`connaisseur's cosign test images loaded into ${name}`, () => {
    let registry: RunningRegistry;
    let loaded: ConnaisseurImages;
    let base: string;

    before(async () => {
      registry = await start();
      loaded = await loadConnaisseurImages(registry.url, { storageDirectory: registry.storageDirectory });
      base = `${registry.url}/v2/${loaded.repository}`;
    });

    after(() => registry?.stop());

    it('resolves each image tag to the digest the vectors README states', async () => {
      assert.deepEqual(loaded.images, statedDigests);
      for (const [tag, digest] of Object.entries(statedDigests)) {
        const head = await fetch(`${base}/manifests/${tag}`, { method: 'HEAD', headers: { accept } });
        assert.equal(head.status, 200);
        assert.equal(head.headers.get('docker-content-digest'), digest);
        const { bytes } = await fetchBytes(`${base}/manifests/${digest}`, { accept });
        assert.equal(sha256(bytes), digest);
      }
    });

    it('serves each image’s cosign signature manifest under its sha256-<hex>.sig tag', async () => {
      for (const [tag, digest] of Object.entries(statedDigests)) {
        const signatureTag = `${digest.replace(':', '-')}.sig`;
        const { response, bytes } = await fetchBytes(`${base}/manifests/${signatureTag}`, { accept });
        assert.equal(response.headers.get('docker-content-digest'), loaded.signatures[signatureTag]);
        assert.equal(sha256(bytes), loaded.signatures[signatureTag]);
        const manifest = JSON.parse(Buffer.from(bytes).toString('utf8')) as SignatureManifest;
        assert.equal(manifest.layers.length, signatureLayers[tag as keyof typeof signatureLayers]);
      }
    });

    it('serves every signature layer’s simple-signing payload, naming the signed image digest', async () => {
      for (const [signatureTag, signatureDigest] of Object.entries(loaded.signatures)) {
        const { bytes } = await fetchBytes(`${base}/manifests/${signatureDigest}`, { accept });
        const manifest = JSON.parse(Buffer.from(bytes).toString('utf8')) as SignatureManifest;
        const config = await fetchBytes(`${base}/blobs/${manifest.config.digest}`);
        assert.equal(sha256(config.bytes), manifest.config.digest);
        for (const layer of manifest.layers) {
          assert.equal(layer.mediaType, 'application/vnd.dev.cosign.simplesigning.v1+json');
          assert.ok(layer.annotations['dev.cosignproject.cosign/signature']);
          const payload = await fetchBytes(`${base}/blobs/${layer.digest}`);
          assert.equal(sha256(payload.bytes), layer.digest);
          const simpleSigning = JSON.parse(Buffer.from(payload.bytes).toString('utf8')) as {
            critical: { image: { 'docker-manifest-digest': string } };
          };
          assert.equal(
            `${simpleSigning.critical.image['docker-manifest-digest'].replace(':', '-')}.sig`,
            signatureTag,
          );
        }
      }
    });

    it('names as missing only the images’ own config and layer blobs, which the vectors do not hold', async () => {
      const referenced = new Set<string>();
      for (const digest of Object.values(statedDigests)) {
        const { bytes } = await fetchBytes(`${base}/manifests/${digest}`, { accept });
        const manifest = JSON.parse(Buffer.from(bytes).toString('utf8')) as SignatureManifest;
        for (const descriptor of [manifest.config, ...manifest.layers]) referenced.add(descriptor.digest);
      }
      assert.deepEqual([...loaded.missingBlobs].sort(), [...referenced].sort());
    });
  });
}

describeLoadedInto('the distribution registry (Debian docker-registry)', startRegistry);
describeLoadedInto('the referrers registry', startReferrersRegistry);

describe('loading connaisseur’s images into the distribution registry without its storage directory', () => {
  it('fails: distribution refuses an image manifest whose blobs it lacks (MANIFEST_BLOB_UNKNOWN)', async () => {
    const registry = await startRegistry();
    try {
      await assert.rejects(loadConnaisseurImages(registry.url), /MANIFEST_BLOB_UNKNOWN/);
    } finally {
      await registry.stop();
    }
  });
});
