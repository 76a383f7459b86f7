import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fixedClock } from '../../src/core/index.ts';
import { ArtifactCache } from '../../src/oci/artifact-cache.ts';
import { OciError } from '../../src/oci/errors.ts';
import { parseImageReference } from '../../src/oci/reference.ts';
import type { RegistryClient } from '../../src/oci/registry-client.types.ts';

// The cache's own logic (merging, expiry, eviction) against a counting stand-in for the registry; the
// discovery it wraps runs against real registries in signature-discovery.test.ts.
function countingClient(fail = false) {
  const calls = { manifests: 0 };
  const client = {
    findManifest: () => {
      calls.manifests++;
      return fail
        ? Promise.reject(new OciError('OCI_REGISTRY_UNAVAILABLE', 'down'))
        : Promise.resolve(undefined);
    },
    listReferrers: () => Promise.resolve([]),
  } as unknown as RegistryClient;
  return { client, calls };
}

const image = parseImageReference(`127.0.0.1:5000/app@sha256:${'a'.repeat(64)}`);

describe('ArtifactCache', () => {
  it('merges concurrent lookups of one image and reuses the result within the TTL', async () => {
    const { client, calls } = countingClient();
    const cache = new ArtifactCache({ ttlMs: 1_000, clock: fixedClock(new Date(0)) });
    await Promise.all([cache.get(client, image), cache.get(client, image), cache.get(client, image)]);
    await cache.get(client, image);
    assert.equal(calls.manifests, 2); // one .sig and one .att lookup, once
  });

  it('looks again after the TTL', async () => {
    const { client, calls } = countingClient();
    let now = 0;
    const cache = new ArtifactCache({ ttlMs: 1_000, clock: { now: () => new Date(now) } });
    await cache.get(client, image);
    now = 1_001;
    await cache.get(client, image);
    assert.equal(calls.manifests, 4);
  });

  it('remembers a failure only for the short failure TTL', async () => {
    const { client, calls } = countingClient(true);
    let now = 0;
    const cache = new ArtifactCache({
      ttlMs: 60_000,
      failureTtlMs: 100,
      clock: { now: () => new Date(now) },
    });
    await assert.rejects(cache.get(client, image), OciError);
    now = 50;
    await assert.rejects(cache.get(client, image), OciError);
    assert.equal(calls.manifests, 2);
    now = 200;
    await assert.rejects(cache.get(client, image), OciError);
    assert.equal(calls.manifests, 4);
  });

  it('keeps at most maxEntries images', async () => {
    const { client, calls } = countingClient();
    const cache = new ArtifactCache({ maxEntries: 1, clock: fixedClock(new Date(0)) });
    const other = parseImageReference(`127.0.0.1:5000/app@sha256:${'b'.repeat(64)}`);
    await cache.get(client, image);
    await cache.get(client, other);
    await cache.get(client, image);
    assert.equal(calls.manifests, 6);
  });

  it('refuses negative options with a TypeError naming them', () => {
    assert.throws(() => new ArtifactCache({ ttlMs: -1 }), /ttlMs/);
  });
});
