import { createHash } from 'node:crypto';
import {
  CT_POISON_OID,
  authorityKeyIdentifier,
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
  const signer = chain.issuers[0]!;
  let signedEntry: SignedEntry;
  if (extendedKeyUsages(signer, 'chain[1]')?.includes(CT_PRECERT_SIGNING_EKU)) {
    // RFC 6962 §3.2: signed by a Precertificate Signing Certificate, the entry names the CA that signs
    // the final certificate — its key hash, and its Name and key ID in place of the signing
    // certificate's in the TBSCertificate, so the entry is what a client rebuilds from the final one.
    const finalIssuer = chain.issuers[1]!;
    const keyIdentifier = authorityKeyIdentifier(signer, 'chain[1]');
    if (!keyIdentifier) {
      throw new CtError(
        'CT_PRECERT_INVALID',
        'chain[1]: expected the precertificate signing certificate to carry an authority key identifier',
      );
    }
    signedEntry = {
      kind: 'precert',
      issuerKeyHash: new Uint8Array(createHash('sha256').update(finalIssuer.subjectPublicKeyInfo).digest()),
      tbsCertificate: tbsWithoutExtension(chain.leaf, CT_POISON_OID, 'chain[0]', {
        name: finalIssuer.subject,
        keyIdentifier,
      }),
    };
  } else {
    signedEntry = {
      kind: 'precert',
      issuerKeyHash: new Uint8Array(createHash('sha256').update(signer.subjectPublicKeyInfo).digest()),
      tbsCertificate: tbsWithoutExtension(chain.leaf, CT_POISON_OID, 'chain[0]'),
    };
  }
  return { signedEntry, precertificate: chain.leaf.der, chainFingerprints };
}
