import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { describe, it } from 'node:test';
import { Worker } from 'node:worker_threads';
import { admitRequestBody, type AdmittedEntry } from '../../src/log/admission.ts';
import { createAdmissionPool, startAdmissionWorker } from '../../src/log/admission-pool.ts';
import type { EntryApi } from '../../src/log/entries/index.ts';
import { LogError } from '../../src/log/errors.ts';
import {
  IN_TOTO,
  b64,
  digestOf,
  hashedRekordProposal,
  pae,
  signForDigest,
  signMessage,
  statement,
  testKey,
  type KeyKind,
  type TestKey,
} from './entries/fixtures.ts';

interface Job {
  readonly label: string;
  readonly api: EntryApi;
  readonly body: Uint8Array;
}

const json = (value: unknown): Uint8Array => Buffer.from(JSON.stringify(value));

function v2HashedRekord(key: TestKey, message: string): unknown {
  return {
    hashedRekordRequestV002: {
      digest: b64(digestOf(message, 'sha256')),
      signature: {
        content: b64(signForDigest(key, message, 'sha256')),
        verifier: { publicKey: { rawBytes: b64(key.spkiDer) }, keyDetails: 'PKIX_ECDSA_P256_SHA_256' },
      },
    },
  };
}

function dsseProposal(key: TestKey, payload: Uint8Array): unknown {
  const envelope = {
    payloadType: IN_TOTO,
    payload: b64(payload),
    signatures: [{ keyid: '', sig: b64(signMessage(key, pae(IN_TOTO, payload))) }],
  };
  return {
    apiVersion: '0.0.1',
    kind: 'dsse',
    spec: { proposedContent: { envelope: JSON.stringify(envelope), verifiers: [b64(key.publicPem)] } },
  };
}

/** Bodies the log admits and bodies it refuses for every reason a worker can give. */
function mixedJobs(): Job[] {
  const jobs: Job[] = [];
  for (const kind of ['p256', 'p384', 'p521', 'rsa2048', 'ed25519'] as KeyKind[]) {
    const key = testKey(kind);
    const hash = kind === 'p384' ? 'sha384' : kind === 'p256' || kind === 'rsa2048' ? 'sha256' : 'sha512';
    for (let i = 0; i < 4; i++) {
      const message = randomBytes(8).toString('hex');
      const proposal = hashedRekordProposal(key, { hash, message });
      jobs.push({ label: `${kind} hashedrekord`, api: 'v1', body: json(proposal) });
      const tampered = structuredClone(proposal) as unknown as {
        spec: { data: { hash: { value: string } } };
      };
      tampered.spec.data.hash.value = tampered.spec.data.hash.value.replace(/^./, (c) =>
        c === '0' ? '1' : '0',
      );
      jobs.push({ label: `${kind} hashedrekord, other digest`, api: 'v1', body: json(tampered) });
    }
  }
  const p256 = testKey('p256');
  jobs.push({ label: 'v2 hashedrekord', api: 'v2', body: json(v2HashedRekord(p256, 'v2 message')) });
  jobs.push({ label: 'dsse', api: 'v1', body: json(dsseProposal(p256, statement('ab'.repeat(32)))) });
  jobs.push({ label: 'not JSON', api: 'v1', body: Buffer.from('{"kind":') });
  jobs.push({ label: 'not UTF-8', api: 'v1', body: Uint8Array.of(0xff, 0xfe, 0x7b) });
  jobs.push({ label: 'unknown kind', api: 'v1', body: json({ kind: 'rpm', apiVersion: '0.0.1', spec: {} }) });
  jobs.push({ label: 'v1 body on v2', api: 'v2', body: json(hashedRekordProposal(p256)) });
  jobs.push({
    label: 'secp256k1 key',
    api: 'v1',
    body: json(hashedRekordProposal(p256, { verifierPem: testKey('secp256k1').publicPem })),
  });
  return jobs;
}

type Settled = { entry: AdmittedEntry } | { error: { name: string; code: unknown; message: string } };

function describeError(error: unknown): Settled {
  const { name, message, code } = error as Error & { code?: unknown };
  return { error: { name, code, message } };
}

