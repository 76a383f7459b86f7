import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { silentLogger } from '../../src/core/index.ts';
import { LogError } from '../../src/log/index.ts';
import {
  createApp,
  createFastRoutes,
  createServerMetrics,
  listen,
  type RunningServer,
  type ServerMetrics,
} from '../../src/server/index.ts';

/** POSTs `chunks` with chunked transfer encoding (no Content-Length), as a streaming client does. */
function postChunked(url: string, chunks: Buffer[]): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(url, { method: 'POST' }, (response) => {
      let body = '';
      response.on('data', (chunk: Buffer) => (body += chunk.toString()));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
    });
    request.on('error', reject);
    for (const chunk of chunks) request.write(chunk);
    request.end();
  });
}

describe('fast routes', () => {
  let server: RunningServer;
  let metrics: ServerMetrics;
  const statuses: number[] = [];
  let release: (() => void) | undefined;
  const releaseHeld = () => release?.();

  before(async () => {
    metrics = createServerMetrics({ collectProcessMetrics: false });
    const app = createApp({ logger: silentLogger, metrics });
    const routes = createFastRoutes({ logger: silentLogger, metrics });
    server = await listen(routes.listener(app), { port: 0 });
    // Added after listening, as `sigil up` adds the log's routes once the log is open.
    routes.add({
      path: '/echo',
      maxBodyBytes: 64,
      maxConcurrent: 1,
      onResponse: (status) => statuses.push(status),
      async handle(body) {
        const text = Buffer.from(body).toString();
        if (text === 'hold') await new Promise<void>((resolve) => (release = resolve));
        if (text === 'refuse') throw new LogError('LOG_ENTRY_INVALID', 'spec.kind: expected a string');
        if (text === 'bug') throw new Error('secret internal detail');
        return { status: 201, headers: { location: '/echo/1' }, body: { received: text } };
      },
    });
  });

  after(() => server.close());

  it('answers a POST to its path with the handler status, headers and JSON body, in one response', async () => {
    const response = await fetch(`${server.url}/echo?ignored=1`, { method: 'POST', body: 'hello' });
    assert.equal(response.status, 201);
    assert.equal(response.headers.get('location'), '/echo/1');
    assert.equal(response.headers.get('content-type'), 'application/json; charset=utf-8');
    assert.deepEqual(await response.json(), { received: 'hello' });
    assert.equal(statuses.at(-1), 201);
  });

  it('leaves other methods and paths to the fallback application', async () => {
    assert.equal((await fetch(`${server.url}/echo`)).status, 404);
    assert.equal(await (await fetch(`${server.url}/healthz`)).text(), 'ok\n');
  });

  it('maps a thrown SigilError by its code and hides any other error behind a 500', async () => {
    const refused = await fetch(`${server.url}/echo`, { method: 'POST', body: 'refuse' });
    assert.equal(refused.status, 400);
    assert.deepEqual(await refused.json(), {
      code: 'LOG_ENTRY_INVALID',
      message: 'spec.kind: expected a string',
    });
    const bug = await fetch(`${server.url}/echo`, { method: 'POST', body: 'bug' });
    assert.equal(bug.status, 500);
    assert.deepEqual(await bug.json(), { code: 'INTERNAL', message: 'internal error' });
  });

  it('answers 413 REQUEST_TOO_LARGE for a body over the limit, declared or streamed', async () => {
    const declared = await fetch(`${server.url}/echo`, { method: 'POST', body: 'x'.repeat(65) });
    assert.equal(declared.status, 413);
    const answer = (await declared.json()) as { code: string; message: string };
    assert.equal(answer.code, 'REQUEST_TOO_LARGE');
    assert.match(answer.message, /^request body: expected at most 64 bytes, received 65; .*--max-body-bytes/);
    const streamed = await postChunked(`${server.url}/echo`, [
      Buffer.alloc(40, 0x61),
      Buffer.alloc(40, 0x62),
    ]);
    assert.equal(streamed.status, 413);
    assert.match(streamed.body, /"code":"REQUEST_TOO_LARGE"/);
    const exact = await postChunked(`${server.url}/echo`, [Buffer.alloc(32, 0x61), Buffer.alloc(32, 0x62)]);
    assert.equal(exact.status, 201, 'a body of exactly the limit is accepted');
  });

  it('answers 503 with Retry-After beyond its concurrency limit, and serves again once free', async () => {
    const held = fetch(`${server.url}/echo`, { method: 'POST', body: 'hold' });
    while (release === undefined) await new Promise((resolve) => setTimeout(resolve, 5));
    const refused = await fetch(`${server.url}/echo`, { method: 'POST', body: 'second' });
    assert.equal(refused.status, 503);
    assert.equal(refused.headers.get('retry-after'), '1');
    assert.equal(((await refused.json()) as { code: string }).code, 'SERVER_OVERLOADED');
    release();
    assert.equal((await held).status, 201);
    assert.equal((await fetch(`${server.url}/echo`, { method: 'POST', body: 'third' })).status, 201);
  });

  it('frees the slot of a client that goes away mid-body or while its answer is being made', async () => {
    const serveAgain = async () => {
      // The server sees the close a moment after the client: retry until the slot is free again.
      for (let attempt = 0; attempt < 50; attempt++) {
        const answer = await fetch(`${server.url}/echo`, { method: 'POST', body: 'after' });
        if (answer.status === 201) return;
        assert.equal(answer.status, 503);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      assert.fail('the slot of a departed client was never freed');
    };
    const midBody = httpRequest(`${server.url}/echo`, { method: 'POST' });
    midBody.on('error', () => undefined);
    midBody.write('partial');
    await new Promise((resolve) => setTimeout(resolve, 50));
    midBody.destroy();
    await serveAgain();

    release = undefined;
    const waiting = httpRequest(`${server.url}/echo`, { method: 'POST' });
    waiting.on('error', () => undefined);
    waiting.end('hold');
    while (release === undefined) await new Promise((resolve) => setTimeout(resolve, 5));
    waiting.destroy();
    await serveAgain();
    releaseHeld();
  });

  it('records each request in the HTTP request metrics under its path', async () => {
    const text = await metrics.registry.metrics();
    assert.match(
      text,
      /sigil_http_request_duration_seconds_count\{method="POST",route="\/echo",status="201"\} \d+/,
    );
    assert.match(
      text,
      /sigil_http_request_duration_seconds_count\{method="POST",route="\/echo",status="413"\} \d+/,
    );
  });

  it('refuses a second route on the same path', () => {
    const routes = createFastRoutes({ logger: silentLogger, metrics });
    const route = {
      path: '/x',
      maxBodyBytes: 1,
      maxConcurrent: 1,
      handle: () => Promise.resolve({ status: 200, body: {} }),
    };
    routes.add(route);
    assert.throws(() => routes.add(route), TypeError);
  });
});
