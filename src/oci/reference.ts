import { describeDigestProblem } from './digest.ts';
import { OciError } from './errors.ts';
import type { ImageReference } from './oci.types.ts';

/**
 * Image references: the grammar of distribution's `reference` package (regexp.go) with Docker's
 * normalization (normalize.go `ParseNormalizedNamed`): a first path component is a registry when it
 * contains `.` or `:`, is `localhost`, or has upper-case letters; otherwise the image is on Docker Hub,
 * and a single-component Hub name gets the `library/` namespace. Docker Hub's names (`docker.io`,
 * `index.docker.io`, `registry-1.docker.io`) all become the host the registry API answers on.
 */

/** The host Docker Hub's registry API answers on; `docker.io` is only a name. */
export const DOCKER_HUB_REGISTRY = 'registry-1.docker.io';
const DOCKER_HUB_NAMES = new Set(['docker.io', 'index.docker.io', DOCKER_HUB_REGISTRY]);
const OFFICIAL_NAMESPACE = 'library/';
const DEFAULT_TAG = 'latest';
/** distribution `NameTotalLengthMax`: the name with its registry. */
const MAX_NAME_LENGTH = 255;
/** Anything longer cannot be a name (255) + tag (128) + digest (sha512: 135) and their separators. */
const MAX_REFERENCE_LENGTH = 600;

// distribution/reference regexp.go, term for term.
const ALPHANUMERIC = '[a-z0-9]+';
const SEPARATOR = '(?:[._]|__|[-]+)';
const PATH_COMPONENT = `${ALPHANUMERIC}(?:${SEPARATOR}${ALPHANUMERIC})*`;
const REMOTE_NAME = `${PATH_COMPONENT}(?:/${PATH_COMPONENT})*`;
const DOMAIN_NAME_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const DOMAIN_NAME = `${DOMAIN_NAME_COMPONENT}(?:\\.${DOMAIN_NAME_COMPONENT})*`;
const IPV6_ADDRESS = '\\[(?:[a-fA-F0-9:]+)\\]';
const DOMAIN_AND_PORT = `(?:${DOMAIN_NAME}|${IPV6_ADDRESS})(?::[0-9]+)?`;
const TAG = '[\\w][\\w.-]{0,127}';
const DIGEST = '[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}';
const NAME = `(?:${DOMAIN_AND_PORT}/)?${REMOTE_NAME}`;

const REFERENCE_PATTERN = new RegExp(`^(${NAME})(?::(${TAG}))?(?:@(${DIGEST}))?$`);
const NAME_PATTERN = new RegExp(`^(?:(${DOMAIN_AND_PORT})/)?(${REMOTE_NAME})$`);
const TAG_PATTERN = new RegExp(`^${TAG}$`);
const DOMAIN_PATTERN = new RegExp(`^${DOMAIN_AND_PORT}$`);
const IDENTIFIER_PATTERN = /^[a-f0-9]{64}$/;

/**
 * Parses `text` as Docker does (`docker pull TEXT`). A reference without tag or digest gets the tag
 * `latest`; one with both keeps both (the digest is what a registry is asked for). MUST reject what
 * distribution rejects, with OCI_REFERENCE_INVALID naming the part that is wrong.
 */
export function parseImageReference(text: string): ImageReference {
  const fail = (problem: string): never => {
    throw new OciError('OCI_REFERENCE_INVALID', `image reference ${preview(text)}: ${problem}`);
  };
  if (typeof text !== 'string' || text.length === 0) return fail('expected a non-empty string');
  if (text.length > MAX_REFERENCE_LENGTH) {
    return fail(`expected at most ${MAX_REFERENCE_LENGTH} characters, received ${text.length}`);
  }
  if (IDENTIFIER_PATTERN.test(text)) {
    return fail('a 64-character hex string is an image id, not a repository name');
  }

  const [domain, remainder] = splitDockerDomain(text);
  const tagSeparator = remainder.indexOf(':');
  const remote = tagSeparator >= 0 ? remainder.slice(0, tagSeparator) : remainder;
  if (remote.toLowerCase() !== remote) {
    return fail(`repository name must be lower-case, received ${preview(remote.split('@')[0] ?? remote)}`);
  }

  const full = `${domain}/${remainder}`;
  const match = REFERENCE_PATTERN.exec(full);
  if (!match) return fail(describeFormatProblem(domain, remainder));
  const name = match[1] ?? '';
  if (name.length > MAX_NAME_LENGTH) {
    return fail(`name must have at most ${MAX_NAME_LENGTH} characters, received ${name.length}`);
  }
  const nameMatch = NAME_PATTERN.exec(name);
  const repository = nameMatch?.[2] ?? '';
  const digest = match[3];
  if (digest !== undefined) {
    const problem = describeDigestProblem(digest);
    if (problem) return fail(`digest: ${problem}`);
  }
  const tag = match[2] ?? (digest === undefined ? DEFAULT_TAG : undefined);
  return buildReference(registryHost(domain), repository, tag, digest);
}

