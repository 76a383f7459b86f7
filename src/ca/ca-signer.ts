import { X509Certificate, sign, type KeyObject } from 'node:crypto';
import { encodeElement } from '../core/index.ts';
import { AsnConvert } from '@peculiar/asn1-schema';
import { AlgorithmIdentifier, Certificate, type Extension, type Name } from '@peculiar/asn1-x509';
import { CaError } from './errors.ts';
import { authorityKeyIdentifier, keyIdentifier, leafExtensionsHead } from './certificate-profile.ts';

/**
 * Where a CA key lives. The key never leaves it: callers hand it bytes to sign. The file source below
 * keeps a decrypted KeyObject in memory; a PKCS#11 source (an HSM) implements the same two members.
 */
export interface CaKeySource {
  readonly publicKey: KeyObject;
  /**
   * The signature over `data` with the hash that goes with the key (P-256 SHA-256, P-384 SHA-384,
   * P-521 SHA-512, RSA PKCS#1 v1.5 SHA-256, Ed25519 pure), DER-encoded for ECDSA.
   */
  sign(data: Uint8Array): Promise<Uint8Array>;
}

/**
 * A key held in memory, signing on libuv's thread pool: a P-384 signature costs ~1.2 ms here, and each
 * certificate takes two (precertificate and final), so the event loop hands them off.
 */
export function keyObjectSource(
  privateKey: KeyObject,
  publicKey: KeyObject,
  hash: string | undefined = hashFor(publicKey),
): CaKeySource {
  return {
    publicKey,
    sign: (data) =>
      new Promise((resolve, reject) => {
        sign(hash, data, privateKey, (error, signature) =>
          error
            ? reject(new CaError('CA_SIGNING_FAILED', `signing failed: ${error.message}`, { cause: error }))
            : resolve(new Uint8Array(signature)),
        );
      }),
  };
}

/** The digest node:crypto signs with for a key, or undefined for Ed25519 (pure). */
function hashFor(key: KeyObject): string | undefined {
  return signatureAlgorithmOf(key).hash;
}

/** The X.509 signature AlgorithmIdentifier and the hash for a CA key (RFC 5758 §3.2, RFC 8410, RFC 4055). */
export function signatureAlgorithmOf(key: KeyObject): {
  algorithm: AlgorithmIdentifier;
  hash: string | undefined;
} {
  const details = key.asymmetricKeyDetails ?? {};
  switch (key.asymmetricKeyType) {
    case 'ec': {
      const byCurve: Record<string, [string, string]> = {
        prime256v1: ['1.2.840.10045.4.3.2', 'sha256'],
        secp384r1: ['1.2.840.10045.4.3.3', 'sha384'],
        secp521r1: ['1.2.840.10045.4.3.4', 'sha512'],
      };
      const found = byCurve[details.namedCurve ?? ''];
      if (!found) throw new CaError('CA_KEY_INVALID', `CA key: unsupported curve ${details.namedCurve}`);
      return { algorithm: new AlgorithmIdentifier({ algorithm: found[0] }), hash: found[1] };
    }
    case 'ed25519':
      return { algorithm: new AlgorithmIdentifier({ algorithm: '1.3.101.112' }), hash: undefined };
    case 'rsa':
      return {
        // sha256WithRSAEncryption carries an explicit NULL parameter (RFC 4055 §5)
        algorithm: new AlgorithmIdentifier({
          algorithm: '1.2.840.113549.1.1.11',
          parameters: new Uint8Array([0x05, 0x00]).buffer,
        }),
        hash: 'sha256',
      };
    case 'dsa':
    case 'ed448':
    case 'rsa-pss':
    case 'x25519':
    case 'x448':
    case undefined:
      throw new CaError('CA_KEY_INVALID', `CA key: unsupported key type ${key.asymmetricKeyType}`);
  }
}

/**
 * An issuing CA: its key and its chain (its own certificate first, the root last). Turns a
 * TBSCertificate into a signed certificate and carries what every leaf it issues repeats (issuer name,
 * signature algorithm, KU/EKU, AKI), encoded once.
 */
