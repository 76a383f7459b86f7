import { hash } from 'node:crypto';
import {
  CT_PRECERT_SIGNING_EKU,
  EKU_ANY,
  describeName,
  extendedKeyUsages,
  isCertificateAuthority,
  isPrecertificate,
  parseCertificate,
  type ParsedCertificate,
} from './certificate.ts';
import { importIssuer, verifyIssuedBy, type Issuer } from './certificate-signature.ts';
import { CtError } from './errors.ts';
import { BoundedCache } from './internal/bounded-cache.ts';

/** add-chain takes certificates, add-pre-chain precertificates (RFC 6962 §4.1, §4.2). */
export type SubmissionKind = 'certificate' | 'precertificate';

export interface ChainValidatorOptions {
  /** DER root certificates; a chain must end at one or at a certificate one of them issued. */
  roots: readonly Uint8Array[];
  /** The leaf must carry one of these EKUs; an issuer that restricts EKUs must allow one. */
  acceptedExtKeyUsages: readonly string[];
  maxChainLength: number;
  maxCertificateBytes: number;
  /** Issuers kept parsed, and issuer/subject pairs kept verified. */
  cachedIssuers: number;
}

/** A chain the log accepts: the leaf, then every issuer up to and including a root. */
export interface VerifiedChain {
  readonly kind: SubmissionKind;
  readonly leaf: ParsedCertificate;
  /** The submitted issuers, plus the root when the submitter left it out; never empty. */
  readonly issuers: readonly ParsedCertificate[];
  /**
   * Set when validate was asked to defer the leaf's signature: the issuer whose signature on the leaf
   * the caller MUST still verify (verifyIssuedByAsync) before accepting the chain.
   */
  readonly leafSignatureBy?: Issuer;
}

interface KnownIssuer extends Issuer {
  readonly isCertificateAuthority: boolean;
  readonly extKeyUsages: readonly string[] | undefined;
}

/**
 * RFC 6962 §3.1 chain acceptance, as TesseraCT applies it (transparency-dev/tesseract
 * `internal/ct/chain_validation.go`): every certificate is signed by the next, in the submitted
 * order, and the last is a root or issued by one; the leaf carries an accepted EKU and every issuer's
 * EKU restriction allows it (crypto/x509 semantics); validity periods, name constraints and policies
 * are not checked, since a log records what was issued rather than judging it. Issuers are parsed once
 * and each verified (issuer, certificate) pair above the leaf is remembered, so a steady stream from one
 * CA verifies one signature per submission: the leaf's.
 */
export class ChainValidator {
  readonly #options: Readonly<ChainValidatorOptions>;
  readonly #roots = new Map<string, KnownIssuer>();
  readonly #rootsBySubject = new Map<string, KnownIssuer[]>();
  readonly #issuers: BoundedCache<string, KnownIssuer>;
  readonly #verifiedPairs: BoundedCache<string, true>;
  #signatureVerifications = 0;

  constructor(options: ChainValidatorOptions) {
    this.#options = options;
    this.#issuers = new BoundedCache(options.cachedIssuers);
    this.#verifiedPairs = new BoundedCache(options.cachedIssuers);
    options.roots.forEach((der, position) => {
      const root = knownIssuer(parseCertificate(der, `roots[${position}]`), `roots[${position}]`);
      this.#roots.set(root.certificate.fingerprint, root);
      const subject = Buffer.from(root.certificate.subject).toString('hex');
      this.#rootsBySubject.set(subject, [...(this.#rootsBySubject.get(subject) ?? []), root]);
    });
  }

