// Certificates for the chain, SCT and identity tests. Real ones: the public-good Fulcio leaves and CA
// certificates of shared/vectors/fulcio-certs (taken unchanged from public bundles, see its README), the
// production trusted root of npm-provenance, and conformance bundles. Generated ones: chains issued by
// test/ctlog/chain-fixtures.ts, turned into the verifier's CertificateAuthority and CT log shapes.
import assert from 'node:assert/strict';
import { createPublicKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { decodeBase64, decodePem, parseCertificate, type ParsedCertificate } from '../../src/core/index.ts';
import { VerificationError, type VerificationErrorCode } from '../../src/verify/errors.ts';
import { parseTrustedRoot } from '../../src/verify/trusted-root.ts';
import type {
  CertificateAuthority,
  TransparencyLogInstance,
  TrustMaterial,
} from '../../src/verify/trust.types.ts';
import { computeLogId } from '../../src/ctlog/index.ts';
import type { TestCertificate } from '../ctlog/chain-fixtures.ts';
import { vectorPath } from '../tools/vectors.ts';

export const FULCIO_LEAVES = [
  'github-actions-sigstore-js-release-leaf',
  'github-actions-conformance-beacon-leaf',
  'email-github-oauth-connaisseur-leaf',
] as const;

export function readPemCertificates(relativePath: string): ParsedCertificate[] {
  return decodePem(readFileSync(vectorPath(relativePath), 'utf8')).map((block, position) =>
    parseCertificate(block.der, `${relativePath}[${position}]`),
  );
}

export function fulcioLeaf(name: (typeof FULCIO_LEAVES)[number]): ParsedCertificate {
  return readPemCertificates(`fulcio-certs/${name}.pem`)[0]!;
}

export const fulcioIntermediate = (): ParsedCertificate =>
  readPemCertificates('fulcio-certs/public-good-fulcio-2022-intermediate.pem')[0]!;

export const productionTrust = (): TrustMaterial =>
  parseTrustedRoot(readFileSync(vectorPath('npm-provenance/sigstore-tuf-trusted_root.json')));

/** A bundle's certificates (leaf first) and its first tlog entry's integrated time, in ms. */
export interface BundleCertificates {
  readonly leaf: ParsedCertificate;
  readonly chain: ParsedCertificate[];
  readonly integratedTime: number | undefined;
}

export function bundleCertificates(relativePath: string): BundleCertificates {
  const bundle = JSON.parse(readFileSync(vectorPath(relativePath), 'utf8')) as {
    verificationMaterial: {
      certificate?: { rawBytes: string };
      x509CertificateChain?: { certificates: { rawBytes: string }[] };
      tlogEntries: { integratedTime?: string }[];
    };
  };
  const material = bundle.verificationMaterial;
  const raw = material.x509CertificateChain?.certificates ?? [material.certificate!];
  const [leaf, ...chain] = raw.map((certificate, position) =>
    parseCertificate(decodeBase64(certificate.rawBytes), `certificates[${position}]`),
  );
  const seconds = material.tlogEntries[0]?.integratedTime;
  return { leaf: leaf!, chain, integratedTime: seconds === undefined ? undefined : Number(seconds) * 1000 };
}

export function conformanceTrust(caseName: string): TrustMaterial {
  return parseTrustedRoot(
    readFileSync(vectorPath(`sigstore-conformance/bundle-verify/${caseName}/trusted_root.json`)),
  );
}

/** A trusted-root CA over generated certificates (issuing certificate first, root last). */
export function testAuthority(
  chain: readonly TestCertificate[],
  validFor: { start: number; end: number } = { start: 0, end: Infinity },
): CertificateAuthority {
  return {
    uri: 'https://fulcio.test',
    subject: { organization: 'sigil test', commonName: chain.at(-1)!.subject },
    chain: chain.map((certificate, position) => parseCertificate(certificate.der, `chain[${position}]`)),
    validFor,
  };
}

/** A trusted-root CT log around a generated key. */
export function testCtLog(
  key: KeyObject,
  validFor: { start: number; end: number } = { start: 0, end: Infinity },
): TransparencyLogInstance {
  const publicKey = key.type === 'public' ? key : createPublicKey(key);
  return {
    baseUrl: 'https://ctlog.test',
    hashAlgorithm: 'SHA2_256',
    publicKey: {
      key: publicKey,
      der: new Uint8Array(publicKey.export({ type: 'spki', format: 'der' })),
      details: 'PKIX_ECDSA_P256_SHA_256',
      validFor,
    },
    logId: computeLogId(publicKey),
  };
}

/** The certificate with the byte at `offset` of its DER flipped, or undefined when it no longer parses. */
export function flipByte(certificate: ParsedCertificate, offset: number): ParsedCertificate | undefined {
  const der = Uint8Array.from(certificate.der);
  der[offset]! ^= 0xff;
  try {
    return parseCertificate(der, 'mutated');
  } catch {
    return undefined;
  }
}

/** Where `part` (a view into `certificate.der`) starts in the DER. */
export function offsetOf(certificate: ParsedCertificate, part: Uint8Array): number {
  return part.byteOffset - certificate.der.byteOffset;
}

/** Asserts that `run` throws a VerificationError with `code` (and, when given, a message holding `includes`). */
export function throwsCode(run: () => unknown, code: VerificationErrorCode, includes?: string): void {
  assert.throws(run, (error: unknown) => {
    assert.ok(error instanceof VerificationError, `expected a VerificationError, received ${String(error)}`);
    assert.equal(error.code, code, error.message);
    if (includes !== undefined) assert.ok(error.message.includes(includes), error.message);
    return true;
  });
}
