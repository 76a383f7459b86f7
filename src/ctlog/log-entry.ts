import { createHash } from 'node:crypto';
import {
  CT_POISON_OID,
  CT_PRECERT_SIGNING_EKU,
  extendedKeyUsages,
  tbsWithoutExtension,
} from './certificate.ts';
import type { VerifiedChain } from './chain-validation.ts';
import { CtError } from './errors.ts';
import type { SignedEntry, TileLeaf } from './tile-leaf.ts';

/** A TileLeaf before the log gives it a timestamp and an index. */
export type PendingEntry = Pick<TileLeaf, 'signedEntry' | 'precertificate' | 'chainFingerprints'>;

/**
 * What the log records for an accepted chain (RFC 6962 §3.1, static-ct-api §Log entries): for a
 * certificate the certificate itself; for a precertificate the SHA-256 of its issuer's SPKI and its
 * TBSCertificate without the poison, plus the precertificate as submitted; and the fingerprints of every
 * issuer up to the root (transparency-dev/tesseract `internal/x509util/ct.go` EntryFromChain).
 */
export function buildPendingEntry(chain: VerifiedChain): PendingEntry {
  const chainFingerprints = chain.issuers.map(
    (issuer) => new Uint8Array(Buffer.from(issuer.fingerprint, 'hex')),
  );
  if (chain.kind === 'certificate') {
    return { signedEntry: { kind: 'x509', certificate: chain.leaf.der }, chainFingerprints };
  }
  const issuer = chain.issuers[0]!;
  if (extendedKeyUsages(issuer, 'chain[1]')?.includes(CT_PRECERT_SIGNING_EKU)) {
    // A precertificate signing certificate (RFC 6962 §3.1) would need the TBSCertificate's issuer and
    // authority key ID rewritten to the final issuer's; Sigstore CAs sign precertificates themselves.
    throw new CtError(
      'CT_PRECERT_INVALID',
      `chain[1]: expected the CA that issues the final certificate, received a precertificate signing certificate (EKU ${CT_PRECERT_SIGNING_EKU}), which this log does not support`,
    );
  }
  const signedEntry: SignedEntry = {
    kind: 'precert',
    issuerKeyHash: new Uint8Array(createHash('sha256').update(issuer.subjectPublicKeyInfo).digest()),
    tbsCertificate: tbsWithoutExtension(chain.leaf, CT_POISON_OID, 'chain[0]'),
  };
  return { signedEntry, precertificate: chain.leaf.der, chainFingerprints };
}