  /** The DER roots, in configured order. */
  get roots(): Uint8Array[] {
    return [...this.#roots.values()].map((root) => root.certificate.der);
  }

  /** Certificate signatures verified so far (remembered ones are not verified again); for metrics. */
  get signatureVerifications(): number {
    return this.#signatureVerifications;
  }

  /**
   * Validates a submitted chain (DER, leaf first), or throws the CtError that names the first fault.
   * `deferLeafSignature`: leave the leaf's signature by chain[1] to the caller (returned as
   * `leafSignatureBy`), so it can be checked off the event loop; ignored when the chain is the leaf alone.
   */
  validate(
    chain: readonly Uint8Array[],
    kind: SubmissionKind,
    options: { deferLeafSignature?: boolean } = {},
  ): VerifiedChain {
    this.#checkBounds(chain);
    const leaf = parseCertificate(chain[0]!, 'chain[0]');
    const precertificate = isPrecertificate(leaf, 'chain[0]');
    if (kind === 'precertificate' && !precertificate) {
      throw new CtError(
        'CT_PRECERT_EXPECTED',
        'chain[0]: expected a precertificate (with the critical poison extension 1.3.6.1.4.1.11129.2.4.3), received a certificate; submit it to add-chain',
      );
    }
    if (kind === 'certificate' && precertificate) {
      throw new CtError(
        'CT_PRECERT_UNEXPECTED',
        'chain[0]: expected a certificate, received a precertificate (poison extension 1.3.6.1.4.1.11129.2.4.3); submit it to add-pre-chain',
      );
    }
    this.#checkLeafUsage(leaf);
    if (this.#roots.has(leaf.fingerprint)) {
      throw new CtError(
        'CT_CHAIN_INVALID',
        'chain[0]: expected an end-entity certificate, received a root of the log',
      );
    }
    const issuers = chain.slice(1).map((der, position) => this.#issuer(der, `chain[${position + 1}]`));
    issuers.forEach((issuer, position) => {
      if (position < issuers.length - 1 && this.#roots.has(issuer.certificate.fingerprint)) {
        throw new CtError(
          'CT_CHAIN_INVALID',
          `chain[${position + 1}]: expected a root only at the end of the chain, received one followed by ${issuers.length - 1 - position} more`,
        );
      }
    });
    const deferred = options.deferLeafSignature === true && issuers.length > 0 ? issuers[0] : undefined;
    // RFC 6962 §3.1: a precertificate may be signed by a Precertificate Signing Certificate, directly
    // certified by the CA that signs the final certificate; its own EKU is that purpose alone.
    const precertificateSigner =
      kind === 'precertificate' && (issuers[0]?.extKeyUsages?.includes(CT_PRECERT_SIGNING_EKU) ?? false);
    if (
      precertificateSigner &&
      issuers.length < 2 &&
      !this.#rootsBySubject.has(Buffer.from(issuers[0]!.certificate.issuer).toString('hex'))
    ) {
      throw new CtError(
        'CT_CHAIN_INVALID',
        'chain[1]: a precertificate signing certificate must be followed by the CA that certified it',
      );
    }
    let child = leaf;
    issuers.forEach((issuer, position) => {
      const verifySignature = !(position === 0 && deferred);
      this.#checkIssuedBy(
        child,
        `chain[${position}]`,
        issuer,
        `chain[${position + 1}]`,
        position > 0,
        verifySignature,
        position === 0 && precertificateSigner,
      );
      child = issuer.certificate;
    });
    const last = issuers.at(-1);
    if (!last || !this.#roots.has(last.certificate.fingerprint)) {
      issuers.push(this.#findRoot(child, `chain[${chain.length - 1}]`, child !== leaf));
    }
    return {
      kind,
      leaf,
      issuers: issuers.map((issuer) => issuer.certificate),
      ...(deferred ? { leafSignatureBy: deferred } : {}),
    };
  }

  #checkBounds(chain: readonly Uint8Array[]): void {
    const { maxChainLength, maxCertificateBytes } = this.#options;
    if (chain.length === 0) {
      throw new CtError('CT_CHAIN_EMPTY', 'chain: expected at least one certificate, received none');
    }
    if (chain.length > maxChainLength) {
      throw new CtError(
        'CT_CHAIN_TOO_LONG',
        `chain: expected at most ${maxChainLength} certificates, received ${chain.length}`,
      );
    }
    chain.forEach((der, position) => {
      if (der.length > maxCertificateBytes) {
        throw new CtError(
          'CT_CERTIFICATE_TOO_LARGE',
          `chain[${position}]: expected at most ${maxCertificateBytes} bytes, received ${der.length}`,
        );
      }
    });
  }

  #checkLeafUsage(leaf: ParsedCertificate): void {
    const accepted = this.#options.acceptedExtKeyUsages;
    const usages = extendedKeyUsages(leaf, 'chain[0]');
    if (!usages?.some((usage) => accepted.includes(usage))) {
      throw new CtError(
        'CT_EKU_MISSING',
        `chain[0]: expected extended key usage ${accepted.join(' or ')}, received ` +
          (usages ? `${usages.join(', ') || 'an empty list'}` : 'no extKeyUsage extension'),
      );
    }
  }

