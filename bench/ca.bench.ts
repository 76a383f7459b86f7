// Keyless issuance end to end through HTTP: 32 concurrent clients ask the real `sigil up` (SQLite) for
// certificates — token verification, proof of possession, precertificate, CT append with SCT, final
// certificate — and the figures print beside the targets of the CA issue (≥ 500 certificates/s, p99
// < 300 ms), with the split of the server's time per stage.
//
//   npm run bench:ca
//   SIGIL_BENCH_SECONDS=5 SIGIL_BENCH_RUNS=3 npm run bench:ca     shorter or fewer runs (median printed; default 6 s × 5)
//   SIGIL_BENCH_PROFILE=/tmp/prof                                   CPU profile of the server
import { generateKeyPairSync, sign } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { devToken, startSigil } from '../test/tools/sigil-process.ts';
import { median, runWrk, scrape, type WrkResult } from './http-load.ts';
import { report } from './report.ts';

const CLIENTS = 32;
const THREADS = 2;
const KEYS = 64;
/** Steady state: the first seconds after start run 15–25 % slower (JIT, caches), measured. */
const WARMUP_SECONDS = 5;
const SECONDS = Number(process.env.SIGIL_BENCH_SECONDS ?? 6);
/** Measured runs; the median is printed (single runs on this VM vary ±10 %, now and then one dips by 15 %). */
const RUNS = Number(process.env.SIGIL_BENCH_RUNS ?? 5);
const TARGET_RATE = 500;
const TARGET_P99_SECONDS = 0.3;

const profile = process.env.SIGIL_BENCH_PROFILE;
const sigil = await startSigil(profile ? { nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${profile}`] } : {});
const dir = await mkdtemp(join(tmpdir(), 'sigil-bench-ca-'));
try {
  // One identity; each body its own key with its proof of possession over the email. A token lives 10
  // minutes, longer than the bench; the CA does not deduplicate, so bodies are sent again and again.
  const email = 'bench@example.com';
  const token = await devToken(sigil, 'bench', email);
  const bodies = Array.from({ length: KEYS }, () => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    return JSON.stringify({
      credentials: { oidcIdentityToken: token },
      publicKeyRequest: {
        publicKey: { algorithm: 'ECDSA', content: publicKey.export({ type: 'spki', format: 'pem' }) },
        proofOfPossession: sign('sha256', Buffer.from(email), privateKey).toString('base64'),
      },
    });
  });
  const bodiesFile = join(dir, 'bodies.jsonl');
  await writeFile(bodiesFile, bodies.join('\n') + '\n');
  const wrk = (seconds: number) =>
    runWrk({
      url: sigil.url,
      path: '/api/v2/signingCert',
      bodiesFile,
      connections: CLIENTS,
      threads: THREADS,
      seconds,
    });

  await wrk(WARMUP_SECONDS); // compiles the code paths, fetches the issuer's keys
  const before = await scrape(sigil);
  const results: WrkResult[] = [];
  for (let index = 0; index < RUNS; index++) results.push((await wrk(SECONDS)).result);
  const after = await scrape(sigil);

  const issued = (result: WrkResult) => result.requests - result.statusErrors - result.socketErrors;
  const rates = results.map((result) => issued(result) / (result.durationMicros / 1e6));
  const errors = results.reduce((sum, result) => sum + result.statusErrors + result.socketErrors, 0);
  const spent = (name: string) => (after.get(name) ?? 0) - (before.get(name) ?? 0);
  const certificates = spent('sigil_ca_certificates_issued_total');
  const runs = rates.length > 1 ? `, median of ${rates.map((rate) => Math.round(rate)).join(' / ')}` : '';
  report(`ca certificates/s, 32 clients, SQLite${runs}`, median(rates), { atLeast: TARGET_RATE });
  report(
    `ca p99 latency s${runs ? ', median' : ''}`,
    median(results.map((result) => result.p99Micros / 1e6)),
    { atMost: TARGET_P99_SECONDS },
  );
  const perCertificate = (seconds: number) => `${((seconds / certificates) * 1000).toFixed(2)} ms`;
  process.stdout.write(
    `  per certificate (wall clock, overlapping): token + proof of possession ${perCertificate(spent('sigil_ca_issue_stage_seconds_total{stage="token"}'))}, ` +
      `signing precertificate + certificate ${perCertificate(spent('sigil_ca_issue_stage_seconds_total{stage="signing"}'))}, ` +
      `CT wait ${perCertificate(spent('sigil_ca_issue_stage_seconds_total{stage="ct"}'))}; ` +
      `server CPU ${perCertificate(spent('sigil_process_cpu_seconds_total'))}\n`,
  );
  if (errors > 0) process.stdout.write(`  (${errors} requests not answered 200)\n`);
} finally {
  await rm(dir, { recursive: true, force: true });
  await sigil.cleanup();
  if (process.env.SIGIL_BENCH_STDERR) process.stderr.write(sigil.stderr());
}
