import { encodePem } from '../../core/index.ts';
import type { SerializedBundle } from './sign-bundle.ts';

/**
 * What cosign writes into a registry, built from a Sigstore bundle: the simple-signing payload of a
 * legacy `.sig` signature and its layer annotations (sigstore/cosign `pkg/oci/static`,
 * `pkg/cosign/bundle`), and the in-toto statement of a cosign v3 image signature.
 */

export const SIMPLE_SIGNING_MEDIA_TYPE = 'application/vnd.dev.cosign.simplesigning.v1+json';
export const DSSE_ENVELOPE_MEDIA_TYPE = 'application/vnd.dsse.envelope.v1+json';
export const IN_TOTO_PAYLOAD_TYPE = 'application/vnd.in-toto+json';
/** The predicate type of a cosign v3 image signature (a DSSE-wrapped statement about the image). */
export const COSIGN_SIGN_PREDICATE_TYPE = 'https://sigstore.dev/cosign/sign/v1';

/** The simple-signing payload cosign signs for an image (critical identity, image digest, type). */
export function simpleSigningPayload(
  dockerReference: string,
  manifestDigest: string,
  annotations?: Readonly<Record<string, string>>,
): Uint8Array {
  return Buffer.from(
    JSON.stringify({
      critical: {
        identity: { 'docker-reference': dockerReference },
        image: { 'docker-manifest-digest': manifestDigest },
        type: 'cosign container image signature',
      },
      optional: annotations && Object.keys(annotations).length > 0 ? annotations : null,
    }),
  );
}

/** An in-toto Statement v1 about one image: `predicateType` with `predicate`, subject the manifest digest. */
export function imageStatement(
  imageName: string,
  manifestDigest: string,
  predicateType: string,
  predicate: unknown,
): Uint8Array {
  const [algorithm, hex] = manifestDigest.split(':') as [string, string];
  return Buffer.from(
    JSON.stringify({
      _type: 'https://in-toto.io/Statement/v1',
      subject: [{ name: imageName, digest: { [algorithm]: hex } }],
      predicateType,
      predicate,
    }),
  );
}

/**
 * The layer annotations of a legacy signature or attestation made from `bundle`: the signature
 * (message signatures only: an attestation layer holds the whole envelope), the certificate and the
 * chain as PEM, and the Rekor bundle — the SET with the entry it signs (`{SignedEntryTimestamp,
 * Payload: {body, integratedTime, logIndex, logID}}`).
 */
export function legacyAnnotations(
  bundle: SerializedBundle,
  chainDer: readonly Uint8Array[],
  extra: Readonly<Record<string, string>> = {},
): Record<string, string> {
  const annotations: Record<string, string> = { ...extra };
  const content = bundle as {
    messageSignature?: { signature: string };
    verificationMaterial: {
      certificate?: { rawBytes: string };
      /** sigstore-js writes message-signature bundles with a chain (v0.2 style), leaf first. */
      x509CertificateChain?: { certificates: { rawBytes: string }[] };
      tlogEntries?: {
        logIndex?: string;
        logId: { keyId: string };
        integratedTime?: string;
        inclusionPromise?: { signedEntryTimestamp: string };
        canonicalizedBody: string;
      }[];
    };
  };
  if (content.messageSignature) {
    annotations['dev.cosignproject.cosign/signature'] = content.messageSignature.signature;
  } else {
    annotations['dev.cosignproject.cosign/signature'] = '';
  }
  const material = content.verificationMaterial;
  const certificate = material.certificate ?? material.x509CertificateChain?.certificates[0];
  if (certificate) {
    annotations['dev.sigstore.cosign/certificate'] = encodePem(
      'CERTIFICATE',
      Buffer.from(certificate.rawBytes, 'base64'),
    );
    if (chainDer.length > 0) {
      annotations['dev.sigstore.cosign/chain'] = chainDer
        .map((der) => encodePem('CERTIFICATE', der))
        .join('');
    }
  }
  const entry = content.verificationMaterial.tlogEntries?.[0];
  if (entry?.inclusionPromise) {
    annotations['dev.sigstore.cosign/bundle'] = JSON.stringify({
      SignedEntryTimestamp: entry.inclusionPromise.signedEntryTimestamp,
      Payload: {
        body: entry.canonicalizedBody,
        // protojson leaves out zero values: the first entry of a log has no logIndex.
        integratedTime: Number(entry.integratedTime ?? 0),
        logIndex: Number(entry.logIndex ?? 0),
        logID: Buffer.from(entry.logId.keyId, 'base64').toString('hex'),
      },
    });
  }
  return annotations;
}

/** The DSSE envelope of a DSSE bundle, as the JSON a legacy `.att` layer holds. */
export function envelopeJson(bundle: SerializedBundle): Uint8Array {
  const envelope = (bundle as { dsseEnvelope?: unknown }).dsseEnvelope;
  if (!envelope) throw new TypeError('bundle: expected a DSSE envelope');
  return Buffer.from(JSON.stringify(envelope));
}
