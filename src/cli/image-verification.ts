import { describeError, isSigilError } from '../core/index.ts';
import {
  discoverImageArtifacts,
  discoverSignatures,
  withDigest,
  type DiscoveryOptions,
  type ImageReference,
  type SignatureArtifacts,
  type ReferrerBundle,
  type RegistryClient,
} from '../oci/index.ts';
import {
  verifyCosignAttestation,
  verifyCosignSignature,
  type SignerPolicy,
  type VerificationResult,
  type Verifier,
} from '../verify/index.ts';
import { COSIGN_SIGN_PREDICATE_TYPE } from './signing/cosign-layout.ts';

/**
 * What `sigil verify` and `sigil verify-attestation` check of one image: every signature or attestation
 * the registry holds for its digest (legacy `.sig`/`.att` layers, Sigstore bundles as referrers), each
 * verified on its own with src/verify, and the outcome as the commands print it.
 */

export type ImageSignatureFormat = 'cosign-signature' | 'cosign-attestation' | 'sigstore-bundle';

export interface ImageVerification {
  readonly image: string;
  readonly verified: readonly { readonly format: ImageSignatureFormat; readonly signer: string }[];
  readonly failures: readonly { readonly format: ImageSignatureFormat; readonly reason: string }[];
  /**
   * For a multi-arch image (an index): each platform manifest and whether a signature of it verifies.
   * The index digest is what a pod names and what must be signed; this says which platforms are too.
   */
  readonly platforms?: readonly {
    readonly platform: string;
    readonly digest: string;
    readonly signed: boolean;
  }[];
}

type Verified = { format: ImageSignatureFormat; signer: string };
type Failure = { format: ImageSignatureFormat; reason: string };

/**
 * Every signature of the image, each verified on its own: legacy `.sig` layers and referrer bundles;
 * for an index, each platform manifest's signatures too (reported, not required).
 */
export async function verifyImage(
  client: RegistryClient,
  reference: ImageReference,
  verifier: Verifier,
  signer: SignerPolicy,
  discovery: DiscoveryOptions = {},
): Promise<ImageVerification> {
  const found = await discoverImageArtifacts(client, reference, discovery);
  const { verified, failures } = verifySignatures(found.image, reference, verifier, signer);
  const platforms = found.platforms.map((entry) => ({
    platform: entry.platform,
    digest: entry.descriptor.digest,
    signed:
      verifySignatures(entry.artifacts, withDigest(reference, entry.descriptor.digest), verifier, signer)
        .verified.length > 0,
  }));
  return { image: imageName(reference), verified, failures, ...(platforms.length > 0 ? { platforms } : {}) };
}

function verifySignatures(
  artifacts: SignatureArtifacts,
  reference: ImageReference,
  verifier: Verifier,
  signer: SignerPolicy,
): { verified: Verified[]; failures: Failure[] } {
  const verified: Verified[] = [];
  const failures: Failure[] = [];
  for (const layer of artifacts.signatures) {
    try {
      const result = verifyCosignSignature(verifier, layer, { imageDigest: reference.digest!, signer });
      verified.push({ format: 'cosign-signature', signer: signerName(result) });
    } catch (error) {
      failures.push({ format: 'cosign-signature', reason: reasonOf(error) });
    }
  }
  verifyBundles(
    artifacts.bundles,
    reference,
    verifier,
    signer,
    COSIGN_SIGN_PREDICATE_TYPE,
    verified,
    failures,
  );
  return { verified, failures };
}

/**
 * Every attestation of the image with `predicateType`, each verified on its own: legacy `.att` layers
 * and referrer bundles. Attestations of other types (by their annotation) are passed over.
 */
export async function verifyImageAttestations(
  client: RegistryClient,
  reference: ImageReference,
  verifier: Verifier,
  signer: SignerPolicy,
  predicateType: string,
  discovery: DiscoveryOptions = {},
): Promise<ImageVerification> {
  const artifacts = await discoverSignatures(client, reference, discovery);
  const verified: Verified[] = [];
  const failures: Failure[] = [];
  for (const layer of artifacts.attestations) {
    const annotated = layer.annotations['predicateType'];
    if (annotated !== undefined && annotated !== predicateType) continue;
    try {
      const result = verifyCosignAttestation(
        verifier,
        { payload: layer.payload, digest: layer.descriptor.digest, annotations: layer.annotations },
        { imageDigest: reference.digest!, signer, predicateType },
      );
      verified.push({ format: 'cosign-attestation', signer: signerName(result) });
    } catch (error) {
      failures.push({ format: 'cosign-attestation', reason: reasonOf(error) });
    }
  }
  verifyBundles(artifacts.bundles, reference, verifier, signer, predicateType, verified, failures);
  return { image: imageName(reference), verified, failures };
}

/**
 * The referrer bundles whose predicate type is `predicateType` (by the manifest annotation, then by
 * the verified statement): each must verify with the image digest among its statement's subjects.
 */
function verifyBundles(
  bundles: readonly ReferrerBundle[],
  reference: ImageReference,
  verifier: Verifier,
  signer: SignerPolicy,
  predicateType: string,
  verified: Verified[],
  failures: Failure[],
): void {
  const [algorithm, hex] = reference.digest!.split(':') as ['sha256', string];
  for (const bundle of bundles) {
    const annotated = bundle.annotations['dev.sigstore.bundle.predicateType'];
    if (annotated !== undefined && annotated !== predicateType) continue;
    try {
      const result = verifier.verify(bundle.bundle, {
        artifact: { kind: 'digest', algorithm, digest: Buffer.from(hex, 'hex') },
        signer,
      });
      const statementType = (result.statement as { predicateType?: unknown } | undefined)?.predicateType;
      // A message signature over the manifest itself (no statement) signs the image too.
      const signsImage = result.statement === undefined && predicateType === COSIGN_SIGN_PREDICATE_TYPE;
      if (!signsImage && statementType !== predicateType) {
        failures.push({
          format: 'sigstore-bundle',
          reason: `statement predicateType: expected ${predicateType}, received ${JSON.stringify(statementType)}`,
        });
        continue;
      }
      verified.push({ format: 'sigstore-bundle', signer: signerName(result) });
    } catch (error) {
      failures.push({ format: 'sigstore-bundle', reason: reasonOf(error) });
    }
  }
}

function signerName(result: VerificationResult): string {
  return result.signer.kind === 'certificate' ? result.signer.identity.subjectAlternativeName : 'public key';
}

function imageName(reference: ImageReference): string {
  return `${reference.registry}/${reference.repository}@${reference.digest}`;
}

export function formatOutcome(outcome: ImageVerification): string {
  const lines = [outcome.verified.length > 0 ? `Verified ${outcome.image}` : `NOT verified ${outcome.image}`];
  for (const each of outcome.verified) lines.push(`  ✓ ${each.format} by ${each.signer}`);
  for (const each of outcome.failures) lines.push(`  ✗ ${each.format}: ${each.reason}`);
  if (outcome.verified.length === 0 && outcome.failures.length === 0) lines.push('  none found');
  for (const each of outcome.platforms ?? []) {
    lines.push(`  platform ${each.platform} ${each.digest}: ${each.signed ? 'signed' : 'not signed'}`);
  }
  return `${lines.join('\n')}\n`;
}

function reasonOf(error: unknown): string {
  return isSigilError(error) ? `${error.code}: ${error.message}` : describeError(error);
}
