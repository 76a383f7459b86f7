import { hash } from 'node:crypto';
import {
  SigilError,
  decodeBase64,
  decodeHex,
  decodePem,
  decodeUtf8,
  encodeBase64,
  encodeHex,
  encodePem,
  encodeUtf8,
  parseJson,
  preAuthenticationEncoding,
} from '../core/index.ts';
import type { ParsedCertificate } from '../core/index.ts';
import type { Bundle, BundleContent, HashAlgorithmName, TlogEntry } from './bundle.types.ts';
import { VerificationError } from './errors.ts';

/**
 * The tlog entry's body MUST describe this bundle: same signature, same key or certificate, same
 * artifact digest (or DSSE payload). Without this check a valid log entry for anything else could be
 * attached to the bundle. Kinds and field shapes: sigstore/rekor `pkg/types/{hashedrekord,dsse,intoto}`,
 * sigstore/rekor-tiles `api/proto/rekor/v2`; checks as sigstore-js `packages/verify/src/tlog/*.ts` and
 * sigstore-python `verify/verifier.py` make them. Three fields are checked for their shape only: dsse
 * 0.0.1 `envelopeHash` (hash of the envelope text as the client sent it) and intoto 0.0.2 `hash`
 * (supplied by the client, stored as given), which no verifier can recompute, and the v2 verifier's
 * `keyDetails`, the log's own reading of the key it checked the signature with.
 */

/** Whom the bundle says signed: its leaf certificate, or the out-of-band key for a key-based bundle. */
export interface TlogBodySigner {
  readonly certificate?: ParsedCertificate;
  /** DER SubjectPublicKeyInfo; used when there is no certificate. */
  readonly publicKeyDer?: Uint8Array;
}

export interface VerifyTlogBodyOptions {
  /**
   * The artifact's digest, for a message-signature bundle without `messageDigest` (allowed in v0.1).
   * Ignored when the bundle has one. Without either, a hashedrekord body cannot be checked and fails.
   */
  readonly artifactDigest?: { readonly algorithm: HashAlgorithmName; readonly digest: Uint8Array };
}

type MessageContent = Extract<BundleContent, { kind: 'messageSignature' }>;
type DsseContent = Extract<BundleContent, { kind: 'dsseEnvelope' }>;
interface ExpectedSigner {
  readonly label: 'CERTIFICATE' | 'PUBLIC KEY';
  readonly der: Uint8Array;
}

const V001_HASH_NAMES: Readonly<Record<string, HashAlgorithmName>> = {
  sha256: 'SHA2_256',
  sha384: 'SHA2_384',
  sha512: 'SHA2_512',
};
const NODE_HASHES: Readonly<Partial<Record<HashAlgorithmName, string>>> = {
  SHA2_256: 'sha256',
  SHA2_384: 'sha384',
  SHA2_512: 'sha512',
};
const MAX_BODY_CHARACTERS = 4 * 1024 * 1024;

/**
 * Verifies that `entry.canonicalizedBody` describes `bundle` signed by `signer`: its kind and version
 * MUST equal `entry.kindVersion`, and per kind — hashedrekord 0.0.1 and 0.0.2 (message signatures, and
 * Rekor v2's hashedrekord over the DSSE PAE), dsse 0.0.1 and 0.0.2, intoto 0.0.2 — the signature,
 * verifier and digest fields MUST match. Throws VERIFY_TLOG_BODY_ERROR naming the first field that
 * differs, for a body that is not JSON of the expected shape, and for any other kind or version.
 * Throws TypeError when `signer` has neither a certificate nor a key.
 */
