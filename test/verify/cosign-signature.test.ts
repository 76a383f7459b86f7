// cosign legacy OCI signatures from connaisseur's mock registry (/work/shared/vectors/connaisseur/cosign,
// upstream sse-secure-systems/connaisseur @ 0c40cab1): key-based signatures by alice, bob and charlie and
// one public-good keyless signature, with the outcomes upstream's cosign validator tests state.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import {
  COSIGN_ANNOTATIONS,
  VerificationError,
  Verifier,
  parseTrustedRoot,
  publicKeyFromPem,
  verifyCosignAttestation,
  verifyCosignSignature,
  type CosignSignatureLayer,
  type VerificationErrorCode,
} from '../../src/verify/index.ts';

const COSIGN = '/work/shared/vectors/connaisseur/cosign';
const IMAGE = join(COSIGN, 'securesystemsengineering/testimage');
const PRODUCTION_ROOT = '/work/shared/vectors/npm-provenance/sigstore-tuf-trusted_root.json';

const ALICE_IMAGE = 'sha256:071bf7a986f1ca9cb2a1f0bc8392822a7777f90d58f2d2c6f271913e08de7c81';
const ALICE_BOB_CHARLIE_IMAGE = 'sha256:bfec161fecb0a887df7cb85e4da327c65986ccda7060cf3cd92171c6c90d7533';
const KEYLESS_IMAGE = 'sha256:31dc72a13a0c34b40eb95419d2b2fd67320c856baf3b72da518023ee8d370aee';

interface ManifestLayer {
  digest: string;
  annotations: Record<string, string>;
}

/** The layers of the `.sig` manifest of `imageDigest`, each with its payload blob. */
function signatureLayers(imageDigest: string): CosignSignatureLayer[] {
  const manifest = JSON.parse(
    readFileSync(join(IMAGE, 'manifests', `${imageDigest.replace(':', '-')}.sig.json`), 'utf8'),
  ) as { layers: ManifestLayer[] };
  return manifest.layers.map((layer) => ({
    payload: readFileSync(join(IMAGE, 'blobs', `${layer.digest}.json`)),
    digest: layer.digest,
    annotations: layer.annotations,
  }));
}

const key = (name: string) =>
  publicKeyFromPem(readFileSync(join(COSIGN, `${name}.key`), 'utf8'), `${name}.key`);
const trust = parseTrustedRoot(readFileSync(PRODUCTION_ROOT));
/** connaisseur's `verifyTLog: false` for the key-based signatures, which carry no Rekor bundle. */
const withoutTlog = new Verifier(trust, { skipTransparencyLogUnsafe: true });
const verifier = new Verifier(trust);

function refusesWith(code: VerificationErrorCode) {
  return (error: unknown) => {
    assert.ok(error instanceof VerificationError, `expected a VerificationError, received ${String(error)}`);
    assert.equal(error.code, code, error.message);
    return true;
  };
}