/** The entry as plain arrays, so one copied across threads compares equal to one made here. */
function plain(settled: Settled): unknown {
  if ('error' in settled) return settled;
  const { leaf, leafHash, searchKeys, kindVersion } = settled.entry;
  return { leaf: [...leaf], leafHash: [...leafHash], searchKeys: [...searchKeys], kindVersion };
}

function onThisThread(job: Job): Settled {
  try {
    return { entry: admitRequestBody(job.api, job.body) };
  } catch (error) {
    return describeError(error);
  }
}

describe('createAdmissionPool', () => {
  it('answers admitted and refused bodies exactly as admitRequestBody does on this thread', async () => {
    const pool = createAdmissionPool({ size: 2, batchSize: 8 });
    try {
      const jobs = mixedJobs();
      const settled = await Promise.all(
        jobs.map((job) => pool.admit(job.api, job.body).then((entry): Settled => ({ entry }), describeError)),
      );
      for (const [i, job] of jobs.entries()) {
        assert.deepEqual(plain(settled[i]!), plain(onThisThread(job)), job.label);
      }
      const codes = new Set(settled.flatMap((s) => ('error' in s ? [s.error.code] : [])));
      assert.deepEqual([...codes].sort(), [
        'LOG_ENTRY_INVALID',
        'LOG_ENTRY_UNSUPPORTED',
        'LOG_SIGNATURE_INVALID',
      ]);
      assert.equal(settled.filter((s) => 'entry' in s).length, 22);
      const stats = pool.stats();
      assert.equal(stats.completed, jobs.length);
      assert.equal(
        stats.workers.reduce((sum, worker) => sum + worker.jobs, 0),
        jobs.length,
      );
      assert.ok(
        stats.workers.every((worker) => worker.jobs > 0),
        'both workers admitted',
      );
      for (const worker of stats.workers) {
        assert.ok(worker.verifySeconds > 0, 'verification time is reported');
        assert.ok(worker.verifySeconds <= worker.busySeconds, 'verification is part of admission');
      }
    } finally {
      await pool.close();
    }
  });

  it('applies the entry limits it was given in every worker', async () => {
    const pool = createAdmissionPool({ size: 1, entryOptions: { maxEnvelopeLength: 100 } });
    try {
      const body = json(dsseProposal(testKey('p256'), statement('cd'.repeat(32))));
      await assert.rejects(
        pool.admit('v1', body),
        (error: unknown) => error instanceof LogError && error.code === 'LOG_ENTRY_TOO_LARGE',
      );
    } finally {
      await pool.close();
    }
  });

  it('copies the body at the call, so the caller may reuse it at once', async () => {
    const pool = createAdmissionPool({ size: 1 });
    try {
      const body = Buffer.from(JSON.stringify(hashedRekordProposal(testKey('p256'), { message: 'kept' })));
      const expected = admitRequestBody('v1', body);
      const pending = pool.admit('v1', body);
      body.fill(0x20);
      assert.deepEqual([...(await pending).leaf], [...expected.leaf]);
    } finally {
      await pool.close();
    }
  });

  describe('when more bodies are pending than maxQueue', () => {
    it('refuses the extra ones with LOG_OVERLOADED and answers the rest', async () => {
      const pool = createAdmissionPool({ size: 1, maxQueue: 4 });
      try {
        const body = json(hashedRekordProposal(testKey('p256'), { message: 'm' }));
        const settled = await Promise.allSettled(Array.from({ length: 6 }, () => pool.admit('v1', body)));
        assert.deepEqual(
          settled.map((s) => s.status),
          ['fulfilled', 'fulfilled', 'fulfilled', 'fulfilled', 'rejected', 'rejected'],
        );
        for (const outcome of settled.slice(4)) {
          const reason = (outcome as PromiseRejectedResult).reason as unknown;
          assert.ok(reason instanceof LogError && reason.code === 'LOG_OVERLOADED');
          assert.match(reason.message, /queue is full \(4 entries pending\)/);
        }
        assert.equal(pool.stats().overloaded, 2);
        assert.ok(await pool.admit('v1', body));
      } finally {
        await pool.close();
      }
    });
  });

  describe('when closed', () => {
    it('answers the bodies it accepted, then refuses new ones with LOG_CLOSED', async () => {
      const pool = createAdmissionPool({ size: 1 });
      const body = json(hashedRekordProposal(testKey('p384'), { hash: 'sha384' }));
      const accepted = Array.from({ length: 10 }, () => pool.admit('v1', body));
      const closed = pool.close();
      await assert.rejects(
        pool.admit('v1', body),
        (error: unknown) => error instanceof LogError && error.code === 'LOG_CLOSED',
      );
      assert.equal((await Promise.all(accepted)).length, 10);
      await closed;
    });
  });

  describe('when a worker exits while admitting', () => {
    it('fails its bodies with LOG_WORKER_UNAVAILABLE and admits the next ones on a new worker', async () => {
      const workers: Worker[] = [];
      const pool = createAdmissionPool({
        size: 1,
        batchSize: 32, // the 20 bodies go to the worker in one batch
        startWorker: (options) => {
          const worker = startAdmissionWorker(options);
          workers.push(worker);
          return worker;
        },
      });
      try {
        const body = json(hashedRekordProposal(testKey('p521'), { hash: 'sha512' }));
        const lost = Array.from({ length: 20 }, () => pool.admit('v1', body));
        await new Promise((resolve) => setImmediate(resolve)); // the batch is posted
        assert.equal(pool.stats().inFlight, 20);
        await workers[0]!.terminate();
        for (const outcome of await Promise.allSettled(lost)) {
          assert.equal(outcome.status, 'rejected');
          const reason: unknown = outcome.reason;
          assert.ok(reason instanceof LogError);
          assert.equal(reason.code, 'LOG_WORKER_UNAVAILABLE');
          assert.match(reason.message, /exited with code \d+ while admitting 20 entries/);
        }
        assert.ok(await pool.admit('v1', body));
        assert.equal(workers.length, 2);
        const [slot] = pool.stats().workers;
        assert.equal(slot?.replacements, 1);
        assert.equal(slot?.threadId, workers[1]!.threadId);
      } finally {
        await pool.close();
      }
    });

    it('fails the log entries it was rendering too, and renders the next ones on a new worker', async () => {
      const workers: Worker[] = [];
      const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      const identity = { key: privateKey, logId: 'ab'.repeat(32), treeIdHex: '0000000000000001' };
      const pool = createAdmissionPool({
        size: 1,
        batchSize: 32,
        rekorV1: identity,
        // The first worker takes messages and never answers: it exits with work in hand.
        startWorker: (options) => {
          const worker =
            workers.length === 0
              ? new Worker('setInterval(() => {}, 1000)', { eval: true })
              : startAdmissionWorker(options);
          workers.push(worker);
          return worker;
        },
      });
      const parts = {
        leaf: new TextEncoder().encode('{"leaf":1}'),
        leafHash: new Uint8Array(32).fill(7),
        index: 3,
        integratedTime: 1_700_000_000,
        checkpoint: { size: 4, rootHash: new Uint8Array(32).fill(9), note: 'origin\n4\n' },
        proof: [new Uint8Array(32).fill(1)],
      };
      try {
        const body = json(hashedRekordProposal(testKey('p521'), { hash: 'sha512' }));
        const admitting = Array.from({ length: 20 }, () => pool.admit('v1', body));
        const rendering = pool.renderRekorV1(parts);
        await new Promise((resolve) => setImmediate(resolve));
        await new Promise((resolve) => setImmediate(resolve)); // both messages are posted
        await workers[0]!.terminate();
        await Promise.allSettled(admitting);
        await assert.rejects(rendering, (error: unknown) => {
          assert.ok(error instanceof LogError);
          assert.equal(error.code, 'LOG_WORKER_UNAVAILABLE');
          assert.match(error.message, /while admitting 20 entries and rendering 1 log entries/);
          return true;
        });
        const rendered = JSON.parse(new TextDecoder().decode(await pool.renderRekorV1(parts))) as Record<
          string,
          { logIndex: number }
        >;
        assert.equal(rendered[`0000000000000001${'07'.repeat(32)}`]?.logIndex, 3);
        assert.equal(workers.length, 2);
      } finally {
        await pool.close();
      }
    });
  });

  it('lets the process exit when idle and not closed', async () => {
    const pool = new URL('../../src/log/admission-pool.ts', import.meta.url).href;
    const script = `
      import { createAdmissionPool } from ${JSON.stringify(pool)};
      const body = Buffer.from('{"kind":"hashedrekord"}');
      const answer = await createAdmissionPool({ size: 2 }).admit('v1', body).catch((error) => error.code);
      console.log(answer);
    `;
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', '--input-type=module', '--eval', script],
      { timeout: 30_000 },
    );
    assert.equal(stdout.trim(), 'LOG_ENTRY_INVALID');
  });

  it('keeps the process alive for a body that waits for a worker being restarted', async () => {
    // The second exit in a row delays the restart by 100 ms; the body admitted meanwhile must keep the
    // process alive until the new worker answers it (the restart timer alone does not).
    const pool = new URL('../../src/log/admission-pool.ts', import.meta.url).href;
    const script = `
      import { once } from 'node:events';
      import { createAdmissionPool, startAdmissionWorker } from ${JSON.stringify(pool)};
      const workers = [];
      const started = (options) => {
        const worker = startAdmissionWorker(options);
        workers.push(worker);
        return worker;
      };
      const admission = createAdmissionPool({ size: 1, startWorker: started });
      const alive = setInterval(() => {}, 1_000); // the pool's idle workers hold nothing
      await workers[0].terminate();
      while (workers.length < 2) await new Promise((resolve) => setTimeout(resolve, 5));
      await once(workers[1], 'online');
      await workers[1].terminate();
      clearInterval(alive);
      const body = Buffer.from('{"kind":"hashedrekord"}');
      const answer = await admission.admit('v1', body).catch((error) => error.code);
      console.log(answer, admission.stats().workers[0].replacements);
    `;
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', '--input-type=module', '--eval', script],
      { timeout: 30_000 },
    );
    assert.equal(stdout.trim(), 'LOG_ENTRY_INVALID 2');
  });

  it('rejects options that are not positive integers with a TypeError', () => {
    for (const options of [{ size: 0 }, { maxQueue: -1 }, { batchSize: 1.5 }]) {
      assert.throws(() => createAdmissionPool(options), TypeError);
    }
  });

  it('prints its throughput on hashedrekord entries from fresh P-256 keys against one thread', async () => {
    const count = 1500;
    const bodies = Array.from({ length: count }, () => {
      const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      const key = {
        privateKey,
        publicPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
      } as TestKey;
      return json(hashedRekordProposal(key, { message: randomBytes(16).toString('hex') }));
    });
    let start = performance.now();
    for (const body of bodies) admitRequestBody('v1', body);
    const single = (count / (performance.now() - start)) * 1000;
    const pool = createAdmissionPool({ size: 2, maxQueue: count });
    try {
      await Promise.all(bodies.slice(0, 50).map((body) => pool.admit('v1', body)));
      const before = pool.stats();
      start = performance.now();
      await Promise.all(bodies.map((body) => pool.admit('v1', body)));
      const seconds = (performance.now() - start) / 1000;
      const after = pool.stats();
      const sum = (key: 'busySeconds' | 'verifySeconds') =>
        after.workers.reduce((total, worker, i) => total + worker[key] - before.workers[i]![key], 0);
      console.log(
        `# hashedrekord, fresh P-256 keys: one thread ${single.toFixed(0)}/s; pool of 2 ` +
          `${(count / seconds).toFixed(0)}/s, workers busy ${((sum('busySeconds') / (2 * seconds)) * 100).toFixed(0)}% ` +
          `of the time, ${((sum('verifySeconds') / sum('busySeconds')) * 100).toFixed(0)}% of it verifying`,
      );
    } finally {
      await pool.close();
    }
  });
});
