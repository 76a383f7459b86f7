import { createHash, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import { decodeBase64, encodeBase64, isSigilError } from '../core/index.ts';
import { CtError } from './errors.ts';
import { TlsReader, encodeTimestampedEntry, type SignedEntry, type TimestampedEntry } from './tile-leaf.ts';

/** RFC 5246 §4.7 DigitallySigned: the algorithm pair, then the signature (u16 length). */
export interface DigitallySigned {
  /** RFC 5246 §7.4.1.4.1 HashAlgorithm: 4 = sha256, the only one RFC 6962 §2.1.4 allows. */
  readonly hashAlgorithm: number;
  /** SignatureAlgorithm: 3 = ecdsa, 1 = rsa. */
  readonly signatureAlgorithm: number;
  /** DER ECDSA-Sig-Value, or an RSASSA-PKCS1-v1_5 signature. */
  readonly signature: Uint8Array;
}

/** RFC 6962 §3.2 SignedCertificateTimestamp (v1). */
export interface SignedCertificateTimestamp {
  readonly version: 0;
  /** SHA-256 of the log key's DER SubjectPublicKeyInfo. */
  readonly logId: Uint8Array;
  /** Milliseconds since the epoch. */
  readonly timestamp: number;
  /** CtExtensions; static-ct-api logs put the leaf_index extension here. */
  readonly extensions: Uint8Array;
  readonly signature: DigitallySigned;
}

/** RFC 6962 §4.1 add-chain / add-pre-chain response (google/certificate-transparency-go `types.go`). */
export interface AddChainResponse {
  sct_version: number;
  /** Base64 of the 32-byte log ID. */
  id: string;
  timestamp: number;
  /** Base64 of the CtExtensions. */
  extensions: string;
  /** Base64 of the TLS DigitallySigned struct. */
  signature: string;
}

const HASH_SHA256 = 4;
const SIGNATURE_ALGORITHM = { ecdsa: 3, rsa: 1 } as const;

/** RFC 6962 §3.2 LogID: SHA-256 of the log's DER SubjectPublicKeyInfo (of a private or public key). */
export function computeLogId(key: KeyObject): Uint8Array {
  const spki = publicKeyOf(key).export({ type: 'spki', format: 'der' });
  return new Uint8Array(createHash('sha256').update(spki).digest());
}

/**
 * RFC 6962 §3.2 signature input: `u8 sct_version v1(0) || u8 signature_type certificate_timestamp(0)`
 * followed by the TimestampedEntry fields (timestamp, entry type, signed entry, extensions).
 */
export function sctSignatureInput(entry: TimestampedEntry): Uint8Array {
  const body = encodeTimestampedEntry(entry);
  const input = new Uint8Array(2 + body.length);
  input.set(body, 2);
  return input;
}

/** Signs an SCT for `entry` with the log's ECDSA or RSA key (RFC 6962 §2.1.4: SHA-256). */
export function signSct(
  entry: TimestampedEntry,
  key: KeyObject,
  logId: Uint8Array,
): SignedCertificateTimestamp {
  const signatureAlgorithm = signatureAlgorithmOf(key);
  if (signatureAlgorithm === undefined) {
    throw new TypeError(
      `key: expected an ECDSA or RSA private key, received ${key.asymmetricKeyType ?? key.type}`,
    );
  }
  const signature = new Uint8Array(sign('sha256', sctSignatureInput(entry), key));
  return {
    version: 0,
    logId,
    timestamp: entry.timestamp,
    extensions: entry.extensions,
    signature: { hashAlgorithm: HASH_SHA256, signatureAlgorithm, signature },
  };
}

/**
 * Whether `sct` is the log's signature over `signedEntry` (RFC 6962 §5.2 checks): version 1, the log
 * ID of `logKey`, SHA-256 with the key's algorithm, and a signature that verifies. Never throws.
 */
export function verifySct(
  sct: SignedCertificateTimestamp,
  signedEntry: SignedEntry,
  logKey: KeyObject,
): boolean {
  try {
    const publicKey = publicKeyOf(logKey);
    const { hashAlgorithm, signatureAlgorithm, signature } = sct.signature;
    if (sct.version !== 0 || !Buffer.from(sct.logId).equals(computeLogId(publicKey))) return false;
    if (hashAlgorithm !== HASH_SHA256 || signatureAlgorithm !== signatureAlgorithmOf(publicKey)) return false;
    const input = sctSignatureInput({ timestamp: sct.timestamp, signedEntry, extensions: sct.extensions });
    return verify('sha256', input, publicKey, signature);
  } catch {
    return false;
  }
}

export function encodeDigitallySigned(signed: DigitallySigned): Uint8Array {
  const out = new Uint8Array(4 + signed.signature.length);
  out[0] = signed.hashAlgorithm;
  out[1] = signed.signatureAlgorithm;
  new DataView(out.buffer).setUint16(2, signed.signature.length);
  out.set(signed.signature, 4);
  return out;
}

export function parseDigitallySigned(bytes: Uint8Array): DigitallySigned {
  const reader = new TlsReader(bytes, 'digitally-signed');
  const signed = readDigitallySigned(reader);
  if (!reader.done) throw invalid('digitally-signed: unexpected bytes after the signature');
  return signed;
}

/** RFC 6962 §3.2 serialization: version, log ID, timestamp, extensions (u16 length), DigitallySigned. */
export function encodeSignedCertificateTimestamp(sct: SignedCertificateTimestamp): Uint8Array {
  const signature = encodeDigitallySigned(sct.signature);
  const out = new Uint8Array(1 + 32 + 8 + 2 + sct.extensions.length + signature.length);
  const view = new DataView(out.buffer);
  out[0] = sct.version;
  out.set(sct.logId, 1);
  view.setBigUint64(33, BigInt(sct.timestamp));
  view.setUint16(41, sct.extensions.length);
  out.set(sct.extensions, 43);
  out.set(signature, 43 + sct.extensions.length);
  return out;
}

/** Parses one serialized SCT (e.g. from an embedded SCT list). Throws CT_ENCODING_INVALID. */
export function parseSignedCertificateTimestamp(bytes: Uint8Array): SignedCertificateTimestamp {
  const reader = new TlsReader(bytes, 'signed certificate timestamp');
  const version = reader.uint(1);
  if (version !== 0)
    throw invalid(`signed certificate timestamp: expected version 0 (v1), received ${version}`);
  const logId = reader.bytes(32);
  const timestamp = reader.uint(8);
  const extensions = reader.bytes(reader.uint(2));
  const signature = readDigitallySigned(reader);
  if (!reader.done) throw invalid('signed certificate timestamp: unexpected bytes after the signature');
  return { version, logId, timestamp, extensions, signature };
}

export function toAddChainResponse(sct: SignedCertificateTimestamp): AddChainResponse {
  return {
    sct_version: sct.version,
    id: encodeBase64(sct.logId),
    timestamp: sct.timestamp,
    extensions: encodeBase64(sct.extensions),
    signature: encodeBase64(encodeDigitallySigned(sct.signature)),
  };
}

/** The SCT inside an AddChainResponse, checked field by field. Throws CT_ENCODING_INVALID. */
export function parseAddChainResponse(response: AddChainResponse): SignedCertificateTimestamp {
  if (response.sct_version !== 0) {
    throw invalid(`sct_version: expected 0 (v1), received ${String(response.sct_version)}`);
  }
  if (!Number.isSafeInteger(response.timestamp) || response.timestamp < 0) {
    throw invalid(`timestamp: expected milliseconds since the epoch, received ${String(response.timestamp)}`);
  }
  const logId = decodeField(response.id, 'id');
  if (logId.length !== 32) throw invalid(`id: expected 32 bytes, received ${logId.length}`);
  return {
    version: 0,
    logId,
    timestamp: response.timestamp,
    extensions: decodeField(response.extensions, 'extensions'),
    signature: parseDigitallySigned(decodeField(response.signature, 'signature')),
  };
}

function readDigitallySigned(reader: TlsReader): DigitallySigned {
  const hashAlgorithm = reader.uint(1);
  const signatureAlgorithm = reader.uint(1);
  return { hashAlgorithm, signatureAlgorithm, signature: reader.bytes(reader.uint(2)) };
}

function publicKeyOf(key: KeyObject): KeyObject {
  return key.type === 'public' ? key : createPublicKey(key);
}

function signatureAlgorithmOf(key: KeyObject): number | undefined {
  const type = key.asymmetricKeyType;
  return type === 'ec' ? SIGNATURE_ALGORITHM.ecdsa : type === 'rsa' ? SIGNATURE_ALGORITHM.rsa : undefined;
}

function decodeField(value: unknown, field: string): Uint8Array {
  if (typeof value !== 'string')
    throw invalid(`${field}: expected a base64 string, received ${typeof value}`);
  try {
    return decodeBase64(value, field);
  } catch (cause) {
    throw new CtError('CT_ENCODING_INVALID', isSigilError(cause) ? cause.message : String(cause), { cause });
  }
}

function invalid(message: string): CtError {
  return new CtError('CT_ENCODING_INVALID', message);
}
