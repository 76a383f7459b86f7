import { createPublicKey, verify, type KeyObject } from 'node:crypto';
import { CERTIFICATE_SIGNATURE_ALGORITHMS, type ParsedCertificate } from '../core/index.ts';

/**
 * Certificate signatures (RFC 5280 §6.1.3 (a)(1)) for the Fulcio chain and the TSA chains. An issuer's
 * key is imported once per ParsedCertificate object: trust material keeps its certificates for the
 * Verifier's lifetime, so after the first bundle a signature check costs only the verification.
 */

/** The issuer's key, or null when its SubjectPublicKeyInfo does not import. */
const issuerKeys = new WeakMap<ParsedCertificate, KeyObject | null>();

/**
 * Whether `issuer`'s key verifies `certificate`'s signature over its TBSCertificate, with the hash the
 * signatureAlgorithm OID names (ecdsa-with-SHA256/384/512, sha256/384/512WithRSAEncryption, Ed25519)
 * and a key of the type that algorithm needs. Never throws: an unknown algorithm, a key that does not
 * import and a malformed signature are all `false`. Names are not compared here (see
 * verifyCertificateChain).
 */
export function verifyCertificateSignature(
  certificate: ParsedCertificate,
  issuer: ParsedCertificate,
): boolean {
  const algorithm = CERTIFICATE_SIGNATURE_ALGORITHMS[certificate.signatureAlgorithm];
  const key = issuerKey(issuer);
  if (!algorithm || !key || key.asymmetricKeyType !== algorithm.keyType) return false;
  try {
    return verify(algorithm.hash, certificate.tbsCertificate, key, certificate.signature);
  } catch {
    return false;
  }
}

function issuerKey(issuer: ParsedCertificate): KeyObject | null {
  let key = issuerKeys.get(issuer);
  if (key === undefined) {
    try {
      key = createPublicKey({ key: Buffer.from(issuer.subjectPublicKeyInfo), format: 'der', type: 'spki' });
    } catch {
      key = null;
    }
    issuerKeys.set(issuer, key);
  }
  return key;
}
