import { createPublicKey, hash, verify, type KeyObject } from 'node:crypto';
import {
  CoreError,
  DerSyntaxError,
  DerTag,
  contentBytes,
  describeName,
  extendedKeyUsages,
  isCertificateAuthority,
  parseCertificate,
  readWhole,
  type ParsedCertificate,
} from '../core/index.ts';
import { VerificationError } from './errors.ts';
import {
  OID_CT_TST_INFO,
  TimestampSyntaxError,
  parseTimestampToken,
  type SignatureScheme,
  type SignerIdentifier,
  type TimestampToken,
} from './internal/cms.ts';
import { verifyCertificateSignature } from './certificate-signature.ts';
import type { CertificateAuthority } from './trust.types.ts';
import { verifyOnce } from './internal/verified-signatures.ts';

/** RFC 3161 §2.3 / RFC 5280 §4.2.1.12 id-kp-timeStamping. */
export const EKU_TIME_STAMPING = '1.3.6.1.5.5.7.3.8';
const OID_EXTENDED_KEY_USAGE = '2.5.29.37';
const OID_SUBJECT_KEY_IDENTIFIER = '2.5.29.14';

/** A timestamp that verified: when, and which trusted TSA vouches for it. */
export interface VerifiedTimestamp {
  /** genTime, in ms since the epoch. */
  readonly time: number;
  readonly authority: CertificateAuthority;
}

/**
 * Verifies an RFC 3161 timestamp over `signature` (the bundle's message signature, or a DSSE envelope's
 * first signature) against the trusted TSAs, as sigstore-go `VerifyTimestampAuthority` does:
 *
 * - `token` MUST be a DER TimeStampResp with status granted, or a bare TimeStampToken (ContentInfo);
 * - its messageImprint MUST be the hash of `signature` ("payload mismatch" otherwise);
 * - its SignerInfo MUST carry content-type id-ct-TSTInfo and message-digest = hash of the TSTInfo,
 *   and its signature over the signed attributes MUST verify with the signing certificate's key;
 * - some TSA whose validFor holds genTime (both ends inclusive) MUST vouch for the signing certificate:
 *   it is the TSA's leaf (embedded or named by the signer identifier), or an embedded certificate the
 *   TSA's chain issued; every certificate of that path MUST be valid at genTime (not now: an expired
 *   chain is fine), and the signing certificate MUST have the critical EKU timeStamping alone.
 *
 * Throws VerificationError VERIFY_TIMESTAMP_ERROR naming what failed, for each TSA tried.
 */
export function verifyRfc3161Timestamp(
  token: Uint8Array,
  signature: Uint8Array,
  authorities: readonly CertificateAuthority[],
): VerifiedTimestamp {
  const parsed = readToken(token);
  const { tstInfo, signer } = parsed;
  const imprint = digest(tstInfo.imprintAlgorithm, signature);
  if (!imprint.equals(tstInfo.hashedMessage)) {
    throw failure(
      `payload mismatch: expected messageImprint.hashedMessage to be the ${tstInfo.imprintAlgorithm} of the ` +
        `signature, ${hex(imprint)}, received ${hex(tstInfo.hashedMessage)}`,
    );
  }
  // RFC 5652 §11.1, §11.2: the signed attributes bind the signature to this TSTInfo.
  if (signer.contentType !== OID_CT_TST_INFO) {
    throw failure(`signerInfo content-type: expected ${OID_CT_TST_INFO}, received ${signer.contentType}`);
  }
  const tstInfoDigest = digest(signer.digestAlgorithm, tstInfo.der);
  if (!tstInfoDigest.equals(signer.messageDigest)) {
    throw failure(
      `signerInfo message-digest: expected the ${signer.digestAlgorithm} of the TSTInfo, ` +
        `${hex(tstInfoDigest)}, received ${hex(signer.messageDigest)}`,
    );
  }
  const embedded = parsed.certificates.map((der, index) => readEmbeddedCertificate(der, index, authorities));
  const reasons: string[] = [];
  for (const authority of authorities) {
    const reason = checkAuthority(authority, parsed, embedded);
    if (reason === undefined) return { time: tstInfo.genTime, authority };
    reasons.push(`${authority.uri}: ${reason}`);
  }
  throw failure(
    authorities.length === 0
      ? `no timestamp authority in the trusted root to verify a timestamp of ${iso(tstInfo.genTime)}`
      : `no trusted timestamp authority verifies the timestamp of ${iso(tstInfo.genTime)}: ${reasons.join('; ')}`,
  );
}

