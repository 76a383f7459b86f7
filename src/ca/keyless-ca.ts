import { performance } from 'node:perf_hooks';
import { systemClock, type Clock } from '../core/index.ts';
import type { CaSigner } from './ca-signer.ts';
import {
  CT_POISON_OID,
  CT_SCT_LIST_OID,
  leafTemplate,
  type LeafExtension,
  type LeafSubjectAlternativeName,
} from './certificate-profile.ts';
import {
  encodeSctListExtension,
  type AddChainResponse,
  type CtSubmitter,
} from './certificate-transparency.ts';
import { parseCertificateRequest } from './csr.ts';
import { CaError } from './errors.ts';
import { parseRequestKey, verifyProofOfPossession, type RequestKey } from './public-key-request.ts';

/** What an identity token proves, in the form the certificate carries it. */
export interface CertifiedIdentity {
  /** What the proof of possession is signed over: the email for email issuers, `sub` otherwise. */
  name: string;
  subjectAlternativeName: LeafSubjectAlternativeName;
  /** Fulcio extensions in OID order. */
  extensions: readonly LeafExtension[];
}

/** Turns an OIDC identity token into a CertifiedIdentity, or throws a CaError saying why not. */
export interface IdentityVerifier {
  verify(token: string): Promise<CertifiedIdentity>;
}

/** One certificate request, as both API versions carry it. */
export interface SigningCertificateRequest {
  token: string;
  key:
    | {
        kind: 'public-key';
        /** PEM (v2) or the decoded bytes of PEM/DER (v1). */
        content: string | Uint8Array;
        /** Signature over the identity's name by the key. */
        proofOfPossession: Uint8Array;
      }
    | { kind: 'csr'; content: Uint8Array };
}

export interface IssuedCertificate {
  /** DER: the leaf, then the CA chain to the root. */
  chain: Uint8Array[];
  /** The SCT embedded in the leaf, or undefined when no CT log is configured. */
  sct: AddChainResponse | undefined;
  /** Seconds spent per stage, for metrics and bench:ca. */
  timings: { tokenSeconds: number; signingSeconds: number; ctSeconds: number };
}

export interface KeylessCaOptions {
  signer: CaSigner;
  identities: IdentityVerifier;
  /** Where precertificates are logged; without one, certificates carry no SCT (not for production). */
  ct?: CtSubmitter;
  clock?: Clock;
  /** Most issuances in progress at once; beyond it CA_OVERLOADED (503). Default 256. */
  maxConcurrent?: number;
}

/** ASN.1 NULL: the value of the poison extension (RFC 6962 §3.1). */
const ASN1_NULL = new Uint8Array([0x05, 0x00]);

/**
 * The keyless CA (sigstore/fulcio `pkg/server/grpc_server.go` CreateSigningCertificate): verify the
 * token, check the proof of possession, build the leaf, log its precertificate in CT, embed the SCT,
 * sign. With CT configured it never hands out a certificate that is not logged: a CT failure is an
 * error and no certificate.
 */
export class KeylessCa {
  readonly signer: CaSigner;
  readonly #identities: IdentityVerifier;
  readonly #ct: CtSubmitter | undefined;
  readonly #clock: Clock;
  readonly #maxConcurrent: number;
  #inFlight = 0;

  constructor(options: KeylessCaOptions) {
    const maxConcurrent = options.maxConcurrent ?? 256;
    if (!Number.isSafeInteger(maxConcurrent) || maxConcurrent < 1) {
      throw new TypeError(`maxConcurrent: expected a positive integer, received ${maxConcurrent}`);
    }
    this.signer = options.signer;
    this.#identities = options.identities;
    this.#ct = options.ct;
    this.#clock = options.clock ?? systemClock;
    this.#maxConcurrent = maxConcurrent;
  }

  /** Whether issued certificates embed an SCT. */
  get logsCertificates(): boolean {
    return this.#ct !== undefined;
  }

  async issue(request: SigningCertificateRequest): Promise<IssuedCertificate> {
    if (this.#inFlight >= this.#maxConcurrent) {
      throw new CaError(
        'CA_OVERLOADED',
        `${this.#maxConcurrent} certificate requests in progress; retry shortly`,
      );
    }
    this.#inFlight++;
    try {
      return await this.#issue(request);
    } finally {
      this.#inFlight--;
    }
  }

  async #issue(request: SigningCertificateRequest): Promise<IssuedCertificate> {
    const started = performance.now();
    const identity = await this.#identities.verify(request.token);
    const key = requestKey(request, identity);
    const verified = performance.now();
    const template = leafTemplate(
      {
        publicKeySpki: key.spki,
        subjectAlternativeName: identity.subjectAlternativeName,
        extensions: identity.extensions,
        now: this.#clock.now(),
      },
      this.signer,
    );
    if (!this.#ct) {
      const leaf = await this.signer.signCertificate(template.tbs());
      return {
        chain: [leaf, ...this.signer.chain],
        sct: undefined,
        timings: {
          tokenSeconds: (verified - started) / 1000,
          signingSeconds: (performance.now() - verified) / 1000,
          ctSeconds: 0,
        },
      };
    }
    const precertificateSigner = this.signer.precertificateSigner ?? this.signer;
    const precertificate = await precertificateSigner.signCertificate(
      template.tbs({ oid: CT_POISON_OID, critical: true, value: ASN1_NULL }, precertificateSigner),
    );
    const submitted = performance.now();
    let sct: AddChainResponse;
    try {
      sct = await this.#ct.addPreChain([precertificate, ...precertificateSigner.chain]);
    } catch (error) {
      if (error instanceof CaError && (error.code === 'CA_CT_UNAVAILABLE' || error.code === 'CA_CT_FAILED'))
        throw error;
      // sigstore/fulcio pkg/server/error.go: "Error entering certificate in CTL"
      throw new CaError('CA_CT_FAILED', `error entering the certificate in the CT log: ${errorText(error)}`, {
        cause: error,
      });
    }
    const logged = performance.now();
    const leaf = await this.signer.signCertificate(
      template.tbs({ oid: CT_SCT_LIST_OID, critical: false, value: encodeSctListExtension([sct]) }),
    );
    const signed = performance.now();
    return {
      chain: [leaf, ...this.signer.chain],
      sct,
      timings: {
        tokenSeconds: (verified - started) / 1000,
        signingSeconds: (submitted - verified + (signed - logged)) / 1000,
        ctSeconds: (logged - submitted) / 1000,
      },
    };
  }
}

function requestKey(request: SigningCertificateRequest, identity: CertifiedIdentity): RequestKey {
  switch (request.key.kind) {
    case 'public-key': {
      const key = parseRequestKey(request.key.content, 'publicKeyRequest.publicKey.content');
      verifyProofOfPossession(
        key.key,
        identity.name,
        request.key.proofOfPossession,
        'publicKeyRequest.proofOfPossession',
      );
      return key;
    }
    case 'csr':
      return parseCertificateRequest(request.key.content, 'certificateSigningRequest');
  }
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
