import { AsnConvert } from '@peculiar/asn1-schema';
import { BasicConstraints, id_ce_basicConstraints } from '@peculiar/asn1-x509';
import {
  CoreError,
  EKU_ANY,
  EKU_CODE_SIGNING,
  describeName,
  extendedKeyUsages,
  isCertificateAuthority,
  type ParsedCertificate,
} from '../core/index.ts';
import { verifyCertificateSignature } from './certificate-signature.ts';
import { VerificationError } from './errors.ts';
import type { CertificateAuthority } from './trust.types.ts';
import { verifyOnce } from './internal/verified-signatures.ts';

/**
 * The signing certificate's path to a trusted Fulcio CA (Sigstore client spec §Certificate; sigstore-go
 * `pkg/verify/certificate.go`, sigstore-js `packages/verify/src/key/certificate.ts`): the leaf MUST be
 * valid at every verified time and every certificate up to the root too (the "hybrid model"), the leaf
 * MUST be a codeSigning end-entity certificate, and it MUST chain through one CA's `certChain` exactly.
 * As sigstore-go does, the path is built from the trusted certificates only: a bundle's intermediates
 * are accepted only when they are certificates of that CA, and a bundle carrying a root is refused.
 */

export interface VerifiedChain {
  readonly authority: CertificateAuthority;
  /** Leaf first, root last. */
  readonly path: readonly ParsedCertificate[];
}

/** A CA's own chain, checked once per CertificateAuthority object. */
interface TrustedChain {
  /** Why the chain cannot issue code-signing certificates, when it cannot. */
  readonly fault: string | undefined;
  readonly fingerprints: ReadonlySet<string>;
  /** The intersection of the CA certificates' validity periods. */
  readonly notBefore: number;
  readonly notAfter: number;
}

const trustedChains = new WeakMap<CertificateAuthority, TrustedChain>();

/**
 * Verifies `leaf` against the trusted CAs at each of `times` (ms since the epoch; at least one) and
 * returns the first CA it chains to. `bundleChain` is what the bundle carries after the leaf (v0.1 and
 * v0.2 `x509CertificateChain`), possibly empty. Throws VerificationError:
 * VERIFY_CERTIFICATE_ROOT_IN_BUNDLE, VERIFY_CERTIFICATE_EXPIRED, VERIFY_CERTIFICATE_USAGE_ERROR,
 * VERIFY_CERTIFICATE_CHAIN_ERROR (naming every CA tried and why it failed), VERIFY_OPTIONS_INVALID
 * without times.
 */
export function verifyCertificateChain(
  leaf: ParsedCertificate,
  bundleChain: readonly ParsedCertificate[],
  authorities: readonly CertificateAuthority[],
  times: readonly number[],
): VerifiedChain {
  if (times.length === 0) {
    throw new VerificationError(
      'VERIFY_OPTIONS_INVALID',
      'times: expected at least one verified time, received none',
    );
  }
  checkNoRootInBundle(bundleChain, authorities);
  checkLeafValidity(leaf, times);
  checkLeafUsage(leaf);
  const faults: string[] = [];
  for (const authority of authorities) {
    const fault = authorityFault(leaf, bundleChain, authority, times);
    if (fault === undefined) return { authority, path: [leaf, ...authority.chain] };
    faults.push(`${describeAuthority(authority)}: ${fault}`);
  }
  throw new VerificationError(
    'VERIFY_CERTIFICATE_CHAIN_ERROR',
    `certificate: expected a certificate issued by a trusted certificate authority, received one issued by ` +
      `${describeName(leaf.issuer)} (${faults.length > 0 ? faults.join('; ') : 'the trusted root has no certificate authorities'})`,
  );
}

/**
 * A root MUST come from the trusted root, never from the bundle: a self-issued certificate in the
 * bundle's chain that is not one of the trusted roots is refused (conformance
 * `bundle-with-root-cert_fail`, whose chain carries a root and an intermediate of its own). A copy of a
 * trusted root adds nothing and is ignored, as sigstore-js does: its compatibility bundle
 * `bundleV01-full-cert-chain` and npm's 2023 provenance bundles carry the production root and must
 * verify (the chain is built from the trusted CA either way; authorityFault checks the rest).
 */
