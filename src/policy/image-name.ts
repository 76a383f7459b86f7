import { PolicyError } from './errors.ts';

/**
 * The fully qualified name go-containerregistry (v0.22, `pkg/name`) gives an image reference
 * (`name.ParseReference(image, name.WeakValidation).Name()`), which is what policy-controller matches
 * image globs against. This is deliberately not `src/oci/reference.ts`: that one parses as Docker does
 * to reach a registry, while policy matching MUST reproduce go-containerregistry's rules (`docker.io` →
 * `index.docker.io`, the `library/` namespace, an implied `:latest`, a tag dropped beside a digest, a
 * first component that is a registry only when it is `localhost` or holds a `.` or `:`).
 */

/** go-containerregistry `name.DefaultRegistry`; `docker.io` is rewritten to it. */
export const DOCKER_HUB_INDEX = 'index.docker.io';
const DOCKER_HUB_ALIAS = 'docker.io';
const OFFICIAL_NAMESPACE = 'library';
const DEFAULT_TAG = 'latest';

// go-containerregistry pkg/name: the characters and lengths each element may have.
const REPOSITORY_CHARS = /^[a-z0-9_\-./]*$/;
const TAG_CHARS = /^[A-Za-z0-9_\-.]*$/;
const REPOSITORY_LENGTH = { min: 1, max: 255 };
const TAG_LENGTH = { min: 1, max: 128 };
/** opencontainers/go-digest `Digest.Validate` for the algorithms it registers. */
const DIGEST_ENCODINGS: ReadonlyMap<string, RegExp> = new Map([
  ['sha256', /^[a-f0-9]{64}$/],
  ['sha384', /^[a-f0-9]{96}$/],
  ['sha512', /^[a-f0-9]{128}$/],
]);
/**
 * Go's `url.Parse("//" + registry).Host == registry` (Go 1.26): RFC 3986 unreserved and sub-delims
 * plus the `:<>"` Go lets through, any non-ASCII, and digits after the last `:` (the port); brackets
 * only around an IPv6 literal at the start.
 */
