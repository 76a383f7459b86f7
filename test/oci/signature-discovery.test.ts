// Signature discovery against the real distribution registry (Debian docker-registry 2.8: no referrers
// API, so referrer bundles come through the tag-schema fallback) and the referrers registry (the OCI
// 1.1 API): cosign `.sig`/`.att` tags, a separate signature repository, a tag prefix, Sigstore bundles
// as referrers, and per-platform reporting for a multi-arch index.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { MEDIA_TYPES } from '../../src/oci/manifest.ts';
import { parseImageReference, withDigest, withTag } from '../../src/oci/reference.ts';
import { createRegistryClient, type ClosableRegistryClient } from '../../src/oci/registry-client.ts';
import {
  DSSE_ENVELOPE_MEDIA_TYPE,
  SIMPLE_SIGNING_MEDIA_TYPE,
  cosignTag,
  discoverSignatures,
} from '../../src/oci/signature-discovery.ts';
import { discoverImageArtifacts } from '../../src/oci/platform-signatures.ts';
import type { ImageReference } from '../../src/oci/oci.types.ts';
import { rejectsWith } from './oci-assertions.ts';
import { startReferrersRegistry } from '../tools/referrers-registry.ts';
import { startRegistry, type RunningRegistry } from '../tools/registry.ts';

const encoder = new TextEncoder();
const json = (value: unknown) => encoder.encode(JSON.stringify(value));
const OCI_CONFIG = 'application/vnd.oci.image.config.v1+json';
const BUNDLE_TYPE = 'application/vnd.dev.sigstore.bundle.v0.3+json';

async function pushImage(
  client: ClosableRegistryClient,
  reference: ImageReference,
  tag: string,
  text: string,
) {
  const config = await client.pushBlob(reference, json({ os: 'linux', architecture: tag }), OCI_CONFIG);
  const layer = await client.pushBlob(
    reference,
    encoder.encode(text),
    'application/vnd.oci.image.layer.v1.tar',
  );
  const bytes = json({ schemaVersion: 2, mediaType: MEDIA_TYPES.ociManifest, config, layers: [layer] });
  const digest = await client.pushManifest(reference, bytes, MEDIA_TYPES.ociManifest, tag);
  return { digest, size: bytes.byteLength };
}

/** A cosign-like `.sig`/`.att` manifest at `tag` in `repository`, one layer per payload. */
async function pushCosignTag(
  client: ClosableRegistryClient,
  repository: ImageReference,
  tag: string,
  mediaType: string,
  payloads: readonly string[],
) {
  const config = await client.pushBlob(repository, json({}), OCI_CONFIG);
  const layers = [];
  for (const [i, payload] of payloads.entries()) {
    layers.push({
      ...(await client.pushBlob(repository, encoder.encode(payload), mediaType)),
      annotations: { n: String(i) },
    });
  }
  await client.pushManifest(
    repository,
    json({ schemaVersion: 2, mediaType: MEDIA_TYPES.ociManifest, config, layers }),
    MEDIA_TYPES.ociManifest,
    tag,
  );
}

/** A Sigstore bundle artifact referring to `subject`, as cosign v3 attaches one. */
async function pushReferrer(
  client: ClosableRegistryClient,
  repository: ImageReference,
  subject: { digest: string; size: number },
  bundle: string,
) {
  const config = await client.pushBlob(repository, encoder.encode('{}'), 'application/vnd.oci.empty.v1+json');
  const layer = await client.pushBlob(repository, encoder.encode(bundle), BUNDLE_TYPE);
  const bytes = json({
    schemaVersion: 2,
    mediaType: MEDIA_TYPES.ociManifest,
    artifactType: BUNDLE_TYPE,
    config,
    layers: [layer],
    subject: { mediaType: MEDIA_TYPES.ociManifest, ...subject },
    annotations: { 'dev.sigstore.bundle.content': 'dsse-envelope' },
  });
  const { digestOf } = await import('../../src/oci/digest.ts');
  return client.pushManifest(repository, bytes, MEDIA_TYPES.ociManifest, digestOf(bytes));
}

