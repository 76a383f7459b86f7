import { constants, verify } from 'node:crypto';
import { canonicalizeJsonBytes, encodeBase64, encodeHex } from '../core/index.ts';
import type { TlogEntry } from './bundle.types.ts';
import { VerificationError } from './errors.ts';
import { signatureHashOf } from './public-key.ts';
import { keyValidAt } from './tlog-instance.ts';
import type { TransparencyLogInstance, TrustedPublicKey } from './trust.types.ts';
import { verifyOnce } from './internal/verified-signatures.ts';

/**
 * The signed entry timestamp (inclusion promise) of a Rekor v1 entry: the log's signature over the
 * RFC 8785 JSON of `{body, integratedTime, logID, logIndex}` (sigstore/rekor `pkg/api/entries.go`
 * signEntry; sigstore-js `packages/verify/src/tlog/set.ts`). It is what makes `integratedTime` a time
 * the verifier may use.
 */

/**
 * Verifies `entry.signedEntryTimestamp` with `log`'s key, then that the key was trusted at the entry's
 * integrated time (both ends inclusive). `log` MUST be the log `findTlog` chose for this entry.
 * Throws VERIFY_TLOG_SET_ERROR when the SET is missing or does not verify, VERIFY_TLOG_UNTRUSTED when
 * the log key was not valid at the integrated time.
 */
export function verifySignedEntryTimestamp(entry: TlogEntry, log: TransparencyLogInstance): void {
  const signature = entry.signedEntryTimestamp;
  if (signature === undefined || signature.length === 0) {
    throw new VerificationError(
      'VERIFY_TLOG_SET_ERROR',
      `tlog entry ${entry.logIndex}: signed entry timestamp: expected one, received none`,
    );
  }
  const payload = setPayload(entry);
  if (!verifyWithTrustedKey(log.publicKey, payload, signature)) {
    throw new VerificationError(
      'VERIFY_TLOG_SET_ERROR',
      `tlog entry ${entry.logIndex}: signed entry timestamp: expected a valid signature by the key of ${log.baseUrl}, received one that does not verify`,
    );
  }
  const timeMs = entry.integratedTime * 1000;
  if (!keyValidAt(log.publicKey, timeMs)) {
    throw new VerificationError(
      'VERIFY_TLOG_UNTRUSTED',
      `tlog entry ${entry.logIndex}: integrated time: expected within the validity of the key of ${log.baseUrl} (${describeWindow(log.publicKey)}), received ${describeTime(timeMs)}`,
    );
  }
}

/**
 * The RFC 8785 JSON of `{body, integratedTime, logID, logIndex}`; logIndex is the virtual (cross-shard)
 * index here. Written out when both numbers are safe integers — the keys are in JCS order, base64 and
 * hex need no escapes, and a safe integer prints as JCS prints it — instead of walking the ~2 KB body
 * character by character (as the log writes it, src/log/rekor-v1.ts).
 */
function setPayload(entry: TlogEntry): Uint8Array {
  const body = encodeBase64(entry.canonicalizedBody);
  const logId = encodeHex(entry.logId);
  const { integratedTime, logIndex } = entry;
  if (!Number.isSafeInteger(integratedTime) || !Number.isSafeInteger(logIndex)) {
    return canonicalizeJsonBytes({ body, integratedTime, logID: logId, logIndex });
  }
  return Buffer.from(
    `{"body":"${body}","integratedTime":${integratedTime},"logID":"${logId}","logIndex":${logIndex}}`,
  );
}

/** Whether `signature` over `message` verifies with the trusted key; false (never a throw) otherwise. */
function verifyWithTrustedKey(
  trusted: TrustedPublicKey,
  message: Uint8Array,
  signature: Uint8Array,
): boolean {
  // node:crypto offers no Ed25519ph (RFC 8032 §5.1); no public log signs SETs with it.
  if (trusted.details === 'PKIX_ED25519_PH') return false;
  const pss = trusted.details.startsWith('PKIX_RSA_PSS_');
  try {
    return verifyOnce([trusted.der, trusted.details, message, signature], () =>
      verify(
        signatureHashOf(trusted.details),
        message,
        pss
          ? {
              key: trusted.key,
              padding: constants.RSA_PKCS1_PSS_PADDING,
              saltLength: constants.RSA_PSS_SALTLEN_AUTO,
            }
          : { key: trusted.key, dsaEncoding: 'der' },
        signature,
      ),
    );
  } catch {
    // A key that does not match its declared details, or a signature OpenSSL cannot parse.
    return false;
  }
}

function describeWindow(key: TrustedPublicKey): string {
  const end = key.validFor.end === Infinity ? 'open' : describeTime(key.validFor.end);
  return `${describeTime(key.validFor.start)} to ${end}`;
}

/** ISO 8601 where Date can show the time; attacker-chosen times may lie beyond its ±8.64e15 ms range. */
function describeTime(timeMs: number): string {
  return Math.abs(timeMs) <= 8.64e15 ? new Date(timeMs).toISOString() : `${timeMs} ms since the epoch`;
}
