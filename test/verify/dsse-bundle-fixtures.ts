// Helpers for the real DSSE attestation bundles (sigstore-js compatibility bundles, npm attestation
// responses): the production Verifier, the in-toto subject digest as the artifact, and a bundle with the
// root certificate left out of its chain.
import { readFileSync } from 'node:fs';
import { decodeBase64 } from '../../src/core/index.ts';
import { Verifier, parseTrustedRoot, type Artifact } from '../../src/verify/index.ts';
import { vectorPath } from '../tools/vectors.ts';

/** The bundle JSON fields these tests read or change (protobuf-specs JSON names). */
export interface DsseBundleJson {
  mediaType: string;
  verificationMaterial: {
    x509CertificateChain?: { certificates: { rawBytes: string }[] };
    certificate?: { rawBytes: string };
    publicKey?: { hint: string };
    tlogEntries: { integratedTime: string }[];
  };
  dsseEnvelope: { payload: string; payloadType: string; signatures: { sig: string; keyid: string }[] };
}

export function readJson<T>(relativePath: string): T {
  return JSON.parse(readFileSync(vectorPath(relativePath), 'utf8')) as T;
}

/** One Verifier over the production (public-good) trusted root, as a long-lived service holds it. */
export const productionVerifier = new Verifier(
  parseTrustedRoot(readFileSync(vectorPath('npm-provenance/sigstore-tuf-trusted_root.json'))),
);

/**
 * The artifact the envelope's in-toto statement names: its first subject's digest. These statements
 * carry sha512 only (npm package integrity), so the artifact is a sha512 digest.
 */
export function subjectDigestOf(bundle: DsseBundleJson): Artifact {
  const statement = JSON.parse(
    Buffer.from(decodeBase64(bundle.dsseEnvelope.payload, 'dsseEnvelope.payload')).toString('utf8'),
  ) as { subject: { digest: { sha512: string } }[] };
  return {
    kind: 'digest',
    algorithm: 'sha512',
    digest: Buffer.from(statement.subject[0]!.digest.sha512, 'hex'),
  };
}
