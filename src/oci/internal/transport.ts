import { setTimeout as sleep } from 'node:timers/promises';
import { Agent, type Dispatcher } from 'undici';
import { OciError } from '../errors.ts';
import { StreamingDigest, type DigestAlgorithm } from '../digest.ts';

/**
 * HTTP for the registry client: one undici Agent (so connections are reused: a warm request to a local
 * registry costs about a millisecond), timeouts, and retries of network errors, 429 and 5xx with capped
 * exponential backoff, jitter and Retry-After. Knows nothing about registries or auth.
 */

export interface TransportSettings {
  readonly connectTimeoutMs: number;
  readonly headersTimeoutMs: number;
  readonly bodyTimeoutMs: number;
  readonly retries: number;
  readonly retryBaseDelayMs: number;
  readonly retryMaxDelayMs: number;
  readonly userAgent: string;
  readonly tlsCertificateAuthorities: readonly string[];
  readonly onResponse?: RegistryResponseListener;
}

/** Told of every attempt: the status a registry answered, or `error` when none came (metrics). */
export type RegistryResponseListener = (outcome: {
  readonly host: string;
  readonly method: string;
  readonly status: number | 'error';
}) => void;

export interface HttpRequest {
  readonly method: 'GET' | 'HEAD' | 'POST' | 'PUT';
  readonly url: URL;
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: Uint8Array | string;
}

export interface HttpResponse {
  readonly status: number;
  readonly headers: Dispatcher.ResponseData['headers'];
  readonly body: Dispatcher.ResponseData['body'];
  readonly url: URL;
}

const RETRYABLE_STATUS = (status: number) =>
  status === 429 || (status >= 500 && status !== 501 && status !== 505);

export class Transport {
  readonly #settings: TransportSettings;
  readonly #agent: Agent;

  constructor(settings: TransportSettings) {
    this.#settings = settings;
    this.#agent = new Agent({
      connect: {
        timeout: settings.connectTimeoutMs,
        ...(settings.tlsCertificateAuthorities.length > 0
          ? { ca: [...settings.tlsCertificateAuthorities] }
          : {}),
      },
      headersTimeout: settings.headersTimeoutMs,
      bodyTimeout: settings.bodyTimeoutMs,
    });
  }

  /**
   * Sends `request`, retrying network errors, 429 and 5xx up to `retries` times. Returns the last
   * response whatever its status; throws OCI_REGISTRY_UNAVAILABLE when no response came at all.
   */
  async send(request: HttpRequest): Promise<HttpResponse> {
    const { retries } = this.#settings;
    for (let attempt = 0; ; attempt++) {
      let response: Dispatcher.ResponseData;
      try {
        response = await this.#agent.request({
          origin: request.url.origin,
          path: `${request.url.pathname}${request.url.search}`,
          method: request.method,
          headers: { 'user-agent': this.#settings.userAgent, ...request.headers },
          ...(request.body === undefined ? {} : { body: request.body }),
        });
      } catch (cause) {
        this.#settings.onResponse?.({ host: request.url.host, method: request.method, status: 'error' });
        if (attempt < retries) {
          await sleep(this.#backoff(attempt, undefined));
          continue;
        }
        throw new OciError(
          'OCI_REGISTRY_UNAVAILABLE',
          `${request.method} ${request.url.host}${request.url.pathname}: ${describeNetworkError(cause)} (after ${attempt + 1} attempts)`,
          { cause },
        );
      }
      this.#settings.onResponse?.({
        host: request.url.host,
        method: request.method,
        status: response.statusCode,
      });
      if (RETRYABLE_STATUS(response.statusCode) && attempt < retries) {
        await discard(response.body);
        await sleep(this.#backoff(attempt, header(response.headers, 'retry-after')));
        continue;
      }
      return {
        status: response.statusCode,
        headers: response.headers,
        body: response.body,
        url: request.url,
      };
    }
  }

  close(): Promise<void> {
    return this.#agent.close();
  }

  /** Capped exponential backoff with jitter (half to full delay); Retry-After wins, up to the cap. */
  #backoff(attempt: number, retryAfter: string | undefined): number {
    const { retryBaseDelayMs, retryMaxDelayMs } = this.#settings;
    const told = parseRetryAfter(retryAfter);
    if (told !== undefined) return Math.min(told, retryMaxDelayMs);
    const ceiling = Math.min(retryMaxDelayMs, retryBaseDelayMs * 2 ** attempt);
    return ceiling / 2 + Math.random() * (ceiling / 2);
  }
}

