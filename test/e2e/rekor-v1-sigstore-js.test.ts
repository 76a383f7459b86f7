import assert from 'node:assert/strict';
import { createHash, createPublicKey, generateKeyPairSync, sign } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { MessageSignatureBundleBuilder, RekorWitness, type Signer } from '@sigstore/sign';
import { Verifier, toSignedEntity, toTrustMaterial } from '@sigstore/verify';
import { TrustedRoot } from '@sigstore/protobuf-specs';
import { startSigil, type RunningSigil } from '../tools/sigil-process.ts';

/** sigstore-js with a key-based signer (no CA): signs, then has the Rekor v1 log witness the signature. */
function keySigner(): { signer: Signer; publicKeyPem: string; spki: Buffer } {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const publicKeyPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
  return {
    publicKeyPem,
    spki: publicKey.export({ type: 'spki', format: 'der' }),
    signer: {
      sign: async (data) => ({
        signature: sign('sha256', data, privateKey),
        key: { $case: 'publicKey', publicKey: publicKeyPem, hint: 'sigil-e2e-key' },
      }),
    },
  };
}

describe('Rekor v1 API with sigstore-js as the client', () => {
  let sigil: RunningSigil;

  before(async () => {
    sigil = await startSigil();
  });

  after(() => sigil?.cleanup());

  it('writes an entry with @sigstore/sign and verifies its inclusion proof, checkpoint and SET with @sigstore/verify', async () => {
    const { signer, spki } = keySigner();
    const witness = new RekorWitness({ rekorBaseURL: sigil.url, majorApiVersion: 1, fetchOnConflict: true });
    const builder = new MessageSignatureBundleBuilder({ signer, witnesses: [witness] });
    const artifact = Buffer.from('signed with sigstore-js, logged by sigil\n');
    const bundle = await builder.create({ data: artifact });

    const entry = bundle.verificationMaterial.tlogEntries[0]!;
    assert.equal(entry.kindVersion?.kind, 'hashedrekord');
    assert.ok(entry.inclusionPromise, 'a SignedEntryTimestamp');
    assert.ok(entry.inclusionProof?.checkpoint?.envelope.startsWith(sigil.summary.rekorV1.origin));

    const logKey = createPublicKey(sigil.summary.rekorV1.publicKeyPem).export({
      type: 'spki',
      format: 'der',
    });
    const root = TrustedRoot.fromJSON({
      mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
      tlogs: [
        {
          baseUrl: sigil.url,
          hashAlgorithm: 'SHA2_256',
          publicKey: {
            rawBytes: logKey.toString('base64'),
            keyDetails: 'PKIX_ECDSA_P256_SHA_256',
            validFor: { start: '2020-01-01T00:00:00Z' },
          },
          logId: { keyId: createHash('sha256').update(logKey).digest('base64') },
        },
      ],
      certificateAuthorities: [],
      ctlogs: [],
      timestampAuthorities: [],
    });
    const keys = {
      'sigil-e2e-key': {
        rawBytes: spki,
        keyDetails: 5 /* PKIX_ECDSA_P256_SHA_256 */,
        validFor: { start: new Date('2020-01-01') },
      },
    };
    const verifier = new Verifier(toTrustMaterial(root, keys), { tlogThreshold: 1, ctlogThreshold: 0 });
    verifier.verify(toSignedEntity(bundle, artifact));

    // The same checks must fail when the log's key is not the trusted one.
    const otherKey = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({
      type: 'spki',
      format: 'der',
    });
    const wrongRoot = TrustedRoot.fromJSON({
      ...(TrustedRoot.toJSON(root) as object),
      tlogs: [
        {
          baseUrl: sigil.url,
          hashAlgorithm: 'SHA2_256',
          publicKey: {
            rawBytes: otherKey.toString('base64'),
            keyDetails: 'PKIX_ECDSA_P256_SHA_256',
            validFor: { start: '2020-01-01T00:00:00Z' },
          },
          logId: { keyId: createHash('sha256').update(logKey).digest('base64') },
        },
      ],
    });
    assert.throws(
      () =>
        new Verifier(toTrustMaterial(wrongRoot, keys), { tlogThreshold: 1, ctlogThreshold: 0 }).verify(
          toSignedEntity(bundle, artifact),
        ),
      {
        name: 'VerificationError',
      },
    );
  });

  it('answers a second identical entry through the 409 path, which sigstore-js follows to the existing entry', async () => {
    const { signer } = keySigner();
    const witness = new RekorWitness({ rekorBaseURL: sigil.url, majorApiVersion: 1, fetchOnConflict: true });
    // ECDSA signatures are randomized, so sign once and submit the same signature twice.
    const artifact = Buffer.from('twice');
    const signature = await signer.sign(artifact);
    const fixed: Signer = { sign: async () => signature };
    const builder = new MessageSignatureBundleBuilder({ signer: fixed, witnesses: [witness] });
    const first = await builder.create({ data: artifact });
    const second = await builder.create({ data: artifact });
    assert.equal(
      second.verificationMaterial.tlogEntries[0]?.logIndex,
      first.verificationMaterial.tlogEntries[0]?.logIndex,
    );
  });
});
