// The registry client against the real distribution registry (Debian docker-registry 2.8, started by
// test/tools/registry.ts). Faults a real registry cannot be made to produce on demand (content that does
// not hash to its digest, 503s, a blob redirect to another host, Link pagination, which 2.8 ignores) come
// from small in-process HTTP servers, each saying which fault it stands for.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { digestOf } from '../../src/oci/digest.ts';
import { rejectsWith } from './oci-assertions.ts';
import { MEDIA_TYPES } from '../../src/oci/manifest.ts';
import { parseImageReference, withDigest } from '../../src/oci/reference.ts';
import { referrersTag } from '../../src/oci/referrers.ts';
import { createRegistryClient, type ClosableRegistryClient } from '../../src/oci/registry-client.ts';
import { isPlainHttpAllowed } from '../../src/oci/registry-options.ts';
import { staticCredentials } from '../../src/oci/auth/credentials.ts';
import type { Descriptor, ImageReference } from '../../src/oci/oci.types.ts';
import { startReferrersRegistry } from '../tools/referrers-registry.ts';
import { startRegistry, type RunningRegistry } from '../tools/registry.ts';

const encoder = new TextEncoder();
const json = (value: unknown) => encoder.encode(JSON.stringify(value));

/** Pushes a config and one layer, then an OCI manifest of them under `tag`; returns its digest and bytes. */
async function pushImage(
  client: ClosableRegistryClient,
  reference: ImageReference,
  tag: string,
  layerText: string,
) {
  const config = await client.pushBlob(
    reference,
    json({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] } }),
    'application/vnd.oci.image.config.v1+json',
  );
  const layer = await client.pushBlob(
    reference,
    encoder.encode(layerText),
    'application/vnd.oci.image.layer.v1.tar',
  );
  const bytes = json({ schemaVersion: 2, mediaType: MEDIA_TYPES.ociManifest, config, layers: [layer] });
  const digest = await client.pushManifest(reference, bytes, MEDIA_TYPES.ociManifest, tag);
  return { digest, bytes, layer, config };
}

