import { createHash, type Hash } from 'node:crypto';

/**
 * Content digests as the OCI image spec defines them (`descriptor.md#digests`): `<algorithm>:<encoded>`
 * with the registered algorithms sha256 and sha512 (and sha384, which go-digest also registers), the
 * encoded part lower-case hex of the hash's full length.
 */
const HEX_LENGTH: Readonly<Record<string, number>> = Object.freeze({ sha256: 64, sha384: 96, sha512: 128 });
const LOWER_HEX = /^[a-f0-9]+$/;

export type DigestAlgorithm = 'sha256' | 'sha384' | 'sha512';

/** What is wrong with `digest`, or undefined when it is a well-formed digest of a registered algorithm. */
export function describeDigestProblem(digest: string): string | undefined {
  const colon = digest.indexOf(':');
  if (colon <= 0) return `expected <algorithm>:<hex>, received ${quote(digest)}`;
  const algorithm = digest.slice(0, colon);
  const encoded = digest.slice(colon + 1);
  const length = HEX_LENGTH[algorithm];
  if (length === undefined) {
    return `unsupported digest algorithm ${quote(algorithm)}, expected sha256, sha384 or sha512`;
  }
  if (encoded.length !== length) {
    return `${algorithm} digest must have ${length} hex characters, received ${encoded.length}`;
  }
  if (!LOWER_HEX.test(encoded))
    return `${algorithm} digest must be lower-case hex, received ${quote(encoded)}`;
  return undefined;
}

export function isDigest(digest: string): boolean {
  return describeDigestProblem(digest) === undefined;
}

/** The algorithm of a digest already checked by `describeDigestProblem`. */
export function digestAlgorithm(digest: string): DigestAlgorithm {
  return digest.slice(0, digest.indexOf(':')) as DigestAlgorithm;
}

/** `sha256:<hex>` (or another algorithm) of `bytes`. */
export function digestOf(bytes: Uint8Array, algorithm: DigestAlgorithm = 'sha256'): string {
  return `${algorithm}:${createHash(algorithm).update(bytes).digest('hex')}`;
}

/** A hash fed chunk by chunk while content streams in, for digests of blobs too large to buffer twice. */
export class StreamingDigest {
  readonly #algorithm: DigestAlgorithm;
  readonly #hash: Hash;

  constructor(algorithm: DigestAlgorithm) {
    this.#algorithm = algorithm;
    this.#hash = createHash(algorithm);
  }

  update(chunk: Uint8Array): void {
    this.#hash.update(chunk);
  }

  digest(): string {
    return `${this.#algorithm}:${this.#hash.digest('hex')}`;
  }
}

function quote(text: string): string {
  return JSON.stringify(text.length > 80 ? `${text.slice(0, 80)}…` : text);
}
