// Through HTTP: 64 concurrent clients append to the real `sigil up` on SQLite, then on PostgreSQL,
// each request waiting for its checkpointed response. Prints entries/s and p99 latency beside the
// targets of the log issue, and the server's CPU per entry with the part spent verifying.
//
//   npm run bench:log                                  both storages
//   SIGIL_BENCH_STORAGE=postgres npm run bench:log     one of them
//   SIGIL_BENCH_KINDS=dsse,v2 SIGIL_BENCH_SECONDS=5  only the kinds whose names contain a word, shorter runs
//   SIGIL_BENCH_RUNS=5                               measured runs per kind (default 3; the median is printed)
//   SIGIL_BENCH_PROFILE=/tmp/prof                    CPU profile of the server, written when it stops
import { createHash, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startPostgres } from '../test/tools/postgres.ts';
import { startSigil, type RunningSigil } from '../test/tools/sigil-process.ts';
import {
  idleShare,
  machineTimes,
  median,
  processCpu,
  runWrk,
  scrape,
  stealShare,
  type WrkResult,
} from './http-load.ts';
import { report } from './report.ts';

const CLIENTS = 64;
const THREADS = 2;
const WARMUP_SECONDS = 2;
const SECONDS = Number(process.env.SIGIL_BENCH_SECONDS ?? 6);
/** Measured runs per kind; the median is printed (this VM's throughput varies ±20 % run to run). */
const RUNS = Number(process.env.SIGIL_BENCH_RUNS ?? 3);

interface Signer {
  key: KeyObject;
  pem: string;
  spki: Buffer;
}

function newSigner(): Signer {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return {
    key: privateKey,
    pem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    spki: publicKey.export({ type: 'spki', format: 'der' }),
  };
}

type Kind = 'hashedrekord v1' | 'hashedrekord v2' | 'dsse v1';

/** One fresh, validly signed request body of `kind` (real ECDSA P-256 signatures). */
function makeBody(kind: Kind, signer: Signer): string {
  const artifact = randomBytes(64);
  switch (kind) {
    case 'hashedrekord v1':
      return JSON.stringify({
        apiVersion: '0.0.1',
        kind: 'hashedrekord',
        spec: {
          data: { hash: { algorithm: 'sha256', value: createHash('sha256').update(artifact).digest('hex') } },
          signature: {
            content: sign('sha256', artifact, signer.key).toString('base64'),
            publicKey: { content: Buffer.from(signer.pem).toString('base64') },
          },
        },
      });
    case 'hashedrekord v2':
      return JSON.stringify({
        hashedRekordRequestV002: {
          digest: createHash('sha256').update(artifact).digest('base64'),
          signature: {
            content: sign('sha256', artifact, signer.key).toString('base64'),
            verifier: {
              publicKey: { rawBytes: signer.spki.toString('base64') },
              keyDetails: 'PKIX_ECDSA_P256_SHA_256',
            },
          },
        },
      });
    case 'dsse v1': {
      const payloadType = 'application/vnd.in-toto+json';
      const payload = Buffer.from(
        JSON.stringify({ _type: 'https://in-toto.io/Statement/v1', n: artifact.toString('hex') }),
      );
      const pae = Buffer.concat([
        Buffer.from(`DSSEv1 ${payloadType.length} ${payloadType} ${payload.length} `),
        payload,
      ]);
      const envelope = {
        payloadType,
        payload: payload.toString('base64'),
        signatures: [{ keyid: '', sig: sign('sha256', pae, signer.key).toString('base64') }],
      };
      return JSON.stringify({
        apiVersion: '0.0.1',
        kind: 'dsse',
        spec: {
          proposedContent: {
            envelope: JSON.stringify(envelope),
            verifiers: [Buffer.from(signer.pem).toString('base64')],
          },
        },
      });
    }
  }
}

/**
 * Drives `kind` with wrk: 64 connections, each sending the next unused body as soon as its last
 * response arrived. wrk is C; a Node client would take most of a core of this 2-core machine from the
 * server it measures. Each run gets a file of bodies of its own, signed beforehand (while the server
 * idles): three times what the fastest of the target and the runs so far would send (the warm-up runs
 * slower than the runs after it), so no body is sent twice: a repeat is a duplicate, answered 409, and
 * counts against the rate.
 */