/** Why `authority` does not vouch for the token, or undefined when it does. */
function checkAuthority(
  authority: CertificateAuthority,
  token: TimestampToken,
  embedded: readonly ParsedCertificate[],
): string | undefined {
  const time = token.tstInfo.genTime;
  const { start, end } = authority.validFor;
  if (time < start || time > end)
    return `genTime ${iso(time)} is outside its validFor [${iso(start)}, ${iso(end)}]`;
  const prepared = prepareAuthority(authority);
  if (typeof prepared === 'string') return prepared;
  const path = signingPath(token.signer.id, embedded, prepared);
  if (typeof path === 'string') return path;
  const expired = path.find((certificate) => time < certificate.notBefore || time > certificate.notAfter);
  if (expired) {
    return (
      `certificate ${describeName(expired.subject)} is valid [${iso(expired.notBefore)}, ` +
      `${iso(expired.notAfter)}], which does not hold genTime ${iso(time)}`
    );
  }
  const signing = path[0]!;
  return checkTimeStampingUsage(signing) ?? checkSignature(token, signing);
}

/** A TSA's chain, checked once: each certificate signed by the next, and which may issue others. */
interface PreparedAuthority {
  readonly chain: readonly ParsedCertificate[];
  readonly issuers: readonly ParsedCertificate[];
}

const preparedAuthorities = new WeakMap<CertificateAuthority, PreparedAuthority | string>();

function prepareAuthority(authority: CertificateAuthority): PreparedAuthority | string {
  let entry = preparedAuthorities.get(authority);
  if (entry === undefined) {
    entry = checkChain(authority.chain);
    preparedAuthorities.set(authority, entry);
  }
  return entry;
}

function checkChain(chain: readonly ParsedCertificate[]): PreparedAuthority | string {
  if (chain.length === 0) return 'its certChain is empty';
  for (let index = 0; index + 1 < chain.length; index++) {
    if (!issued(chain[index]!, chain[index + 1]!)) {
      return `its certChain[${index}] is not signed by certChain[${index + 1}]`;
    }
  }
  const issuers = chain.filter((certificate, index) => {
    try {
      return isCertificateAuthority(certificate, `certChain[${index}]`);
    } catch {
      return false;
    }
  });
  return { chain, issuers };
}

/**
 * The signing certificate and the TSA certificates above it: the TSA's own chain when the signer is its
 * leaf, else an embedded certificate followed by the part of the chain from its issuer up.
 */
function signingPath(
  id: SignerIdentifier,
  embedded: readonly ParsedCertificate[],
  authority: PreparedAuthority,
): readonly ParsedCertificate[] | string {
  const leaf = authority.chain[0]!;
  const signer =
    embedded.find((certificate) => identifies(id, certificate)) ?? (identifies(id, leaf) ? leaf : undefined);
  if (!signer) {
    return embedded.length > 0
      ? `neither an embedded certificate nor its leaf ${describeName(leaf.subject)} matches the signer identifier ${describeSigner(id)}`
      : `the signer identifier ${describeSigner(id)} does not name its leaf ${describeName(leaf.subject)}`;
  }
  if (signer === leaf || Buffer.from(signer.der).equals(leaf.der)) return authority.chain;
  const issuer = authority.issuers.find((candidate) => issued(signer, candidate));
  if (!issuer) {
    return `the embedded certificate ${describeName(signer.subject)} (issuer ${describeName(signer.issuer)}) is neither its leaf nor issued by its chain`;
  }
  return [signer, ...authority.chain.slice(authority.chain.indexOf(issuer))];
}

/** RFC 5280 §6.1.3 (a)(1), (a)(4): the names chain and the issuer's key verifies the signature. */
function issued(certificate: ParsedCertificate, issuer: ParsedCertificate): boolean {
  return (
    Buffer.from(certificate.issuer).equals(issuer.subject) && verifyCertificateSignature(certificate, issuer)
  );
}

/** RFC 5652 §5.3 SignerIdentifier: issuer and serial number, or the subject key identifier. */
function identifies(id: SignerIdentifier, certificate: ParsedCertificate): boolean {
  if (id.kind === 'issuerAndSerialNumber') {
    return (
      Buffer.from(certificate.issuer).equals(id.issuer) &&
      Buffer.from(certificate.serialNumber).equals(id.serialNumber)
    );
  }
  const extension = certificate.extensions.get(OID_SUBJECT_KEY_IDENTIFIER);
  if (!extension) return false;
  try {
    const keyIdentifier = contentBytes(extension.value, readWhole(extension.value, DerTag.octetString));
    return Buffer.from(keyIdentifier).equals(id.keyIdentifier);
  } catch (error) {
    if (error instanceof DerSyntaxError) return false;
    throw error;
  }
}

