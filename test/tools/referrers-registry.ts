import { freePort } from './ports.ts';
import type { RunningRegistry } from './registry.ts';
import { startService, waitUntil } from './service.ts';
import { toolPath } from './tools.ts';

/**
 * Starts a registry that serves the OCI 1.1 referrers API (`GET /v2/<name>/referrers/<digest>`), on a
 * free port, with in-memory storage that is gone once it stops.
 *
 * Debian's docker-registry (distribution 2.8) has no referrers API and no released distribution v3 has
 * one either, so this is go-containerregistry's registry with referrers on, completed to the spec
 * (artifactType read from each referrer, `?artifactType=` filtering with `OCI-Filters-Applied`,
 * `OCI-Subject` on a manifest PUT with a subject): see test/tools/referrers-registry/main.go. Built by
 * `scripts/install-tools.sh go`. Unlike distribution, it does not refuse a manifest whose blobs are
 * absent, and a repository nothing was pushed to answers 404 NAME_UNKNOWN.
 */
export async function startReferrersRegistry(): Promise<RunningRegistry> {
  const port = await freePort();
  const service = startService('referrers-registry', toolPath('referrers-registry'), [
    '--address',
    `127.0.0.1:${port}`,
    '--quiet',
  ]);
  const url = `http://127.0.0.1:${port}`;
  await waitUntil(
    service,
    'GET /v2/ answers 200',
    async () => (await fetch(`${url}/v2/`)).status === 200,
    30_000,
  );
  return { url, host: `127.0.0.1:${port}`, service, stop: () => service.stop() };
}