const REGISTRY_HOST = /^[A-Za-z0-9\-._~!$&'()*+,;=:<>"\u0080-\uffff]*$/;
const REGISTRY_BRACKETED = /^\[[0-9A-Fa-f:.]+\](?::[0-9]*)?$/;
const PORT_SUFFIX = /:[0-9]*$/;
/** Longer than any name go-containerregistry accepts with a sane registry; checked before any work. */
export const MAX_IMAGE_REFERENCE_LENGTH = 1024;

/**
 * `image` as go-containerregistry names it: `registry/repository:tag` or `registry/repository@digest`.
 * Throws PolicyError POLICY_IMAGE_INVALID for what `name.ParseReference` (weak validation) rejects.
 */
export function normalizeImageName(image: string): string {
  if (typeof image !== 'string' || image.length === 0) {
    throw invalidImage(image, 'expected a non-empty string');
  }
  if (image.length > MAX_IMAGE_REFERENCE_LENGTH) {
    throw invalidImage(
      image,
      `expected at most ${MAX_IMAGE_REFERENCE_LENGTH} characters, received ${image.length}`,
    );
  }
  if (image.startsWith('http://') || image.startsWith('https://')) {
    throw invalidImage(image, 'an image reference has no url scheme');
  }
  // name.ParseReference: a tag first, then a digest; the error of the digest is the more useful one.
  const tagged = parseTag(image);
  if (typeof tagged !== 'string') {
    const digested = parseDigest(image);
    if (typeof digested !== 'string') throw invalidImage(image, digested.problem);
    return digested;
  }
  return tagged;
}

interface Problem {
  problem: string;
}

/** name.NewTag: the part after the last `:` is a tag unless it holds a `/` (then it was a port). */
function parseTag(text: string): string | Problem {
  let base = text;
  let tag = '';
  const colon = text.lastIndexOf(':');
  if (colon >= 0 && !text.slice(colon + 1).includes('/')) {
    base = text.slice(0, colon);
    tag = text.slice(colon + 1);
    if (tag === '') return { problem: 'expected a tag name after the colon' };
  }
  if (tag !== '') {
    const problem = checkElement('tag', tag, TAG_CHARS, TAG_LENGTH.min, TAG_LENGTH.max);
    if (problem) return problem;
  }
  const repository = parseRepository(base);
  if (typeof repository !== 'string') return repository;
  return `${repository}:${tag === '' ? DEFAULT_TAG : tag}`;
}

/** name.NewDigest: exactly one `@`; a tag beside the digest is parsed and dropped. */
function parseDigest(text: string): string | Problem {
  const parts = text.split('@');
  if (parts.length !== 2) {
    return {
      problem: `expected a tag, or exactly one '@' before a digest, received ${parts.length - 1} '@'`,
    };
  }
  const [base = '', digest = ''] = parts;
  const problem = checkDigest(digest);
  if (problem) return problem;
  const tagged = parseTag(base);
  const repository = parseRepository(
    typeof tagged === 'string' ? tagged.slice(0, tagged.lastIndexOf(':')) : base,
  );
  if (typeof repository !== 'string') return repository;
  return `${repository}@${digest}`;
}

/** name.NewRepository: the first component is a registry only when it is localhost or holds a `.` or `:`. */
function parseRepository(text: string): string | Problem {
  if (text.length === 0) return { problem: 'a repository name must be specified' };
  let registry = '';
  let repository = text;
  const slash = text.indexOf('/');
  if (slash >= 0) {
    const first = text.slice(0, slash);
    if (first === 'localhost' || first.includes('.') || first.includes(':')) {
      registry = first;
      repository = text.slice(slash + 1);
    }
  }
  const problem =
    checkElement('repository', repository, REPOSITORY_CHARS, REPOSITORY_LENGTH.min, REPOSITORY_LENGTH.max) ??
    checkRegistry(registry);
  if (problem) return problem;
  if (registry === '' || registry === DOCKER_HUB_ALIAS) registry = DOCKER_HUB_INDEX;
  if (registry === DOCKER_HUB_INDEX && !repository.includes('/'))
    repository = `${OFFICIAL_NAMESPACE}/${repository}`;
  return `${registry}/${repository}`;
}

function checkRegistry(registry: string): Problem | undefined {
  if (registry === '') return undefined;
  const valid = registry.startsWith('[')
    ? REGISTRY_BRACKETED.test(registry)
    : REGISTRY_HOST.test(registry) && (!registry.includes(':') || PORT_SUFFIX.test(registry));
  if (valid) return undefined;
  return { problem: `registry must be a valid RFC 3986 uri authority, received ${JSON.stringify(registry)}` };
}

function checkDigest(digest: string): Problem | undefined {
  const colon = digest.indexOf(':');
  const encoding = colon > 0 ? DIGEST_ENCODINGS.get(digest.slice(0, colon)) : undefined;
  if (encoding?.test(digest.slice(colon + 1))) return undefined;
  return {
    problem: `expected a sha256, sha384 or sha512 digest in lower-case hex, received ${JSON.stringify(digest.slice(0, 140))}`,
  };
}

function checkElement(
  element: string,
  value: string,
  chars: RegExp,
  min: number,
  max: number,
): Problem | undefined {
  const length = [...value].length;
  if (length < min || length > max) {
    const expected = min === max ? `${min}` : `between ${min} and ${max}`;
    return { problem: `${element} must be ${expected} characters long, received ${length}` };
  }
  if (!chars.test(value)) {
    return {
      problem: `${element} has a character outside ${chars.source.slice(1, -2)}: ${JSON.stringify(value)}`,
    };
  }
  return undefined;
}

function invalidImage(image: unknown, problem: string): PolicyError {
  const shown = typeof image === 'string' ? JSON.stringify(image.slice(0, 120)) : typeof image;
  return new PolicyError('POLICY_IMAGE_INVALID', `image reference ${shown}: ${problem}`);
}
