import { performance } from 'node:perf_hooks';
import { parentPort, workerData } from 'node:worker_threads';
import { admitRequestBody, type AdmittedEntry } from './admission.ts';
import type { EntryApi, ParseEntryOptions } from './entries/index.ts';
import { verificationSeconds } from './entries/verify-clock.ts';
import { LogError, type LogErrorCode } from './errors.ts';

/**
 * The worker side of admission-pool.ts: admits batches of request bodies with the synchronous
 * admitRequestBody (parse, validate, verify, canonicalize, hash) and answers each batch with one
 * message. `workerData` carries the ParseEntryOptions.
 */

/** Request bodies packed into one buffer: body i follows body i − 1 in `bytes`. */
export interface AdmissionBatch {
  readonly id: number;
  readonly apis: readonly EntryApi[];
  readonly lengths: Uint32Array;
  readonly bytes: Uint8Array;
}

export type AdmissionOutcome =
  | { readonly kind: 'admitted'; readonly entry: AdmittedEntry }
  | { readonly kind: 'log-error'; readonly code: LogErrorCode; readonly message: string }
  | { readonly kind: 'error'; readonly name: string; readonly message: string; readonly code?: string };

export interface AdmissionBatchResult {
  readonly id: number;
  readonly outcomes: readonly AdmissionOutcome[];
  /** Time spent admitting this batch, in seconds, by the worker's clock. */
  readonly seconds: number;
  /** The part of `seconds` spent verifying signatures. */
  readonly verifySeconds: number;
}

const options = (workerData ?? {}) as ParseEntryOptions;

function admitBatch(batch: AdmissionBatch): AdmissionBatchResult {
  const start = performance.now();
  const verifyingBefore = verificationSeconds();
  const outcomes: AdmissionOutcome[] = [];
  let offset = 0;
  for (const [i, api] of batch.apis.entries()) {
    const body = batch.bytes.subarray(offset, (offset += batch.lengths[i]!));
    outcomes.push(admitOne(api, body));
  }
  return {
    id: batch.id,
    outcomes,
    seconds: (performance.now() - start) / 1000,
    verifySeconds: verificationSeconds() - verifyingBefore,
  };
}

function admitOne(api: EntryApi, body: Uint8Array): AdmissionOutcome {
  try {
    return { kind: 'admitted', entry: admitRequestBody(api, body, options) };
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

parentPort?.on('message', (batch: AdmissionBatch) => {
  parentPort?.postMessage(admitBatch(batch));
});
