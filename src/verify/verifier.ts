import type { KeyObject } from 'node:crypto';
import { encodeHex, publicKeyDer, type ParsedCertificate } from '../core/index.ts';
import { hashLeaf, hashesEqual, rootFromInclusionProof } from '../merkle/index.ts';
import type { Artifact } from './artifact.ts';
import { parseBundle } from './bundle.ts';
import type { Bundle, TlogEntry } from './bundle.types.ts';
import { verifyCertificateChain } from './certificate-chain.ts';
import { VerificationError } from './errors.ts';
import { certificateIdentity, matchIdentity, type IdentityPolicy } from './identity.ts';
import { verifyEmbeddedScts } from './sct.ts';
import { importPublicKeyPem } from './public-key.ts';
import { verifyContentSignature, type SigningKey } from './signature.ts';
import { verifySignedEntryTimestamp } from './signed-entry-timestamp.ts';
import { verifyRfc3161Timestamp } from './timestamp.ts';
import { verifyTlogBody } from './tlog-body.ts';
import { verifyTlogInclusion } from './tlog-inclusion.ts';
import { findTlog, keyValidAt } from './tlog-instance.ts';
import type { TransparencyLogInstance, TrustMaterial } from './trust.types.ts';
import {
  VERIFICATION_RESULT_VERSION,
  type VerificationResult,
  type VerifiedSigner,
  type VerifiedTime,
  type VerifiedTlogEntry,
} from './verification-result.ts';

/** Who must have signed, per call (sigstore-go's PolicyBuilder): certificate identities or a key. */
export type SignerPolicy =
  /** Keyless: the certificate must match one of these identities. */
  | { readonly kind: 'certificateIdentities'; readonly identities: readonly IdentityPolicy[] }
  /** Key-based: the bundle's signature must verify with this key. */
  | { readonly kind: 'publicKey'; readonly key: KeyObject }
  /** Keyless with any identity the trusted CA certified: weakens the check, hence the name. */
  | { readonly kind: 'anyCertificateIdentityUnsafe' };

export interface VerificationPolicy {
  /** What was signed; required, as in sigstore-go: a signature over nothing in particular proves nothing. */
  readonly artifact: Artifact;
  readonly signer: SignerPolicy;
}

export interface VerifierOptions {
  /** Tlog entries that must verify (body, inclusion proof or SET). Default 1; at least 1. */
  tlogThreshold?: number;
  /** SCTs from distinct trusted CT logs a certificate must carry. Default 1; at least 1. */
  ctlogThreshold?: number;
  /** Verified times (SET-backed integrated times, RFC 3161 timestamps) a certificate needs. Default 1; at least 1. */
  timestampThreshold?: number;
  /** Accept bundles without any tlog entry. Weakens the check. Default false. */
  skipTransparencyLogUnsafe?: boolean;
  /** Accept certificates without SCTs. Weakens the check. Default false. */
  skipCertificateTransparencyUnsafe?: boolean;
}

type ResolvedOptions = Readonly<Required<VerifierOptions>>;

/**
 * Verifies Sigstore bundles offline against one set of trust material (sigstore-go `pkg/verify`
 * SignedEntityVerifier): trust and thresholds are fixed at construction, the artifact and the signer
 * policy are given per call. The steps run in the order of the Sigstore client spec, one file each:
 * bundle parsing → tlog entries (body, inclusion proof against a signed checkpoint, SET: the verified
 * integrated times) → RFC 3161 timestamps → certificate chain at every verified time → SCTs → the
 * signature over the artifact → identity policy. Every failure is a VerificationError with a code.
 */
export class Verifier {
  readonly trust: TrustMaterial;
  readonly #options: ResolvedOptions;

  constructor(trust: TrustMaterial, options: VerifierOptions = {}) {
    const resolved: ResolvedOptions = {
      tlogThreshold: options.tlogThreshold ?? 1,
      ctlogThreshold: options.ctlogThreshold ?? 1,
      timestampThreshold: options.timestampThreshold ?? 1,
      skipTransparencyLogUnsafe: options.skipTransparencyLogUnsafe ?? false,
      skipCertificateTransparencyUnsafe: options.skipCertificateTransparencyUnsafe ?? false,
    };
    for (const name of ['tlogThreshold', 'ctlogThreshold', 'timestampThreshold'] as const) {
      if (!Number.isSafeInteger(resolved[name]) || resolved[name] < 1) {
        throw new TypeError(
          `${name}: expected a positive integer, received ${resolved[name]} (to skip the check, use the option ending in Unsafe)`,
        );
      }
    }
    this.trust = trust;
    this.#options = Object.freeze(resolved);
  }

