import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { isIP } from 'node:net';
import { AsnConvert } from '@peculiar/asn1-schema';
import {
  BasicConstraints,
  ExtendedKeyUsage,
  GeneralName,
  KeyUsage,
  KeyUsageFlags,
  SubjectAlternativeName,
  SubjectPublicKeyInfo,
  id_ce_basicConstraints,
  id_ce_extKeyUsage,
  id_ce_keyUsage,
  id_ce_subjectAltName,
  id_kp_serverAuth,
} from '@peculiar/asn1-x509';
import { encodePem } from '../core/index.ts';
import { distinguishedName, selfSigned, signTbs } from './ca-files.ts';
import { keyObjectSource } from './ca-signer.ts';
import {
  authorityKeyIdentifier,
  extension,
  keyIdentifier,
  subjectKeyIdentifierExtension,
} from './certificate-profile.ts';
import { CaError } from './errors.ts';

export interface ServingCertificateOptions {
  /**
   * What clients dial: DNS names (`sigil-webhook.sigil-system.svc`) and IP addresses (IPv4 or IPv6,
   * without brackets or zone). The first is the subject CN; all go into the SAN. At least one, at most 100.
   */
  hosts: readonly string[];
  /** Days both certificates are valid, counted from `now`. Default 365. */
  validityDays?: number;
  /** Issuance time. Default: now. NotBefore is 5 minutes earlier, for clients whose clock runs behind. */
  now?: Date;
}

export interface ServingCertificate {
  /** The CA to trust (a webhook configuration's `caBundle`, base64 of this PEM). */
  caCertificatePem: string;
  /** The serving certificate alone (`tls.crt`); the CA is not appended, clients are given it. */
  certificatePem: string;
  /** The serving certificate's key as unencrypted PKCS#8 (`tls.key`). */
  privateKeyPem: string;
}

const CLOCK_SKEW_MS = 5 * 60 * 1000;
const DAY_MS = 24 * 60 * 60 * 1000;
const MAX_HOSTS = 100;
/** RFC 1123 labels, optionally a leading `*.` wildcard (RFC 6125 §6.4.3); anchored, at most 253 chars. */
const DNS_NAME =
  /^(?:\*\.)?[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/i;

/**
 * A fresh P-256 CA (self-signed, CA:TRUE, keyCertSign) and a P-256 serving certificate it issues for
 * `hosts`: subject `O=sigil, CN=<hosts[0]>`, SAN with every host (IP addresses as iPAddress, names as
 * dNSName; RFC 5280 §4.2.1.6), KU digitalSignature (critical), EKU serverAuth, CA:FALSE, SKI and AKI.
 *
 * Kubernetes' API server (Go crypto/x509, since Go 1.15) MUST find the webhook's host in the SAN; a
 * CN-only certificate is refused, hence the SAN even for one host. The CA key is dropped once the
 * certificate is signed: rotating means issuing a new pair and updating the `caBundle`.
 */
export async function issueServingCertificate(
  options: ServingCertificateOptions,
): Promise<ServingCertificate> {
  const names = options.hosts.map((host, index) => generalName(host, index));
  if (names.length === 0 || names.length > MAX_HOSTS) {
    throw new CaError(
      'CA_CONFIG_INVALID',
      `hosts: expected 1 to ${MAX_HOSTS} names or addresses, received ${names.length}`,
    );
  }
  const validityDays = options.validityDays ?? 365;
  if (!Number.isInteger(validityDays) || validityDays < 1 || validityDays > 3650) {
    throw new CaError(
      'CA_CONFIG_INVALID',
      `validityDays: expected an integer from 1 to 3650, received ${String(validityDays)}`,
    );
  }
  const now = options.now ?? new Date();
  // X.509 times are whole seconds (RFC 5280 §4.1.2.5); truncate so what is signed is what is read back
  const issuedAt = Math.floor(now.getTime() / 1000) * 1000;
  const notBefore = new Date(issuedAt - CLOCK_SKEW_MS);
  const notAfter = new Date(issuedAt + validityDays * DAY_MS);

  const ca = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const caSource = keyObjectSource(ca.privateKey, ca.publicKey);
  const caName = distinguishedName('sigil', 'sigil-serving-ca');
  const caCertificate = await selfSigned(caSource, caName, { notBefore, notAfter });

  const leaf = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const spki = subjectPublicKeyInfo(leaf.publicKey);
  const extensions = [
    extension(id_ce_keyUsage, true, AsnConvert.serialize(new KeyUsage(KeyUsageFlags.digitalSignature))),
    extension(id_ce_extKeyUsage, false, AsnConvert.serialize(new ExtendedKeyUsage([id_kp_serverAuth]))),
    extension(id_ce_basicConstraints, true, AsnConvert.serialize(new BasicConstraints({ cA: false }))),
    subjectKeyIdentifierExtension(keyIdentifier(spki)),
    authorityKeyIdentifier(keyIdentifier(subjectPublicKeyInfo(ca.publicKey))),
    // not critical: the subject is not empty (RFC 5280 §4.2.1.6)
    extension(id_ce_subjectAltName, false, AsnConvert.serialize(new SubjectAlternativeName(names))),
  ];
  const certificate = await signTbs(caSource, {
    subject: distinguishedName('sigil', options.hosts[0]!),
    issuer: caName,
    spki,
    extensions,
    notBefore,
    notAfter,
  });
  return {
    caCertificatePem: encodePem('CERTIFICATE', caCertificate),
    certificatePem: encodePem('CERTIFICATE', certificate),
    privateKeyPem: leaf.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  };
}

function subjectPublicKeyInfo(key: KeyObject): SubjectPublicKeyInfo {
  return AsnConvert.parse(key.export({ type: 'spki', format: 'der' }), SubjectPublicKeyInfo);
}

/** One SAN entry: an iPAddress (4 or 16 octets) for an IP literal, a dNSName otherwise. */
function generalName(host: string, index: number): GeneralName {
  const version = isIP(host);
  if (version === 4) return new GeneralName({ iPAddress: host });
  if (version === 6 && !host.includes('%')) return new GeneralName({ iPAddress: expandEmbeddedIpv4(host) });
  if (host.length <= 253 && DNS_NAME.test(host)) return new GeneralName({ dNSName: host.toLowerCase() });
  throw new CaError(
    'CA_CONFIG_INVALID',
    `hosts[${index}]: expected a DNS name or an IP address without zone, received ${JSON.stringify(host)}`,
  );
}

/**
 * `::ffff:192.0.2.1` → `::ffff:c000:201`: the SAN encoder reads IPv6 as hexadecimal groups only.
 * The address was validated by isIP, so a dotted tail is four octets.
 */
function expandEmbeddedIpv4(address: string): string {
  const match = /^(.*:)(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(address);
  if (!match) return address;
  const [a, b, c, d] = match.slice(2).map(Number) as [number, number, number, number];
  return `${match[1]}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
}
