// npm registry attestation responses for sigstore@0.4.0 (/work/shared/vectors/npm-provenance, upstream
// npm/pacote test/fixtures/sigstore @ 3b5c462a): `valid-attestations.json` and single-field mutations of
// it. Each response holds two Sigstore bundles: SLSA provenance signed keyless (Fulcio), and the npm
// publish attestation signed with the registry key its `publicKey.hint` names (keys from @sigstore/tuf's
// registry.npmjs.org/keys.json). No entry is a bare npm registry signature: every item is a bundle.
//
// Upstream's tests stub the cryptography, so its expectations are pacote's own checks (key lookup, key
// expiry, subject name). The outcomes asserted here are the real ones the README's last column gives:
// each mutation changes signed bytes (or an unsigned hint), and the code is the step that refuses it.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { KeyObject } from 'node:crypto';
import { decodeBase64 } from '../../src/core/index.ts';
import {
  importNamedPublicKey,
  parseBundle,
  verifyTlogBody,
  type VerificationResult,
} from '../../src/verify/index.ts';
import {
  productionVerifier,
  readJson,
  subjectDigestOf,
  type DsseBundleJson,
} from './dsse-bundle-fixtures.ts';
import { throwsCode } from './certificate-chain-fixtures.ts';

interface AttestationsResponse {
  attestations: { predicateType: string; bundle: DsseBundleJson }[];
}

interface RegistryKeys {
  keys: {
    keyId: string;
    keyUsage: string;
    publicKey: { rawBytes: string; keyDetails: string; validFor: { start: string; end?: string } };
  }[];
}

const PROVENANCE = 'https://slsa.dev/provenance/v0.2';
const PUBLISH = 'https://github.com/npm/attestation/tree/main/specs/publish/v0.1';
/** sigstore@0.4.0's packument integrity, as hex (README). */
const INTEGRITY_SHA512 =
  '282c0c5fa936d264321643581b65d3de5c0af6ed4fdfac12f5851115df39cc25cfaf0ad22d908487bfef30114d61c25746206d1834be4f8fd1659178f77cc004';
const ARTIFACT = {
  kind: 'digest',
  algorithm: 'sha512',
  digest: Buffer.from(INTEGRITY_SHA512, 'hex'),
} as const;
/** The provenance certificate's identity: sigstore-js's publish workflow at the v0.4.0 tag. */
const PROVENANCE_IDENTITY = {
  subject: {
    exact: 'https://github.com/sigstore/sigstore-js/.github/workflows/publish.yml@refs/tags/v0.4.0',
  },
  issuer: { exact: 'https://token.actions.githubusercontent.com' },
};

const fixture = (name: string): AttestationsResponse =>
  readJson<AttestationsResponse>(`npm-provenance/pacote-fixtures/${name}`);
const registryKeys = readJson<RegistryKeys>('npm-provenance/sigstore-tuf-registry.npmjs.org-keys.json');

function attestation(response: AttestationsResponse, predicateType: string): DsseBundleJson {
  const found = response.attestations.find((entry) => entry.predicateType === predicateType);
  assert.ok(found, `no ${predicateType} attestation`);
  return found.bundle;
}

/**
 * The registry key as npm selects it (pacote `lib/registry.js`): the key whose id is the bundle's
 * `publicKey.hint`, for usage `npm:attestations`, valid at the entry's integrated time. Key selection
 * and expiry are the caller's policy, not the verifier's: it is given the chosen key.
 */
function registryKeyFor(
  bundle: DsseBundleJson,
  keyId = bundle.verificationMaterial.publicKey?.hint,
): KeyObject {
  const time = Number(bundle.verificationMaterial.tlogEntries[0]!.integratedTime) * 1000;
  const entry = registryKeys.keys.find(
    ({ keyId: id, keyUsage, publicKey: { validFor } }) =>
      id === keyId &&
      keyUsage === 'npm:attestations' &&
      Date.parse(validFor.start) <= time &&
      (validFor.end === undefined || time <= Date.parse(validFor.end)),
  );
  assert.ok(entry, `no npm:attestations key ${keyId} valid at ${new Date(time).toISOString()}`);
  return importNamedPublicKey(
    decodeBase64(entry.publicKey.rawBytes, entry.keyId),
    entry.publicKey.keyDetails,
    entry.keyId,
  ).key;
}