/** RFC 3161 §2.3: one EKU extension, critical, with id-kp-timeStamping as its only purpose. */
function checkTimeStampingUsage(signing: ParsedCertificate): string | undefined {
  let usages: string[] | undefined;
  try {
    usages = extendedKeyUsages(signing, 'timestamp signing certificate');
  } catch (error) {
    if (error instanceof CoreError) return error.message;
    throw error;
  }
  if (usages?.length !== 1 || usages[0] !== EKU_TIME_STAMPING) {
    return `certificate ${describeName(signing.subject)}: expected the extended key usage ${EKU_TIME_STAMPING} (timeStamping) alone, received ${usages?.join(', ') ?? 'none'}`;
  }
  if (!signing.extensions.get(OID_EXTENDED_KEY_USAGE)?.critical) {
    return `certificate ${describeName(signing.subject)}: expected its extended key usage extension to be critical`;
  }
  return undefined;
}

/** node:crypto key types of each signature family. */
const KEY_TYPES: Readonly<Record<SignatureScheme['family'], string>> = {
  ecdsa: 'ec',
  'rsa-pkcs1': 'rsa',
  ed25519: 'ed25519',
};

/** RFC 5652 §5.4, §5.6: the signature over the DER SET OF signed attributes, with the signer's key. */
function checkSignature(token: TimestampToken, signing: ParsedCertificate): string | undefined {
  const { scheme, signedAttributes, signature } = token.signer;
  let valid: boolean;
  try {
    const key = publicKeyOf(signing);
    if (key.asymmetricKeyType !== KEY_TYPES[scheme.family]) {
      return `certificate ${describeName(signing.subject)}: expected a ${KEY_TYPES[scheme.family]} key for a ${scheme.family} signature, received ${key.asymmetricKeyType}`;
    }
    valid = verifyOnce([signing.subjectPublicKeyInfo, String(scheme.hash), signedAttributes, signature], () =>
      verify(scheme.hash, signedAttributes, key, signature),
    );
  } catch {
    valid = false;
  }
  return valid
    ? undefined
    : `the signature over the signed attributes does not verify with the key of ${describeName(signing.subject)}`;
}

/** Signing certificates' keys, imported once per ParsedCertificate (the TSA leaves live as long as the trust material). */
const signingKeys = new WeakMap<ParsedCertificate, KeyObject>();

/** Throws node:crypto's error for a key it cannot import. */
function publicKeyOf(certificate: ParsedCertificate): KeyObject {
  let key = signingKeys.get(certificate);
  if (!key) {
    key = createPublicKey({
      key: Buffer.from(certificate.subjectPublicKeyInfo),
      format: 'der',
      type: 'spki',
    });
    signingKeys.set(certificate, key);
  }
  return key;
}

function readToken(token: Uint8Array): TimestampToken {
  try {
    return parseTimestampToken(token);
  } catch (error) {
    if (error instanceof TimestampSyntaxError) throw failure(error.message, error);
    throw error;
  }
}

/** An embedded certificate; a TSA's own leaf (the usual case) is taken from the trust material, parsed and with its key. */
function readEmbeddedCertificate(
  der: Uint8Array,
  index: number,
  authorities: readonly CertificateAuthority[],
): ParsedCertificate {
  for (const authority of authorities) {
    const leaf = authority.chain[0];
    if (leaf && Buffer.from(leaf.der).equals(der)) return leaf;
  }
  try {
    return parseCertificate(der, `signedTimestamp certificates[${index}]`);
  } catch (error) {
    if (error instanceof CoreError) throw failure(error.message, error);
    throw error;
  }
}

function describeSigner(id: SignerIdentifier): string {
  return id.kind === 'issuerAndSerialNumber'
    ? `(issuer ${describeName(id.issuer)}, serial ${hex(id.serialNumber)})`
    : `(subject key identifier ${hex(id.keyIdentifier)})`;
}

function digest(algorithm: string, data: Uint8Array): Buffer {
  return hash(algorithm, data, 'buffer');
}

function iso(time: number): string {
  return Number.isFinite(time) ? new Date(time).toISOString() : 'open-ended';
}

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('hex');
}

function failure(message: string, cause?: unknown): VerificationError {
  return new VerificationError('VERIFY_TIMESTAMP_ERROR', `signedTimestamp: ${message}`, { cause });
}
