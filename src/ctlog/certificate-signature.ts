import { createPublicKey, verify, type KeyObject } from 'node:crypto';
import { CERTIFICATE_SIGNATURE_ALGORITHMS } from '../core/index.ts';
import { describeName, type ParsedCertificate } from './certificate.ts';
import { CtError } from './errors.ts';

/**
 * Certificate signature algorithms the log verifies: core's table (ECDSA, RSA PKCS #1 v1.5 with SHA-2,
 * Ed25519). SHA-1 is refused, as TesseraCT does by default (transparency-dev/tesseract
 * `internal/ct/chain_validation.go` acceptSHA1).
 */
const ALGORITHMS = CERTIFICATE_SIGNATURE_ALGORITHMS;

/** The curves Go's crypto/x509 verifies with, by node:crypto name. */
const CURVES = new Set(['prime256v1', 'secp384r1', 'secp521r1']);
const MIN_RSA_BITS = 1024;

/** An issuing certificate with its public key imported once, for every certificate it signs. */
export interface Issuer {
  readonly certificate: ParsedCertificate;
  readonly publicKey: KeyObject;
}

/**
 * Imports an issuer's key. Throws CT_ALGORITHM_UNSUPPORTED for key types the log does not verify
 * with (ECDSA off P-256/P-384/P-521, RSA under 1024 bits, anything but ECDSA, RSA and Ed25519) and
 * CT_CERTIFICATE_INVALID for a key that does not parse.
 */
export function importIssuer(certificate: ParsedCertificate, field: string): Issuer {
  let publicKey: KeyObject;
  try {
    publicKey = createPublicKey({
      key: Buffer.from(certificate.subjectPublicKeyInfo),
      format: 'der',
      type: 'spki',
    });
  } catch (cause) {
    throw new CtError(
      'CT_CERTIFICATE_INVALID',
      `${field}: expected a public key, ${(cause as Error).message}`,
      {
        cause,
      },
    );
  }
  const type = publicKey.asymmetricKeyType;
  const details = publicKey.asymmetricKeyDetails;
  const supported =
    (type === 'ec' && CURVES.has(details?.namedCurve ?? '')) ||
    (type === 'rsa' && (details?.modulusLength ?? 0) >= MIN_RSA_BITS) ||
    type === 'ed25519';
  if (!supported) {
    throw new CtError(
      'CT_ALGORITHM_UNSUPPORTED',
      `${field}: expected an ECDSA P-256/P-384/P-521, RSA (at least ${MIN_RSA_BITS} bits) or Ed25519 key, ` +
        `received ${type ?? 'unknown'} ${details?.namedCurve ?? details?.modulusLength ?? ''}`.trimEnd(),
    );
  }
  return { certificate, publicKey };
}

/**
 * Checks that `issuer` signed `certificate` (RFC 5280 §6.1.3 (a)(1)): the algorithm is one the log
 * verifies and matches the issuer's key, and the signature over the TBSCertificate verifies. Throws
 * CT_ALGORITHM_UNSUPPORTED or CT_SIGNATURE_INVALID.
 */
export function verifyIssuedBy(certificate: ParsedCertificate, issuer: Issuer, field: string): void {
  const algorithm = signatureAlgorithm(certificate, issuer, field);
  let valid = false;
  if (algorithm) {
    try {
      valid = verify(algorithm.hash, certificate.tbsCertificate, issuer.publicKey, certificate.signature);
    } catch {
      // a malformed signature is a wrong one
    }
  }
  if (!valid) throw signatureInvalid(certificate, issuer, field);
}

/**
 * verifyIssuedBy on libuv's thread pool (node:crypto's callback form), for the one signature a
 * submission brings that no cache can hold, the leaf's: a P-384 verification costs ~1 ms here, which on
 * the event loop would hold every other request.
 */
export async function verifyIssuedByAsync(
  certificate: ParsedCertificate,
  issuer: Issuer,
  field: string,
): Promise<void> {
  const algorithm = signatureAlgorithm(certificate, issuer, field);
  const valid =
    algorithm !== undefined &&
    (await new Promise<boolean>((resolve) => {
      try {
        verify(
          algorithm.hash,
          certificate.tbsCertificate,
          issuer.publicKey,
          certificate.signature,
          (error, result) => resolve(!error && result),
        );
      } catch {
        resolve(false);
      }
    }));
  if (!valid) throw signatureInvalid(certificate, issuer, field);
}

/** The certificate's signature algorithm if the log verifies it and it fits the issuer's key type. */
function signatureAlgorithm(
  certificate: ParsedCertificate,
  issuer: Issuer,
  field: string,
): { hash: string | null } | undefined {
  const algorithm = ALGORITHMS[certificate.signatureAlgorithm];
  if (!algorithm) {
    throw new CtError(
      'CT_ALGORITHM_UNSUPPORTED',
      `${field}: expected a signature by ECDSA, RSA PKCS #1 v1.5 with SHA-2, or Ed25519, received algorithm ${certificate.signatureAlgorithm}`,
    );
  }
  return issuer.publicKey.asymmetricKeyType === algorithm.keyType ? algorithm : undefined;
}

function signatureInvalid(certificate: ParsedCertificate, issuer: Issuer, field: string): CtError {
  return new CtError(
    'CT_SIGNATURE_INVALID',
    `${field}: expected a signature by the ${issuer.publicKey.asymmetricKeyType} key of ${describeName(issuer.certificate.subject)}, ` +
      `received one that does not verify (algorithm ${certificate.signatureAlgorithm})`,
  );
}
