import assert from 'node:assert/strict';
import { createHash, createPublicKey, sign } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { DSSEBundleBuilder, MessageSignatureBundleBuilder, RekorWitness, type Signer } from '@sigstore/sign';
import { toSignedEntity, toTrustMaterial } from '@sigstore/verify';
// sigstore-js's transparency-log verification steps (not re-exported from the package root).
import { verifyTLogBody, verifyTLogInclusion } from '@sigstore/verify/dist/tlog/index.js';
import { TrustedRoot } from '@sigstore/protobuf-specs';
import { createNoteVerifier, verifyCheckpoint } from '../../src/merkle/index.ts';
import { startSigil, type RunningSigil } from '../tools/sigil-process.ts';
import { issueTestCertificate, type TestCertificate } from '../tools/test-ca.ts';

/** sigstore-js's v2 client always sends a certificate, so sign with one from a throwaway CA. */
function certificateSigner(certificate: TestCertificate): Signer {
  return {
    sign: async (data) => ({
      signature: sign('sha256', data, certificate.privateKey),
      key: { $case: 'x509Certificate', certificate: certificate.leafPem },
    }),
  };
}

describe('Rekor v2 API with sigstore-js as the client', () => {
  let sigil: RunningSigil;
  let root: TrustedRoot;
  let certificate: TestCertificate;

  before(async () => {
    sigil = await startSigil();
    certificate = await issueTestCertificate();
    const caDer =
      createPublicKey(certificate.caPem) &&
      Buffer.from(certificate.caPem.replace(/-----[A-Z ]+-----|\s/g, ''), 'base64');
    const logKey = createPublicKey(sigil.summary.log.publicKeyPem).export({ type: 'spki', format: 'der' });
    const keyId = createHash('sha256').update(logKey).digest('base64');
    root = TrustedRoot.fromJSON({
      mediaType: 'application/vnd.dev.sigstore.trustedroot.v0.2+json',
      tlogs: [
        {
          baseUrl: sigil.url,
          hashAlgorithm: 'SHA2_256',
          publicKey: {
            rawBytes: logKey.toString('base64'),
            keyDetails: 'PKIX_ECDSA_P256_SHA_256',
            validFor: { start: '2020-01-01T00:00:00Z' },
          },
          logId: { keyId },
          checkpointKeyId: { keyId },
        },
      ],
      certificateAuthorities: [
        {
          subject: { organization: 'sigil test', commonName: 'sigil-test-ca' },
          uri: 'https://ca.sigil.test',
          certChain: { certificates: [{ rawBytes: caDer.toString('base64') }] },
          validFor: { start: '2020-01-01T00:00:00Z' },
        },
      ],
      ctlogs: [],
      timestampAuthorities: [],
    });
  });

  after(() => sigil?.cleanup());

  /**
   * Full @sigstore/verify needs a timestamp for a certificate signer, and Rekor v2 entries carry none
   * (a TSA supplies it, a later part of Sigil). So run sigstore-js's own transparency-log steps: the
   * checkpoint signed by a trusted log key, the Merkle inclusion proof, and the body matching the
   * signature it logs.
   */
  const verify = (bundle: Parameters<typeof toSignedEntity>[0], artifact?: Buffer) => {
    const entity = toSignedEntity(bundle, artifact);
    const tlogs = toTrustMaterial(root).tlogs;
    for (const entry of entity.tlogEntries) {
      verifyTLogInclusion(entry, tlogs);
      verifyTLogBody(entry, entity.signature);
    }
    // The same entry fails against another log key.
    const other = TrustedRoot.fromJSON({ ...(TrustedRoot.toJSON(root) as object), tlogs: [] });
    assert.throws(() => verifyTLogInclusion(entity.tlogEntries[0]!, toTrustMaterial(other).tlogs), {
      name: 'VerificationError',
    });
  };

  it('logs a message signature as hashedrekord 0.0.2 whose proof and checkpoint @sigstore/verify accepts', async () => {
    const signer = certificateSigner(certificate);
    const builder = new MessageSignatureBundleBuilder({
      signer,
      witnesses: [new RekorWitness({ rekorBaseURL: sigil.url, majorApiVersion: 2 })],
    });
    const artifact = Buffer.from('rekor v2 from sigstore-js\n');
    const bundle = await builder.create({ data: artifact });
    const entry = bundle.verificationMaterial.tlogEntries[0]!;
    assert.deepEqual(entry.kindVersion, { kind: 'hashedrekord', version: '0.0.2' });
    assert.equal(entry.inclusionPromise, undefined);
    const note = entry.inclusionProof!.checkpoint!.envelope;
    verifyCheckpoint(note, [createNoteVerifier(sigil.summary.log.verifierKey)], {
      origin: sigil.summary.log.origin,
    });
    verify(bundle, artifact);
  });

  it('logs a DSSE envelope sent as dsseRequestV002', async () => {
    const signer = certificateSigner(certificate);
    const builder = new DSSEBundleBuilder({
      signer,
      witnesses: [new RekorWitness({ rekorBaseURL: sigil.url, majorApiVersion: 2 })],
    });
    const bundle = await builder.create({
      data: Buffer.from('{"_type":"https://in-toto.io/Statement/v1"}'),
      type: 'application/vnd.in-toto+json',
    });
    assert.deepEqual(bundle.verificationMaterial.tlogEntries[0]?.kindVersion, {
      kind: 'dsse',
      version: '0.0.2',
    });
    verify(bundle);
  });
});