function verifyPublish(bundle: DsseBundleJson, key = registryKeyFor(bundle)): VerificationResult {
  return productionVerifier.verify(bundle, { artifact: ARTIFACT, signer: { kind: 'publicKey', key } });
}

/** The provenance bundle, keyless, with the identity of sigstore-js's publish workflow. */
function verifyProvenance(bundle: DsseBundleJson): VerificationResult {
  return productionVerifier.verify(bundle, {
    artifact: ARTIFACT,
    signer: { kind: 'certificateIdentities', identities: [PROVENANCE_IDENTITY] },
  });
}

describe('npm attestations of sigstore@0.4.0 against the production trusted root', () => {
  describe('valid-attestations.json', () => {
    const response = fixture('valid-attestations.json');

    it('holds two Sigstore bundles, provenance (keyless) and publish (registry key), whose subject is the package integrity', () => {
      assert.deepEqual(
        response.attestations.map((entry) => entry.predicateType),
        [PROVENANCE, PUBLISH],
      );
      for (const { bundle } of response.attestations) {
        assert.equal(bundle.mediaType, 'application/vnd.dev.sigstore.bundle+json;version=0.1');
        assert.deepEqual(subjectDigestOf(bundle), ARTIFACT);
      }
      assert.equal(
        parseBundle(attestation(response, PROVENANCE)).verificationMaterial.signer.kind,
        'certificate',
      );
      assert.deepEqual(parseBundle(attestation(response, PUBLISH)).verificationMaterial.signer, {
        kind: 'publicKey',
        hint: 'SHA256:jl3bwswu80PjjokCgh0o2w5c2U4LhQAE57gj9cz1kzA',
      });
    });

    it('verifies the publish attestation with the registry key its hint names, for pkg:npm/sigstore@0.4.0', () => {
      const result = verifyPublish(attestation(response, PUBLISH));
      assert.deepEqual(result.signer, {
        kind: 'publicKey',
        hint: 'SHA256:jl3bwswu80PjjokCgh0o2w5c2U4LhQAE57gj9cz1kzA',
      });
      assert.deepEqual(
        result.tlogEntries.map((entry) => entry.logIndex),
        [10960848],
      );
      assert.equal(result.verifiedTimes[0]?.time, '2023-01-11T17:31:54.000Z');
      // pacote compares this name with the requested spec (`sigstore@*` fails there): the caller's check.
      assert.equal(
        (result.statement as { subject: { name: string }[] }).subject[0]?.name,
        'pkg:npm/sigstore@0.4.0',
      );
    });

    it('verifies the provenance attestation as stored (its chain carries the trusted root), for the sigstore-js publish workflow', () => {
      const result = verifyProvenance(attestation(response, PROVENANCE));
      assert.ok(result.signer.kind === 'certificate');
      assert.deepEqual(result.signer.matchedPolicy, PROVENANCE_IDENTITY);
      assert.equal(result.signer.identity.extensions.githubWorkflowRepository, 'sigstore/sigstore-js');
      assert.deepEqual(
        result.tlogEntries.map((entry) => entry.logIndex),
        [10960845],
      );
    });

    // Upstream EMISSINGSIGNATUREKEY / EEXPIREDSIGNATUREKEY are pacote's key lookup: which key to pass is
    // the caller's choice. What the verifier sees is the key it is given.
    it('refuses the publish attestation checked with another registry key (npm’s 2025 key) with VERIFY_SIGNATURE_ERROR', () => {
      const bundle = attestation(response, PUBLISH);
      const other = registryKeys.keys.find((key) => key.keyId.startsWith('SHA256:DhQ8'))!;
      const key = importNamedPublicKey(
        decodeBase64(other.publicKey.rawBytes),
        other.publicKey.keyDetails,
        other.keyId,
      ).key;
      throwsCode(() => verifyPublish(bundle, key), 'VERIFY_SIGNATURE_ERROR');
    });

    it('refuses the publish attestation given no key with VERIFY_KEY_MISMATCH', () => {
      throwsCode(
        () =>
          productionVerifier.verify(attestation(response, PUBLISH), {
            artifact: ARTIFACT,
            signer: { kind: 'anyCertificateIdentityUnsafe' },
          }),
        'VERIFY_KEY_MISMATCH',
      );
    });
  });

  describe('mutations of valid-attestations.json', () => {
    it('invalid-attestations.json: refuses the publish signature `invalid-signature` with VERIFY_BUNDLE_INVALID', () => {
      // Upstream's reason is "artifact signature verification failed" (its stub keys on this literal).
      // The literal is not base64 in any alphabet (17 characters, `-`), so it is refused when the bundle
      // is read, before the signature step: the rule of conformance bundle-invalid-base64-signature_fail.
      const bundle = attestation(fixture('invalid-attestations.json'), PUBLISH);
      assert.equal(bundle.dsseEnvelope.signatures[0]?.sig, 'invalid-signature');
      throwsCode(() => verifyPublish(bundle), 'VERIFY_BUNDLE_INVALID');
    });

    it('mismatched-keyid-attestations.json: verifies the provenance attestation, whose changed DSSE keyid nothing signs', () => {
      // Upstream's EMISSINGSIGNATUREKEY is pacote looking the keyid up among registry keys. A DSSE keyid
      // is an unauthenticated hint (DSSE envelope spec); a keyless bundle's key is its certificate's.
      const bundle = attestation(fixture('mismatched-keyid-attestations.json'), PROVENANCE);
      assert.equal(bundle.dsseEnvelope.signatures[0]?.keyid, 'JXkT/aBM9baLZ7dpjJLQhJrj3Ru5s/OSXoZzZsPUyhg');
      assert.equal(verifyProvenance(bundle).signer.kind, 'certificate');
    });

    it('no-keyid-attestations.json: refuses the provenance attestation, whose signature was altered, with VERIFY_SIGNATURE_ERROR', () => {
      // Upstream expects "valid" with crypto stubbed; the README's real check: the signature fails.
      const response = fixture('no-keyid-attestations.json');
      throwsCode(() => verifyProvenance(attestation(response, PROVENANCE)), 'VERIFY_SIGNATURE_ERROR');
      // The publish attestation lost only its (unsigned) keyid: it still verifies with the hinted key.
      const publish = attestation(response, PUBLISH);
      assert.equal(publish.dsseEnvelope.signatures[0]?.keyid, '');
      assert.equal(verifyPublish(publish).signer.kind, 'publicKey');
    });

    // The publish payload was changed after signing: upstream's EATTESTATIONSUBJECT is pacote comparing
    // the statement with the package, but the signature over the changed payload fails first (verifier.ts
    // checks the signature over the artifact before anything else).
    for (const [name, change] of [
      ['mismatched-subject-name-attestations.json', 'its subject name is pkg:npm/sigstore@1.4.0'],
      ['mismatched-subject-digest-attestations.json', 'its subject sha512 starts 123c0c5f'],
      ['malformed-subject-attestations.json', 'its subject has no digest'],
    ] as const) {
      it(`${name}: refuses the publish attestation (${change}) with VERIFY_SIGNATURE_ERROR`, () => {
        throwsCode(() => verifyPublish(attestation(fixture(name), PUBLISH)), 'VERIFY_SIGNATURE_ERROR');
      });
    }

    describe('unsupported-attestations.json (publish payloadType changed to tlog-entry-mismatch)', () => {
      const bundle = attestation(fixture('unsupported-attestations.json'), PUBLISH);

      it('refuses the publish attestation with VERIFY_SIGNATURE_ERROR: the payload type is signed (DSSE PAE)', () => {
        assert.equal(bundle.dsseEnvelope.payloadType, 'tlog-entry-mismatch');
        throwsCode(() => verifyPublish(bundle), 'VERIFY_SIGNATURE_ERROR');
      });

      it('is refused by the tlog body step alone with VERIFY_TLOG_BODY_ERROR (upstream: "bundle content and tlog entry do not match")', () => {
        const checkBody = (json: DsseBundleJson) => {
          const parsed = parseBundle(json);
          const publicKeyDer = registryKeyFor(json).export({ type: 'spki', format: 'der' });
          verifyTlogBody(parsed.verificationMaterial.tlogEntries[0]!, parsed, { publicKeyDer });
        };
        checkBody(attestation(fixture('valid-attestations.json'), PUBLISH));
        throwsCode(() => checkBody(bundle), 'VERIFY_TLOG_BODY_ERROR', 'payloadType');
      });
    });
  });
});
