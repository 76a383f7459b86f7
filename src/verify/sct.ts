import { hash, verify } from 'node:crypto';
import {
  CoreError,
  DerSyntaxError,
  DerTag,
  contentBytes,
  readWhole,
  tbsWithoutExtension,
  type ParsedCertificate,
} from '../core/index.ts';
import { keyValidAt } from './tlog-instance.ts';
import { VerificationError } from './errors.ts';
import type { TransparencyLogInstance } from './trust.types.ts';
import { verifyOnce } from './internal/verified-signatures.ts';

/**
 * Signed certificate timestamps embedded in the signing certificate (RFC 6962 §3.3), checked as
 * sigstore-go `pkg/verify/sct.go` does: an SCT counts when a trusted CT log with its log ID, whose key
 * was valid at the SCT's timestamp, signed the precertificate entry; SCTs from unknown logs or that do
 * not verify are skipped, and the distinct logs that verified must reach the threshold.
 */

/** RFC 6962 §3.3: the extension of a final certificate that embeds its SCT list. */
const SCT_LIST_OID = '1.3.6.1.4.1.11129.2.4.2';
/** RFC 5246 §7.4.1.4.1 HashAlgorithm sha256, the only one RFC 6962 §2.1.4 allows. */
const HASH_SHA256 = 4;
/** RFC 5246 §7.4.1.4.1 SignatureAlgorithm, with the key type each needs. */
const SIGNATURE_KEY_TYPES: Readonly<Record<number, string>> = { 1: 'rsa', 3: 'ec' };

/** RFC 6962 §3.2: an SCT of another version than v1 is kept by its version, to be skipped by name. */
type ParsedSct = EmbeddedSct | { readonly version: 'unknown'; readonly versionByte: number };

interface EmbeddedSct {
  readonly version: 0;
  readonly logId: Uint8Array;
  /** The 8 bytes of the timestamp as signed, and their value in ms since the epoch. */
  readonly timestampBytes: Uint8Array;
  readonly timestamp: number;
  readonly extensions: Uint8Array;
  readonly hashAlgorithm: number;
  readonly signatureAlgorithm: number;
  readonly signature: Uint8Array;
}

const issuerKeyHashes = new WeakMap<ParsedCertificate, Uint8Array>();

/**
 * Verifies the SCTs embedded in `leaf`, whose issuer is `issuer` (the next certificate of the verified
 * path), against `ctlogs`, and returns how many distinct logs verified. A threshold of 0 skips the step
 * (returns 0 without reading the extension). Throws VerificationError VERIFY_SCT_ERROR when fewer than
 * `threshold` logs verify, naming why each SCT did not count, or when the SCT list is malformed.
 */
export function verifyEmbeddedScts(
  leaf: ParsedCertificate,
  issuer: ParsedCertificate,
  ctlogs: readonly TransparencyLogInstance[],
  threshold: number,
): number {
  if (threshold <= 0) return 0;
  const extension = leaf.extensions.get(SCT_LIST_OID);
  if (!extension) {
    throw new VerificationError(
      'VERIFY_SCT_ERROR',
      `certificate: expected an embedded SCT list (extension ${SCT_LIST_OID}) with SCTs from ${threshold} trusted CT logs, received none`,
    );
  }
  const scts = parseSctList(extension.value);
  // Built on first need: a check remembered by verifyOnce is keyed by the leaf and issuer key instead,
  // which determine the entry, and rebuilding the TBS costs more than the rest of the step.
  const entry = new PrecertificateEntry(leaf, issuer);
  const verified = new Set<string>();
  const faults: string[] = [];
  scts.forEach((sct, position) => {
    const fault = sctFault(sct, leaf, issuer, entry, ctlogs);
    if (fault !== undefined) faults.push(`sct[${position}]: ${fault}`);
    else if (sct.version === 0) verified.add(Buffer.from(sct.logId).toString('hex'));
  });
  if (verified.size < threshold) {
    throw new VerificationError(
      'VERIFY_SCT_ERROR',
      `certificate: expected SCTs from at least ${threshold} trusted CT logs, received ${verified.size} of ${scts.length}` +
        (faults.length > 0 ? ` (${faults.join('; ')})` : ''),
    );
  }
  return verified.size;
}

