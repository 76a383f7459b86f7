import { createHash } from 'node:crypto';
import { describeError, parseCertificate } from '../core/index.ts';
import {
  Verifier,
  inferPublicKeyDetails,
  type CertificateAuthority,
  type HashAlgorithmName,
  type TransparencyLogInstance,
  type TrustMaterial,
  type VerifierOptions,
} from '../verify/index.ts';
import type { Authority, SecretKeySource } from './cluster-image-policy.types.ts';
import { PolicyError } from './errors.ts';
import type { TrustedCertificateAuthority, TrustedLog, TrustRoot } from './trust-root.types.ts';

/**
 * The trust material each authority verifies against (upstream `checkOptsFromAuthority` in
 * `pkg/webhook/validator.go`): the trusted root given, or the TrustRoot its `trustRootRef` names
 * (keyless, `ctlog` or `rfc3161timestamp`), with keyless `ca-cert` replacing the certificate
 * authorities by the chain written. A `trust` callback throws PolicyError, failing only that
 * authority: POLICY_UNSUPPORTED for what Sigil cannot do here (TUF-distributed TrustRoots, KMS
 * certificates), POLICY_INVALID for what is missing or wrong (an unknown TrustRoot, a Secret without
 * certificates, a log hash algorithm Sigil does not know).
 */

export interface TrustOptions {
  /** Used by every authority without a `trustRootRef`. */
  readonly trustedRoot: TrustMaterial;
  /** TrustRoots by `metadata.name`. Default: none (every `trustRootRef` fails its authority). */
  readonly trustRoots?: ReadonlyMap<string, TrustRoot>;
  /**
   * The certificates (DER, issuing certificate first) of a keyless `ca-cert.secretRef`. Default: none
   * (the authority fails naming the Secret).
   */
  readonly caCertificates?: (source: SecretKeySource) => Uint8Array[];
}

/** The verifier for an authority, as evaluateImage's `trust` takes it. */
export type AuthorityTrust = (authority: Authority) => Verifier;

/** A `trust` callback over one trusted root, for authorities without TrustRoots or `ca-cert`. */
export function verifiersFor(trust: TrustMaterial): AuthorityTrust {
  return trustFor({ trustedRoot: trust });
}

/**
 * A `trust` callback: one Verifier per trust material and options, compiled TrustRoots cached by
 * object identity (a reloaded TrustRoot is a new object and is compiled again).
 */
export function trustFor(options: TrustOptions): AuthorityTrust {
  const verifiers = new WeakMap<TrustMaterial, Map<string, Verifier>>();
  const caMaterial = new WeakMap<object, WeakMap<TrustMaterial, TrustMaterial>>();
  return (authority) => {
    const base = trustRootOf(authority, options);
    const verifier = authority.verifier;
    let material = base;
    if (verifier.kind === 'keyless' && verifier.certificateAuthority.kind === 'ca-cert') {
      const source = verifier.certificateAuthority.source;
      const field = `${authority.name}: keyless.ca-cert`;
      let certificates: readonly Uint8Array[];
      switch (source.kind) {
        case 'data':
          certificates = source.certificates;
          break;
        case 'secretRef':
          certificates = options.caCertificates?.(source) ?? [];
          if (certificates.length === 0) {
            throw new PolicyError(
              'POLICY_INVALID',
              `${field}.secretRef: expected certificates in Secret ${describeSecret(source)}, received none`,
            );
          }
          break;
        case 'kms':
          throw new PolicyError(
            'POLICY_UNSUPPORTED',
            `${field}.kms: ${source.provider} certificates are not supported here (${source.uri}); use ca-cert.data with the chain`,
          );
      }
      // Cached per chain and trust material: `data` chains are fixed per parsed policy; Secret chains
      // are whatever the callback returns, cached while it returns the same array.
      const chainKey = source.kind === 'data' ? source : certificates;
      let byBase = caMaterial.get(chainKey);
      if (!byBase) {
        byBase = new WeakMap();
        caMaterial.set(chainKey, byBase);
      }
      let byChain = byBase.get(base);
      if (!byChain) {
        byChain = withCertificateAuthority(base, certificates, `${field}.data`);
        byBase.set(base, byChain);
      }
      material = byChain;
    }
    const resolved = verifierOptionsFor(authority);
    const key = JSON.stringify(resolved);
    let byOptions = verifiers.get(material);
    if (!byOptions) {
      byOptions = new Map();
      verifiers.set(material, byOptions);
    }
    let found = byOptions.get(key);
    if (!found) {
      found = new Verifier(material, resolved);
      byOptions.set(key, found);
    }
    return found;
  };
}

/**
 * The verifier options upstream's `checkOptsFromAuthority` amounts to: a `key` authority without
 * `ctlog`, and any authority with `rfc3161timestamp`, ignores the transparency log; a keyless authority
 * with `insecureIgnoreSCT` accepts certificates without SCTs.
 */
export function verifierOptionsFor(authority: Authority): VerifierOptions {
  const options: VerifierOptions = {};
  if ((authority.verifier.kind === 'key' && authority.ctlog === undefined) || authority.rfc3161timestamp) {
    options.skipTransparencyLogUnsafe = true;
  }
  if (authority.verifier.kind === 'keyless' && authority.verifier.insecureIgnoreSCT) {
    options.skipCertificateTransparencyUnsafe = true;
  }
  return options;
}

