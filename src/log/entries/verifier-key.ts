import { createHash, createPublicKey, X509Certificate, type KeyObject } from 'node:crypto';
import {
  decodeBase64,
  decodePem,
  decodeUtf8,
  describeError,
  encodePem,
  isSingleDerElement,
} from '../../core/index.ts';
import { LogError } from '../errors.ts';

/**
 * The key material that verifies an entry's signature: a public key, or an X.509 certificate whose key
 * is used (sigstore/rekor `pkg/pki/x509/x509.go` NewPublicKey for v1 PEM input; sigstore/rekor-tiles
 * `pkg/verifier/{publickey,certificate}` for v2 DER input). Certificate chains are not accepted: every
 * client in DESIGN.md sends a single leaf.
 */

export type KeyAlgorithm =
  | { readonly type: 'ecdsa'; readonly curve: 'P-256' | 'P-384' | 'P-521' }
  | { readonly type: 'rsa'; readonly bits: number }
  | { readonly type: 'ed25519' };

export interface VerifierKey {
  readonly source: 'certificate' | 'publicKey';
  readonly key: KeyObject;
  readonly algorithm: KeyAlgorithm;
  /** DER SubjectPublicKeyInfo; plain bytes, so it can cross to a worker for verifyDigestSignature. */
  readonly spki: Uint8Array;
  /** The certificate DER, or the canonical SPKI DER of a bare key. */
  readonly der: Uint8Array;
  /**
   * The PEM Rekor stores and indexes: Go's `pem.Encode` of the certificate DER, or of the key
   * re-marshaled by `x509.MarshalPKIXPublicKey` (sigstore/sigstore `cryptoutils` MarshalCertificateToPEM,
   * MarshalPublicKeyToPEM).
   */
  readonly canonicalPem: string;
  /** Base64 of `canonicalPem`'s UTF-8: how dsse and hashedrekord v0.0.1 bodies carry it. */
  readonly canonicalPemBase64: string;
  /** Hex SHA-256 of `canonicalPem`: the key's search-index key (`/api/v1/index/retrieve`). */
  readonly canonicalPemSha256: string;
}

const PEM_LABELS = { CERTIFICATE: 'certificate', 'PUBLIC KEY': 'publicKey' } as const;

/**
 * Parses a PEM certificate or public key. Surrounding whitespace is ignored (upstream trims it);
 * anything else around the single block is refused.
 */
export function parsePemVerifier(pem: string, field: string): VerifierKey {
  // Parsing a key costs more than verifying a signature with it; the same PEM is parsed again for the
  // search index and, with key-based signing, arrives with every entry. Keys are immutable: cache them.
  return remembered(recentPemVerifiers, pem, () => parsePemVerifierUncached(pem, field));
}

/** Most parsed verifiers kept per form; a few hundred keys is what a busy CI fleet signs with. */
const RECENT_VERIFIERS = 512;
const recentPemVerifiers = new Map<string, VerifierKey>();
const recentDerVerifiers = new Map<string, VerifierKey>();
const recentBase64PemVerifiers = new Map<string, VerifierKey>();

/** The cached verifier under `key`, or `parse()`'s, remembered; least recently used dropped first. */
function remembered(cache: Map<string, VerifierKey>, key: string, parse: () => VerifierKey): VerifierKey {
  const cached = cache.get(key);
  if (cached) {
    cache.delete(key);
    cache.set(key, cached);
    return cached;
  }
  const verifier = parse(); // a refusal throws and is not remembered
  cache.set(key, verifier);
  if (cache.size > RECENT_VERIFIERS) cache.delete(cache.keys().next().value!);
  return verifier;
}

function parsePemVerifierUncached(pem: string, field: string): VerifierKey {
  const text = pem.trim();
  let blocks;
  try {
    blocks = decodePem(text, field);
  } catch (cause) {
    throw new LogError(
      'LOG_ENTRY_INVALID',
      `${field}: expected a PEM certificate or public key, received text without a well-formed PEM block`,
      { cause },
    );
  }
  const [block] = blocks;
  if (blocks.length !== 1 || block === undefined) {
    throw new LogError(
      'LOG_ENTRY_UNSUPPORTED',
      `${field}: expected one PEM certificate or public key, received ${blocks.length} PEM blocks (certificate chains are not accepted)`,
    );
  }
  if (!text.startsWith('-----BEGIN ') || !text.endsWith(`-----END ${block.label}-----`)) {
    throw new LogError(
      'LOG_ENTRY_INVALID',
      `${field}: expected nothing but one PEM block, received text around it`,
    );
  }
  const source = PEM_LABELS[block.label as keyof typeof PEM_LABELS];
  if (source === undefined) {
    throw new LogError(
      'LOG_ENTRY_INVALID',
      `${field}: expected a CERTIFICATE or PUBLIC KEY PEM block, received ${JSON.stringify(block.label.slice(0, 40))}`,
    );
  }
  return parseDerVerifier(block.der, source, field);
}

/** Parses the Rekor v1 form: base64 of the PEM text of a certificate or public key. */
export function parseBase64PemVerifier(content: string, field: string): VerifierKey {
  // Keyed by the base64 as sent: the same key arrives the same way with every entry it signs.
  return remembered(recentBase64PemVerifiers, content, () => parseBase64PemVerifierUncached(content, field));
}