describe('verifyCosignSignature', () => {
  describe('with a key (connaisseur cases 1, 5–8)', () => {
    it("accepts alice's signature of multi-cosigned-alice with alice's key", () => {
      const [layer] = signatureLayers(ALICE_IMAGE);
      const result = verifyCosignSignature(withoutTlog, layer!, {
        imageDigest: ALICE_IMAGE,
        signer: { kind: 'publicKey', key: key('alice') },
      });
      assert.equal(result.signer.kind, 'publicKey');
      assert.equal(result.dockerReference, 'index.docker.io/securesystemsengineering/testimage');
    });

    it('finds exactly the alice, bob and charlie signatures among three layers', () => {
      const layers = signatureLayers(ALICE_BOB_CHARLIE_IMAGE);
      const signers = ['alice', 'bob', 'charlie', 'default'].map((name) => ({
        name,
        verified: layers.filter((layer) => {
          try {
            verifyCosignSignature(withoutTlog, layer, {
              imageDigest: ALICE_BOB_CHARLIE_IMAGE,
              signer: { kind: 'publicKey', key: key(name) },
            });
            return true;
          } catch (error) {
            assert.ok(error instanceof VerificationError);
            return false;
          }
        }).length,
      }));
      assert.deepEqual(signers, [
        { name: 'alice', verified: 1 },
        { name: 'bob', verified: 1 },
        { name: 'charlie', verified: 1 },
        { name: 'default', verified: 0 },
      ]);
    });

    it("refuses alice's signature with bob's key (VERIFY_SIGNATURE_ERROR)", () => {
      const [layer] = signatureLayers(ALICE_IMAGE);
      assert.throws(
        () =>
          verifyCosignSignature(withoutTlog, layer!, {
            imageDigest: ALICE_IMAGE,
            signer: { kind: 'publicKey', key: key('bob') },
          }),
        refusesWith('VERIFY_SIGNATURE_ERROR'),
      );
    });

    it('refuses a signature presented for another image (VERIFY_ARTIFACT_MISMATCH)', () => {
      const [layer] = signatureLayers(ALICE_IMAGE);
      assert.throws(
        () =>
          verifyCosignSignature(withoutTlog, layer!, {
            imageDigest: ALICE_BOB_CHARLIE_IMAGE.replace('bf', 'ff'),
            signer: { kind: 'publicKey', key: key('alice') },
          }),
        refusesWith('VERIFY_ARTIFACT_MISMATCH'),
      );
    });

    it('refuses every one-byte change of the payload', () => {
      const [layer] = signatureLayers(ALICE_IMAGE);
      for (let position = 0; position < layer!.payload.length; position++) {
        const payload = new Uint8Array(layer!.payload);
        payload[position] = payload[position]! ^ 0x01;
        assert.throws(
          () =>
            verifyCosignSignature(
              withoutTlog,
              { payload, annotations: layer!.annotations },
              { imageDigest: ALICE_IMAGE, signer: { kind: 'publicKey', key: key('alice') } },
            ),
          (error: unknown) => error instanceof VerificationError,
          `payload byte ${position}`,
        );
      }
    });

    it('refuses a payload whose layer digest does not match (VERIFY_COSIGN_SIGNATURE_INVALID)', () => {
      const [layer] = signatureLayers(ALICE_IMAGE);
      assert.throws(
        () =>
          verifyCosignSignature(
            withoutTlog,
            { ...layer!, digest: `sha256:${'0'.repeat(64)}` },
            { imageDigest: ALICE_IMAGE, signer: { kind: 'publicKey', key: key('alice') } },
          ),
        refusesWith('VERIFY_COSIGN_SIGNATURE_INVALID'),
      );
    });

    it('requires a tlog entry unless the verifier skips it explicitly (VERIFY_TLOG_THRESHOLD_ERROR)', () => {
      const [layer] = signatureLayers(ALICE_IMAGE);
      assert.throws(
        () =>
          verifyCosignSignature(verifier, layer!, {
            imageDigest: ALICE_IMAGE,
            signer: { kind: 'publicKey', key: key('alice') },
          }),
        refusesWith('VERIFY_TLOG_THRESHOLD_ERROR'),
      );
    });
  });

  describe('keyless, against the production trusted root (connaisseur K1, K2)', () => {
    const [layer] = signatureLayers(KEYLESS_IMAGE);
    const identity = (subject: string, issuer: string) => ({
      kind: 'certificateIdentities' as const,
      identities: [{ subject: { regexp: subject }, issuer: { regexp: issuer } }],
    });

    it('verifies the SET, the SCT, the chain at the integrated time and the signature', () => {
      const result = verifyCosignSignature(verifier, layer!, {
        imageDigest: KEYLESS_IMAGE,
        signer: identity('.*philipp.*', '.*github.*'),
      });
      assert.equal(result.signer.kind, 'certificate');
      assert.equal(
        result.signer.kind === 'certificate' && result.signer.identity.subjectAlternativeName,
        'philipp.belitz@securesystems.de',
      );
      assert.deepEqual(
        result.tlogEntries.map((entry) => [entry.logIndex, entry.integratedTime]),
        [[98235800, '2024-05-30T15:18:17.000Z']],
      );
      assert.equal(result.verifiedTimes[0]?.kind, 'transparencyLog');
    });

    it('refuses an identity the certificate does not carry (VERIFY_IDENTITY_MISMATCH)', () => {
      assert.throws(
        () =>
          verifyCosignSignature(verifier, layer!, {
            imageDigest: KEYLESS_IMAGE,
            signer: identity('bob@gmail.com', '.*google.*'),
          }),
        refusesWith('VERIFY_IDENTITY_MISMATCH'),
      );
    });

    it('refuses a changed SET (VERIFY_TLOG_SET_ERROR) and a changed signature', () => {
      const bundle = JSON.parse(layer!.annotations[COSIGN_ANNOTATIONS.bundle]!) as {
        SignedEntryTimestamp: string;
      };
      const set = Buffer.from(bundle.SignedEntryTimestamp, 'base64');
      set[set.length - 3] = set[set.length - 3]! ^ 0x01;
      const tampered = {
        ...layer!,
        annotations: {
          ...layer!.annotations,
          [COSIGN_ANNOTATIONS.bundle]: JSON.stringify({
            ...bundle,
            SignedEntryTimestamp: set.toString('base64'),
          }),
        },
      };
      assert.throws(
        () =>
          verifyCosignSignature(verifier, tampered, {
            imageDigest: KEYLESS_IMAGE,
            signer: identity('.*philipp.*', '.*github.*'),
          }),
        refusesWith('VERIFY_TLOG_SET_ERROR'),
      );
      const signature = Buffer.from(layer!.annotations[COSIGN_ANNOTATIONS.signature]!, 'base64');
      signature[signature.length - 2] = signature[signature.length - 2]! ^ 0x01;
      assert.throws(
        () =>
          verifyCosignSignature(
            verifier,
            {
              ...layer!,
              annotations: {
                ...layer!.annotations,
                [COSIGN_ANNOTATIONS.signature]: signature.toString('base64'),
              },
            },
            { imageDigest: KEYLESS_IMAGE, signer: identity('.*philipp.*', '.*github.*') },
          ),
        (error: unknown) => error instanceof VerificationError,
      );
    });
  });
});

