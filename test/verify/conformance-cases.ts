// The sigstore-conformance bundle-verify suite (/work/shared/vectors/sigstore-conformance, upstream
// sigstore/sigstore-conformance @ a73de497) as test cases: each case's files, the outcome its name states,
// and the reason each failing case gives (its README), as the code of the step that must refuse it.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  Verifier,
  parseTrustedRoot,
  publicKeyFromPem,
  type VerificationErrorCode,
  type VerificationPolicy,
  type VerificationResult,
} from '../../src/verify/index.ts';

const VECTORS = '/work/shared/vectors';
const SUITE = join(VECTORS, 'sigstore-conformance/bundle-verify');
const PRODUCTION_ROOT = join(VECTORS, 'npm-provenance/sigstore-tuf-trusted_root.json');
const DEFAULT_IDENTITY =
  'https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main';
const DEFAULT_ISSUER = 'https://token.actions.githubusercontent.com';

/** Each failing case's reason (its README), as the code of the step that must refuse it. */
export const EXPECTED_FAILURES: Readonly<Record<string, VerificationErrorCode>> = {
  'bundle-empty-certificate-chain_fail': 'VERIFY_BUNDLE_INVALID',
  'bundle-from-wrong-instance_fail': 'VERIFY_TLOG_UNTRUSTED',
  'bundle-invalid-base64-signature_fail': 'VERIFY_BUNDLE_INVALID',
  'bundle-malformed-json_fail': 'VERIFY_BUNDLE_INVALID',
  'bundle-negative-log-index_fail': 'VERIFY_BUNDLE_INVALID',
  'bundle-unknown-version_fail': 'VERIFY_BUNDLE_UNSUPPORTED_VERSION',
  'bundle-with-root-cert_fail': 'VERIFY_CERTIFICATE_ROOT_IN_BUNDLE',
  'checkpoint-bad-keyhint_fail': 'VERIFY_TLOG_CHECKPOINT_ERROR',
  'checkpoint-wrong-roothash_fail': 'VERIFY_TLOG_CHECKPOINT_ERROR',
  'dsse-invalid-sig_fail': 'VERIFY_SIGNATURE_ERROR',
  'dsse-mismatch-envelope_fail': 'VERIFY_TLOG_BODY_ERROR',
  'dsse-mismatch-sig_fail': 'VERIFY_TLOG_BODY_ERROR',
  'inclusion-proof-corrupted-hash_fail': 'VERIFY_TLOG_INCLUSION_PROOF_ERROR',
  'incorrect-public-key_fail': 'VERIFY_TLOG_BODY_ERROR',
  'integrated-time-in-future_fail': 'VERIFY_CERTIFICATE_EXPIRED',
  'intoto-expired-certificate_fail': 'VERIFY_CERTIFICATE_EXPIRED',
  'intoto-log-entry-mismatch_fail': 'VERIFY_TLOG_BODY_ERROR',
  'intoto-missing-inclusion-proof_fail': 'VERIFY_BUNDLE_INVALID',
  'intoto-set-outside-signing-cert-validity_fail': 'VERIFY_CERTIFICATE_EXPIRED',
  'intoto-tsa-timestamp-outside-cert-validity_fail': 'VERIFY_CERTIFICATE_EXPIRED',
  'invalid-checkpoint-signature_fail': 'VERIFY_TLOG_CHECKPOINT_ERROR',
  'invalid-ct-key_fail': 'VERIFY_SCT_ERROR',
  'invalid-inclusion-proof_fail': 'VERIFY_TLOG_INCLUSION_PROOF_ERROR',
  'managed-key-no-key_fail': 'VERIFY_KEY_MISMATCH',
  'managed-key-wrong-key_fail': 'VERIFY_KEY_UNSUPPORTED',
  'message-digest-mismatch_fail': 'VERIFY_ARTIFACT_MISMATCH',
  'rekor2-checkpoint-missing-log-signature_fail': 'VERIFY_TLOG_CHECKPOINT_ERROR',
  'rekor2-checkpoint-missing-origin_fail': 'VERIFY_TLOG_CHECKPOINT_ERROR',
  'rekor2-checkpoint-missing-root-hash_fail': 'VERIFY_TLOG_CHECKPOINT_ERROR',
  'rekor2-checkpoint-missing-size_fail': 'VERIFY_TLOG_CHECKPOINT_ERROR',
  'rekor2-checkpoint-no-matching-signature_fail': 'VERIFY_TLOG_CHECKPOINT_ERROR',
  'rekor2-dsse-invalid-sig_fail': 'VERIFY_SIGNATURE_ERROR',
  'rekor2-dsse-mismatch-envelope_fail': 'VERIFY_TLOG_BODY_ERROR',
  'rekor2-dsse-mismatch-sig_fail': 'VERIFY_TLOG_BODY_ERROR',
  'rekor2-no-inclusion-proof_fail': 'VERIFY_BUNDLE_INVALID',
  'rekor2-no-timestamp_fail': 'VERIFY_TIMESTAMP_THRESHOLD_ERROR',
  'rekor2-timestamp-outside-trust-root-tsa-validity_fail': 'VERIFY_TIMESTAMP_ERROR',
  'rekor2-timestamp-outside-tsa-cert-validity_fail': 'VERIFY_TIMESTAMP_ERROR',
  'rekor2-timestamp-payload-mismatch_fail': 'VERIFY_TIMESTAMP_ERROR',
  'rekor2-timestamp-untrusted-tsa-with-embedded-cert_fail': 'VERIFY_TIMESTAMP_ERROR',
  'rekor2-timestamp-untrusted-tsa-without-embedded-cert_fail': 'VERIFY_TIMESTAMP_ERROR',
  'rekor2-timestamp-with-incorrect-time_fail': 'VERIFY_CERTIFICATE_EXPIRED',
  'set-invalid-signature_fail': 'VERIFY_TLOG_SET_ERROR',
  'signature-mismatch_fail': 'VERIFY_SIGNATURE_ERROR',
  'trust-root-tlog-missing-validity-start_fail': 'VERIFY_TRUST_ROOT_INVALID',
  'wrong-hashedrekord-artifact_fail': 'VERIFY_TLOG_BODY_ERROR',
  'wrong-hashedrekord-cert-and-sig_fail': 'VERIFY_TLOG_BODY_ERROR',
  'wrong-hashedrekord-entry_fail': 'VERIFY_TLOG_BODY_ERROR',
  'wrong-material_fail': 'VERIFY_ARTIFACT_MISMATCH',
};

