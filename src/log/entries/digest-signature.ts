import { CoreError, verifyDigestSignature as verifyDigestSignatureInCore } from '../../core/index.ts';
import { LogError } from '../errors.ts';
import type { HashAlgorithm } from './entry.types.ts';
import { timeVerification } from './verify-clock.ts';

/**
 * core's verifyDigestSignature (core/digest-signature.ts) as hashedrekord admission uses it: timed for
 * the verification-share metric, and a key type no digest signature exists for refused as
 * LOG_ENTRY_UNSUPPORTED.
 */
export function verifyDigestSignature(
  spki: Uint8Array,
  digest: Uint8Array,
  signature: Uint8Array,
  hashAlgorithm: HashAlgorithm,
): boolean {
  try {
    return timeVerification(() => verifyDigestSignatureInCore(spki, digest, signature, hashAlgorithm));
  } catch (error) {
    if (error instanceof CoreError && error.code === 'CORE_KEY_UNSUPPORTED') {
      throw new LogError('LOG_ENTRY_UNSUPPORTED', error.message, { cause: error });
    }
    throw error;
  }
}