async function drive(
  sigil: RunningSigil,
  kind: Kind,
  target: number,
): Promise<{
  rates: number[];
  rate: number;
  p99: number;
  errors: number;
  cpuPerEntry: number;
  verifyShare: number;
  admissionShare: number;
  mainThreadPerEntry: number;
  steals: number[];
  idles: number[];
}> {
  const path = kind === 'hashedrekord v2' ? '/api/v2/log/entries' : '/api/v1/log/entries';
  const signers = Array.from({ length: 16 }, newSigner);
  const dir = await mkdtemp(join(tmpdir(), 'sigil-bench-'));
  const createdIn = (result: WrkResult) => result.requests - result.statusErrors - result.socketErrors;
  const rateOf = (result: WrkResult) => createdIn(result) / (result.durationMicros / 1e6);
  let made = 0;
  let fastest = target;
  const wrk = async (seconds: number) => {
    const count = Math.ceil(fastest * 3 * seconds);
    const bodies = Array.from({ length: count }, () => makeBody(kind, signers[made++ % signers.length]!));
    const file = join(dir, 'bodies.jsonl');
    await writeFile(file, bodies.join('\n') + '\n');
    return runWrk({
      url: sigil.url,
      path,
      bodiesFile: file,
      connections: CLIENTS,
      threads: THREADS,
      seconds,
    });
  };
  try {
    // Warm-up, not measured: the first requests compile the server's code paths (JIT, lazily loaded
    // modules) and would otherwise stand in the measured tail.
    fastest = Math.max(fastest, rateOf((await wrk(WARMUP_SECONDS)).result));
    const before = await scrape(sigil);
    const cpuBefore = processCpu(sigil.child.pid!);
    const results: WrkResult[] = [];
    const steals: number[] = [];
    const idles: number[] = [];
    for (let index = 0; index < RUNS; index++) {
      const machineBefore = machineTimes();
      const { result, output } = await wrk(SECONDS);
      const machineAfter = machineTimes();
      steals.push(stealShare(machineBefore, machineAfter));
      idles.push(idleShare(machineBefore, machineAfter));
      results.push(result);
      fastest = Math.max(fastest, rateOf(result));
      if (process.env.SIGIL_BENCH_STDERR) process.stderr.write(output);
    }
    const cpuAfter = processCpu(sigil.child.pid!);
    const after = await scrape(sigil);
    const created = results.reduce((sum, result) => sum + createdIn(result), 0);
    const rates = results.map(rateOf);
    const spent = (name: string) => (after.get(name) ?? 0) - (before.get(name) ?? 0);
    const cpu = spent('sigil_process_cpu_seconds_total');
    return {
      rates,
      rate: median(rates),
      p99: median(results.map((result) => result.p99Micros / 1e6)),
      errors: results.reduce((sum, result) => sum + result.statusErrors + result.socketErrors, 0),
      cpuPerEntry: cpu / created,
      verifyShare: spent('sigil_log_signature_verify_seconds_total') / cpu,
      admissionShare: spent('sigil_log_admission_seconds_total') / cpu,
      mainThreadPerEntry: (cpuAfter.mainThread - cpuBefore.mainThread) / created,
      steals,
      idles,
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const percent = (share: number) => `${(share * 100).toFixed(share < 0.1 ? 1 : 0)}%`;

async function benchmark(label: string, args: string[]): Promise<void> {
  const profile = process.env.SIGIL_BENCH_PROFILE;
  const sigil = await startSigil({
    args,
    ...(profile ? { nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${profile}`] } : {}),
  });
  try {
    const targets: Record<Kind, number> = {
      'hashedrekord v1': label === 'PostgreSQL' ? 800 : 1_000,
      'hashedrekord v2': label === 'PostgreSQL' ? 800 : 1_000,
      'dsse v1': 3_000,
    };
    const only = process.env.SIGIL_BENCH_KINDS?.split(',');
    for (const kind of Object.keys(targets) as Kind[]) {
      if (only && !only.some((word) => kind.includes(word))) continue;
      const {
        rates,
        rate,
        p99,
        errors,
        cpuPerEntry,
        verifyShare,
        admissionShare,
        mainThreadPerEntry,
        steals,
        idles,
      } = await drive(sigil, kind, targets[kind]);
      const runs =
        rates.length > 1 ? `, median of ${rates.map((value) => Math.round(value)).join(' / ')}` : '';
      report(`http ${kind} entries/s, ${label}${runs}`, rate, { atLeast: targets[kind] });
      report(`http ${kind} p99 latency s, ${label}${runs ? ', median' : ''}`, p99, { atMost: 1 });
      const micros = (seconds: number) => `${Math.round(seconds * 1e6).toLocaleString('en-US')} µs`;
      process.stdout.write(
        `  server CPU ${micros(cpuPerEntry)} per entry, ${micros(mainThreadPerEntry)} of it on the main ` +
          `thread (the event loop); host steal during the runs ${steals.map(percent).join(' / ')}, ` +
          `machine idle ${idles.map(percent).join(' / ')}\n` +
          `  on the worker threads (wall clock), verifying ` +
          `signatures ${micros(verifyShare * cpuPerEntry)} per entry = ${percent(verifyShare)} of server CPU, ` +
          `admitting (parse, verify, canonicalize) ${micros(admissionShare * cpuPerEntry)}\n`,
      );
      if (errors > 0) process.stdout.write(`  (${errors} requests not answered 201)\n`);
    }
  } finally {
    await sigil.cleanup();
    if (process.env.SIGIL_BENCH_STDERR) process.stderr.write(sigil.stderr());
  }
}

const storages = (process.env.SIGIL_BENCH_STORAGE ?? 'sqlite,postgres').split(',');
if (storages.includes('sqlite')) await benchmark('SQLite', []);
if (storages.includes('postgres')) {
  const postgres = await startPostgres();
  try {
    await benchmark('PostgreSQL', ['--database', postgres.connectionString]);
  } finally {
    await postgres.stop();
  }
}