export interface ConformanceCase {
  readonly name: string;
  readonly bundle: Uint8Array;
  /** The case's own trusted_root.json, or the production one. */
  readonly trustedRootPath: string;
  readonly trustedRoot: Uint8Array;
  readonly artifact: Uint8Array;
  readonly keyPem?: string;
  readonly identity: string;
  readonly issuer: string;
}

export function loadConformanceCases(): ConformanceCase[] {
  const defaultArtifact = readFileSync(join(SUITE, 'a.txt'));
  const productionRoot = readFileSync(PRODUCTION_ROOT);
  return readdirSync(SUITE, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map(({ name }) => {
      const file = (path: string) => join(SUITE, name, path);
      const text = (path: string, fallback: string) =>
        existsSync(file(path)) ? readFileSync(file(path), 'utf8').trim() : fallback;
      return {
        name,
        bundle: readFileSync(file('bundle.sigstore.json')),
        trustedRootPath: existsSync(file('trusted_root.json')) ? file('trusted_root.json') : PRODUCTION_ROOT,
        trustedRoot: existsSync(file('trusted_root.json'))
          ? readFileSync(file('trusted_root.json'))
          : productionRoot,
        artifact: existsSync(file('artifact')) ? readFileSync(file('artifact')) : defaultArtifact,
        ...(existsSync(file('key.pub')) ? { keyPem: readFileSync(file('key.pub'), 'utf8') } : {}),
        identity: text('identity', DEFAULT_IDENTITY),
        issuer: text('issuer', DEFAULT_ISSUER),
      };
    });
}

const verifiers = new Map<string, Verifier>();

/**
 * Verifies a case as the conformance harness does: its trusted root, artifact, identity or key. The
 * trusted root is parsed once per file (as a webhook holds its Verifier); `bundle` may be given as text.
 */
export function verifyConformanceCase(
  testCase: ConformanceCase,
  bundle: string | Uint8Array = testCase.bundle,
): VerificationResult {
  let verifier = verifiers.get(testCase.trustedRootPath);
  if (!verifier) {
    verifier = new Verifier(parseTrustedRoot(testCase.trustedRoot));
    verifiers.set(testCase.trustedRootPath, verifier);
  }
  const policy: VerificationPolicy = {
    artifact: { kind: 'bytes', bytes: testCase.artifact },
    signer: testCase.keyPem
      ? { kind: 'publicKey', key: publicKeyFromPem(testCase.keyPem, 'key.pub') }
      : {
          kind: 'certificateIdentities',
          identities: [{ subject: { exact: testCase.identity }, issuer: { exact: testCase.issuer } }],
        },
  };
  return verifier.verify(bundle, policy);
}