describe('the registry client against the distribution registry', () => {
  let registry: RunningRegistry;
  let client: ClosableRegistryClient;
  let app: ImageReference;

  before(async () => {
    registry = await startRegistry();
    client = createRegistryClient({ retries: 1, retryBaseDelayMs: 10, retryMaxDelayMs: 50 });
    app = parseImageReference(`${registry.host}/sigil/app:v1`);
  });

  after(async () => {
    await client?.close();
    await registry?.stop();
  });

  it('pushes blobs and a manifest, and reads the manifest back with its exact bytes by tag and by digest', async () => {
    const { digest, bytes } = await pushImage(client, app, 'v1', 'layer one\n');
    assert.equal(digest, digestOf(bytes));

    const byTag = await client.getManifest(app);
    assert.equal(byTag.digest, digest);
    assert.deepEqual(byTag.bytes, bytes);
    assert.equal(byTag.mediaType, MEDIA_TYPES.ociManifest);
    assert.equal(byTag.manifest.kind, 'manifest');

    const byDigest = await client.getManifest(withDigest(app, digest));
    assert.deepEqual(byDigest.bytes, bytes);
    assert.equal(await client.resolveDigest(app), digest);
  });

  it('resolves a tag with a warm HEAD in a few milliseconds (one connection pool per client)', async () => {
    await pushImage(client, app, 'warm', 'warm layer\n');
    const reference = parseImageReference(`${registry.host}/sigil/app:warm`);
    await client.resolveDigest(reference);
    const times: number[] = [];
    for (let round = 0; round < 30; round++) {
      const start = performance.now();
      await client.resolveDigest(reference);
      times.push(performance.now() - start);
    }
    times.sort((a, b) => a - b);
    assert.ok(times[15]! < 20, `p50 ${times[15]!.toFixed(2)} ms`);
  });

  it('reads a blob, checked against its digest and size', async () => {
    const { layer } = await pushImage(client, app, 'v2', 'layer two\n');
    assert.equal(new TextDecoder().decode(await client.getBlob(app, layer)), 'layer two\n');
  });

  it('pushing a blob the registry already has uploads nothing and returns the same descriptor', async () => {
    const bytes = encoder.encode('pushed twice\n');
    const first = await client.pushBlob(app, bytes, 'text/plain');
    const second = await client.pushBlob(app, bytes, 'text/plain');
    assert.deepEqual(second, first);
  });

  it('pushes an image index of two platforms and reads it back as an index', async () => {
    const amd64 = await pushImage(client, app, 'amd64', 'amd64 layer\n');
    const arm64 = await pushImage(client, app, 'arm64', 'arm64 layer\n');
    const descriptor = (digest: string, size: number, architecture: string): Descriptor => ({
      mediaType: MEDIA_TYPES.ociManifest,
      digest,
      size,
      platform: { architecture, os: 'linux' },
    });
    const bytes = json({
      schemaVersion: 2,
      mediaType: MEDIA_TYPES.ociIndex,
      manifests: [
        descriptor(amd64.digest, amd64.bytes.length, 'amd64'),
        descriptor(arm64.digest, arm64.bytes.length, 'arm64'),
      ],
    });
    const digest = await client.pushManifest(app, bytes, MEDIA_TYPES.ociIndex, 'multi');
    const fetched = await client.getManifest(parseImageReference(`${registry.host}/sigil/app:multi`));
    assert.equal(fetched.digest, digest);
    assert.equal(fetched.manifest.kind, 'index');
    assert.deepEqual(
      fetched.manifest.kind === 'index' &&
        fetched.manifest.manifests.map((entry) => entry.platform?.architecture),
      ['amd64', 'arm64'],
    );
  });

  it('pushes and reads a Docker v2 schema 2 manifest', async () => {
    const reference = parseImageReference(`${registry.host}/sigil/docker:v1`);
    const config = await client.pushBlob(
      reference,
      json({ os: 'linux' }),
      'application/vnd.docker.container.image.v1+json',
    );
    const bytes = json({ schemaVersion: 2, mediaType: MEDIA_TYPES.dockerManifest, config, layers: [] });
    await client.pushManifest(reference, bytes, MEDIA_TYPES.dockerManifest, 'v1');
    const fetched = await client.getManifest(reference);
    assert.equal(fetched.mediaType, MEDIA_TYPES.dockerManifest);
    assert.deepEqual(fetched.bytes, bytes);
  });

  it('lists the tags of a repository', async () => {
    const reference = parseImageReference(`${registry.host}/sigil/tags`);
    for (const tag of ['a', 'b', 'c']) await pushImage(client, reference, tag, `tag ${tag}\n`);
    assert.deepEqual((await client.listTags(reference)).sort(), ['a', 'b', 'c']);
  });

  describe('when something is missing', () => {
    it('an unknown tag is OCI_NOT_FOUND for getManifest and resolveDigest, and undefined for findManifest', async () => {
      const missing = parseImageReference(`${registry.host}/sigil/app:nope`);
      await rejectsWith(
        client.getManifest(missing),
        'OCI_NOT_FOUND',
        new RegExp(`registry ${registry.host}`),
      );
      await rejectsWith(client.resolveDigest(missing), 'OCI_NOT_FOUND');
      assert.equal(await client.findManifest(missing, 'nope'), undefined);
    });

    it('an unknown repository is OCI_NOT_FOUND for tags and manifests', async () => {
      const nowhere = parseImageReference(`${registry.host}/sigil/nowhere:v1`);
      await rejectsWith(client.listTags(nowhere), 'OCI_NOT_FOUND', /NAME_UNKNOWN/);
      await rejectsWith(client.getManifest(nowhere), 'OCI_NOT_FOUND');
    });

    it('an unknown blob is OCI_NOT_FOUND', async () => {
      const content = encoder.encode('never pushed');
      await rejectsWith(
        client.getBlob(app, { mediaType: 'text/plain', digest: digestOf(content), size: content.length }),
        'OCI_NOT_FOUND',
      );
    });
  });

  describe('when content is larger than allowed', () => {
    it('refuses a blob whose descriptor is above the limit without fetching it', async () => {
      const { layer } = await pushImage(client, app, 'v3', 'a layer of some length\n');
      await rejectsWith(client.getBlob(app, layer, 4), 'OCI_TOO_LARGE', /at most 4 bytes/);
    });

    it('refuses a blob longer than its descriptor says with OCI_DIGEST_MISMATCH', async () => {
      const { layer } = await pushImage(client, app, 'v4', 'twenty-two characters\n');
      await rejectsWith(
        client.getBlob(app, { ...layer, size: layer.size - 1 }),
        'OCI_DIGEST_MISMATCH',
        /larger/,
      );
    });

    it('refuses a manifest above maxManifestBytes', async () => {
      const small = createRegistryClient({ maxManifestBytes: 64 });
      try {
        await rejectsWith(small.getManifest(app), 'OCI_TOO_LARGE', /at most 64 bytes/);
      } finally {
        await small.close();
      }
    });
  });

  it('refuses to push a manifest it could not read back, naming the field', async () => {
    const bytes = json({
      schemaVersion: 2,
      mediaType: MEDIA_TYPES.ociManifest,
      config: { digest: 'sha256:x' },
      layers: [],
    });
    await rejectsWith(
      client.pushManifest(app, bytes, MEDIA_TYPES.ociManifest, 'bad'),
      'OCI_MANIFEST_INVALID',
      /config\.digest/,
    );
  });

  describe('referrers on a registry without the referrers API', () => {
    it('falls back to the sha256-<hex> tag index, which pushing a manifest with a subject maintains', async () => {
      const subject = await pushImage(client, app, 'signed', 'signed layer\n');
      const empty = await client.pushBlob(app, encoder.encode('{}'), MEDIA_TYPES.ociEmpty);
      const artifact = (artifactType: string, text: string) => async () => {
        const layer = await client.pushBlob(
          app,
          encoder.encode(text),
          'application/vnd.dev.sigstore.bundle.v0.3+json',
        );
        const bytes = json({
          schemaVersion: 2,
          mediaType: MEDIA_TYPES.ociManifest,
          artifactType,
          config: empty,
          layers: [layer],
          subject: { mediaType: MEDIA_TYPES.ociManifest, digest: subject.digest, size: subject.bytes.length },
          annotations: { 'dev.sigstore.bundle.predicateType': 'https://sigstore.dev/cosign/sign/v1' },
        });
        const digest = await client.pushManifest(app, bytes, MEDIA_TYPES.ociManifest, digestOf(bytes));
        return { digest, size: bytes.length };
      };
      const bundle = await artifact('application/vnd.dev.sigstore.bundle.v0.3+json', 'bundle one')();
      const sbom = await artifact('application/spdx+json', 'an sbom')();
      // Pushing the same referrer again does not list it twice.
      await artifact('application/vnd.dev.sigstore.bundle.v0.3+json', 'bundle one')();

      const all = await client.listReferrers(app, subject.digest);
      assert.deepEqual(
        all.map((descriptor) => descriptor.digest).sort(),
        [bundle.digest, sbom.digest].sort(),
      );
      const bundles = await client.listReferrers(
        app,
        subject.digest,
        'application/vnd.dev.sigstore.bundle.v0.3+json',
      );
      assert.deepEqual(bundles, [
        {
          mediaType: MEDIA_TYPES.ociManifest,
          digest: bundle.digest,
          size: bundle.size,
          artifactType: 'application/vnd.dev.sigstore.bundle.v0.3+json',
          annotations: { 'dev.sigstore.bundle.predicateType': 'https://sigstore.dev/cosign/sign/v1' },
        },
      ]);
      const index = await client.findManifest(app, referrersTag(subject.digest));
      assert.equal(index?.manifest.kind, 'index');
    });

    it('answers no referrers for an image nothing refers to', async () => {
      const lonely = await pushImage(client, app, 'lonely', 'lonely layer\n');
      assert.deepEqual(await client.listReferrers(app, lonely.digest), []);
    });
  });
});