export class CaSigner {
  readonly key: CaKeySource;
  /** DER certificates: this CA's own first, the root last. */
  readonly chain: readonly Uint8Array[];
  readonly subject: Name;
  readonly signatureAlgorithm: AlgorithmIdentifier;
  readonly leafExtensionsAuthority: readonly Extension[];
  /** DER of what every leaf repeats: the AlgorithmIdentifier, the issuer Name, KU + EKU, AKI. */
  readonly signatureAlgorithmDer: Uint8Array;
  readonly subjectDer: Uint8Array;
  readonly leafExtensionsHeadDer: readonly Uint8Array[];
  readonly leafExtensionsAuthorityDer: readonly Uint8Array[];

  /**
   * A Precertificate Signing Certificate's signer (RFC 6962 §3.1; its chain starts with its own
   * certificate, then this CA's chain), or undefined when this CA signs precertificates itself.
   */
  readonly precertificateSigner: CaSigner | undefined;

  /**
   * `signatureAlgorithm`: what this CA writes as its signature algorithm, when it is not the key's
   * default — a P-256 precertificate signer signs with SHA-384 when the CA whose precertificates it
   * signs does, since the precertificate's TBSCertificate must name the final certificate's algorithm.
   */
  constructor(
    key: CaKeySource,
    chain: readonly Uint8Array[],
    options: { precertificateSigner?: CaSigner; signatureAlgorithm?: AlgorithmIdentifier } = {},
  ) {
    const own = chain[0];
    if (!own) throw new CaError('CA_CONFIG_INVALID', 'CA chain: expected at least the issuing certificate');
    const certificate = AsnConvert.parse(own, Certificate);
    const x509 = new X509Certificate(own);
    if (!x509.publicKey.equals(key.publicKey)) {
      throw new CaError('CA_KEY_INVALID', `CA key: does not match the certificate ${x509.subject}`);
    }
    if (!x509.ca) throw new CaError('CA_CONFIG_INVALID', `CA chain: ${x509.subject} is not a CA certificate`);
    this.key = key;
    this.chain = chain;
    this.precertificateSigner = options.precertificateSigner;
    this.subject = certificate.tbsCertificate.subject;
    this.signatureAlgorithm = options.signatureAlgorithm ?? signatureAlgorithmOf(key.publicKey).algorithm;
    this.signatureAlgorithmDer = new Uint8Array(AsnConvert.serialize(this.signatureAlgorithm));
    this.subjectDer = new Uint8Array(AsnConvert.serialize(this.subject));
    this.leafExtensionsAuthority = [
      authorityKeyIdentifier(keyIdentifier(certificate.tbsCertificate.subjectPublicKeyInfo)),
    ];
    const toDer = (item: Extension) => new Uint8Array(AsnConvert.serialize(item));
    this.leafExtensionsHeadDer = leafExtensionsHead().map(toDer);
    this.leafExtensionsAuthorityDer = this.leafExtensionsAuthority.map(toDer);
  }

  signCertificate(tbs: Uint8Array): Promise<Uint8Array> {
    return signCertificateWith(this.key, tbs, this.signatureAlgorithmDer);
  }
}

/**
 * Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm, signatureValue BIT STRING } (RFC 5280
 * §4.1); `tbs` must name the same signature algorithm as the key's.
 */
export async function signCertificateWith(
  key: CaKeySource,
  tbs: Uint8Array,
  algorithmDer: Uint8Array = new Uint8Array(
    AsnConvert.serialize(signatureAlgorithmOf(key.publicKey).algorithm),
  ),
): Promise<Uint8Array> {
  const signature = await key.sign(tbs);
  const bitString = encodeElement(0x03, [Buffer.concat([Buffer.from([0]), signature])]);
  return encodeElement(0x30, [Buffer.concat([tbs, algorithmDer, bitString])]);
}
