// Real X.509 chains for the CT log tests, built with @peculiar/asn1-x509 and signed with node:crypto:
// root (RSA 2048) → intermediate (ECDSA P-384, EKU codeSigning as Fulcio's) → leaf (ECDSA P-256, EKU
// codeSigning), and a precertificate with the critical poison extension. Variations are built by options.
import { generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import {
  AlgorithmIdentifier,
  AttributeTypeAndValue,
  AttributeValue,
  BasicConstraints,
  Certificate,
  ExtendedKeyUsage,
  Extension,
  Extensions,
  Name,
  RelativeDistinguishedName,
  SubjectPublicKeyInfo,
  TBSCertificate,
  Validity,
  Version,
  id_ce_basicConstraints,
  id_ce_extKeyUsage,
  id_kp_codeSigning,
} from '@peculiar/asn1-x509';
import { CT_POISON_OID } from '../../src/ctlog/index.ts';

export type KeyType = 'p256' | 'p384' | 'rsa' | 'ed25519';

export interface TestCertificate {
  der: Uint8Array;
  subject: string;
  privateKey: KeyObject;
  publicKey: KeyObject;
  keyType: KeyType;
}

export interface CertificateOptions {
  subject: string;
  keyType: KeyType;
  /** Signs the certificate; self-signed when absent. */
  issuer?: TestCertificate;
  ca?: boolean;
  /** EKU OIDs; no EKU extension when null. Default: codeSigning. */
  ekus?: string[] | null;
  /** Adds the CT poison extension: critical ASN.1 NULL, or a broken variant. */
  poison?: 'critical' | 'non-critical';
  /** Overrides the name the certificate says issued it. */
  issuerName?: string;
  /** Flips a bit of the signature. */
  corruptSignature?: boolean;
  extensions?: Extension[];
}

const SIGNATURE: Record<KeyType, { oid: string; hash: string | null; nullParameters: boolean }> = {
  p256: { oid: '1.2.840.10045.4.3.2', hash: 'sha256', nullParameters: false },
  p384: { oid: '1.2.840.10045.4.3.3', hash: 'sha384', nullParameters: false },
  rsa: { oid: '1.2.840.113549.1.1.11', hash: 'sha256', nullParameters: true },
  ed25519: { oid: '1.3.101.112', hash: null, nullParameters: false },
};

export function generateKey(keyType: KeyType): { privateKey: KeyObject; publicKey: KeyObject } {
  switch (keyType) {
    case 'p256':
      return generateKeyPairSync('ec', { namedCurve: 'P-256' });
    case 'p384':
      return generateKeyPairSync('ec', { namedCurve: 'P-384' });
    case 'rsa':
      return generateKeyPairSync('rsa', { modulusLength: 2048 });
    case 'ed25519':
      return generateKeyPairSync('ed25519');
  }
}

export function nameOf(commonName: string): Name {
  const cn = new AttributeTypeAndValue({
    type: '2.5.4.3',
    value: new AttributeValue({ utf8String: commonName }),
  });
  const org = new AttributeTypeAndValue({
    type: '2.5.4.10',
    value: new AttributeValue({ utf8String: 'sigil test' }),
  });
  return new Name([new RelativeDistinguishedName([org]), new RelativeDistinguishedName([cn])]);
}

export function extension(oid: string, critical: boolean, value: Uint8Array | ArrayBuffer): Extension {
  return new Extension({ extnID: oid, critical, extnValue: new OctetString(value) });
}

/** The TBSCertificate of a certificate as the options describe it (what the signature covers). */
export function buildTbs(options: CertificateOptions, publicKey: KeyObject): TBSCertificate {
  const issuerType = options.issuer?.keyType ?? options.keyType;
  const extensions: Extension[] = [];
  if (options.ca) {
    extensions.push(
      extension(id_ce_basicConstraints, true, AsnConvert.serialize(new BasicConstraints({ cA: true }))),
    );
  }
  const ekus = options.ekus === undefined ? [id_kp_codeSigning] : options.ekus;
  if (ekus)
    extensions.push(extension(id_ce_extKeyUsage, false, AsnConvert.serialize(new ExtendedKeyUsage(ekus))));
  extensions.push(...(options.extensions ?? []));
  if (options.poison)
    extensions.push(extension(CT_POISON_OID, options.poison === 'critical', Uint8Array.of(5, 0)));
  const now = Date.now();
  return new TBSCertificate({
    version: Version.v3,
    serialNumber: Uint8Array.of(0x01, ...randomBytes(19)).buffer,
    signature: algorithmOf(issuerType),
    issuer: nameOf(options.issuerName ?? options.issuer?.subject ?? options.subject),
    validity: new Validity({ notBefore: new Date(now - 60_000), notAfter: new Date(now + 600_000) }),
    subject: nameOf(options.subject),
    subjectPublicKeyInfo: AsnConvert.parse(
      publicKey.export({ type: 'spki', format: 'der' }),
      SubjectPublicKeyInfo,
    ),
    extensions: new Extensions(extensions),
  });
}

/** Signs `tbs` with `signer` into a DER certificate. */
export function signTbs(
  tbs: TBSCertificate,
  signer: TestCertificate | { privateKey: KeyObject; keyType: KeyType },
  corrupt = false,
): Uint8Array {
  const tbsDer = new Uint8Array(AsnConvert.serialize(tbs));
  const signature = new Uint8Array(sign(SIGNATURE[signer.keyType].hash, tbsDer, signer.privateKey));
  if (corrupt) signature[signature.length - 5]! ^= 0x01;
  const certificate = new Certificate({
    tbsCertificate: tbs,
    signatureAlgorithm: algorithmOf(signer.keyType),
    signatureValue: signature.buffer,
  });
  return new Uint8Array(AsnConvert.serialize(certificate));
}

export function issueCertificate(options: CertificateOptions): TestCertificate {
  const { privateKey, publicKey } = generateKey(options.keyType);
  const self = { privateKey, keyType: options.keyType };
  const der = signTbs(buildTbs(options, publicKey), options.issuer ?? self, options.corruptSignature);
  return { der, subject: options.subject, privateKey, publicKey, keyType: options.keyType };
}

export interface TestChain {
  root: TestCertificate;
  intermediate: TestCertificate;
  leaf: TestCertificate;
  precertificate: TestCertificate;
}

/** A Fulcio-shaped chain: RSA root → P-384 intermediate (EKU codeSigning) → P-256 leaf and precertificate. */
export function buildTestChain(rootName = 'sigil test root'): TestChain {
  const root = issueCertificate({ subject: rootName, keyType: 'rsa', ca: true, ekus: null });
  const intermediate = issueCertificate({
    subject: `${rootName} intermediate`,
    keyType: 'p384',
    ca: true,
    issuer: root,
  });
  const leaf = issueCertificate({ subject: 'leaf', keyType: 'p256', issuer: intermediate });
  const precertificate = issueCertificate({
    subject: 'precert',
    keyType: 'p256',
    issuer: intermediate,
    poison: 'critical',
  });
  return { root, intermediate, leaf, precertificate };
}

function algorithmOf(keyType: KeyType): AlgorithmIdentifier {
  const { oid, nullParameters } = SIGNATURE[keyType];
  return new AlgorithmIdentifier({ algorithm: oid, ...(nullParameters ? { parameters: null } : {}) });
}