export function verifyTlogBody(
  entry: TlogEntry,
  bundle: Bundle,
  signer: TlogBodySigner,
  options: VerifyTlogBodyOptions = {},
): void {
  const check = new BodyCheck(entry, expectedSigner(signer));
  try {
    const body = parseJson(decodeUtf8(entry.canonicalizedBody, 'body'), {
      field: 'body',
      maxLength: MAX_BODY_CHARACTERS,
    });
    const kind = text(body, 'kind', '');
    const version = text(body, 'apiVersion', '');
    const { kind: expectedKind, version: expectedVersion } = entry.kindVersion;
    if (kind !== expectedKind || version !== expectedVersion) {
      throw check.fail(
        `kind/apiVersion: expected the entry's ${expectedKind}/${expectedVersion}, received ${kind}/${version}`,
      );
    }
    const spec = child(body, 'spec', '');
    const { content } = bundle;
    switch (`${kind}/${version}`) {
      case 'hashedrekord/0.0.1':
        return checkHashedRekordV001(check, spec, messageContent(check, content, kind), options);
      case 'hashedrekord/0.0.2':
        return checkHashedRekordV002(check, spec, content, options);
      case 'dsse/0.0.1':
        return checkDsseV001(check, spec, dsseContent(check, content, kind));
      case 'dsse/0.0.2':
        return checkDsseV002(check, spec, dsseContent(check, content, kind));
      case 'intoto/0.0.2':
        return checkIntotoV002(check, spec, dsseContent(check, content, kind));
      default:
        throw check.fail(
          `kind/apiVersion: expected hashedrekord/0.0.1, hashedrekord/0.0.2, dsse/0.0.1, dsse/0.0.2 or intoto/0.0.2, received ${kind}/${version}`,
        );
    }
  } catch (cause) {
    if (cause instanceof VerificationError) throw cause;
    // Decoding errors (CoreError) and shape errors carry the field path in their message.
    if (cause instanceof SigilError || cause instanceof ShapeError) throw check.fail(cause.message, cause);
    throw cause;
  }
}

/** hashedrekord 0.0.1: `spec.data.hash` {algorithm, hex value}, `spec.signature` {content, publicKey.content (base64 PEM)}. */
function checkHashedRekordV001(
  check: BodyCheck,
  spec: unknown,
  content: MessageContent,
  options: VerifyTlogBodyOptions,
): void {
  const digest = messageDigest(check, content, options);
  const hashJson = child(child(spec, 'data', 'spec'), 'hash', 'spec.data');
  const algorithm = text(hashJson, 'algorithm', 'spec.data.hash');
  check.equal('spec.data.hash.algorithm', digest.algorithm, V001_HASH_NAMES[algorithm] ?? algorithm);
  check.equal(
    'spec.data.hash.value',
    encodeHex(digest.digest),
    hex(text(hashJson, 'value', 'spec.data.hash'), 'spec.data.hash.value'),
  );
  const signature = child(spec, 'signature', 'spec');
  check.equal(
    'spec.signature.content',
    encodeBase64(content.signature),
    base64(text(signature, 'content', 'spec.signature'), 'spec.signature.content'),
  );
  const publicKey = child(signature, 'publicKey', 'spec.signature');
  check.verifierPem(
    'spec.signature.publicKey.content',
    text(publicKey, 'content', 'spec.signature.publicKey'),
  );
}

/**
 * hashedrekord 0.0.2 (Rekor v2 protojson): `spec.hashedRekordV002` {data {algorithm, digest},
 * signature {content, verifier}}. A DSSE bundle on Rekor v2 is logged as a hashedrekord over its PAE
 * (rekor-tiles v2.3.0 dropped dsse), hashed with the signing algorithm's hash, which `algorithm` names.
 */
function checkHashedRekordV002(
  check: BodyCheck,
  spec: unknown,
  content: BundleContent,
  options: VerifyTlogBodyOptions,
): void {
  const path = 'spec.hashedRekordV002';
  const record = child(spec, 'hashedRekordV002', 'spec');
  const data = child(record, 'data', path);
  const algorithm = text(data, 'algorithm', `${path}.data`);
  let digest: { algorithm: string; digest: Uint8Array };
  let signature: Uint8Array;
  if (content.kind === 'messageSignature') {
    digest = messageDigest(check, content, options);
    signature = content.signature;
  } else {
    const [only, ...others] = content.signatures;
    if (only === undefined || others.length > 0) {
      throw check.fail(
        `${path}: expected a DSSE envelope with one signature, received ${content.signatures.length}`,
      );
    }
    const nodeHash = NODE_HASHES[algorithm as HashAlgorithmName];
    if (nodeHash === undefined) {
      throw check.fail(
        `${path}.data.algorithm: expected SHA2_256, SHA2_384 or SHA2_512, received ${preview(algorithm)}`,
      );
    }
    const pae = preAuthenticationEncoding(content.payloadType, content.payload);
    digest = { algorithm, digest: new Uint8Array(hash(nodeHash, pae, 'buffer')) };
    signature = only.sig;
  }
  check.equal(`${path}.data.algorithm`, digest.algorithm, algorithm);
  check.equal(
    `${path}.data.digest`,
    encodeBase64(digest.digest),
    base64(text(data, 'digest', `${path}.data`), `${path}.data.digest`),
  );
  const logged = child(record, 'signature', path);
  check.equal(
    `${path}.signature.content`,
    encodeBase64(signature),
    base64(text(logged, 'content', `${path}.signature`), `${path}.signature.content`),
  );
  check.verifierV002(`${path}.signature.verifier`, child(logged, 'verifier', `${path}.signature`));
}

