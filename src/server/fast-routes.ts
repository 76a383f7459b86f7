import type { IncomingHttpHeaders, IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import type { Logger } from '../core/index.ts';
import { toErrorResponse, type ErrorResponse } from './error-response.ts';
import { ServerError } from './errors.ts';
import type { ServerMetrics } from './metrics.ts';

/** What a fast route answers: a status, extra headers, and a body sent as JSON. */
export interface FastResponse {
  status: number;
  headers?: Readonly<Record<string, string>>;
  body: unknown;
}

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

function serve(
  entry: { route: FastPostRoute; inFlight: number },
  request: IncomingMessage,
  response: ServerResponse,
  { logger, metrics }: { logger: Logger; metrics: ServerMetrics },
): void {
  const { route } = entry;
  const end = metrics.httpRequestDuration.startTimer({ method: 'POST', route: route.path });
  response.on('finish', () => {
    end({ status: String(response.statusCode) });
    route.onResponse?.(response.statusCode);
  });
  const fail = (error: unknown): void => {
    const answer = toErrorResponse(error, logger.child({ method: 'POST', path: route.path }));
    send(response, answer.status, answer.headers, route.errorBody ? route.errorBody(answer) : answer.body);
  };
  if (entry.inFlight >= route.maxConcurrent) {
    request.resume(); // read and drop the body, so the connection stays usable
    fail(
      new ServerError(
        'SERVER_OVERLOADED',
        `more than ${route.maxConcurrent} requests to ${route.path} in progress; retry shortly`,
      ),
    );
    return;
  }
  entry.inFlight += 1;
  response.on('close', () => (entry.inFlight -= 1));
  readBody(request, route.maxBodyBytes).then(
    (body) =>
      route
        .handle(body, request.headers)
        .then((answer) => send(response, answer.status, answer.headers ?? {}, answer.body))
        .catch(fail),
    (error: unknown) => {
      if (error instanceof RequestAborted) {
        response.destroy(); // the client went away mid-body: nobody to answer
        return;
      }
      // A body over the limit is not read further: the connection closes after the answer.
      response.shouldKeepAlive = false;
      fail(error);
    },
  );
}

/** The request failed while its body was read (e.g. the client disconnected). */
class RequestAborted extends Error {}

function send(
  response: ServerResponse,
  status: number,
  headers: Readonly<Record<string, string>>,
  body: unknown,
): void {
  if (response.headersSent || response.destroyed) return;
  const text = JSON.stringify(body);
  // One write of head and body together.
  response.writeHead(status, {
    ...headers,
    'content-type': 'application/json; charset=utf-8',
    'content-length': String(Buffer.byteLength(text)),
  });
  response.end(text);
}

/** The whole request body, or REQUEST_TOO_LARGE as soon as it passes `limit` bytes. */
function readBody(request: IncomingMessage, limit: number): Promise<Uint8Array> {
  const declared = Number(request.headers['content-length']);
  if (declared > limit) return Promise.reject(tooLarge(limit, `${declared}`));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let length = 0;
    const onData = (chunk: Buffer) => {
      length += chunk.length;
      if (length > limit) {
        request.off('data', onData);
        request.pause();
        reject(tooLarge(limit));
        return;
      }
      chunks.push(chunk);
    };
    request.on('data', onData);
    request.on('end', () => resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, length)));
    request.on('error', (cause) => reject(new RequestAborted('request aborted', { cause })));
  });
}

function tooLarge(limit: number, received = 'more'): ServerError {
  return new ServerError(
    'REQUEST_TOO_LARGE',
    `request body: expected at most ${limit} bytes, received ${received}; send a smaller entry or raise --max-body-bytes`,
  );
}
