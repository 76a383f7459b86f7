import { decodeUtf8, parseJson } from '../core/index.ts';
import { describeDigestProblem } from './digest.ts';
import { OciError } from './errors.ts';
import type { Descriptor, ImageIndex, ImageManifest, Platform } from './oci.types.ts';

/** The manifest media types Sigil reads (OCI image-spec v1.1 and Docker image manifest v2 schema 2). */
export const MEDIA_TYPES = Object.freeze({
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerManifestList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  /** OCI 1.1: the config of an artifact manifest that has no config of its own. */
  ociEmpty: 'application/vnd.oci.empty.v1+json',
});

const MANIFEST_TYPES = new Set<string>([MEDIA_TYPES.ociManifest, MEDIA_TYPES.dockerManifest]);
const INDEX_TYPES = new Set<string>([MEDIA_TYPES.ociIndex, MEDIA_TYPES.dockerManifestList]);

/** The `Accept` header of every manifest request: every type `parseManifest` understands. */
export const MANIFEST_ACCEPT = [
  MEDIA_TYPES.ociManifest,
  MEDIA_TYPES.ociIndex,
  MEDIA_TYPES.dockerManifest,
  MEDIA_TYPES.dockerManifestList,
].join(', ');

/** Bounds on attacker-controlled counts (a real index lists tens of platforms, a manifest tens of layers). */
const MAX_DESCRIPTORS = 10_000;
const MAX_ANNOTATIONS = 1_000;

/**
 * Parses manifest bytes into an ImageManifest or ImageIndex. The kind comes from the body's `mediaType`,
 * else from `contentType` (the response's Content-Type), else from the shape (`manifests` → index,
 * `config` → manifest), as the OCI image spec allows a body without `mediaType`. Every bad field is
 * named in one OCI_MANIFEST_INVALID error; `what` says which manifest it was.
 */
export function parseManifest(bytes: Uint8Array, contentType: string | undefined, what: string) {
  const fail = (problems: readonly string[]): never => {
    throw new OciError('OCI_MANIFEST_INVALID', `${what}: ${problems.join('; ')}`);
  };
  let json: unknown;
  try {
    json = parseJson(decodeUtf8(bytes), { field: 'manifest', maxLength: Number.MAX_SAFE_INTEGER });
  } catch (cause) {
    throw new OciError('OCI_MANIFEST_INVALID', `${what}: expected JSON, ${(cause as Error).message}`, {
      cause,
    });
  }
  if (!isRecord(json)) return fail([`expected a JSON object, received ${typeName(json)}`]);

  const problems: string[] = [];
  if (json.schemaVersion !== 2)
    problems.push(`schemaVersion: expected 2, received ${show(json.schemaVersion)}`);
  const bodyType = json.mediaType;
  if (bodyType !== undefined && typeof bodyType !== 'string') {
    problems.push(`mediaType: expected a string, received ${typeName(bodyType)}`);
  }
  const mediaType = typeof bodyType === 'string' ? bodyType : baseMediaType(contentType);
  const kind = kindOf(mediaType, json);
  if (kind === undefined) {
    return fail([
      ...problems,
      `mediaType: expected one of ${MANIFEST_ACCEPT}, received ${show(mediaType ?? '(none)')}`,
    ]);
  }

  const subject = optionalDescriptor(json.subject, 'subject', problems);
  const annotations = optionalAnnotations(json.annotations, 'annotations', problems);
  const common = {
    schemaVersion: 2 as const,
    ...(typeof bodyType === 'string' ? { mediaType: bodyType } : {}),
    ...(subject ? { subject } : {}),
    ...(annotations ? { annotations } : {}),
  };
  if (kind === 'index') {
    const manifests = descriptorList(json.manifests, 'manifests', problems);
    if (problems.length > 0) return fail(problems);
    const index: ImageIndex = { kind: 'index', ...common, manifests };
    return { mediaType: mediaType ?? MEDIA_TYPES.ociIndex, manifest: index };
  }
  const config = requiredDescriptor(json.config, 'config', problems);
  const layers = descriptorList(json.layers, 'layers', problems);
  const artifactType = optionalString(json.artifactType, 'artifactType', problems);
  if (problems.length > 0 || !config) return fail(problems);
  const manifest: ImageManifest = {
    kind: 'manifest',
    ...common,
    ...(artifactType === undefined ? {} : { artifactType }),
    config,
    layers,
  };
  return { mediaType: mediaType ?? MEDIA_TYPES.ociManifest, manifest };
}

/** `application/vnd.oci.image.index.v1+json; charset=utf-8` → the type without parameters. */
export function baseMediaType(contentType: string | undefined): string | undefined {
  const base = contentType?.split(';')[0]?.trim().toLowerCase();
  return base ? base : undefined;
}