/** dsse 0.0.1: `spec.payloadHash` {sha256, hex}, `spec.signatures` [{signature, verifier (base64 PEM)}]. */
function checkDsseV001(check: BodyCheck, spec: unknown, envelope: DsseContent): void {
  assertHashShape(spec, 'envelopeHash', 'spec');
  const payloadHash = child(spec, 'payloadHash', 'spec');
  check.equal('spec.payloadHash.algorithm', 'sha256', text(payloadHash, 'algorithm', 'spec.payloadHash'));
  check.equal(
    'spec.payloadHash.value',
    sha256Hex(envelope.payload),
    hex(text(payloadHash, 'value', 'spec.payloadHash'), 'spec.payloadHash.value'),
  );
  const signatures = array(spec, 'signatures', 'spec').map((logged, index) => {
    const path = `spec.signatures[${index}]`;
    check.verifierPem(`${path}.verifier`, text(logged, 'verifier', path));
    return base64(text(logged, 'signature', path), `${path}.signature`);
  });
  check.signatures('spec.signatures', envelope.signatures, signatures);
}

/** dsse 0.0.2 (rekor-tiles ≤ v2.2, still sent by sigstore-js): `spec.dsseV002` {payloadHash, signatures [{content, verifier}]}. */
function checkDsseV002(check: BodyCheck, spec: unknown, envelope: DsseContent): void {
  const path = 'spec.dsseV002';
  const record = child(spec, 'dsseV002', 'spec');
  const payloadHash = child(record, 'payloadHash', path);
  check.equal(
    `${path}.payloadHash.algorithm`,
    'SHA2_256',
    text(payloadHash, 'algorithm', `${path}.payloadHash`),
  );
  check.equal(
    `${path}.payloadHash.digest`,
    encodeBase64(sha256(envelope.payload)),
    base64(text(payloadHash, 'digest', `${path}.payloadHash`), `${path}.payloadHash.digest`),
  );
  const signatures = array(record, 'signatures', path).map((logged, index) => {
    const at = `${path}.signatures[${index}]`;
    check.verifierV002(`${at}.verifier`, child(logged, 'verifier', at));
    return base64(text(logged, 'content', at), `${at}.content`);
  });
  check.signatures(`${path}.signatures`, envelope.signatures, signatures);
}

/**
 * intoto 0.0.2: `spec.content` {payloadHash {sha256, hex}, envelope {payloadType, payload?,
 * signatures [{sig, publicKey (base64 PEM)}]}}. Payload and signatures are base64 of their own base64
 * text (sigstore-js `packages/verify/src/tlog/intoto.ts`).
 */
