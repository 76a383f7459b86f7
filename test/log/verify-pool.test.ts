import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash, generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import { promisify } from 'node:util';
import { describe, it } from 'node:test';
import type { Worker } from 'node:worker_threads';
import { verifyDigestSignature } from '../../src/log/entries/index.ts';
import type { HashAlgorithm } from '../../src/log/entries/index.ts';
import { LogError } from '../../src/log/errors.ts';
import { createVerifyPool, startVerifyWorker } from '../../src/log/verify-pool.ts';
import { assertLogError, signForDigest, testKey, type KeyKind } from './entries/fixtures.ts';

interface Job {
  readonly label: string;
  readonly spki: Uint8Array;
  readonly digest: Uint8Array;
  readonly signature: Uint8Array;
  readonly hash: HashAlgorithm;
}

const digestOf = (hash: HashAlgorithm, message: Uint8Array | string): Uint8Array =>
  new Uint8Array(createHash(hash).update(message).digest());

/** Valid and invalid signatures of every key kind, plus jobs the synchronous function throws on. */
function mixedJobs(): Job[] {
  const jobs: Job[] = [];
  const kinds: [KeyKind, HashAlgorithm][] = [
    ['p256', 'sha256'],
    ['p384', 'sha384'],
    ['p521', 'sha512'],
    ['rsa2048', 'sha256'],
    ['ed25519', 'sha512'],
  ];
  for (const [kind, hash] of kinds) {
    const key = testKey(kind);
    for (let i = 0; i < 6; i++) {
      const message = randomBytes(16);
      const signature = signForDigest(key, message.toString('hex'), hash);
      const digest = digestOf(hash, message.toString('hex'));
      jobs.push({ label: `${kind} valid`, spki: key.spkiDer, digest, signature, hash });
      jobs.push({
        label: `${kind} other digest`,
        spki: key.spkiDer,
        digest: digestOf(hash, 'other'),
        signature,
        hash,
      });
      const tampered = signature.slice();
      tampered[i % tampered.length]! ^= 0x10;
      jobs.push({ label: `${kind} tampered`, spki: key.spkiDer, digest, signature: tampered, hash });
    }
  }
  const p256 = testKey('p256');
  jobs.push({
    label: 'short digest',
    spki: p256.spkiDer,
    digest: new Uint8Array(20),
    signature: new Uint8Array(70),
    hash: 'sha256',
  });
  jobs.push({
    label: 'secp256k1 key',
    spki: testKey('secp256k1').spkiDer,
    digest: new Uint8Array(32),
    signature: new Uint8Array(70),
    hash: 'sha256',
  });
  jobs.push({
    label: 'not an SPKI',
    spki: randomBytes(40),
    digest: new Uint8Array(32),
    signature: new Uint8Array(70),
    hash: 'sha256',
  });
  return jobs;
}

type Settled = { valid: boolean } | { error: { name: string; code: unknown; message: string } };

function describeError(error: unknown): Settled {
  const { name, message, code } = error as Error & { code?: unknown };
  return { error: { name, code, message } };
}

function synchronously(job: Job): Settled {
  try {
    return { valid: verifyDigestSignature(job.spki, job.digest, job.signature, job.hash) };
  } catch (error) {
    return describeError(error);
  }
}