/** The signed precertificate entry of a leaf, built on first need. */
class PrecertificateEntry {
  #bytes: Uint8Array | undefined;
  constructor(
    readonly leaf: ParsedCertificate,
    readonly issuer: ParsedCertificate,
  ) {}
  get bytes(): Uint8Array {
    return (this.#bytes ??= precertificateEntry(this.leaf, this.issuer));
  }
}

/** Why `sct` does not count, or undefined when a trusted log signed it. */
function sctFault(
  sct: ParsedSct,
  leaf: ParsedCertificate,
  issuer: ParsedCertificate,
  entry: PrecertificateEntry,
  ctlogs: readonly TransparencyLogInstance[],
): string | undefined {
  if (sct.version === 'unknown') return `expected version 0 (v1), received ${sct.versionByte}`;
  const logId = Buffer.from(sct.logId);
  const logs = ctlogs.filter((log) => logId.equals(log.logId));
  if (logs.length === 0) return `log ID ${logId.toString('base64')} is not a CT log of the trusted root`;
  const current = logs.filter((log) => keyValidAt(log.publicKey, sct.timestamp));
  if (current.length === 0) {
    return `the key of CT log ${logs[0]!.baseUrl} was not valid at the SCT time ${new Date(sct.timestamp).toISOString()}`;
  }
  const keyType = SIGNATURE_KEY_TYPES[sct.signatureAlgorithm];
  if (sct.hashAlgorithm !== HASH_SHA256 || keyType === undefined) {
    return `expected sha256 with ecdsa or rsa (4, 3 or 1), received algorithms ${sct.hashAlgorithm}, ${sct.signatureAlgorithm}`;
  }
  const signedBy = current.some(({ publicKey: { key, der } }) => {
    if (key.asymmetricKeyType !== keyType) return false;
    try {
      // The signed input is the leaf (less its SCT list) under the issuer's key hash, the SCT's time and
      // extensions: all named by the parts below, so the input is built only when it is checked.
      const parts = [
        der,
        leaf.fingerprint,
        issuer.subjectPublicKeyInfo,
        sct.timestampBytes,
        sct.extensions,
        sct.signature,
      ];
      return verifyOnce(parts, () => verify('sha256', signatureInput(sct, entry.bytes), key, sct.signature));
    } catch {
      return false;
    }
  });
  return signedBy ? undefined : `the signature does not verify with the key of CT log ${current[0]!.baseUrl}`;
}

/**
 * RFC 6962 §3.2 precert_entry: `opaque issuer_key_hash[32]` (SHA-256 of the issuer's
 * SubjectPublicKeyInfo) then `opaque TBSCertificate<1..2^24-1>`, the leaf's TBSCertificate without the
 * SCT list, as the precertificate was before the CA embedded it.
 */
function precertificateEntry(leaf: ParsedCertificate, issuer: ParsedCertificate): Uint8Array {
  let tbs: Uint8Array;
  try {
    tbs = tbsWithoutExtension(leaf, SCT_LIST_OID, 'certificate');
  } catch (error) {
    if (!(error instanceof CoreError)) throw error;
    throw new VerificationError('VERIFY_SCT_ERROR', error.message, { cause: error });
  }
  let keyHash = issuerKeyHashes.get(issuer);
  if (!keyHash) {
    keyHash = new Uint8Array(hash('sha256', issuer.subjectPublicKeyInfo, 'buffer'));
    issuerKeyHashes.set(issuer, keyHash);
  }
  const length = Uint8Array.of(tbs.length >>> 16, (tbs.length >>> 8) & 0xff, tbs.length & 0xff);
  return Buffer.concat([keyHash, length, tbs]);
}

/**
 * RFC 6962 §3.2 digitally-signed struct: sct_version v1(0), signature_type certificate_timestamp(0),
 * timestamp, entry_type precert_entry(1), the entry, then the SCT's extensions (u16 length); static CT
 * logs put their leaf_index there (conformance `bundle-with-sct-with-extensions`).
 */
function signatureInput(sct: EmbeddedSct, entry: Uint8Array): Uint8Array {
  const extensionsLength = Uint8Array.of(sct.extensions.length >>> 8, sct.extensions.length & 0xff);
  return Buffer.concat([
    Uint8Array.of(0, 0),
    sct.timestampBytes,
    Uint8Array.of(0, 1),
    entry,
    extensionsLength,
    sct.extensions,
  ]);
}

/**
 * The extension value: an OCTET STRING holding `SerializedSCT sct_list<1..2^16-1>`, each
 * `opaque SerializedSCT<1..2^16-1>` (RFC 6962 §3.3). Throws VERIFY_SCT_ERROR for anything else.
 */
function parseSctList(value: Uint8Array): ParsedSct[] {
  try {
    const list = new TlsReader(contentBytes(value, readWhole(value, DerTag.octetString)));
    const items = new TlsReader(list.vector(2));
    if (!list.done) throw new DerSyntaxError('bytes after the SCT list');
    const scts: ParsedSct[] = [];
    while (!items.done) scts.push(parseSct(new TlsReader(items.vector(2))));
    if (scts.length === 0) throw new DerSyntaxError('an empty SCT list');
    return scts;
  } catch (error) {
    if (!(error instanceof DerSyntaxError)) throw error;
    throw new VerificationError(
      'VERIFY_SCT_ERROR',
      `certificate: expected an RFC 6962 SignedCertificateTimestampList in extension ${SCT_LIST_OID}, received ${error.message}`,
      { cause: error },
    );
  }
}

/** RFC 6962 §3.2 SignedCertificateTimestamp. */
function parseSct(reader: TlsReader): ParsedSct {
  const version = reader.uint8();
  if (version !== 0) return { version: 'unknown', versionByte: version };
  const logId = reader.bytes(32);
  const timestampBytes = reader.bytes(8);
  const view = new DataView(timestampBytes.buffer, timestampBytes.byteOffset, 8);
  const timestamp = view.getUint32(0) * 2 ** 32 + view.getUint32(4);
  const extensions = reader.vector(2);
  const hashAlgorithm = reader.uint8();
  const signatureAlgorithm = reader.uint8();
  const signature = reader.vector(2);
  if (!reader.done) throw new DerSyntaxError('bytes after an SCT signature');
  return {
    version,
    logId,
    timestampBytes,
    timestamp,
    extensions,
    hashAlgorithm,
    signatureAlgorithm,
    signature,
  };
}

/** Reads RFC 5246 §4 fixed-size fields and length-prefixed vectors; running short is a syntax error. */
class TlsReader {
  #offset = 0;
  readonly #bytes: Uint8Array;

  constructor(bytes: Uint8Array) {
    this.#bytes = bytes;
  }

  get done(): boolean {
    return this.#offset === this.#bytes.length;
  }

  uint8(): number {
    return this.bytes(1)[0]!;
  }

  bytes(length: number): Uint8Array {
    if (this.#offset + length > this.#bytes.length) throw new DerSyntaxError('a truncated SCT list');
    const out = this.#bytes.subarray(this.#offset, this.#offset + length);
    this.#offset += length;
    return out;
  }

  /** A vector with a `lengthBytes`-byte big-endian length. */
  vector(lengthBytes: 1 | 2 | 3): Uint8Array {
    let length = 0;
    for (const byte of this.bytes(lengthBytes)) length = length * 256 + byte;
    return this.bytes(length);
  }
}