function checkIntotoV002(check: BodyCheck, spec: unknown, envelope: DsseContent): void {
  const path = 'spec.content';
  const record = child(spec, 'content', 'spec');
  assertHashShape(record, 'hash', path);
  const payloadHash = child(record, 'payloadHash', path);
  check.equal(
    `${path}.payloadHash.algorithm`,
    'sha256',
    text(payloadHash, 'algorithm', `${path}.payloadHash`),
  );
  check.equal(
    `${path}.payloadHash.value`,
    sha256Hex(envelope.payload),
    hex(text(payloadHash, 'value', `${path}.payloadHash`), `${path}.payloadHash.value`),
  );
  const logged = child(record, 'envelope', path);
  check.equal(
    `${path}.envelope.payloadType`,
    envelope.payloadType,
    text(logged, 'payloadType', `${path}.envelope`),
  );
  // Older Rekor versions kept the payload; newer ones drop it (sigstore/rekor#1170).
  if (logged.payload !== undefined) {
    const payload = decodeTwice(text(logged, 'payload', `${path}.envelope`), `${path}.envelope.payload`);
    check.equal(`${path}.envelope.payload`, encodeBase64(envelope.payload), encodeBase64(payload));
  }
  const signatures = array(logged, 'signatures', `${path}.envelope`).map((signature, index) => {
    const at = `${path}.envelope.signatures[${index}]`;
    check.verifierPem(`${at}.publicKey`, text(signature, 'publicKey', at));
    return encodeBase64(decodeTwice(text(signature, 'sig', at), `${at}.sig`));
  });
  check.signatures(`${path}.envelope.signatures`, envelope.signatures, signatures);
}

/** Comparisons that fail with VERIFY_TLOG_BODY_ERROR naming the field, expected and received. */
class BodyCheck {
  readonly #entry: TlogEntry;
  readonly #signer: ExpectedSigner;
  #pemBase64: string | undefined;

  constructor(entry: TlogEntry, signer: ExpectedSigner) {
    this.#entry = entry;
    this.#signer = signer;
  }

  fail(message: string, cause?: unknown): VerificationError {
    return new VerificationError(
      'VERIFY_TLOG_BODY_ERROR',
      `tlog entry ${this.#entry.logIndex} body: ${message}`,
      cause === undefined ? undefined : { cause },
    );
  }

  equal(path: string, expected: string, received: string): void {
    if (expected !== received)
      throw this.fail(`${path}: expected ${preview(expected)}, received ${preview(received)}`);
  }

  /** A base64 PEM certificate or public key (Rekor v1 kinds) MUST be the signer's. */
  verifierPem(path: string, pemBase64: string): void {
    // Fast path: Rekor stores the canonical PEM (sigstore/rekor#1170), so the text usually matches
    // byte for byte and nothing needs decoding.
    if (pemBase64 === this.#canonicalPemBase64()) return;
    const pem = decodeUtf8(decodeBase64(pemBase64, path), path);
    const blocks = decodePem(pem, path);
    const [block] = blocks;
    // One block and nothing around it but a final newline: what Rekor stores (cryptoutils PEM marshalling).
    const bare = pem.replace(/\r?\n$/, '');
    if (
      block === undefined ||
      blocks.length !== 1 ||
      !bare.startsWith(`-----BEGIN ${block.label}-----`) ||
      !bare.endsWith(`-----END ${block.label}-----`)
    ) {
      throw this.fail(`${path}: expected one PEM block and nothing else, received ${preview(pem)}`);
    }
    const { label, der } = this.#signer;
    this.equal(`${path} (PEM)`, `${label} ${encodeBase64(der)}`, `${block.label} ${encodeBase64(block.der)}`);
  }

  #canonicalPemBase64(): string {
    this.#pemBase64 ??= encodeBase64(encodeUtf8(encodePem(this.#signer.label, this.#signer.der)));
    return this.#pemBase64;
  }

  /** A protobuf Verifier (Rekor v2 kinds) MUST hold the signer's certificate or key. */
  verifierV002(path: string, verifier: unknown): void {
    // keyDetails is the log's reading of the key (checked by the log against it); only its shape here.
    text(verifier, 'keyDetails', path);
    const { label, der } = this.#signer;
    const key = label === 'CERTIFICATE' ? 'x509Certificate' : 'publicKey';
    const rawBytes = text(child(verifier, key, path), 'rawBytes', `${path}.${key}`);
    this.equal(`${path}.${key}.rawBytes`, encodeBase64(der), base64(rawBytes, `${path}.${key}.rawBytes`));
  }

  /** The logged signatures (canonical base64) MUST be the envelope's, as a multiset. */
  signatures(path: string, bundleSignatures: DsseContent['signatures'], logged: readonly string[]): void {
    const expected = bundleSignatures.map(({ sig }) => encodeBase64(sig)).sort();
    const received = [...logged].sort();
    if (expected.length !== received.length) {
      throw this.fail(`${path}: expected ${expected.length} signatures, received ${received.length}`);
    }
    expected.forEach((signature, index) => this.equal(`${path}[${index}]`, signature, received[index] ?? ''));
  }
}