describe('createVerifyPool', () => {
  it('answers mixed valid, invalid and unverifiable signatures as the synchronous function does', async () => {
    const pool = createVerifyPool({ size: 2, batchSize: 8 });
    try {
      const jobs = mixedJobs();
      const settled = await Promise.all(
        jobs.map((job) =>
          pool
            .verifyDigestSignature(job.spki, job.digest, job.signature, job.hash)
            .then((valid): Settled => ({ valid }), describeError),
        ),
      );
      for (const [i, job] of jobs.entries()) assert.deepEqual(settled[i], synchronously(job), job.label);
      assert.ok(settled.some((s) => 'valid' in s && s.valid));
      assert.ok(settled.some((s) => 'error' in s && s.error.code === 'LOG_ENTRY_UNSUPPORTED'));
      const stats = pool.stats();
      assert.equal(stats.completed, jobs.length);
      assert.equal(
        stats.workers.reduce((sum, worker) => sum + worker.jobs, 0),
        jobs.length,
      );
      assert.ok(
        stats.workers.every((worker) => worker.jobs > 0),
        'both workers verified',
      );
    } finally {
      await pool.close();
    }
  });

  it('copies the byte arrays at the call, so the caller may reuse them at once', async () => {
    const pool = createVerifyPool({ size: 1 });
    try {
      const key = testKey('p256');
      const signature = signForDigest(key, 'kept', 'sha256');
      const digest = Buffer.from(digestOf('sha256', 'kept')); // Buffer#slice would share memory
      const pending = pool.verifyDigestSignature(key.spkiDer, digest, signature, 'sha256');
      digest.fill(0);
      assert.equal(await pending, true);
      assert.equal(signature.byteLength > 0, true, 'nothing of the caller was transferred');
    } finally {
      await pool.close();
    }
  });

  describe('when more signatures are pending than maxQueue', () => {
    it('refuses the extra ones with LOG_OVERLOADED and answers the rest', async () => {
      const pool = createVerifyPool({ size: 1, maxQueue: 4 });
      try {
        const key = testKey('p256');
        const signature = signForDigest(key, 'm', 'sha256');
        const calls = Array.from({ length: 6 }, () =>
          pool.verifyDigestSignature(key.spkiDer, digestOf('sha256', 'm'), signature, 'sha256'),
        );
        const settled = await Promise.allSettled(calls);
        assert.deepEqual(
          settled.slice(0, 4).map((s) => s.status === 'fulfilled' && s.value),
          [true, true, true, true],
        );
        for (const outcome of settled.slice(4)) {
          assert.equal(outcome.status, 'rejected');
          const reason: unknown = outcome.reason;
          assertLogError(() => {
            throw reason;
          }, 'LOG_OVERLOADED');
        }
        assert.equal(pool.stats().overloaded, 2);
        assert.equal(
          await pool.verifyDigestSignature(key.spkiDer, digestOf('sha256', 'm'), signature, 'sha256'),
          true,
        );
      } finally {
        await pool.close();
      }
    });
  });

  describe('when closed', () => {
    it('answers the signatures it accepted, then refuses new ones with LOG_CLOSED', async () => {
      const pool = createVerifyPool({ size: 1 });
      const key = testKey('p384');
      const signature = signForDigest(key, 'm', 'sha384');
      const accepted = Array.from({ length: 10 }, () =>
        pool.verifyDigestSignature(key.spkiDer, digestOf('sha384', 'm'), signature, 'sha384'),
      );
      const closed = pool.close();
      await assert.rejects(
        pool.verifyDigestSignature(key.spkiDer, digestOf('sha384', 'm'), signature, 'sha384'),
        (error: unknown) => error instanceof LogError && error.code === 'LOG_CLOSED',
      );
      assert.deepEqual(await Promise.all(accepted), Array(10).fill(true));
      await closed;
    });
  });

  describe('when a worker exits while verifying', () => {
    it('fails its signatures with LOG_OVERLOADED and verifies the next ones on a new worker', async () => {
      const workers: Worker[] = [];
      const pool = createVerifyPool({
        size: 1,
        startWorker: () => {
          const worker = startVerifyWorker();
          workers.push(worker);
          return worker;
        },
      });
      try {
        const key = testKey('p521');
        const signature = signForDigest(key, 'm', 'sha512');
        const digest = digestOf('sha512', 'm');
        const lost = Array.from({ length: 20 }, () =>
          pool.verifyDigestSignature(key.spkiDer, digest, signature, 'sha512'),
        );
        await new Promise((resolve) => setImmediate(resolve)); // the batch is posted
        assert.equal(pool.stats().inFlight, 20);
        await workers[0]!.terminate();
        for (const outcome of await Promise.allSettled(lost)) {
          assert.equal(outcome.status, 'rejected');
          const reason: unknown = outcome.reason;
          assert.ok(reason instanceof LogError);
          assert.equal(reason.code, 'LOG_OVERLOADED');
          assert.match(reason.message, /exited with code \d+ while verifying 20 signatures/);
        }
        assert.equal(await pool.verifyDigestSignature(key.spkiDer, digest, signature, 'sha512'), true);
        assert.equal(workers.length, 2);
        const [slot] = pool.stats().workers;
        assert.equal(slot?.replacements, 1);
        assert.equal(slot?.threadId, workers[1]!.threadId);
      } finally {
        await pool.close();
      }
    });
  });

  it('lets the process exit when idle and not closed', async () => {
    const pool = new URL('../../src/log/verify-pool.ts', import.meta.url).href;
    const script = `
      import { createHash, generateKeyPairSync, sign } from 'node:crypto';
      import { createVerifyPool } from ${JSON.stringify(pool)};
      const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      const spki = publicKey.export({ type: 'spki', format: 'der' });
      const signature = sign('sha256', Buffer.from('m'), { key: privateKey, dsaEncoding: 'der' });
      const digest = createHash('sha256').update('m').digest();
      console.log(await createVerifyPool({ size: 2 }).verifyDigestSignature(spki, digest, signature, 'sha256'));
    `;
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', '--input-type=module', '--eval', script],
      { timeout: 30_000 },
    );
    assert.equal(stdout.trim(), 'true');
  });

  it('rejects options that are not positive integers with a TypeError', () => {
    for (const options of [{ size: 0 }, { maxQueue: -1 }, { batchSize: 1.5 }]) {
      assert.throws(() => createVerifyPool(options), TypeError);
    }
  });

  it('prints its throughput on fresh P-256 keys against one thread', async () => {
    const count = 2000;
    const jobs = Array.from({ length: count }, () => {
      const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      const message = randomBytes(32);
      return {
        spki: new Uint8Array(publicKey.export({ type: 'spki', format: 'der' })),
        digest: digestOf('sha256', message),
        signature: new Uint8Array(sign('sha256', message, { key: privateKey, dsaEncoding: 'der' })),
      };
    });
    let start = performance.now();
    for (const job of jobs) assert.ok(verifyDigestSignature(job.spki, job.digest, job.signature, 'sha256'));
    const single = (count / (performance.now() - start)) * 1000;
    const pool = createVerifyPool({ size: 2, maxQueue: count });
    try {
      await Promise.all(
        jobs
          .slice(0, 50)
          .map((job) => pool.verifyDigestSignature(job.spki, job.digest, job.signature, 'sha256')),
      );
      const before = pool.stats();
      start = performance.now();
      const results = await Promise.all(
        jobs.map((job) => pool.verifyDigestSignature(job.spki, job.digest, job.signature, 'sha256')),
      );
      const seconds = (performance.now() - start) / 1000;
      assert.ok(results.every(Boolean));
      const verifying = pool
        .stats()
        .workers.reduce((sum, worker, i) => sum + worker.verifySeconds - before.workers[i]!.verifySeconds, 0);
      console.log(
        `# P-256 fresh keys: one thread ${single.toFixed(0)}/s; pool of 2 ${(count / seconds).toFixed(0)}/s, ` +
          `workers verifying ${((verifying / (2 * seconds)) * 100).toFixed(0)}% of the time`,
      );
    } finally {
      await pool.close();
    }
  });
});