describe('referrers on a registry with the OCI 1.1 referrers API (test/tools/referrers-registry.ts)', () => {
  let registry: RunningRegistry;
  let client: ClosableRegistryClient;

  before(async () => {
    registry = await startReferrersRegistry();
    client = createRegistryClient({ retries: 0 });
  });

  after(async () => {
    await client?.close();
    await registry?.stop();
  });

  it('lists referrers through the API, filtered by artifact type, and leaves the tag schema alone', async () => {
    const app = parseImageReference(`${registry.host}/sigil/app:v1`);
    const subject = await pushImage(client, app, 'v1', 'subject layer\n');
    const empty = await client.pushBlob(app, encoder.encode('{}'), MEDIA_TYPES.ociEmpty);
    const push = async (artifactType: string) => {
      const bytes = json({
        schemaVersion: 2,
        mediaType: MEDIA_TYPES.ociManifest,
        artifactType,
        config: empty,
        layers: [],
        subject: { mediaType: MEDIA_TYPES.ociManifest, digest: subject.digest, size: subject.bytes.length },
      });
      return client.pushManifest(app, bytes, MEDIA_TYPES.ociManifest, digestOf(bytes));
    };
    const bundle = await push('application/vnd.dev.sigstore.bundle.v0.3+json');
    const sbom = await push('application/spdx+json');

    const all = await client.listReferrers(app, subject.digest);
    assert.deepEqual(all.map((descriptor) => descriptor.digest).sort(), [bundle, sbom].sort());
    const bundles = await client.listReferrers(
      app,
      subject.digest,
      'application/vnd.dev.sigstore.bundle.v0.3+json',
    );
    assert.deepEqual(
      bundles.map((descriptor) => descriptor.digest),
      [bundle],
    );
    // The registry answered OCI-Subject, so the client wrote no sha256-<hex> index of its own.
    assert.equal(await client.findManifest(app, referrersTag(subject.digest)), undefined);
  });

  it('answers no referrers for an image nothing refers to', async () => {
    const app = parseImageReference(`${registry.host}/sigil/lonely:v1`);
    const lonely = await pushImage(client, app, 'v1', 'lonely\n');
    assert.deepEqual(await client.listReferrers(app, lonely.digest), []);
  });
});

