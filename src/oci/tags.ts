import { decodeUtf8, parseJson } from '../core/index.ts';
import { OciError } from './errors.ts';
import type { RegistryHttp } from './internal/registry-http.ts';
import { headerValues, readBody, type HttpResponse } from './internal/transport.ts';
import type { ImageReference } from './oci.types.ts';

/**
 * Tag listing (distribution spec "Listing Tags"): `GET /v2/<name>/tags/list?n=<page size>`, then the
 * `Link: <...>; rel="next"` header page by page (RFC 8288), at most `maxTagPages` pages, all on the
 * registry's own origin.
 */
export async function listTags(http: RegistryHttp, reference: ImageReference): Promise<string[]> {
  const { tagPageSize, maxTagPages, maxManifestBytes } = http.options;
  const what = `tags of ${reference.repository}`;
  const origin = http.baseUrl(reference.registry).origin;
  let url: URL | undefined = new URL(`/v2/${reference.repository}/tags/list?n=${tagPageSize}`, origin);
  const tags: string[] = [];
  for (let page = 0; url !== undefined; page++) {
    if (page >= maxTagPages) {
      throw new OciError(
        'OCI_TOO_LARGE',
        `${what} in registry ${reference.registry}: more than ${maxTagPages} pages`,
      );
    }
    const response: HttpResponse = await http.send(reference, {
      method: 'GET',
      path: url,
      headers: { accept: 'application/json' },
      actions: 'pull',
    });
    if (response.status !== 200) return http.fail(reference, response, what);
    const { bytes } = await readBody(response, {
      maxBytes: maxManifestBytes,
      what: `${what} from ${reference.registry}`,
    });
    tags.push(...parseTagPage(bytes, `${what} from ${reference.registry}`));
    url = nextPage(response, url, origin, reference.registry);
  }
  return tags;
}

function parseTagPage(bytes: Uint8Array, what: string): string[] {
  let json: unknown;
  try {
    json = parseJson(decodeUtf8(bytes, what), { field: what });
  } catch (cause) {
    throw new OciError('OCI_REGISTRY_ERROR', `${what}: expected JSON {name, tags}`, { cause });
  }
  const tags = (json as { tags?: unknown } | null)?.tags;
  // distribution answers `"tags": null` for a repository whose tags were all deleted.
  if (tags === null || tags === undefined) return [];
  if (!Array.isArray(tags) || tags.some((tag) => typeof tag !== 'string')) {
    throw new OciError('OCI_REGISTRY_ERROR', `${what}: tags: expected an array of strings`);
  }
  return tags as string[];
}

/** The `rel="next"` target of a Link header, resolved against the page it came with. */
export function nextPage(
  response: HttpResponse,
  current: URL,
  origin: string,
  registry: string,
): URL | undefined {
  for (const value of headerValues(response.headers, 'link')) {
    for (const link of value.split(/,(?=\s*<)/)) {
      const match = /^\s*<([^>]*)>\s*;(.*)$/.exec(link);
      if (!match || !/(^|;)\s*rel\s*=\s*"?next"?\s*(;|$)/i.test(match[2] ?? '')) continue;
      const next = new URL(match[1] ?? '', current);
      if (next.origin !== origin) {
        throw new OciError(
          'OCI_REGISTRY_ERROR',
          `registry ${registry} linked the next page to another origin ${next.origin}`,
        );
      }
      return next;
    }
  }
  return undefined;
}
