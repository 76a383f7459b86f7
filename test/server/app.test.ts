import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import express from 'express';
import { CoreError, silentLogger } from '../../src/core/index.ts';
import {
  ServerError,
  createApp,
  createServerMetrics,
  listen,
  statusForCode,
  type RunningServer,
} from '../../src/server/index.ts';

describe('the HTTP application', () => {
  let ready = true;
  let server: RunningServer;

  before(async () => {
    const router = express.Router();
    router.get('/boom/core', () => {
      throw new CoreError('CORE_JSON_INVALID', 'body: expected JSON, Unexpected end');
    });
    router.get('/boom/overload', () => {
      throw new ServerError('SERVER_OVERLOADED', 'too many pending appends');
    });
    router.get('/boom/bug', () => {
      throw new Error('secret internal detail');
    });
    router.post('/echo', express.json({ limit: 16 }), (request, response) => {
      response.json(request.body);
    });
    const app = createApp({
      logger: silentLogger,
      metrics: createServerMetrics({ collectProcessMetrics: false }),
      readiness: [
        { name: 'always', check: () => true },
        {
          name: 'log-storage',
          check: () => {
            if (!ready) throw new Error('database locked');
            return true;
          },
        },
      ],
      routers: [router],
    });
    server = await listen(app, { port: 0 });
  });

  after(() => server.close());

  it('answers /healthz with ok', async () => {
    const response = await fetch(`${server.url}/healthz`);
    assert.equal(response.status, 200);
    assert.equal(await response.text(), 'ok\n');
  });

  it('answers /readyz with 200 when every check passes', async () => {
    ready = true;
    const response = await fetch(`${server.url}/readyz?verbose`);
    assert.equal(response.status, 200);
    assert.deepEqual(await response.json(), {
      ready: true,
      checks: [
        { name: 'always', ready: true },
        { name: 'log-storage', ready: true },
      ],
    });
  });

  describe('when a readiness check fails', () => {
    it('answers /readyz with 503, Retry-After and the failing check with its reason', async () => {
      ready = false;
      const response = await fetch(`${server.url}/readyz`);
      assert.equal(response.status, 503);
      assert.equal(response.headers.get('retry-after'), '1');
      assert.equal(await response.text(), 'not ready: log-storage (database locked)\n');
      ready = true;
    });
  });

  it('maps a domain error to 4xx with its code and message', async () => {
    const response = await fetch(`${server.url}/boom/core`);
    assert.equal(response.status, 400);
    assert.deepEqual(await response.json(), {
      code: 'CORE_JSON_INVALID',
      message: 'body: expected JSON, Unexpected end',
    });
  });

  it('maps overload to 503 with Retry-After', async () => {
    const response = await fetch(`${server.url}/boom/overload`);
    assert.equal(response.status, 503);
    assert.equal(response.headers.get('retry-after'), '1');
  });

  it('answers an unexpected error with a 500 that leaks nothing', async () => {
    const response = await fetch(`${server.url}/boom/bug`);
    assert.equal(response.status, 500);
    assert.deepEqual(await response.json(), { code: 'INTERNAL', message: 'internal error' });
  });

  it('answers malformed and oversized bodies with 400 and 413', async () => {
    const post = (body: string) =>
      fetch(`${server.url}/echo`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    const malformed = await post('{"a":');
    assert.equal(malformed.status, 400);
    assert.equal(((await malformed.json()) as { code: string }).code, 'REQUEST_BODY_INVALID');
    const large = await post(JSON.stringify({ a: 'x'.repeat(64) }));
    assert.equal(large.status, 413);
    assert.equal(((await large.json()) as { code: string }).code, 'REQUEST_TOO_LARGE');
  });

  it('answers unknown routes with a JSON 404 naming the route', async () => {
    const response = await fetch(`${server.url}/nope`, { method: 'DELETE' });
    assert.equal(response.status, 404);
    assert.deepEqual(await response.json(), { code: 'NOT_FOUND', message: 'no route for DELETE /nope' });
  });

  it('exposes request durations by route and status on /metrics', async () => {
    await fetch(`${server.url}/healthz`);
    const text = await (await fetch(`${server.url}/metrics`)).text();
    assert.match(
      text,
      /sigil_http_request_duration_seconds_count\{method="GET",route="\/healthz",status="200"\} \d+/,
    );
    assert.match(
      text,
      /sigil_http_request_duration_seconds_count\{method="DELETE",route="unmatched",status="404"\} 1/,
    );
  });
});

describe('statusForCode', () => {
  const cases: [string, number][] = [
    ['LOG_ENTRY_NOT_FOUND', 404],
    ['LOG_ENTRY_DUPLICATE', 409],
    ['CORE_INPUT_TOO_LARGE', 413],
    ['CA_TOKEN_INVALID', 401],
    ['SERVER_OVERLOADED', 503],
    ['CORE_ENCODING_INVALID', 400],
    ['LOG_STORAGE_FAILED', 500],
  ];
  for (const [code, status] of cases) {
    it(`maps ${code} to ${status}`, () => assert.equal(statusForCode(code), status));
  }
});

describe('listen', () => {
  it('fails with SERVER_ADDRESS_IN_USE and tells the user to pick another port', async () => {
    const app = createApp({
      logger: silentLogger,
      metrics: createServerMetrics({ collectProcessMetrics: false }),
    });
    const first = await listen(app, { port: 0 });
    try {
      await assert.rejects(listen(app, { port: first.port }), (error: unknown) => {
        assert.ok(error instanceof ServerError);
        assert.equal(error.code, 'SERVER_ADDRESS_IN_USE');
        assert.match(error.message, /already in use; stop what holds it or pass another --port/);
        return true;
      });
    } finally {
      await first.close();
    }
  });
});
