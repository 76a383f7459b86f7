import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';

// src/cli/threadpool.cjs, preloaded by `npm start`: libuv's pool sized to the CPUs before it starts.
const preload = fileURLToPath(new URL('../../src/cli/threadpool.cjs', import.meta.url));

/** UV_THREADPOOL_SIZE as a node process preloading the file sees it, and its count of threads. */
function run(env: NodeJS.ProcessEnv): { size: string; threads: number } {
  const script =
    "require('node:crypto').randomBytes(8, () => console.log(JSON.stringify({ size: process.env.UV_THREADPOOL_SIZE, " +
    "threads: require('node:fs').readdirSync('/proc/self/task').length })))";
  const { UV_THREADPOOL_SIZE: _unset, ...rest } = process.env;
  const output = execFileSync(process.execPath, ['--require', preload, '-e', script], {
    env: { ...rest, ...env },
    encoding: 'utf8',
  });
  return JSON.parse(output) as { size: string; threads: number };
}

describe('libuv thread pool preload', () => {
  it('sizes the pool to the CPUs (at least 2), before the pool starts', () => {
    const sized = run({});
    assert.equal(sized.size, String(Math.max(2, availableParallelism())));
    // The pool really has that many threads: one more thread than with a pool one smaller.
    const smaller = run({ UV_THREADPOOL_SIZE: String(Number(sized.size) - 1) });
    assert.equal(sized.threads - smaller.threads, 1);
  });

  it("keeps the operator's UV_THREADPOOL_SIZE", () => {
    assert.equal(run({ UV_THREADPOOL_SIZE: '7' }).size, '7');
  });
});