  /** Verifies `input` (bundle JSON text, bytes, a parsed object, or a Bundle from parseBundle). */
  verify(input: string | Uint8Array | object, policy: VerificationPolicy): VerificationResult {
    const bundle = isParsedBundle(input) ? input : parseBundle(input);
    const material = bundle.verificationMaterial;
    const signer = signingKeyOf(bundle, policy.signer);
    // The signature over the artifact first: a bundle whose signature or digest was altered fails for
    // that reason, not for the tlog body that (rightly) no longer matches it. Every step still runs.
    const statement = verifyContentSignature(bundle.content, policy.artifact, signer.key);

    const times: { time: number; kind: VerifiedTime['kind']; source: string }[] = [];
    const tlogEntries: VerifiedTlogEntry[] = [];
    /** Entries without a SET: their log's key validity is checked against the timestamps below. */
    const unstamped: { entry: TlogEntry; log: TransparencyLogInstance }[] = [];
    for (const entry of material.tlogEntries) {
      const log = findTlog(entry, this.trust.tlogs);
      verifyTlogBody(entry, bundle, signer.material);
      if (!entry.inclusionProof && !entry.signedEntryTimestamp) {
        throw new VerificationError(
          'VERIFY_TLOG_INCLUSION_PROOF_ERROR',
          `tlog entry ${entry.logIndex}: expected an inclusion proof or a signed entry timestamp, received neither`,
        );
      }
      if (entry.inclusionProof) verifyProof(entry, log, bundle.version);
      if (entry.signedEntryTimestamp) {
        verifySignedEntryTimestamp(entry, log);
        // Only a signed integrated time is a verified time: an inclusion proof does not vouch for it.
        times.push({ time: entry.integratedTime * 1000, kind: 'transparencyLog', source: log.baseUrl });
      } else {
        unstamped.push({ entry, log });
      }
      tlogEntries.push({
        logIndex: entry.logIndex,
        logId: encodeHex(entry.logId),
        baseUrl: log.baseUrl,
        kind: entry.kindVersion.kind,
        version: entry.kindVersion.version,
        ...(entry.integratedTime > 0
          ? { integratedTime: new Date(entry.integratedTime * 1000).toISOString() }
          : {}),
        inclusionProven: entry.inclusionProof !== undefined,
        signedEntryTimestampVerified: entry.signedEntryTimestamp !== undefined,
      });
    }
    if (tlogEntries.length < this.#options.tlogThreshold && !this.#options.skipTransparencyLogUnsafe) {
      throw new VerificationError(
        'VERIFY_TLOG_THRESHOLD_ERROR',
        `tlog entries: expected at least ${this.#options.tlogThreshold} verified, received ${tlogEntries.length}`,
      );
    }

    const timestamped = timestampedSignature(bundle);
    for (const token of material.rfc3161Timestamps) {
      const { time, authority } = verifyRfc3161Timestamp(token, timestamped, this.trust.timestampAuthorities);
      times.push({ time, kind: 'timestampAuthority', source: authority.uri });
    }
    // A Rekor v2 entry carries no time of its own: its log must have been trusted when the timestamp
    // authorities saw the signature (sigstore-go verifies the log key at the verified timestamps).
    for (const { entry, log } of unstamped) {
      const stamps = times.filter((time) => time.kind === 'timestampAuthority');
      if (stamps.length > 0 && !stamps.every((stamp) => keyValidAt(log.publicKey, stamp.time))) {
        throw new VerificationError(
          'VERIFY_TLOG_UNTRUSTED',
          `tlog entry ${entry.logIndex}: the key of ${log.baseUrl} was not trusted at every timestamp (${stamps.map((stamp) => new Date(stamp.time).toISOString()).join(', ')})`,
        );
      }
    }

    let verifiedSigner: VerifiedSigner;
    if (signer.certificate) {
      if (times.length < this.#options.timestampThreshold) {
        throw new VerificationError(
          'VERIFY_TIMESTAMP_THRESHOLD_ERROR',
          `verified times: expected at least ${this.#options.timestampThreshold} (a signed entry timestamp or an RFC 3161 timestamp), received ${times.length}`,
        );
      }
      const { certificate, chain } = signer.certificate;
      const verifiedChain = verifyCertificateChain(
        certificate,
        chain,
        this.trust.certificateAuthorities,
        times.map((entry) => entry.time),
      );
      if (!this.#options.skipCertificateTransparencyUnsafe) {
        verifyEmbeddedScts(
          certificate,
          verifiedChain.path[1]!,
          this.trust.ctlogs,
          this.#options.ctlogThreshold,
        );
      }
      verifiedSigner = {
        kind: 'certificate',
        identity: certificateIdentity(certificate),
        certificateAuthority: verifiedChain.authority.uri,
        certificateSha256: certificate.fingerprint,
      };
    } else {
      verifiedSigner = { kind: 'publicKey', ...(signer.hint ? { hint: signer.hint } : {}) };
    }

    if (verifiedSigner.kind === 'certificate' && policy.signer.kind === 'certificateIdentities') {
      const matchedPolicy = matchIdentity(verifiedSigner.identity, policy.signer.identities);
      verifiedSigner = { ...verifiedSigner, matchedPolicy };
    }
    return {
      version: VERIFICATION_RESULT_VERSION,
      mediaType: bundle.mediaType,
      signer: verifiedSigner,
      verifiedTimes: times.map(({ time, kind, source }) => ({
        kind,
        time: new Date(time).toISOString(),
        source,
      })),
      tlogEntries,
      ...(statement !== undefined ? { statement } : {}),
    };
  }
}