function kindOf(
  mediaType: string | undefined,
  json: Record<string, unknown>,
): 'manifest' | 'index' | undefined {
  if (mediaType !== undefined && MANIFEST_TYPES.has(mediaType)) return 'manifest';
  if (mediaType !== undefined && INDEX_TYPES.has(mediaType)) return 'index';
  // Registries answer unknown bodies with a generic type; the shape decides only then.
  if (
    mediaType === undefined ||
    mediaType === 'application/json' ||
    mediaType === 'application/octet-stream'
  ) {
    if (Array.isArray(json.manifests)) return 'index';
    if (isRecord(json.config)) return 'manifest';
  }
  return undefined;
}

/** A descriptor as image-spec `descriptor.md` defines it; problems are pushed with `path` prefixed. */
export function parseDescriptor(value: unknown, path: string, problems: string[]): Descriptor | undefined {
  if (!isRecord(value)) {
    problems.push(`${path}: expected an object, received ${typeName(value)}`);
    return undefined;
  }
  const before = problems.length;
  const mediaType = value.mediaType;
  if (typeof mediaType !== 'string' || mediaType.length === 0) {
    problems.push(`${path}.mediaType: expected a non-empty string, received ${show(mediaType)}`);
  }
  const digest = value.digest;
  if (typeof digest !== 'string') {
    problems.push(`${path}.digest: expected a string, received ${typeName(digest)}`);
  } else {
    const problem = describeDigestProblem(digest);
    if (problem) problems.push(`${path}.digest: ${problem}`);
  }
  const size = value.size;
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) {
    problems.push(`${path}.size: expected a non-negative integer, received ${show(size)}`);
  }
  const annotations = optionalAnnotations(value.annotations, `${path}.annotations`, problems);
  const artifactType = optionalString(value.artifactType, `${path}.artifactType`, problems);
  const platform = optionalPlatform(value.platform, `${path}.platform`, problems);
  if (problems.length > before) return undefined;
  return {
    mediaType: mediaType as string,
    digest: digest as string,
    size: size as number,
    ...(annotations ? { annotations } : {}),
    ...(artifactType === undefined ? {} : { artifactType }),
    ...(platform ? { platform } : {}),
  };
}

function requiredDescriptor(value: unknown, path: string, problems: string[]): Descriptor | undefined {
  return parseDescriptor(value, path, problems);
}

function optionalDescriptor(value: unknown, path: string, problems: string[]): Descriptor | undefined {
  return value === undefined ? undefined : parseDescriptor(value, path, problems);
}

function descriptorList(value: unknown, path: string, problems: string[]): Descriptor[] {
  if (!Array.isArray(value)) {
    problems.push(`${path}: expected an array, received ${typeName(value)}`);
    return [];
  }
  if (value.length > MAX_DESCRIPTORS) {
    problems.push(`${path}: expected at most ${MAX_DESCRIPTORS} entries, received ${value.length}`);
    return [];
  }
  const descriptors: Descriptor[] = [];
  value.forEach((entry, index) => {
    const descriptor = parseDescriptor(entry, `${path}[${index}]`, problems);
    if (descriptor) descriptors.push(descriptor);
  });
  return descriptors;
}

function optionalPlatform(value: unknown, path: string, problems: string[]): Platform | undefined {
  if (value === undefined) return undefined;
  if (!isRecord(value)) {
    problems.push(`${path}: expected an object, received ${typeName(value)}`);
    return undefined;
  }
  const before = problems.length;
  const architecture = requiredString(value.architecture, `${path}.architecture`, problems);
  const os = requiredString(value.os, `${path}.os`, problems);
  const variant = optionalString(value.variant, `${path}.variant`, problems);
  if (problems.length > before) return undefined;
  return { architecture: architecture!, os: os!, ...(variant === undefined ? {} : { variant }) };
}

function optionalAnnotations(value: unknown, path: string, problems: string[]) {
  if (value === undefined) return undefined;
  if (!isRecord(value)) {
    problems.push(`${path}: expected an object of strings, received ${typeName(value)}`);
    return undefined;
  }
  const entries = Object.entries(value);
  if (entries.length > MAX_ANNOTATIONS) {
    problems.push(`${path}: expected at most ${MAX_ANNOTATIONS} entries, received ${entries.length}`);
    return undefined;
  }
  const annotations: Record<string, string> = {};
  for (const [key, text] of entries) {
    if (typeof text !== 'string') {
      problems.push(`${path}.${key}: expected a string, received ${typeName(text)}`);
    } else {
      Object.defineProperty(annotations, key, { value: text, enumerable: true, writable: false });
    }
  }
  return annotations;
}

function requiredString(value: unknown, path: string, problems: string[]): string | undefined {
  if (typeof value === 'string') return value;
  problems.push(`${path}: expected a string, received ${typeName(value)}`);
  return undefined;
}

function optionalString(value: unknown, path: string, problems: string[]): string | undefined {
  if (value === undefined || typeof value === 'string') return value;
  problems.push(`${path}: expected a string, received ${typeName(value)}`);
  return undefined;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value;
}

function show(value: unknown): string {
  const text = typeof value === 'string' ? JSON.stringify(value) : String(value);
  return text.length > 80 ? `${text.slice(0, 80)}…` : text;
}
