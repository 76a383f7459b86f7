import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { silentLogger } from '../../src/core/index.ts';
import {
  createApp,
  createFastRoutes,
  createServerMetrics,
  listen,
  type RunningServer,
} from '../../src/server/index.ts';
import { run } from '../tools/service.ts';
import { toolPath } from '../tools/tools.ts';

// wrk is the load generator of `npm run bench:log`: smoke-tested here against Sigil's own server on
// loopback, for a bounded second, with no timing assertion (figures belong to `npm run bench`).
describe('wrk, the benchmarks’ load generator', () => {
  let server: RunningServer;
  let dir: string;
  const received = new Map<string, number>();

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sigil-wrk-'));
    const metrics = createServerMetrics({ collectProcessMetrics: false });
    const routes = createFastRoutes({ logger: silentLogger, metrics });
    // Like the log: 201 for a body seen the first time, 409 for a repeat.
    routes.add({
      path: '/bodies',
      maxBodyBytes: 1024,
      maxConcurrent: 64,
      handle: (body) => {
        const text = Buffer.from(body).toString();
        const seen = received.get(text) ?? 0;
        received.set(text, seen + 1);
        return Promise.resolve({ status: seen === 0 ? 201 : 409, body: {} });
      },
    });
    server = await listen(routes.listener(createApp({ logger: silentLogger, metrics })), { port: 0 });
  });

  after(async () => {
    await server?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('drives /healthz and reports its figures', async () => {
    const output = await run(toolPath('wrk'), ['-t1', '-c4', '-d1s', `${server.url}/healthz`]);
    assert.match(output, /Requests\/sec:\s+[\d.]+/);
    assert.doesNotMatch(output, /Non-2xx or 3xx responses/);
  });

  it('runs bench/wrk/post-bodies.lua: each thread posts its own lines after the skipped ones, repeats count as errors', async () => {
    const file = join(dir, 'bodies.jsonl');
    await writeFile(file, ['{"n":"skipped"}', '{"n":1}', '{"n":2}', '{"n":3}', '{"n":4}'].join('\n') + '\n');
    const script = fileURLToPath(new URL('../../bench/wrk/post-bodies.lua', import.meta.url));
    const output = await run(toolPath('wrk'), [
      '-t2',
      '-c2',
      '-d1s',
      '-s',
      script,
      server.url,
      '--',
      '/bodies',
      file,
      '2',
      '1',
    ]);
    const line = output.split('\n').find((text) => text.startsWith('{"requests"'));
    assert.ok(line, output);
    const result = JSON.parse(line) as { requests: number; statusErrors: number; p99Micros: number };
    assert.deepEqual([...received.keys()].filter((body) => body.startsWith('{"n"')).sort(), [
      '{"n":1}',
      '{"n":2}',
      '{"n":3}',
      '{"n":4}',
    ]);
    assert.equal(result.statusErrors, result.requests - 4, 'every repeat answered 409 is counted');
    assert.ok(result.p99Micros > 0);
  });
});