function checkNoRootInBundle(
  bundleChain: readonly ParsedCertificate[],
  authorities: readonly CertificateAuthority[],
): void {
  const roots = new Set(authorities.map((authority) => authority.chain.at(-1)?.fingerprint));
  bundleChain.forEach((certificate, position) => {
    const selfIssued = Buffer.from(certificate.subject).equals(certificate.issuer);
    if (selfIssued && !roots.has(certificate.fingerprint)) {
      throw new VerificationError(
        'VERIFY_CERTIFICATE_ROOT_IN_BUNDLE',
        `x509CertificateChain.certificates[${position + 1}]: expected the leaf and intermediates only, received ` +
          `a root certificate that is not one of the trusted roots (${describeName(certificate.subject)})`,
      );
    }
  });
}

function checkLeafValidity(leaf: ParsedCertificate, times: readonly number[]): void {
  const outside = times.find((time) => !(leaf.notBefore <= time && time <= leaf.notAfter));
  if (outside !== undefined) {
    throw new VerificationError(
      'VERIFY_CERTIFICATE_EXPIRED',
      `certificate: expected validity covering the verified time ${iso(outside)}, received ` +
        `${iso(leaf.notBefore)} to ${iso(leaf.notAfter)}`,
    );
  }
}

/** RFC 5280 §4.2.1.12, §4.2.1.9: a code-signing end-entity certificate. */
function checkLeafUsage(leaf: ParsedCertificate): void {
  const usages = readLeaf(() => extendedKeyUsages(leaf, 'certificate'));
  if (!usages?.includes(EKU_CODE_SIGNING)) {
    throw new VerificationError(
      'VERIFY_CERTIFICATE_USAGE_ERROR',
      `certificate: expected extended key usage codeSigning (${EKU_CODE_SIGNING}), received ` +
        (usages ? usages.join(', ') : 'no extKeyUsage extension'),
    );
  }
  if (readLeaf(() => isCertificateAuthority(leaf, 'certificate'))) {
    throw new VerificationError(
      'VERIFY_CERTIFICATE_USAGE_ERROR',
      'certificate: expected an end-entity certificate, received a CA certificate (basic constraints cA)',
    );
  }
}

/** Why `leaf` does not chain to `authority` at `times`, or undefined when it does. */
function authorityFault(
  leaf: ParsedCertificate,
  bundleChain: readonly ParsedCertificate[],
  authority: CertificateAuthority,
  times: readonly number[],
): string | undefined {
  const { start, end } = authority.validFor;
  const outside = times.find((time) => !(start <= time && time <= end));
  if (outside !== undefined) return `validFor does not cover the verified time ${iso(outside)}`;
  const trusted = trustedChainOf(authority);
  if (trusted.fault !== undefined) return trusted.fault;
  const expired = times.find((time) => !(trusted.notBefore <= time && time <= trusted.notAfter));
  if (expired !== undefined) return `its certificates are not all valid at the verified time ${iso(expired)}`;
  const issuer = authority.chain[0]!;
  if (!Buffer.from(leaf.issuer).equals(issuer.subject)) {
    return `issuer name ${describeName(issuer.subject)} differs`;
  }
  const foreign = bundleChain.findIndex((certificate) => !trusted.fingerprints.has(certificate.fingerprint));
  if (foreign !== -1) {
    return `x509CertificateChain.certificates[${foreign + 1}] (${describeName(bundleChain[foreign]!.subject)}) is not one of its certificates`;
  }
  // The leaf's DER (named by its SHA-256 fingerprint, computed when it was parsed) holds its TBS,
  // algorithm and signature; the issuer's SPKI the key.
  if (
    !verifyOnce([issuer.subjectPublicKeyInfo, leaf.fingerprint], () =>
      verifyCertificateSignature(leaf, issuer),
    )
  ) {
    return `the signature (algorithm ${leaf.signatureAlgorithm}) does not verify with the key of ${describeName(issuer.subject)}`;
  }
  return undefined;
}

