// Through HTTP: 64 concurrent clients append to the real `sigil up` (SQLite, or PostgreSQL with
// SIGIL_BENCH_POSTGRES=1), each request waiting for its checkpointed response. Prints entries/s and
// p99 latency beside the targets of the log issue.
//
//   npm run bench:log                              SQLite
//   SIGIL_BENCH_POSTGRES=1 npm run bench:log       PostgreSQL too
import { createHash, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import { startPostgres } from '../test/tools/postgres.ts';
import { startSigil, type RunningSigil } from '../test/tools/sigil-process.ts';
import { report } from './report.ts';

const CLIENTS = 64;
const SECONDS = Number(process.env.SIGIL_BENCH_SECONDS ?? 10);

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

async function drive(
  sigil: RunningSigil,
  kind: Kind,
): Promise<{ rate: number; p99: number; errors: number }> {
  const path = kind === 'hashedrekord v2' ? '/api/v2/log/entries' : '/api/v1/log/entries';
  const signers = Array.from({ length: 16 }, newSigner);
  // Bodies are made ahead so the client's own signing does not compete inside the measured window.
  const bodies = Array.from({ length: 4096 }, (_, i) => makeBody(kind, signers[i % signers.length]!));
  let next = 0;
  const take = () =>
    next < bodies.length ? bodies[next++]! : makeBody(kind, signers[next++ % signers.length]!);
  const latencies: number[] = [];
  let errors = 0;
  const deadline = performance.now() + SECONDS * 1000;
  const client = async () => {
    while (performance.now() < deadline) {
      const body = take();
      const start = performance.now();
      const response = await fetch(`${sigil.url}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
      });
      await response.arrayBuffer();
      if (response.status === 201) latencies.push(performance.now() - start);
      else errors += 1;
    }
  };
  const start = performance.now();
  await Promise.all(Array.from({ length: CLIENTS }, client));
  const elapsed = (performance.now() - start) / 1000;
  latencies.sort((a, b) => a - b);
  return {
    rate: latencies.length / elapsed,
    p99: (latencies[Math.floor(latencies.length * 0.99)] ?? 0) / 1000,
    errors,
  };
}

async function benchmark(label: string, args: string[]): Promise<void> {
  const sigil = await startSigil({ args });
  try {
    const targets: Record<Kind, number> = {
      'hashedrekord v1': label === 'PostgreSQL' ? 800 : 1_000,
      'hashedrekord v2': label === 'PostgreSQL' ? 800 : 1_000,
      'dsse v1': 3_000,
    };
    for (const kind of Object.keys(targets) as Kind[]) {
      const { rate, p99, errors } = await drive(sigil, kind);
      report(`http ${kind} entries/s, ${label}`, rate, { atLeast: targets[kind] });
      report(`http ${kind} p99 latency s, ${label}`, p99, { atMost: 1 });
      if (errors > 0) process.stdout.write(`  (${errors} requests not answered 201)\n`);
    }
  } finally {
    await sigil.cleanup();
  }
}

await benchmark('SQLite', []);
if (process.env.SIGIL_BENCH_POSTGRES === '1') {
  const postgres = await startPostgres();
  try {
    await benchmark('PostgreSQL', ['--database', postgres.connectionString]);
  } finally {
    await postgres.stop();
  }
}
