import type { IncomingHttpHeaders, IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import type { Logger } from '../core/index.ts';
import { toErrorResponse, type ErrorResponse } from './error-response.ts';
import { ServerError } from './errors.ts';
import type { ServerMetrics } from './metrics.ts';

/** What a fast route answers: a status, extra headers, and a body sent as JSON (or JSON already encoded). */
export type FastResponse = {
  status: number;
  headers?: Readonly<Record<string, string>>;
} & ({ body: unknown } | { json: Uint8Array });

/** A POST endpoint served by node:http directly. */
export interface FastPostRoute {
  /** The exact path, e.g. `/api/v1/log/entries`; a query string is ignored. */
  path: string;
  /** Largest request body accepted, in bytes; larger ones get 413 REQUEST_TOO_LARGE. */
  maxBodyBytes: number;
  /** Most requests in progress at once; more get 503 SERVER_OVERLOADED with Retry-After. */
  maxConcurrent: number;
  /** Answers the request body; a thrown error is answered as toErrorResponse maps it. */
  handle(body: Uint8Array, headers: IncomingHttpHeaders): Promise<FastResponse>;
  /** The body of an error answer, from toErrorResponse's (e.g. Fulcio's `{code, message, details}`). */
  errorBody?: (answer: ErrorResponse) => unknown;
  /** Told each response's status once it is sent (e.g. append metrics). */
  onResponse?: (status: number) => void;
}

export interface FastRoutes {
  add(route: FastPostRoute): void;
  /** `fallback` for every request no fast route takes. */
  listener(fallback: RequestListener): RequestListener;
}

/**
 * Routes answered by node:http ahead of express: the transparency logs' write endpoints, where
 * express's per-request machinery (request/response prototypes, router, res.json) cost several times
 * the append itself (measured on this project's 2-core machine: a one-route express app answers
 * ~3,400 requests/s, node:http ~17,700/s). They keep what the express routes give: the request
 * metrics, the error mapping, a body limit and a concurrency limit. Routes may be added after the
 * server listens.
 */
export function createFastRoutes(options: { logger: Logger; metrics: ServerMetrics }): FastRoutes {
  const routes = new Map<string, { route: FastPostRoute; inFlight: number }>();
  return {
    add(route) {
      if (routes.has(route.path)) throw new TypeError(`path: ${route.path} already has a fast route`);
      routes.set(route.path, { route, inFlight: 0 });
    },
    listener(fallback) {
      return (request, response) => {
        const entry = request.method === 'POST' ? routes.get(pathOf(request.url)) : undefined;
        if (entry === undefined) {
          fallback(request, response);
          return;
        }
        serve(entry, request, response, options);
      };
    },
  };
}

function pathOf(url: string | undefined): string {
  const query = url?.indexOf('?') ?? -1;
  return query === -1 ? (url ?? '') : url!.slice(0, query);
}

/**
 * One request on a fast route. Written for the cached admission review (thousands a second on one
 * core): no promise for the body, no listeners on the response but 'close', the metrics and the
 * in-flight count settled once when the answer is written or the client goes away. The state lives in
 * an object with methods rather than in closures: under tsx (`npm start`) every named closure is
 * renamed with Object.defineProperty each time it is made, microseconds per request.
 */
function serve(
  entry: { route: FastPostRoute; inFlight: number },
  request: IncomingMessage,
  response: ServerResponse,
  context: { logger: Logger; metrics: ServerMetrics },
): void {
  const exchange = new FastExchange(entry, response, context);
  entry.inFlight += 1;
  if (entry.inFlight > entry.route.maxConcurrent) {
    request.resume(); // read and drop the body, so the connection stays usable
    exchange.fail(
      new ServerError(
        'SERVER_OVERLOADED',
        `more than ${entry.route.maxConcurrent} requests to ${entry.route.path} in progress; retry shortly`,
      ),
    );
    return;
  }
  const declared = Number(request.headers['content-length']);
  if (declared > entry.route.maxBodyBytes) {
    exchange.tooBig(`${declared}`);
    return;
  }
  request.on('data', (chunk: Buffer) => {
    if (!exchange.add(chunk)) request.pause();
  });
  request.on('end', () => exchange.end(request.headers));
  // The client went away before the answer: nobody to answer, but the slot is free again.
  response.on('close', () => exchange.close());
}

class FastExchange {
  readonly #entry: { route: FastPostRoute; inFlight: number };
  readonly #response: ServerResponse;
  readonly #context: { logger: Logger; metrics: ServerMetrics };
  readonly #started = performance.now();
  #settled = false;
  #overflowed = false;
  #first: Buffer | undefined;
  #chunks: Buffer[] | undefined;
  #length = 0;

  constructor(
    entry: { route: FastPostRoute; inFlight: number },
    response: ServerResponse,
    context: { logger: Logger; metrics: ServerMetrics },
  ) {
    this.#entry = entry;
    this.#response = response;
    this.#context = context;
  }

  /** Keeps a chunk of the body; false once the body is over the limit (answered 413, read no further). */
  add(chunk: Buffer): boolean {
    if (this.#overflowed) return false;
    this.#length += chunk.length;
    if (this.#length > this.#entry.route.maxBodyBytes) {
      this.#overflowed = true;
      this.tooBig('more');
      return false;
    }
    if (this.#first === undefined) this.#first = chunk;
    else (this.#chunks ??= [this.#first]).push(chunk);
    return true;
  }

  end(headers: IncomingMessage['headers']): void {
    if (this.#settled) return;
    const body = this.#chunks ? Buffer.concat(this.#chunks, this.#length) : (this.#first ?? Buffer.alloc(0));
    this.#entry.route.handle(body, headers).then(
      (result) =>
        this.answer(
          result.status,
          result.headers ?? {},
          'json' in result ? new EncodedJson(result.json) : result.body,
        ),
      (error: unknown) => this.fail(error),
    );
  }

  close(): void {
    if (this.#settled) return;
    this.#settled = true;
    this.#entry.inFlight -= 1;
    if (!this.#response.writableEnded) this.#response.destroy();
  }

  answer(status: number, headers: Readonly<Record<string, string>>, body: unknown): void {
    if (this.#settled) return;
    this.#settled = true;
    const { route } = this.#entry;
    this.#entry.inFlight -= 1;
    send(this.#response, status, headers, body);
    this.#context.metrics.httpRequestDuration.observe(
      { method: 'POST', route: route.path, status: String(this.#response.statusCode) },
      (performance.now() - this.#started) / 1000,
    );
    route.onResponse?.(this.#response.statusCode);
  }

  fail(error: unknown): void {
    const { route } = this.#entry;
    const mapped = toErrorResponse(error, this.#context.logger.child({ method: 'POST', path: route.path }));
    this.answer(mapped.status, mapped.headers, route.errorBody ? route.errorBody(mapped) : mapped.body);
  }

  /** A body over the limit is not read further: the connection closes after the answer. */
  tooBig(received: string): void {
    this.#response.shouldKeepAlive = false;
    this.fail(tooLarge(this.#entry.route.maxBodyBytes, received));
  }
}

/** JSON a route encoded itself, marked so `send` writes it as it is. */
class EncodedJson {
  constructor(readonly bytes: Uint8Array) {}
}

function send(
  response: ServerResponse,
  status: number,
  headers: Readonly<Record<string, string>>,
  body: unknown,
): void {
  if (response.headersSent || response.destroyed) return;
  const content = body instanceof EncodedJson ? body.bytes : JSON.stringify(body);
  // One write of head and body together.
  response.writeHead(status, {
    ...headers,
    'content-type': 'application/json; charset=utf-8',
    'content-length': String(typeof content === 'string' ? Buffer.byteLength(content) : content.byteLength),
  });
  response.end(content);
}

function tooLarge(limit: number, received = 'more'): ServerError {
  return new ServerError(
    'REQUEST_TOO_LARGE',
    `request body: expected at most ${limit} bytes, received ${received}; send a smaller entry or raise --max-body-bytes`,
  );
}