function parseBase64PemVerifierUncached(content: string, field: string): VerifierKey {
  let pem: string;
  try {
    pem = decodeUtf8(decodeBase64(content, field), field);
  } catch (cause) {
    throw new LogError('LOG_ENTRY_INVALID', `${field}: expected base64 of a PEM certificate or public key`, {
      cause,
    });
  }
  return parsePemVerifier(pem, field);
}

/** Parses a DER certificate or DER SubjectPublicKeyInfo (the v2 form; cached as PEM verifiers are). */
export function parseDerVerifier(der: Uint8Array, source: VerifierKey['source'], field: string): VerifierKey {
  const key = `${source}:${Buffer.from(der.buffer, der.byteOffset, der.byteLength).toString('latin1')}`;
  return remembered(recentDerVerifiers, key, () => parseDerVerifierUncached(der, source, field));
}

function parseDerVerifierUncached(
  der: Uint8Array,
  source: VerifierKey['source'],
  field: string,
): VerifierKey {
  const what = source === 'certificate' ? 'a DER X.509 certificate' : 'a DER SubjectPublicKeyInfo';
  if (!isSingleDerElement(der)) {
    throw new LogError(
      'LOG_ENTRY_INVALID',
      `${field}: expected ${what}, received bytes that are not one DER element`,
    );
  }
  let key: KeyObject;
  let certificate: X509Certificate | undefined;
  try {
    if (source === 'certificate') {
      certificate = new X509Certificate(der);
      key = certificate.publicKey;
    } else {
      key = createPublicKey({ key: Buffer.from(der), format: 'der', type: 'spki' });
    }
  } catch (cause) {
    throw new LogError('LOG_ENTRY_INVALID', `${field}: expected ${what}, ${describeError(cause)}`, { cause });
  }
  const algorithm = keyAlgorithm(key, field);
  const spki = new Uint8Array(key.export({ type: 'spki', format: 'der' }));
  if (certificate !== undefined) {
    const raw = new Uint8Array(certificate.raw);
    return withCanonicalPem({ source, key, algorithm, spki, der: raw }, encodePem('CERTIFICATE', raw));
  }
  if (algorithm.type === 'ecdsa') rejectCompressedPoint(key, der, spki, field);
  return withCanonicalPem({ source, key, algorithm, spki, der: spki }, encodePem('PUBLIC KEY', spki));
}

const CURVES: Record<string, 'P-256' | 'P-384' | 'P-521'> = {
  prime256v1: 'P-256',
  secp384r1: 'P-384',
  secp521r1: 'P-521',
};

function keyAlgorithm(key: KeyObject, field: string): KeyAlgorithm {
  const details = key.asymmetricKeyDetails ?? {};
  const type = key.asymmetricKeyType;
  if (type === 'ec') {
    const curve = CURVES[details.namedCurve ?? ''];
    if (curve === undefined) {
      throw new LogError(
        'LOG_ENTRY_UNSUPPORTED',
        `${field}: expected an ECDSA key on P-256, P-384 or P-521, received curve ${details.namedCurve ?? 'unknown'}`,
      );
    }
    return { type: 'ecdsa', curve };
  }
  if (type === 'rsa') return { type: 'rsa', bits: details.modulusLength ?? 0 };
  if (type === 'ed25519') return { type: 'ed25519' };
  throw new LogError(
    'LOG_ENTRY_UNSUPPORTED',
    `${field}: expected an ECDSA, RSA or Ed25519 key, received ${type ?? 'unknown'}`,
  );
}

/** Bytes in one coordinate of a point on each curve. */
const COORDINATE_BYTES = { 'P-256': 32, 'P-384': 48, 'P-521': 66 } as const;

/**
 * Go's x509.ParsePKIXPublicKey accepts only uncompressed EC points; so does the log. The SPKI ends in
 * the point; uncompressed it is 0x04 followed by both coordinates. OpenSSL re-exports a key in the
 * form it was given, so the input DER must also equal the export (no other encoding of the same key).
 */
function rejectCompressedPoint(key: KeyObject, der: Uint8Array, spki: Uint8Array, field: string): void {
  const algorithm = keyAlgorithm(key, field);
  const pointLength = algorithm.type === 'ecdsa' ? 1 + 2 * COORDINATE_BYTES[algorithm.curve] : 0;
  if (pointLength === 0 || der[der.length - pointLength] !== 0x04 || !Buffer.from(spki).equals(der)) {
    throw new LogError(
      'LOG_ENTRY_INVALID',
      `${field}: expected an ECDSA key with an uncompressed point in a named-curve SubjectPublicKeyInfo`,
    );
  }
}

/** The verifier with its canonical PEM and the forms entries and the search index derive from it, frozen. */
function withCanonicalPem(
  value: Omit<VerifierKey, 'canonicalPem' | 'canonicalPemBase64' | 'canonicalPemSha256'>,
  canonicalPem: string,
): VerifierKey {
  const bytes = Buffer.from(canonicalPem, 'utf8');
  return Object.freeze({
    ...value,
    canonicalPem,
    canonicalPemBase64: bytes.toString('base64'),
    canonicalPemSha256: createHash('sha256').update(bytes).digest('hex'),
  });
}