  /** A submitted issuer, parsed and imported once per fingerprint. */
  #issuer(der: Uint8Array, field: string): KnownIssuer {
    const fingerprint = hash('sha256', der, 'hex');
    const known = this.#roots.get(fingerprint) ?? this.#issuers.get(fingerprint);
    if (known) return known;
    const issuer = knownIssuer(parseCertificate(der, field), field);
    this.#issuers.set(fingerprint, issuer);
    return issuer;
  }

  /**
   * RFC 5280 §6.1.3 for one link: names chain, the issuer is a CA allowing the EKU, and it signed.
   * `remember`: keep a verified signature for next time (not for the leaf, which changes every time).
   */
  #checkIssuedBy(
    child: ParsedCertificate,
    childField: string,
    issuer: KnownIssuer,
    issuerField: string,
    remember: boolean,
    verifySignature = true,
    precertificateSigner = false,
  ): void {
    const parent = issuer.certificate;
    if (!Buffer.from(child.issuer).equals(parent.subject)) {
      throw new CtError(
        'CT_CHAIN_INVALID',
        `${childField}: expected a certificate issued by ${issuerField} (${describeName(parent.subject)}), ` +
          `received one issued by ${describeName(child.issuer)}`,
      );
    }
    if (!issuer.isCertificateAuthority) {
      throw new CtError(
        'CT_CHAIN_INVALID',
        `${issuerField}: expected a CA certificate (basic constraints cA) to issue ${childField}, received one that is not a CA`,
      );
    }
    const accepted = this.#options.acceptedExtKeyUsages;
    const restriction = issuer.extKeyUsages;
    if (
      !precertificateSigner &&
      restriction &&
      !restriction.some((usage) => usage === EKU_ANY || accepted.includes(usage))
    ) {
      throw new CtError(
        'CT_EKU_MISSING',
        `${issuerField}: expected its extended key usage to allow ${accepted.join(' or ')}, received ${restriction.join(', ') || 'an empty list'}`,
      );
    }
    if (!verifySignature) return;
    const pair = remember ? `${child.fingerprint}>${parent.fingerprint}` : undefined;
    if (pair && this.#verifiedPairs.get(pair)) return;
    this.#signatureVerifications += 1;
    verifyIssuedBy(child, issuer, childField);
    if (pair) this.#verifiedPairs.set(pair, true);
  }

  /** The root that issued `last`, which the submitter left out (RFC 6962 §4.1 allows it). */
  #findRoot(last: ParsedCertificate, field: string, remember: boolean): KnownIssuer {
    const candidates = this.#rootsBySubject.get(Buffer.from(last.issuer).toString('hex')) ?? [];
    for (const root of candidates) {
      try {
        this.#checkIssuedBy(last, field, root, 'a root', remember);
        return root;
      } catch (error) {
        if (!(error instanceof CtError && error.code === 'CT_SIGNATURE_INVALID')) throw error;
      }
    }
    const selfIssued = Buffer.from(last.issuer).equals(last.subject);
    throw new CtError(
      'CT_CHAIN_UNTRUSTED',
      `${field}: expected a certificate issued by one of the log's ${this.#roots.size} roots, received one issued by ` +
        `${describeName(last.issuer)}${selfIssued ? ' (a root the log does not trust)' : ''}` +
        (candidates.length > 0 ? ', whose signature no root of that name verifies' : ''),
    );
  }
}

function knownIssuer(certificate: ParsedCertificate, field: string): KnownIssuer {
  return {
    ...importIssuer(certificate, field),
    isCertificateAuthority: isCertificateAuthority(certificate, field),
    extKeyUsages: extendedKeyUsages(certificate, field),
  };
}