/**
 * The inclusion proof against its signed checkpoint. Without a checkpoint (parseBundle keeps it as '')
 * the proof is checked against its own root hash, and the entry refused from v0.2 on, which require one.
 */
function verifyProof(entry: TlogEntry, log: TransparencyLogInstance, version: Bundle['version']): void {
  const proof = entry.inclusionProof!;
  if (proof.checkpoint !== '') {
    verifyTlogInclusion(entry, log);
    return;
  }
  if (proof.logIndex >= proof.treeSize) {
    throw new VerificationError(
      'VERIFY_TLOG_INCLUSION_PROOF_ERROR',
      `tlog entry ${entry.logIndex}: inclusion proof index ${proof.logIndex} is outside its tree of ${proof.treeSize}`,
    );
  }
  let root: Uint8Array;
  try {
    root = rootFromInclusionProof(proof.logIndex, proof.treeSize, hashLeaf(entry.canonicalizedBody), [
      ...proof.hashes,
    ]);
  } catch (cause) {
    throw new VerificationError(
      'VERIFY_TLOG_INCLUSION_PROOF_ERROR',
      `tlog entry ${entry.logIndex}: ${(cause as Error).message}`,
      { cause },
    );
  }
  if (!hashesEqual(root, proof.rootHash)) {
    throw new VerificationError(
      'VERIFY_TLOG_INCLUSION_PROOF_ERROR',
      `tlog entry ${entry.logIndex}: inclusion proof reaches root ${encodeHex(root)}, expected ${encodeHex(proof.rootHash)}`,
    );
  }
  if (version !== '0.1') {
    throw new VerificationError(
      'VERIFY_TLOG_CHECKPOINT_ERROR',
      `tlog entry ${entry.logIndex}: expected a signed checkpoint with the inclusion proof of a v${version} bundle, received none`,
    );
  }
}

interface ResolvedSigner {
  readonly key: SigningKey;
  /** What the tlog entry must name as the verifier. */
  readonly material: { readonly certificate?: ParsedCertificate; readonly publicKeyDer?: Uint8Array };
  readonly certificate?: {
    readonly certificate: ParsedCertificate;
    readonly chain: readonly ParsedCertificate[];
  };
  readonly hint?: string;
}

/** The signing key: the bundle's certificate's, or the policy's for a key-based bundle. */
function signingKeyOf(bundle: Bundle, policy: SignerPolicy): ResolvedSigner {
  const signer = bundle.verificationMaterial.signer;
  if (signer.kind === 'certificate') {
    if (policy.kind === 'publicKey') {
      throw new VerificationError(
        'VERIFY_KEY_MISMATCH',
        'verificationMaterial: the bundle carries a certificate, but the policy expects a signature by a public key',
      );
    }
    return {
      key: { spki: signer.certificate.subjectPublicKeyInfo },
      material: { certificate: signer.certificate },
      certificate: { certificate: signer.certificate, chain: signer.chain.slice(1) },
    };
  }
  if (policy.kind !== 'publicKey') {
    throw new VerificationError(
      'VERIFY_KEY_MISMATCH',
      `verificationMaterial.publicKey: the bundle is signed with a key (hint ${JSON.stringify(signer.hint)}), but no key was given to verify it with`,
    );
  }
  const der = publicKeyDer(policy.key);
  return { key: { spki: der, key: policy.key }, material: { publicKeyDer: der }, hint: signer.hint };
}

/** The bytes an RFC 3161 timestamp in the bundle covers: the signature (sigstore-go `tsa.go`). */
function timestampedSignature(bundle: Bundle): Uint8Array {
  const content = bundle.content;
  return content.kind === 'messageSignature'
    ? content.signature
    : (content.signatures[0]?.sig ?? new Uint8Array());
}

function isParsedBundle(input: unknown): input is Bundle {
  return (
    typeof input === 'object' &&
    input !== null &&
    'verificationMaterial' in input &&
    'content' in input &&
    'version' in input
  );
}

/** A KeyObject from a PEM public key, for a key-based SignerPolicy (public-key.ts importPublicKeyPem). */
export function publicKeyFromPem(pem: string, field = 'public key'): KeyObject {
  return importPublicKeyPem(pem, field).key;
}
