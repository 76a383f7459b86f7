import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import autocannon from 'autocannon';
import { silentLogger } from '../../src/core/index.ts';
import { createApp, createServerMetrics, listen, type RunningServer } from '../../src/server/index.ts';
import { run } from '../tools/service.ts';
import { toolPath } from '../tools/tools.ts';

// Load generators for the benchmarks: both are smoke-tested here against Sigil's own server on loopback,
// for a bounded second, with no timing assertion (figures belong to `npm run bench`).
describe('HTTP load generators', () => {
  let server: RunningServer;

  before(async () => {
    const app = createApp({
      logger: silentLogger,
      metrics: createServerMetrics({ collectProcessMetrics: false }),
    });
    server = await listen(app, { port: 0 });
  });

  after(() => server?.close());

  it('autocannon drives /healthz with only 2xx answers', async () => {
    const result = await autocannon({ url: `${server.url}/healthz`, connections: 4, duration: 1 });
    assert.ok(result.requests.total > 0);
    assert.equal(result.errors, 0);
    assert.equal(result.non2xx, 0);
  });

  it('wrk drives /healthz and reports its figures', async () => {
    const output = await run(toolPath('wrk'), ['-t1', '-c4', '-d1s', `${server.url}/healthz`]);
    assert.match(output, /Requests\/sec:\s+[\d.]+/);
    assert.doesNotMatch(output, /Non-2xx or 3xx responses/);
  });
});
