// Discovery + verification of one signed image from a local registry (Debian's distribution registry
// with bearer-token auth and its token server): connaisseur's public-good keyless image, whose cosign
// signature carries a Fulcio certificate, an embedded SCT and a Rekor SET, verified against the
// production trusted root. Cold: a new registry client per image (new connections, a new token; the
// verifier and its trust material are kept, as a webhook keeps them). Warm: one client for every run
// (connections, the token and content fetched by digest reused). Prints p50/p99 beside the targets of
// the OCI issue (warm p50 < 10 ms, cold p50 < 50 ms).
//
//   npm run bench:oci
//   SIGIL_BENCH_ITERATIONS=200 npm run bench:oci     more samples (default 300 per figure)
import { readFile } from 'node:fs/promises';
import {
  createRegistryClient,
  discoverSignatures,
  parseImageReference,
  staticCredentials,
} from '../src/oci/index.ts';
import { Verifier, parseTrustedRoot, verifyCosignSignature } from '../src/verify/index.ts';
import { forgetVerifiedSignatures } from '../src/verify/internal/verified-signatures.ts';
import { connaisseurRepository, loadConnaisseurImages } from '../test/tools/connaisseur-images.ts';
import { startRegistry } from '../test/tools/registry.ts';
import { report } from './report.ts';

const ITERATIONS = Number(process.env.SIGIL_BENCH_ITERATIONS ?? 300);
const PRODUCTION_ROOT = '/work/shared/vectors/npm-provenance/sigstore-tuf-trusted_root.json';

const USER = 'bench';
const PASSWORD = 'bench-password';
const registry = await startRegistry({ auth: { token: { users: { [USER]: PASSWORD } } } });
try {
  const server = registry.tokenServer!;
  const tokenUrl = new URL(server.realm);
  tokenUrl.searchParams.set('service', server.service);
  tokenUrl.searchParams.set('scope', `repository:${connaisseurRepository}:pull,push`);
  const tokenAnswer = (await (
    await fetch(tokenUrl, {
      headers: { authorization: `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString('base64')}` },
    })
  ).json()) as { token: string };
  const loaded = await loadConnaisseurImages(registry.url, {
    storageDirectory: registry.storageDirectory!,
    authorization: `Bearer ${tokenAnswer.token}`,
  });
  const credentials = staticCredentials({
    [registry.host]: { kind: 'basic', username: USER, password: PASSWORD },
  });
  const image = parseImageReference(`${registry.host}/${connaisseurRepository}@${loaded.images.keyless}`);
  const verifier = new Verifier(parseTrustedRoot(await readFile(PRODUCTION_ROOT)));
  const signer = {
    kind: 'certificateIdentities' as const,
    identities: [{ subject: { regexp: '.*@securesystems\\.de' }, issuer: { regexp: '.*github.*' } }],
  };

  const once = async (client: ReturnType<typeof createRegistryClient>, firstSight: boolean) => {
    const started = performance.now();
    const artifacts = await discoverSignatures(client, image);
    if (firstSight) forgetVerifiedSignatures();
    const verified = artifacts.signatures.filter((layer) => {
      verifyCosignSignature(verifier, layer, { imageDigest: image.digest!, signer });
      return true;
    });
    if (verified.length !== 1)
      throw new Error(`expected one verified signature, received ${verified.length}`);
    return performance.now() - started;
  };
  const percentile = (values: number[], p: number) =>
    [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor((values.length * p) / 100))]!;

  const measure = async (name: string, run: () => Promise<number>, target: number) => {
    for (let i = 0; i < 20; i++) await run(); // warm-up: JIT, first connections
    const times: number[] = [];
    for (let i = 0; i < ITERATIONS; i++) times.push(await run());
    report(`oci discover + verify p50 ms, ${name}`, percentile(times, 50), { atMost: target });
    report(`oci discover + verify p99 ms, ${name}`, percentile(times, 99), {});
  };

  const warmClient = createRegistryClient({ credentials });
  try {
    await measure('warm (one client)', () => once(warmClient, false), 10);
    await measure('warm, first sight of the signature', () => once(warmClient, true), 10);
  } finally {
    await warmClient.close();
  }
  await measure(
    'cold (new client per image)',
    async () => {
      const client = createRegistryClient({ credentials });
      try {
        return await once(client, true);
      } finally {
        await client.close();
      }
    },
    50,
  );
} finally {
  await registry.stop();
}