/** A stand-in registry for faults the real one cannot produce; `handler` answers every request. */
async function startFaultServer(handler: (request: IncomingMessage, response: ServerResponse) => void) {
  const server = createServer(handler);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    host: `127.0.0.1:${port}`,
    port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe('registry faults a real registry cannot be made to produce', () => {
  const manifest = json({
    schemaVersion: 2,
    mediaType: MEDIA_TYPES.ociManifest,
    config: { mediaType: MEDIA_TYPES.ociEmpty, digest: digestOf(encoder.encode('{}')), size: 2 },
    layers: [],
  });
  const manifestDigest = digestOf(manifest);
  const fast = { retries: 2, retryBaseDelayMs: 1, retryMaxDelayMs: 5 };

  it('a registry serving other bytes than the digest asked for is caught (OCI_DIGEST_MISMATCH)', async () => {
    const other = json({
      ...JSON.parse(new TextDecoder().decode(manifest)),
      annotations: { swapped: 'yes' },
    });
    const server = await startFaultServer((_request, response) => {
      response.writeHead(200, {
        'content-type': MEDIA_TYPES.ociManifest,
        'docker-content-digest': manifestDigest,
      });
      response.end(other);
    });
    const client = createRegistryClient(fast);
    try {
      const reference = parseImageReference(`${server.host}/liar/app@${manifestDigest}`);
      await rejectsWith(client.getManifest(reference), 'OCI_DIGEST_MISMATCH', /content hashes to sha256:/);
      // By tag the digest is computed, and a Docker-Content-Digest that disagrees is caught too.
      await rejectsWith(
        client.getManifest(parseImageReference(`${server.host}/liar/app:v1`)),
        'OCI_DIGEST_MISMATCH',
        /registry announced/,
      );
    } finally {
      await client.close();
      await server.close();
    }
  });

  it('a blob that does not hash to its descriptor is caught (OCI_DIGEST_MISMATCH)', async () => {
    const server = await startFaultServer((_request, response) => response.end('tampered'));
    const client = createRegistryClient(fast);
    try {
      const reference = parseImageReference(`${server.host}/liar/app:v1`);
      const descriptor = { mediaType: 'text/plain', digest: digestOf(encoder.encode('original')), size: 8 };
      await rejectsWith(client.getBlob(reference, descriptor), 'OCI_DIGEST_MISMATCH', /hashes to/);
    } finally {
      await client.close();
      await server.close();
    }
  });

  it('retries 503 and 429 (honouring Retry-After) and then succeeds', async () => {
    let requests = 0;
    const server = await startFaultServer((_request, response) => {
      requests++;
      if (requests === 1) response.writeHead(503).end();
      else if (requests === 2) response.writeHead(429, { 'retry-after': '0' }).end();
      else response.writeHead(200, { 'content-type': MEDIA_TYPES.ociManifest }).end(manifest);
    });
    const client = createRegistryClient(fast);
    try {
      const fetched = await client.getManifest(parseImageReference(`${server.host}/flaky/app:v1`));
      assert.equal(fetched.digest, manifestDigest);
      assert.equal(requests, 3);
    } finally {
      await client.close();
      await server.close();
    }
  });

  it('gives up with OCI_REGISTRY_UNAVAILABLE after 1 + retries attempts', async () => {
    let requests = 0;
    const server = await startFaultServer((_request, response) => {
      requests++;
      response.writeHead(503).end();
    });
    const client = createRegistryClient(fast);
    try {
      await rejectsWith(
        client.getManifest(parseImageReference(`${server.host}/down/app:v1`)),
        'OCI_REGISTRY_UNAVAILABLE',
        /3 attempts/,
      );
      assert.equal(requests, 3);
    } finally {
      await client.close();
      await server.close();
    }
    // Nothing listening at all: a network error, retried, then the same code.
    const refused = createRegistryClient(fast);
    try {
      await rejectsWith(
        refused.resolveDigest(parseImageReference(`127.0.0.1:${server.port}/gone/app:v1`)),
        'OCI_REGISTRY_UNAVAILABLE',
      );
    } finally {
      await refused.close();
    }
  });

  it('follows Link pagination of tag lists, bounded by maxTagPages (distribution 2.8 ignores ?n=)', async () => {
    const pages: Record<string, { tags: string[]; next?: string }> = {
      first: { tags: ['a', 'b'], next: '/v2/paged/app/tags/list?n=2&last=b' },
      b: { tags: ['c', 'd'], next: '/v2/paged/app/tags/list?n=2&last=d' },
      d: { tags: ['e'] },
    };
    const server = await startFaultServer((request, response) => {
      const last = new URL(request.url ?? '/', 'http://x').searchParams.get('last') ?? 'first';
      const page = pages[last]!;
      response.writeHead(200, {
        'content-type': 'application/json',
        ...(page.next ? { link: `<${page.next}>; rel="next"` } : {}),
      });
      response.end(JSON.stringify({ name: 'paged/app', tags: page.tags }));
    });
    const reference = parseImageReference(`${server.host}/paged/app`);
    const client = createRegistryClient({ ...fast, tagPageSize: 2 });
    const bounded = createRegistryClient({ ...fast, tagPageSize: 2, maxTagPages: 2 });
    try {
      assert.deepEqual(await client.listTags(reference), ['a', 'b', 'c', 'd', 'e']);
      await rejectsWith(bounded.listTags(reference), 'OCI_TOO_LARGE', /more than 2 pages/);
    } finally {
      await client.close();
      await bounded.close();
      await server.close();
    }
  });

  it('follows a blob redirect to another host without the registry credentials', async () => {
    const blob = encoder.encode('blob from the cdn');
    const seenByCdn: (string | undefined)[] = [];
    const cdn = await startFaultServer((request, response) => {
      seenByCdn.push(request.headers.authorization);
      response.end(blob);
    });
    const seenByRegistry: (string | undefined)[] = [];
    const server = await startFaultServer((request, response) => {
      seenByRegistry.push(request.headers.authorization);
      if (!request.headers.authorization) {
        response.writeHead(401, { 'www-authenticate': 'Basic realm="fault"' }).end();
        return;
      }
      // `localhost` is another origin than `127.0.0.1`: what a storage backend or CDN looks like.
      response.writeHead(307, { location: `http://localhost:${cdn.port}/signed/blob?sig=abc` }).end();
    });
    const client = createRegistryClient({
      ...fast,
      credentials: staticCredentials({ [server.host]: { kind: 'basic', username: 'u', password: 'p' } }),
    });
    try {
      const reference = parseImageReference(`${server.host}/cdn/app:v1`);
      const bytes = await client.getBlob(reference, {
        mediaType: 'text/plain',
        digest: digestOf(blob),
        size: blob.length,
      });
      assert.deepEqual(bytes, blob);
      assert.deepEqual(seenByRegistry, [undefined, `Basic ${Buffer.from('u:p').toString('base64')}`]);
      assert.deepEqual(seenByCdn, [undefined]);
    } finally {
      await client.close();
      await server.close();
      await cdn.close();
    }
  });

  it('names every bad field of a malformed manifest (OCI_MANIFEST_INVALID)', async () => {
    const server = await startFaultServer((_request, response) => {
      response.writeHead(200, { 'content-type': MEDIA_TYPES.ociManifest });
      response.end(
        JSON.stringify({
          schemaVersion: 2,
          config: { mediaType: 'x', digest: 'sha256:abc', size: -1 },
          layers: [{}],
        }),
      );
    });
    const client = createRegistryClient(fast);
    try {
      await rejectsWith(
        client.getManifest(parseImageReference(`${server.host}/broken/app:v1`)),
        'OCI_MANIFEST_INVALID',
        /config\.digest: sha256 digest must have 64 hex characters.*config\.size.*layers\[0\]\.mediaType/,
      );
    } finally {
      await client.close();
      await server.close();
    }
  });

  it('refuses a token realm over plain http on a non-loopback host (OCI_INSECURE_REFUSED)', async () => {
    const server = await startFaultServer((_request, response) => {
      response
        .writeHead(401, { 'www-authenticate': 'Bearer realm="http://auth.example.com/token",service="x"' })
        .end();
    });
    const client = createRegistryClient(fast);
    try {
      await rejectsWith(
        client.getManifest(parseImageReference(`${server.host}/insecure/app:v1`)),
        'OCI_INSECURE_REFUSED',
        /expected https/,
      );
    } finally {
      await client.close();
      await server.close();
    }
  });
});

describe('createRegistryClient options', () => {
  it('reaches loopback registries over plain http always, others only when allowed', () => {
    for (const host of ['localhost:5000', '127.0.0.1:5000', '127.1.2.3', '[::1]:5000', 'LOCALHOST']) {
      assert.ok(isPlainHttpAllowed(host, false), host);
    }
    assert.equal(isPlainHttpAllowed('registry.internal:5000', false), false);
    assert.equal(isPlainHttpAllowed('registry.internal:5000', ['registry.internal']), true);
    assert.equal(isPlainHttpAllowed('registry.internal:5000', ['registry.internal:5001']), false);
    assert.equal(isPlainHttpAllowed('registry.internal:5000', true), true);
  });

  it('rejects a nonsensical option with a TypeError naming it', () => {
    assert.throws(() => createRegistryClient({ retries: -1 }), /option retries/);
    assert.throws(
      () => createRegistryClient({ retryBaseDelayMs: 100, retryMaxDelayMs: 10 }),
      /retryMaxDelayMs/,
    );
  });
});