// cosign legacy attestations (`.att` layers) made against a local `sigil up`: one by `sigil attest`, one by
// cosign v3.1.3 `attest --new-bundle-format=false`; see fixtures/cosign-attestations.json `_provenance`.
describe('verifyCosignAttestation', () => {
  interface AttestationFixture {
    imageDigest: string;
    layer: { digest: string; payload: string; annotations: Record<string, string> };
  }
  const fixtures = JSON.parse(
    readFileSync(join(import.meta.dirname, 'fixtures/cosign-attestations.json'), 'utf8'),
  ) as {
    identity: string;
    issuer: string;
    predicateType: string;
    trustedRoot: unknown;
    sigil: AttestationFixture;
    cosign: AttestationFixture;
  };
  const local = new Verifier(parseTrustedRoot(fixtures.trustedRoot as object));
  const layerOf = (fixture: AttestationFixture): CosignSignatureLayer => ({
    payload: Buffer.from(fixture.layer.payload, 'base64'),
    digest: fixture.layer.digest,
    annotations: fixture.layer.annotations,
  });
  const identity = (subject = fixtures.identity) => ({
    kind: 'certificateIdentities' as const,
    identities: [{ subject: { exact: subject }, issuer: { exact: fixtures.issuer } }],
  });

  for (const made of ['sigil', 'cosign'] as const) {
    it(`verifies the attestation ${made} made, with the image among its statement's subjects`, () => {
      const fixture = fixtures[made];
      const result = verifyCosignAttestation(local, layerOf(fixture), {
        imageDigest: fixture.imageDigest,
        signer: identity(),
        predicateType: fixtures.predicateType,
      });
      assert.equal(result.predicateType, fixtures.predicateType);
      assert.equal(
        result.signer.kind === 'certificate' && result.signer.identity.subjectAlternativeName,
        fixtures.identity,
      );
      assert.equal(result.tlogEntries.length, 1);
    });
  }

  it('refuses it for another image (VERIFY_ARTIFACT_MISMATCH)', () => {
    assert.throws(
      () =>
        verifyCosignAttestation(local, layerOf(fixtures.sigil), {
          imageDigest: fixtures.cosign.imageDigest,
          signer: identity(),
        }),
      refusesWith('VERIFY_ARTIFACT_MISMATCH'),
    );
  });

  it('refuses another predicate type (VERIFY_ARTIFACT_MISMATCH) and another identity (VERIFY_IDENTITY_MISMATCH)', () => {
    const policy = { imageDigest: fixtures.sigil.imageDigest, signer: identity() };
    assert.throws(
      () =>
        verifyCosignAttestation(local, layerOf(fixtures.sigil), {
          ...policy,
          predicateType: 'https://slsa.dev/provenance/v1',
        }),
      (error: unknown) =>
        refusesWith('VERIFY_ARTIFACT_MISMATCH')(error) &&
        /predicateType: expected https:\/\/slsa/.test((error as Error).message),
    );
    assert.throws(
      () =>
        verifyCosignAttestation(local, layerOf(fixtures.sigil), {
          ...policy,
          signer: identity('other@example.com'),
        }),
      refusesWith('VERIFY_IDENTITY_MISMATCH'),
    );
  });

  it('refuses an envelope whose payload was changed (VERIFY_SIGNATURE_ERROR), or whose layer digest does not match', () => {
    const layer = layerOf(fixtures.cosign);
    const envelope = JSON.parse(Buffer.from(layer.payload).toString('utf8')) as { payload: string };
    const statement = JSON.parse(Buffer.from(envelope.payload, 'base64').toString('utf8')) as {
      predicate: unknown;
    };
    statement.predicate = { changed: true };
    envelope.payload = Buffer.from(JSON.stringify(statement)).toString('base64');
    const payload = Buffer.from(JSON.stringify(envelope));
    assert.throws(
      () =>
        verifyCosignAttestation(
          local,
          { payload, annotations: layer.annotations },
          {
            imageDigest: fixtures.cosign.imageDigest,
            signer: identity(),
          },
        ),
      refusesWith('VERIFY_SIGNATURE_ERROR'),
    );
    assert.throws(
      () =>
        verifyCosignAttestation(
          local,
          { ...layer, payload },
          {
            imageDigest: fixtures.cosign.imageDigest,
            signer: identity(),
          },
        ),
      refusesWith('VERIFY_COSIGN_SIGNATURE_INVALID'),
    );
  });

  it('refuses a blob that is not a DSSE envelope (VERIFY_COSIGN_SIGNATURE_INVALID)', () => {
    assert.throws(
      () =>
        verifyCosignAttestation(
          local,
          { payload: Buffer.from('{"payload":"e30="}'), annotations: {} },
          {
            imageDigest: fixtures.sigil.imageDigest,
            signer: identity(),
          },
        ),
      refusesWith('VERIFY_COSIGN_SIGNATURE_INVALID'),
    );
  });
});
