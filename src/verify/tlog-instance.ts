import { hash } from 'node:crypto';
import { decodeBase64Url, encodeBase64, encodeUtf8 } from '../core/index.ts';
import { hashesEqual } from '../merkle/index.ts';
import type { TlogEntry } from './bundle.types.ts';
import { VerificationError } from './errors.ts';
import type { TransparencyLogInstance, TrustedPublicKey } from './trust.types.ts';

/**
 * Which trusted transparency log an entry claims to come from. Bundles name the log by
 * `logId.keyId`: Rekor v1 puts SHA-256 of the log key's DER SPKI there, Rekor v2 the full 32-byte
 * C2SP signed-note key hash of its checkpoint key (sigstore/rekor-tiles `pkg/note/note.go` KeyHash),
 * which trusted roots v0.2 carry as `checkpointKeyId` and which is then also the root's `logId`.
 */

/** Signed-note type bytes (C2SP signed-note §Signature types; rekor-tiles KeyHash for RSA). */
const NOTE_TYPE_ED25519 = 0x01;
const NOTE_TYPE_RSA = 0xff;
const RSA_NOTE_LABEL = encodeUtf8('PKIX-RSA-PKCS#1v1.5');

const computedKeyIds = new WeakMap<TransparencyLogInstance, Uint8Array | null>();

/**
 * The trusted log whose ID equals `entry.logId`: its `logId`, its `checkpointKeyId` when the trusted
 * root gives one, or else the checkpoint key ID computed for its key (see {@link noteKeyHash}). The
 * first match in trusted-root order wins. Throws VERIFY_TLOG_UNTRUSTED when no log matches. Key
 * validity is NOT checked here: the time to check it at is the caller's (integrated time or a
 * timestamp), see {@link keyValidAt}.
 */
export function findTlog(
  entry: TlogEntry,
  tlogs: readonly TransparencyLogInstance[],
): TransparencyLogInstance {
  const wanted = entry.logId;
  for (const log of tlogs) {
    if (hashesEqual(log.logId, wanted)) return log;
    const checkpointKeyId = log.checkpointKeyId ?? noteKeyHashOf(log);
    if (checkpointKeyId !== undefined && hashesEqual(checkpointKeyId, wanted)) return log;
  }
  throw new VerificationError(
    'VERIFY_TLOG_UNTRUSTED',
    `tlog entry log id: expected one of the ${tlogs.length} trusted logs, received ${encodeBase64(wanted)}`,
  );
}

/**
 * Whether `key` was trusted at `timeMs` (ms since the epoch). Both ends of the window are inclusive:
 * protobuf-specs TimeRange is a closed interval (conformance trust-root-tlog-validity-end-inclusive).
 */
export function keyValidAt(key: TrustedPublicKey, timeMs: number): boolean {
  return timeMs >= key.validFor.start && timeMs <= key.validFor.end;
}

/**
 * The log's name as its checkpoints sign it, from its base URL: the URL without scheme or trailing
 * slash (C2SP tlog-checkpoint origins are schemeless URLs; rekor-tiles `--hostname`).
 */
export function logNameFromBaseUrl(baseUrl: string): string {
  return baseUrl.replace(/^[a-z][a-z0-9+.-]*:\/\//i, '').replace(/\/+$/, '');
}

/**
 * The full 32-byte signed-note key hash of `log`'s key under `keyName`, as rekor-tiles computes it:
 * Ed25519 `SHA-256(name || 0x0A || 0x01 || key)`, ECDSA `SHA-256(DER SPKI)`, RSA
 * `SHA-256(name || 0x0A || 0xFF || "PKIX-RSA-PKCS#1v1.5" || DER SPKI)`. Undefined for other keys.
 */
export function noteKeyHash(log: TransparencyLogInstance, keyName: string): Uint8Array | undefined {
  const { key, der } = log.publicKey;
  const type = key.asymmetricKeyType;
  if (type === 'ed25519') {
    const raw = decodeBase64Url(key.export({ format: 'jwk' }).x ?? '', 'ed25519 log key');
    return sha256(encodeUtf8(`${keyName}\n`), Uint8Array.of(NOTE_TYPE_ED25519), raw);
  }
  if (type === 'ec') return sha256(der);
  if (type === 'rsa')
    return sha256(encodeUtf8(`${keyName}\n`), Uint8Array.of(NOTE_TYPE_RSA), RSA_NOTE_LABEL, der);
  return undefined;
}

/** {@link noteKeyHash} under the name taken from the base URL, computed once per log. */
function noteKeyHashOf(log: TransparencyLogInstance): Uint8Array | undefined {
  let cached = computedKeyIds.get(log);
  if (cached === undefined) {
    cached = noteKeyHash(log, logNameFromBaseUrl(log.baseUrl)) ?? null;
    computedKeyIds.set(log, cached);
  }
  return cached ?? undefined;
}

function sha256(...parts: Uint8Array[]): Uint8Array {
  return new Uint8Array(hash('sha256', Buffer.concat(parts), 'buffer'));
}
