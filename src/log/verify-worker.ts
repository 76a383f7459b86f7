import { performance } from 'node:perf_hooks';
import { parentPort } from 'node:worker_threads';
import { verifyDigestSignature } from './entries/digest-signature.ts';
import type { HashAlgorithm } from './entries/entry.types.ts';
import { LogError, type LogErrorCode } from './errors.ts';

/**
 * The worker side of verify-pool.ts: verifies batches of digest signatures with the synchronous
 * verifyDigestSignature and answers each batch with one message.
 */

/** Jobs packed into one buffer: job i's SPKI, digest and signature follow each other in `bytes`. */
export interface VerifyBatch {
  readonly id: number;
  readonly hashes: readonly HashAlgorithm[];
  /** Three lengths per job: SPKI, digest, signature. */
  readonly lengths: Uint32Array;
  readonly bytes: Uint8Array;
}

export type VerifyOutcome =
  | { readonly kind: 'verified'; readonly valid: boolean }
  | { readonly kind: 'log-error'; readonly code: LogErrorCode; readonly message: string }
  | { readonly kind: 'error'; readonly name: string; readonly message: string; readonly code?: string };

export interface VerifyBatchResult {
  readonly id: number;
  readonly outcomes: readonly VerifyOutcome[];
  /** Time spent verifying this batch, in seconds, by the worker's clock. */
  readonly seconds: number;
}

function verifyBatch(batch: VerifyBatch): VerifyBatchResult {
  const start = performance.now();
  const { hashes, lengths, bytes } = batch;
  const outcomes: VerifyOutcome[] = [];
  let offset = 0;
  const take = (length: number): Uint8Array => bytes.subarray(offset, (offset += length));
  for (const [i, hash] of hashes.entries()) {
    const spki = take(lengths[3 * i]!);
    const digest = take(lengths[3 * i + 1]!);
    const signature = take(lengths[3 * i + 2]!);
    outcomes.push(verifyOne(spki, digest, signature, hash));
  }
  return { id: batch.id, outcomes, seconds: (performance.now() - start) / 1000 };
}

function verifyOne(
  spki: Uint8Array,
  digest: Uint8Array,
  signature: Uint8Array,
  hash: HashAlgorithm,
): VerifyOutcome {
  try {
    return { kind: 'verified', valid: verifyDigestSignature(spki, digest, signature, hash) };
  } catch (error) {
    if (error instanceof LogError) return { kind: 'log-error', code: error.code, message: error.message };
    const { name, message, code } = error as Error & { code?: unknown };
    return {
      kind: 'error',
      name: String(name),
      message: String(message),
      ...(typeof code === 'string' ? { code } : {}),
    };
  }
}

parentPort?.on('message', (batch: VerifyBatch) => {
  parentPort?.postMessage(verifyBatch(batch));
});