/** A body field of the wrong type or missing; turned into VERIFY_TLOG_BODY_ERROR by the caller. */
class ShapeError extends Error {}

/** A `{algorithm, value}` hash no verifier can recompute (see the file comment): its shape only. */
function assertHashShape(value: unknown, key: string, path: string): void {
  const found = child(value, key, path);
  text(found, 'algorithm', `${path}.${key}`);
  text(found, 'value', `${path}.${key}`);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function field(value: unknown, key: string, path: string): unknown {
  const at = path === '' ? key : `${path}.${key}`;
  if (!isObject(value))
    throw new ShapeError(`${path || 'body'}: expected an object, received ${describe(value)}`);
  if (!Object.hasOwn(value, key)) throw new ShapeError(`${at}: expected a value, received none`);
  return value[key];
}

function child(value: unknown, key: string, path: string): Record<string, unknown> {
  const found = field(value, key, path);
  if (!isObject(found))
    throw new ShapeError(
      `${path === '' ? key : `${path}.${key}`}: expected an object, received ${describe(found)}`,
    );
  return found;
}

function text(value: unknown, key: string, path: string): string {
  const found = field(value, key, path);
  if (typeof found !== 'string')
    throw new ShapeError(
      `${path === '' ? key : `${path}.${key}`}: expected a string, received ${describe(found)}`,
    );
  return found;
}

function array(value: unknown, key: string, path: string): unknown[] {
  const found = field(value, key, path);
  if (!Array.isArray(found))
    throw new ShapeError(
      `${path === '' ? key : `${path}.${key}`}: expected an array, received ${describe(found)}`,
    );
  return found as unknown[];
}

function describe(value: unknown): string {
  return Array.isArray(value) ? 'an array' : value === null ? 'null' : typeof value;
}

function expectedSigner(signer: TlogBodySigner): ExpectedSigner {
  if (signer.certificate !== undefined) return { label: 'CERTIFICATE', der: signer.certificate.der };
  if (signer.publicKeyDer !== undefined) return { label: 'PUBLIC KEY', der: signer.publicKeyDer };
  throw new TypeError('signer: expected a certificate or a public key, received neither');
}

function messageDigest(
  check: BodyCheck,
  content: MessageContent,
  options: VerifyTlogBodyOptions,
): { algorithm: HashAlgorithmName; digest: Uint8Array } {
  const digest = content.messageDigest ?? options.artifactDigest;
  if (digest === undefined) {
    throw check.fail('data hash: expected a message digest or artifact digest to compare, received neither');
  }
  return digest;
}

function messageContent(check: BodyCheck, content: BundleContent, kind: string): MessageContent {
  if (content.kind !== 'messageSignature') {
    throw check.fail(`kind: expected dsse, intoto or hashedrekord/0.0.2 for a DSSE bundle, received ${kind}`);
  }
  return content;
}

function dsseContent(check: BodyCheck, content: BundleContent, kind: string): DsseContent {
  if (content.kind !== 'dsseEnvelope') {
    throw check.fail(`kind: expected hashedrekord for a message signature bundle, received ${kind}`);
  }
  return content;
}

/** Base64 re-encoded after a strict decode, so equal bytes compare equal. */
function base64(value: string, path: string): string {
  return encodeBase64(decodeBase64(value, path));
}

/** Lower-case hex after a strict decode. */
function hex(value: string, path: string): string {
  return encodeHex(decodeHex(value, path));
}

function decodeTwice(base64: string, path: string): Uint8Array {
  return decodeBase64(decodeUtf8(decodeBase64(base64, path), path), `${path} (inner base64)`);
}

function sha256(data: Uint8Array): Uint8Array {
  return new Uint8Array(hash('sha256', data, 'buffer'));
}

function sha256Hex(data: Uint8Array): string {
  return hash('sha256', data, 'hex');
}

function preview(value: string): string {
  return JSON.stringify(value.length > 48 ? `${value.slice(0, 48)}…` : value);
}
