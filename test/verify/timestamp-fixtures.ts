import { readFileSync, existsSync } from 'node:fs';
import { decodeBase64, parseCertificate } from '../../src/core/index.ts';
import type { CertificateAuthority } from '../../src/verify/trust.types.ts';
import { vectorPath } from '../tools/vectors.ts';

/**
 * The RFC 3161 material of a sigstore-conformance `bundle-verify` case (shared/vectors, see its README):
 * the bundle's first signed timestamp, the bytes it timestamps (the message signature, or the DSSE
 * envelope's first signature) and the TSAs of the case's trusted root (the production root when the
 * case has none). The TSAs are built here, not by parseTrustedRoot, so these tests depend on the
 * timestamp step alone.
 */
export interface TimestampCase {
  readonly token: Uint8Array;
  readonly signature: Uint8Array;
  readonly authorities: readonly CertificateAuthority[];
}

interface BundleJson {
  verificationMaterial: {
    timestampVerificationData?: { rfc3161Timestamps?: { signedTimestamp: string }[] };
  };
  messageSignature?: { signature: string };
  dsseEnvelope?: { signatures: { sig: string }[] };
}

interface TrustedRootJson {
  timestampAuthorities?: {
    uri: string;
    subject?: { organization?: string; commonName?: string };
    certChain: { certificates: { rawBytes: string }[] };
    validFor: { start?: string; end?: string };
  }[];
}

export function loadTimestampCase(name: string): TimestampCase {
  const dir = vectorPath(`sigstore-conformance/bundle-verify/${name}`);
  const bundle = JSON.parse(readFileSync(`${dir}/bundle.sigstore.json`, 'utf8')) as BundleJson;
  const stamp = bundle.verificationMaterial.timestampVerificationData?.rfc3161Timestamps?.[0];
  const signature = bundle.messageSignature?.signature ?? bundle.dsseEnvelope?.signatures[0]?.sig;
  if (!stamp || signature === undefined) throw new Error(`${name}: expected a timestamp and a signature`);
  const rootPath = existsSync(`${dir}/trusted_root.json`)
    ? `${dir}/trusted_root.json`
    : vectorPath('npm-provenance/sigstore-tuf-trusted_root.json');
  return {
    // rekor2-timestamp-with-incorrect-time_fail wraps this base64 at 76 columns (made with base64(1));
    // protojson in Go skips the newlines, so they are dropped here too.
    token: decodeBase64(stamp.signedTimestamp.replace(/[\r\n]/g, '')),
    signature: decodeBase64(signature),
    authorities: loadTimestampAuthorities(rootPath),
  };
}

export function loadTimestampAuthorities(path: string): CertificateAuthority[] {
  const root = JSON.parse(readFileSync(path, 'utf8')) as TrustedRootJson;
  return (root.timestampAuthorities ?? []).map((authority) => ({
    uri: authority.uri,
    subject: authority.subject ?? {},
    chain: authority.certChain.certificates.map((certificate, index) =>
      parseCertificate(decodeBase64(certificate.rawBytes), `certChain.certificates[${index}]`),
    ),
    validFor: {
      start: authority.validFor.start ? Date.parse(authority.validFor.start) : -Infinity,
      end: authority.validFor.end ? Date.parse(authority.validFor.end) : Infinity,
    },
  }));
}