for (const kind of ['distribution 2.8 (tag-schema fallback)', 'referrers registry (OCI 1.1 API)'] as const) {
  describe(`discoverSignatures on the ${kind}`, () => {
    let registry: RunningRegistry;
    let client: ClosableRegistryClient;
    let app: ImageReference;

    before(async () => {
      registry = kind.startsWith('distribution') ? await startRegistry() : await startReferrersRegistry();
      client = createRegistryClient({ retries: 0 });
      app = parseImageReference(`${registry.host}/sigil/discovery:v1`);
    });

    after(async () => {
      await client?.close();
      await registry?.stop();
    });

    it('finds the .sig and .att layers and the referrer bundles of one digest, each blob fetched', async () => {
      const image = await pushImage(client, app, 'signed', 'signed layer\n');
      await pushCosignTag(client, app, cosignTag(image.digest, 'sig'), SIMPLE_SIGNING_MEDIA_TYPE, [
        'payload one',
        'payload two',
      ]);
      await pushCosignTag(client, app, cosignTag(image.digest, 'att'), DSSE_ENVELOPE_MEDIA_TYPE, [
        '{"payloadType":"x"}',
      ]);
      await pushReferrer(client, app, image, '{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json"}');
      const found = await discoverSignatures(client, withDigest(app, image.digest));
      assert.deepEqual(
        found.signatures.map((layer) => Buffer.from(layer.payload).toString()),
        ['payload one', 'payload two'],
      );
      assert.deepEqual(
        found.signatures.map((layer) => layer.annotations.n),
        ['0', '1'],
      );
      assert.deepEqual(
        found.attestations.map((layer) => Buffer.from(layer.payload).toString()),
        ['{"payloadType":"x"}'],
      );
      assert.equal(found.bundles.length, 1);
      assert.equal(found.bundles[0]!.artifactType, BUNDLE_TYPE);
      assert.equal(found.bundles[0]!.annotations['dev.sigstore.bundle.content'], 'dsse-envelope');
      assert.match(Buffer.from(found.bundles[0]!.bundle).toString(), /sigstore\.bundle\.v0\.3/);
    });

    it('answers empty lists for an unsigned image', async () => {
      const image = await pushImage(client, app, 'unsigned', 'unsigned layer\n');
      const found = await discoverSignatures(client, withDigest(app, image.digest));
      assert.deepEqual([found.signatures, found.attestations, found.bundles], [[], [], []]);
    });

    it("does not take another digest's signatures", async () => {
      const signed = await pushImage(client, app, 'other-signed', 'other signed\n');
      const plain = await pushImage(client, app, 'other-plain', 'other plain\n');
      await pushCosignTag(client, app, cosignTag(signed.digest, 'sig'), SIMPLE_SIGNING_MEDIA_TYPE, [
        'for signed',
      ]);
      await pushReferrer(client, app, signed, '{"for":"signed"}');
      const found = await discoverSignatures(client, withDigest(app, plain.digest));
      assert.deepEqual([found.signatures, found.bundles], [[], []]);
    });

    it('reads the tags from a separate signature repository, with a tag prefix', async () => {
      const image = await pushImage(client, app, 'elsewhere', 'elsewhere layer\n');
      const signatures = parseImageReference(`${registry.host}/sigil/signatures`);
      await pushCosignTag(
        client,
        signatures,
        cosignTag(image.digest, 'sig', 'v2-'),
        SIMPLE_SIGNING_MEDIA_TYPE,
        ['kept apart'],
      );
      const found = await discoverSignatures(client, withDigest(app, image.digest), {
        signatureRepository: signatures,
        tagPrefix: 'v2-',
      });
      assert.deepEqual(
        found.signatures.map((layer) => Buffer.from(layer.payload).toString()),
        ['kept apart'],
      );
    });

    it('refuses a reference without a digest (OCI_REFERENCE_INVALID)', async () => {
      await rejectsWith(discoverSignatures(client, withTag(app, 'v1')), 'OCI_REFERENCE_INVALID');
    });

    it('reports which platform manifests of a multi-arch image are signed', async () => {
      const amd64 = await pushImage(client, app, 'amd64', 'amd64 layer\n');
      const arm64 = await pushImage(client, app, 'arm64', 'arm64 layer\n');
      const platform = (image: { digest: string; size: number }, architecture: string) => ({
        mediaType: MEDIA_TYPES.ociManifest,
        ...image,
        platform: { architecture, os: 'linux' },
      });
      const index = json({
        schemaVersion: 2,
        mediaType: MEDIA_TYPES.ociIndex,
        manifests: [platform(amd64, 'amd64'), platform(arm64, 'arm64')],
      });
      const indexDigest = await client.pushManifest(app, index, MEDIA_TYPES.ociIndex, 'multi');
      await pushCosignTag(client, app, cosignTag(indexDigest, 'sig'), SIMPLE_SIGNING_MEDIA_TYPE, [
        'index signature',
      ]);
      await pushCosignTag(client, app, cosignTag(amd64.digest, 'sig'), SIMPLE_SIGNING_MEDIA_TYPE, [
        'amd64 signature',
      ]);
      const report = await discoverImageArtifacts(client, withDigest(app, indexDigest));
      assert.equal(report.image.signatures.length, 1);
      assert.deepEqual(
        report.platforms.map((entry) => [entry.platform, entry.artifacts.signatures.length]),
        [
          ['linux/amd64', 1],
          ['linux/arm64', 0],
        ],
      );
    });
  });
}
