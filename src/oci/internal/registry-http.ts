import { RegistryAuthenticator, type RegistryActions } from '../auth/authenticator.ts';
import { OciError, type OciErrorCode } from '../errors.ts';
import type { ImageReference } from '../oci.types.ts';
import { isPlainHttpAllowed, type ResolvedRegistryClientOptions } from '../registry-options.ts';
import {
  discard,
  header,
  headerValues,
  readBody,
  Transport,
  type HttpRequest,
  type HttpResponse,
} from './transport.ts';

/**
 * One registry request, authenticated: the scheme (https, or http for loopback and allowed hosts), the
 * Authorization header (answering one 401 challenge per request), redirects (followed for blob reads,
 * with no Authorization to any other origin), and the mapping of error statuses to OciError codes.
 */

export interface RegistryRequest {
  readonly method: HttpRequest['method'];
  /** Path under the registry, starting with `/v2/`, or an absolute URL the registry handed out. */
  readonly path: string | URL;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: Uint8Array;
  readonly actions: RegistryActions;
  /** Follow 3xx (blob downloads go to storage backends and CDNs). Default false. */
  readonly followRedirects?: boolean;
}

const MAX_REDIRECTS = 5;
const MAX_ERROR_BODY_BYTES = 16 * 1024;

export class RegistryHttp {
  readonly options: ResolvedRegistryClientOptions;
  readonly #transport: Transport;
  readonly #auth: RegistryAuthenticator;

  constructor(options: ResolvedRegistryClientOptions) {
    this.options = options;
    this.#transport = new Transport(options);
    this.#auth = new RegistryAuthenticator({
      credentials: options.credentials,
      transport: this.#transport,
      clock: options.clock,
      isPlainHttpAllowed: (host) => isPlainHttpAllowed(host, options.allowInsecureRegistries),
    });
  }

  /** `https://host` or, for loopback and allowed hosts, `http://host`. */
  baseUrl(registry: string): URL {
    const scheme = isPlainHttpAllowed(registry, this.options.allowInsecureRegistries) ? 'http' : 'https';
    return new URL(`${scheme}://${registry}`);
  }

  /**
   * Sends `request` to `reference`'s registry and returns the response, whatever its status except
   * 401/403, which throw OCI_UNAUTHORIZED once the challenge was answered and still refused.
   */
  async send(reference: ImageReference, request: RegistryRequest): Promise<HttpResponse> {
    const { registry, repository } = reference;
    const url = request.path instanceof URL ? request.path : new URL(request.path, this.baseUrl(registry));
    const origin = this.baseUrl(registry).origin;
    const sameOrigin = url.origin === origin;
    let authorization = sameOrigin
      ? await this.#auth.authorizationFor(registry, repository, request.actions)
      : undefined;
    let answered = false;
    for (;;) {
      const response = await this.#sendOnce(url, request, authorization);
      if (response.status !== 401 || answered || !sameOrigin) {
        if (response.status === 401 || response.status === 403) {
          await discard(response.body);
          throw new OciError(
            'OCI_UNAUTHORIZED',
            `registry ${registry} refused ${request.method} ${url.pathname} for ${repository} (${response.status}) ` +
              `after authenticating ${await this.#auth.describeAttempt(registry)}`,
          );
        }
        return response.status >= 300 && response.status < 400 && request.followRedirects
          ? this.#follow(reference, url, request, response)
          : response;
      }
      const challenge = headerValues(response.headers, 'www-authenticate');
      await discard(response.body);
      authorization = await this.#auth.answerChallenge(registry, repository, request.actions, challenge);
      answered = true;
    }
  }

  /** Throws the OciError `response` stands for (`what`: `manifest sigil/app:v1`), naming the registry. */
  async fail(reference: ImageReference, response: HttpResponse, what: string): Promise<never> {
    const detail = await registryErrorDetail(response);
    const code: OciErrorCode =
      response.status === 404
        ? 'OCI_NOT_FOUND'
        : response.status === 429 || response.status >= 500
          ? 'OCI_REGISTRY_UNAVAILABLE'
          : 'OCI_REGISTRY_ERROR';
    const tail = code === 'OCI_REGISTRY_UNAVAILABLE' ? ` after ${this.options.retries + 1} attempts` : '';
    throw new OciError(
      code,
      `${what} in registry ${reference.registry}: ${response.status === 404 ? 'not found' : `unexpected status ${response.status}`}${detail}${tail}`,
    );
  }

  close(): Promise<void> {
    return this.#transport.close();
  }

  #sendOnce(url: URL, request: RegistryRequest, authorization: string | undefined): Promise<HttpResponse> {
    return this.#transport.send({
      method: request.method,
      url,
      headers: { ...request.headers, ...(authorization ? { authorization } : {}) },
      ...(request.body === undefined ? {} : { body: request.body }),
    });
  }

  async #follow(
    reference: ImageReference,
    from: URL,
    request: RegistryRequest,
    first: HttpResponse,
  ): Promise<HttpResponse> {
    const { registry, repository } = reference;
    let response = first;
    let url = from;
    for (let hop = 0; hop < MAX_REDIRECTS; hop++) {
      const location = header(response.headers, 'location');
      await discard(response.body);
      if (!location) {
        throw new OciError(
          'OCI_REGISTRY_ERROR',
          `registry ${registry} redirected ${url.pathname} without a Location`,
        );
      }
      url = new URL(location, url);
      if (url.protocol !== 'https:' && !(url.protocol === 'http:' && this.#plainAllowed(url.host))) {
        throw new OciError(
          'OCI_INSECURE_REFUSED',
          `registry ${registry} redirected to ${url.origin}: expected https (plain http only for loopback or allowed insecure hosts)`,
        );
      }
      // Credentials belong to the registry: a storage backend or CDN elsewhere gets none (its URL is signed).
      const authorization =
        url.origin === this.baseUrl(registry).origin
          ? await this.#auth.authorizationFor(registry, repository, request.actions)
          : undefined;
      response = await this.#transport.send({
        method: request.method,
        url,
        headers: { ...request.headers, ...(authorization ? { authorization } : {}) },
      });
      if (response.status < 300 || response.status >= 400) return response;
    }
    await discard(response.body);
    throw new OciError(
      'OCI_REGISTRY_ERROR',
      `registry ${registry}: more than ${MAX_REDIRECTS} redirects for ${from.pathname}`,
    );
  }

  #plainAllowed(host: string): boolean {
    return isPlainHttpAllowed(host, this.options.allowInsecureRegistries);
  }
}

/** ` (MANIFEST_UNKNOWN: manifest unknown)` from a distribution error body, or '' when there is none. */
async function registryErrorDetail(response: HttpResponse): Promise<string> {
  let text: string;
  try {
    const { bytes } = await readBody(response, { maxBytes: MAX_ERROR_BODY_BYTES, what: 'error body' });
    text = Buffer.from(bytes).toString('utf8');
  } catch {
    return '';
  }
  try {
    const json = JSON.parse(text) as { errors?: { code?: unknown; message?: unknown }[] };
    const first = Array.isArray(json.errors) ? json.errors[0] : undefined;
    if (first && typeof first.code === 'string') {
      const message = typeof first.message === 'string' ? `: ${first.message.slice(0, 200)}` : '';
      return ` (${first.code}${message})`;
    }
  } catch {
    // not a distribution error body
  }
  return '';
}