function trustedChainOf(authority: CertificateAuthority): TrustedChain {
  let trusted = trustedChains.get(authority);
  if (!trusted) {
    const chain = authority.chain;
    let fault: string | undefined;
    try {
      fault = chainFault(chain);
    } catch (error) {
      if (!(error instanceof CoreError)) throw error;
      fault = error.message;
    }
    trusted = {
      fault,
      fingerprints: new Set(chain.map((certificate) => certificate.fingerprint)),
      notBefore: Math.max(...chain.map((certificate) => certificate.notBefore)),
      notAfter: Math.min(...chain.map((certificate) => certificate.notAfter)),
    };
    trustedChains.set(authority, trusted);
  }
  return trusted;
}

/**
 * RFC 5280 §6.1 over the trusted part of the path (issuing certificate first, root last): names chain,
 * each issuer signed the one below (the root's self-signature is trusted by configuration, as Go's
 * crypto/x509 does), every certificate is a CA whose path length allows its depth, and any EKU
 * restriction allows codeSigning (crypto/x509 nests EKUs the same way).
 */
function chainFault(chain: readonly ParsedCertificate[]): string | undefined {
  if (chain.length === 0) return 'certChain is empty';
  let intermediatesBelow = 0;
  for (const [position, certificate] of chain.entries()) {
    const field = `certChain.certificates[${position}]`;
    const name = describeName(certificate.subject);
    if (!isCertificateAuthority(certificate, field))
      return `${field} (${name}) is not a CA (basic constraints cA)`;
    const pathLength = pathLengthConstraint(certificate, field);
    if (pathLength !== undefined && pathLength < intermediatesBelow) {
      return `${field} (${name}) allows ${pathLength} intermediates below it, the path has ${intermediatesBelow}`;
    }
    const usages = extendedKeyUsages(certificate, field);
    if (usages && !usages.includes(EKU_CODE_SIGNING) && !usages.includes(EKU_ANY)) {
      return `${field} (${name}) restricts extended key usage to ${usages.join(', ')}, without codeSigning`;
    }
    const parent = chain[position + 1];
    if (parent) {
      if (!Buffer.from(certificate.issuer).equals(parent.subject)) {
        return `${field} is issued by ${describeName(certificate.issuer)}, not by the next certificate ${describeName(parent.subject)}`;
      }
      if (!verifyCertificateSignature(certificate, parent)) {
        return `${field} (${name}) has a signature that does not verify with the key of ${describeName(parent.subject)}`;
      }
    }
    // RFC 5280 §4.2.1.9: self-issued intermediates do not count against pathLenConstraint.
    if (!Buffer.from(certificate.subject).equals(certificate.issuer)) intermediatesBelow += 1;
  }
  return undefined;
}

function pathLengthConstraint(certificate: ParsedCertificate, field: string): number | undefined {
  const extension = certificate.extensions.get(id_ce_basicConstraints);
  if (!extension) return undefined;
  try {
    return AsnConvert.parse(extension.value, BasicConstraints).pathLenConstraint;
  } catch (cause) {
    throw new CoreError(
      'CORE_CERTIFICATE_INVALID',
      `${field}: expected a DER basicConstraints extension value`,
      {
        cause,
      },
    );
  }
}

/** Runs a core reader over the leaf; a malformed extension is a usage error of the certificate. */
function readLeaf<T>(read: () => T): T {
  try {
    return read();
  } catch (error) {
    if (error instanceof CoreError) {
      throw new VerificationError('VERIFY_CERTIFICATE_USAGE_ERROR', error.message, { cause: error });
    }
    throw error;
  }
}

function describeAuthority(authority: CertificateAuthority): string {
  const { start, end } = authority.validFor;
  return `certificate authority ${authority.uri} (valid ${iso(start)} to ${end === Infinity ? 'no end' : iso(end)})`;
}

function iso(time: number): string {
  return Number.isFinite(time) ? new Date(time).toISOString() : String(time);
}