/** RFC 9110 §10.2.3: delay-seconds or an HTTP-date; milliseconds from now, or undefined. */
export function parseRetryAfter(value: string | undefined, now = Date.now()): number | undefined {
  if (value === undefined) return undefined;
  const trimmed = value.trim();
  if (/^\d{1,9}$/.test(trimmed)) return Number(trimmed) * 1000;
  const at = Date.parse(trimmed);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** One header's value (the first when repeated). */
export function header(headers: HttpResponse['headers'], name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** Every value of a header that may repeat (WWW-Authenticate, Link). */
export function headerValues(headers: HttpResponse['headers'], name: string): string[] {
  const value = headers[name];
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}

/** Reads a body away so the connection is reused, without keeping more than a little of it. */
export async function discard(body: HttpResponse['body']): Promise<void> {
  try {
    await body.dump({ limit: 64 * 1024 });
  } catch {
    // the connection is closed instead; nothing to report
  }
}

/** Drops a body mid-stream (the connection closes); the abort it reports is expected, not an error. */
export function abandon(body: HttpResponse['body']): void {
  body.on('error', () => undefined);
  body.destroy();
}

export interface ReadOptions {
  /** Refuse (OCI_TOO_LARGE) a body longer than this, before or while reading it. */
  readonly maxBytes: number;
  /** For messages: `manifest sigil/app:v1 from 127.0.0.1:5000`. */
  readonly what: string;
  /** Hash the body while it streams in with this algorithm. */
  readonly digestAlgorithm?: DigestAlgorithm;
}

/** A whole body, bounded; with its digest when asked. Network failures become OCI_REGISTRY_UNAVAILABLE. */
export async function readBody(
  response: HttpResponse,
  options: ReadOptions,
): Promise<{ bytes: Uint8Array; digest?: string }> {
  const { maxBytes, what } = options;
  const declared = Number(header(response.headers, 'content-length'));
  if (Number.isFinite(declared) && declared > maxBytes) {
    abandon(response.body);
    throw new OciError(
      'OCI_TOO_LARGE',
      `${what}: expected at most ${maxBytes} bytes, registry declares ${declared}`,
    );
  }
  const hash = options.digestAlgorithm ? new StreamingDigest(options.digestAlgorithm) : undefined;
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for await (const chunk of response.body as AsyncIterable<Uint8Array>) {
      size += chunk.byteLength;
      if (size > maxBytes) {
        abandon(response.body);
        throw new OciError('OCI_TOO_LARGE', `${what}: expected at most ${maxBytes} bytes, received more`);
      }
      hash?.update(chunk);
      chunks.push(chunk);
    }
  } catch (cause) {
    if (cause instanceof OciError) throw cause;
    throw new OciError(
      'OCI_REGISTRY_UNAVAILABLE',
      `${what}: ${describeNetworkError(cause)} while reading the body`,
      {
        cause,
      },
    );
  }
  const bytes = Buffer.concat(chunks, size);
  const result = { bytes: new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength) };
  return hash ? { ...result, digest: hash.digest() } : result;
}

export function describeNetworkError(cause: unknown): string {
  if (cause instanceof Error) {
    const code = (cause as { code?: unknown }).code;
    const inner = (cause as { cause?: unknown }).cause;
    const detail = inner instanceof Error && inner.message !== cause.message ? ` (${inner.message})` : '';
    return `${typeof code === 'string' ? `${code}: ` : ''}${cause.message}${detail}`;
  }
  return String(cause);
}