/** The trusted root, or the compiled TrustRoot the authority's (first) `trustRootRef` names. */
function trustRootOf(authority: Authority, options: TrustOptions): TrustMaterial {
  const verifier = authority.verifier;
  const references: [string, string | undefined][] = [
    ['keyless.trustRootRef', verifier.kind === 'keyless' ? verifier.trustRootRef : undefined],
    ['ctlog.trustRootRef', authority.ctlog?.trustRootRef],
    ['rfc3161timestamp.trustRootRef', authority.rfc3161timestamp?.trustRootRef],
  ];
  const named = references.flatMap(([field, name]) => (name === undefined ? [] : [[field, name] as const]));
  const [first] = named;
  if (first === undefined) return options.trustedRoot;
  const [field, name] = first;
  // Upstream uses one TrustRoot per authority; two different names cannot both be honoured.
  const other = named.find((each) => each[1] !== name);
  if (other) {
    throw new PolicyError(
      'POLICY_INVALID',
      `${authority.name}: ${other[0]}: expected the TrustRoot of ${field} (${name}), received ${other[1]}`,
    );
  }
  const trustRoot = options.trustRoots?.get(name);
  if (!trustRoot) {
    throw new PolicyError(
      'POLICY_INVALID',
      `${authority.name}: ${field}: expected the name of a TrustRoot, received ${JSON.stringify(name)}, which is not loaded`,
    );
  }
  return compileTrustRoot(trustRoot);
}

const compiled = new WeakMap<TrustRoot, TrustMaterial>();

/**
 * A TrustRoot's `sigstoreKeys` as verification trust material, compiled once per TrustRoot object.
 * Log IDs are the SHA-256 of each log key's SubjectPublicKeyInfo (RFC 6962 §3.2, as Rekor computes
 * them); keys and CAs are valid for all time, the CRD having no validity windows (certificates keep
 * their own). Throws PolicyError POLICY_UNSUPPORTED for `remote` and `repository` TrustRoots, and
 * POLICY_INVALID for a log hash algorithm other than sha-256/384/512 or a key of unknown type.
 */
export function compileTrustRoot(trustRoot: TrustRoot): TrustMaterial {
  const cached = compiled.get(trustRoot);
  if (cached) return cached;
  const name = `TrustRoot ${trustRoot.metadata.name}`;
  const source = trustRoot.source;
  if (source.kind !== 'sigstoreKeys') {
    throw new PolicyError(
      'POLICY_UNSUPPORTED',
      `${name}: spec.${source.kind}: TrustRoots fetched over TUF are not supported until trust distribution lands; use spec.sigstoreKeys`,
    );
  }
  const field = `${name}: spec.sigstoreKeys`;
  const material: TrustMaterial = {
    certificateAuthorities: source.certificateAuthorities.map((each, index) =>
      compileAuthority(each, `${field}.certificateAuthorities[${index}]`),
    ),
    timestampAuthorities: source.timestampAuthorities.map((each, index) =>
      compileAuthority(each, `${field}.timestampAuthorities[${index}]`),
    ),
    tlogs: source.tLogs.map((each, index) => compileLog(each, `${field}.tLogs[${index}]`)),
    ctlogs: source.ctLogs.map((each, index) => compileLog(each, `${field}.ctLogs[${index}]`)),
  };
  compiled.set(trustRoot, material);
  return material;
}

const ALL_TIME = Object.freeze({ start: 0, end: Infinity });

function compileAuthority(authority: TrustedCertificateAuthority, field: string): CertificateAuthority {
  return {
    uri: authority.uri,
    subject: authority.subject,
    chain: authority.certChain.map((der, index) => parseCertificate(der, `${field}.certChain[${index}]`)),
    validFor: ALL_TIME,
  };
}

const HASH_ALGORITHMS: Readonly<Record<string, HashAlgorithmName>> = {
  'sha-256': 'SHA2_256',
  'sha-384': 'SHA2_384',
  'sha-512': 'SHA2_512',
};

function compileLog(log: TrustedLog, field: string): TransparencyLogInstance {
  const written = log.hashAlgorithm.toLowerCase();
  const hashAlgorithm = Object.hasOwn(HASH_ALGORITHMS, written) ? HASH_ALGORITHMS[written] : undefined;
  if (!hashAlgorithm) {
    throw new PolicyError(
      'POLICY_INVALID',
      `${field}.hashAlgorithm: expected one of ${Object.keys(HASH_ALGORITHMS).join(', ')}, received ${JSON.stringify(log.hashAlgorithm)}`,
    );
  }
  let details;
  try {
    details = inferPublicKeyDetails(log.publicKey, `${field}.publicKey`);
  } catch (cause) {
    throw new PolicyError('POLICY_INVALID', `${field}.publicKey: ${describeError(cause)}`, { cause });
  }
  return {
    baseUrl: log.baseURL,
    hashAlgorithm,
    publicKey: { key: log.publicKey, der: log.publicKeyDer, details, validFor: ALL_TIME },
    logId: new Uint8Array(createHash('sha256').update(log.publicKeyDer).digest()),
  };
}

/**
 * `base` with its certificate authorities replaced by one CA whose chain is `certificates` (issuing
 * certificate first): what upstream's keyless `ca-cert` does, keeping the logs and TSAs.
 */
function withCertificateAuthority(
  base: TrustMaterial,
  certificates: readonly Uint8Array[],
  field: string,
): TrustMaterial {
  let chain;
  try {
    chain = certificates.map((der, index) => parseCertificate(der, `${field}[${index}]`));
  } catch (cause) {
    throw new PolicyError('POLICY_INVALID', `${field}: ${describeError(cause)}`, { cause });
  }
  return { ...base, certificateAuthorities: [{ uri: 'ca-cert', subject: {}, chain, validFor: ALL_TIME }] };
}

function describeSecret(source: SecretKeySource): string {
  return source.namespace ? `${source.namespace}/${source.name}` : source.name;
}
