import { hash } from 'node:crypto';
import type { DigestAlgorithm } from '../core/index.ts';
import type { HashAlgorithmName } from './bundle.types.ts';
import { VerificationError } from './errors.ts';

/** What was signed, as the caller has it: the bytes themselves, or only their digest. */
export type Artifact =
  | { readonly kind: 'bytes'; readonly bytes: Uint8Array }
  | { readonly kind: 'digest'; readonly algorithm: DigestAlgorithm; readonly digest: Uint8Array };

const DIGEST_ALGORITHMS: Readonly<Partial<Record<HashAlgorithmName, DigestAlgorithm>>> = {
  SHA2_256: 'sha256',
  SHA2_384: 'sha384',
  SHA2_512: 'sha512',
};

const DIGEST_LENGTHS: Readonly<Record<DigestAlgorithm, number>> = { sha256: 32, sha384: 48, sha512: 64 };

/** The node:crypto name of a protobuf-specs hash algorithm; VERIFY_KEY_UNSUPPORTED for others (SHA-3). */
export function digestAlgorithmOf(name: HashAlgorithmName, field: string): DigestAlgorithm {
  const algorithm = DIGEST_ALGORITHMS[name];
  if (algorithm === undefined) {
    throw new VerificationError(
      'VERIFY_KEY_UNSUPPORTED',
      `${field}: expected SHA2_256, SHA2_384 or SHA2_512, received ${name}`,
    );
  }
  return algorithm;
}

/**
 * An artifact given by digest, checked once: `sha256:<hex>` (the form `--digest` and OCI use) or an
 * algorithm and bytes. TypeError for malformed input, since it is the caller's own argument.
 */
export function artifactDigest(text: string): Artifact {
  const match = /^(sha256|sha384|sha512):([0-9a-f]+)$/.exec(text);
  if (!match || match[2]!.length !== DIGEST_LENGTHS[match[1] as DigestAlgorithm] * 2) {
    throw new TypeError(
      `digest: expected sha256:<64 hex>, sha384:<96 hex> or sha512:<128 hex>, received ${JSON.stringify(text.slice(0, 140))}`,
    );
  }
  return { kind: 'digest', algorithm: match[1] as DigestAlgorithm, digest: Buffer.from(match[2]!, 'hex') };
}

/** The artifact's digest with `algorithm`; undefined when only another algorithm's digest is at hand. */
export function digestOf(artifact: Artifact, algorithm: DigestAlgorithm): Uint8Array | undefined {
  if (artifact.kind === 'bytes') return hash(algorithm, artifact.bytes, 'buffer');
  return artifact.algorithm === algorithm ? artifact.digest : undefined;
}

export function describeArtifact(artifact: Artifact): string {
  const algorithm = artifact.kind === 'bytes' ? 'sha256' : artifact.algorithm;
  return `${algorithm}:${Buffer.from(digestOf(artifact, algorithm)!).toString('hex')}`;
}