/** `registry/repository[:tag][@digest]`, the canonical form (what `ImageReference.canonical` holds). */
export function formatReference(
  reference: Pick<ImageReference, 'registry' | 'repository' | 'tag' | 'digest'>,
) {
  const tag = reference.tag === undefined ? '' : `:${reference.tag}`;
  const digest = reference.digest === undefined ? '' : `@${reference.digest}`;
  return `${reference.registry}/${reference.repository}${tag}${digest}`;
}

/** `reference` pinned to `digest` (its tag, if any, kept beside it). Throws OCI_REFERENCE_INVALID. */
export function withDigest(reference: ImageReference, digest: string): ImageReference {
  const problem = describeDigestProblem(digest);
  if (problem) throw new OciError('OCI_REFERENCE_INVALID', `digest: ${problem}`);
  return buildReference(reference.registry, reference.repository, reference.tag, digest);
}

/** `reference`'s repository at `tag`, without a digest. Throws OCI_REFERENCE_INVALID. */
export function withTag(reference: ImageReference, tag: string): ImageReference {
  if (!TAG_PATTERN.test(tag)) {
    throw new OciError(
      'OCI_REFERENCE_INVALID',
      `tag: expected [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}, received ${preview(tag)}`,
    );
  }
  return buildReference(reference.registry, reference.repository, tag, undefined);
}

/** Whether `registry` is Docker Hub under any of its names. */
export function isDockerHub(registry: string): boolean {
  return DOCKER_HUB_NAMES.has(registry.toLowerCase());
}

function buildReference(
  registry: string,
  repository: string,
  tag: string | undefined,
  digest: string | undefined,
): ImageReference {
  const parts = { registry, repository, tag, digest };
  const reference: ImageReference = {
    registry,
    repository,
    ...(tag === undefined ? {} : { tag }),
    ...(digest === undefined ? {} : { digest }),
    canonical: formatReference(parts),
  };
  return Object.freeze(reference);
}

/** normalize.go `splitDockerDomain`, with Docker Hub's names folded together. */
function splitDockerDomain(text: string): [string, string] {
  const slash = text.indexOf('/');
  if (slash < 0) return ['docker.io', OFFICIAL_NAMESPACE + text];
  const first = text.slice(0, slash);
  const rest = text.slice(slash + 1);
  const isDomain =
    first === 'localhost' || /[.:]/.test(first) || first.toLowerCase() !== first || isDockerHub(first);
  if (!isDomain) return ['docker.io', text];
  if (isDockerHub(first)) return ['docker.io', rest.includes('/') ? rest : OFFICIAL_NAMESPACE + rest];
  return [first, rest];
}

function registryHost(domain: string): string {
  return isDockerHub(domain) ? DOCKER_HUB_REGISTRY : domain;
}

/** Why `remainder` (what follows the registry) does not match the grammar, as precisely as is cheap. */
function describeFormatProblem(domain: string, remainder: string): string {
  if (!DOMAIN_PATTERN.test(domain)) {
    return `registry: expected a host name, IPv4 address or [IPv6] address with an optional port, received ${preview(domain)}`;
  }
  const at = remainder.indexOf('@');
  const beforeDigest = at >= 0 ? remainder.slice(0, at) : remainder;
  if (at >= 0) {
    const problem = describeDigestProblem(remainder.slice(at + 1));
    if (problem) return `digest: ${problem}`;
  }
  const colon = beforeDigest.lastIndexOf(':');
  const name =
    colon >= 0 && !beforeDigest.slice(colon).includes('/') ? beforeDigest.slice(0, colon) : beforeDigest;
  const tag = name === beforeDigest ? undefined : beforeDigest.slice(colon + 1);
  if (tag !== undefined && !TAG_PATTERN.test(tag)) {
    return `tag: expected [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}, received ${preview(tag)}`;
  }
  return `repository: expected lower-case path components of [a-z0-9] joined by '.', '_', '__' or '-' and separated by '/', received ${preview(name)}`;
}

function preview(text: unknown): string {
  const value = String(text);
  return JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}…` : value);
}
