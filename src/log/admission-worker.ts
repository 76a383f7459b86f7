import { performance } from 'node:perf_hooks';
import { parentPort, receiveMessageOnPort, workerData, type MessagePort } from 'node:worker_threads';
import { admitRequestBody, type AdmittedEntry } from './admission.ts';
import type { EntryApi, ParseEntryOptions } from './entries/index.ts';
import { verificationSeconds } from './entries/verify-clock.ts';
import { LogError, type LogErrorCode } from './errors.ts';
import { renderRekorV1LogEntry, type RekorV1EntryParts, type RekorV1Identity } from './rekor-v1-entry.ts';

/**
 * The worker side of admission-pool.ts: admits batches of request bodies with the synchronous
 * admitRequestBody (parse, validate, verify, canonicalize, hash), and renders batches of Rekor v1
 * LogEntries with their SignedEntryTimestamps; each batch is answered with one message.
 */

export interface AdmissionWorkerData {
  readonly entryOptions: ParseEntryOptions;
  /** The Rekor v1 log whose LogEntries this worker renders, if any. */
  readonly rekorV1?: RekorV1Identity;
}

/** Request bodies packed into one buffer: body i follows body i − 1 in `bytes`. */
export interface AdmissionBatch {
  readonly kind: 'admit';
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
  readonly kind: 'admitted';
  readonly id: number;
  readonly outcomes: readonly AdmissionOutcome[];
  /** Time spent admitting this batch, in seconds, by the worker's clock. */
  readonly seconds: number;
  /** The part of `seconds` spent verifying signatures. */
  readonly verifySeconds: number;
}

/** LogEntries to render (rekor-v1-entry.ts), for responses waiting on the event loop. */
export interface RenderBatch {
  readonly kind: 'render-v1';
  readonly id: number;
  readonly items: readonly RekorV1EntryParts[];
}

/** Each item's UTF-8 JSON packed into one buffer, as AdmissionBatch packs bodies; or why none is. */
export type RenderBatchResult =
  | {
      readonly kind: 'rendered';
      readonly id: number;
      readonly lengths: Uint32Array<ArrayBuffer>;
      readonly bytes: Uint8Array<ArrayBuffer>;
    }
  | { readonly kind: 'render-failed'; readonly id: number; readonly message: string };

/** The port renders arrive on, sent once after the worker starts. */
export interface RenderPortMessage {
  readonly kind: 'render-port';
  readonly port: MessagePort;
}

/** What the pool posts to the worker itself; render batches go to the render port. */
export type WorkerMessage = AdmissionBatch | RenderPortMessage;
export type WorkerResult = AdmissionBatchResult | RenderBatchResult;

const data = (workerData ?? { entryOptions: {} }) as AdmissionWorkerData;
const options = data.entryOptions;

function admitBatch(batch: AdmissionBatch): AdmissionBatchResult {
  const start = performance.now();
  const verifyingBefore = verificationSeconds();
  let rendering = 0; // ms spent on renders taken between two bodies, not admitting
  const outcomes: AdmissionOutcome[] = [];
  let offset = 0;
  for (const [i, api] of batch.apis.entries()) {
    rendering += renderWaiting(); // an answer waits for those; these bodies wait for the whole batch anyway
    const body = batch.bytes.subarray(offset, (offset += batch.lengths[i]!));
    outcomes.push(admitOne(api, body));
  }
  return {
    kind: 'admitted',
    id: batch.id,
    outcomes,
    seconds: (performance.now() - start - rendering) / 1000,
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

const encoder = new TextEncoder();

function renderBatch(batch: RenderBatch): RenderBatchResult {
  try {
    if (!data.rekorV1) throw new Error('this worker was started without a Rekor v1 log to render for');
    const rendered = batch.items.map((parts) => renderRekorV1LogEntry(parts, data.rekorV1!));
    const lengths = new Uint32Array(rendered.map((text) => Buffer.byteLength(text)));
    const bytes = new Uint8Array(lengths.reduce((sum, length) => sum + length, 0));
    let offset = 0;
    for (const [i, text] of rendered.entries()) {
      encoder.encodeInto(text, bytes.subarray(offset));
      offset += lengths[i]!;
    }
    return { kind: 'rendered', id: batch.id, lengths, bytes };
  } catch (error) {
    return { kind: 'render-failed', id: batch.id, message: String((error as Error).message) };
  }
}

let renderPort: MessagePort | undefined;

function answerRender(port: MessagePort, batch: RenderBatch): void {
  const result = renderBatch(batch);
  port.postMessage(result, result.kind === 'rendered' ? [result.lengths.buffer, result.bytes.buffer] : []);
}

/** Renders every batch already waiting on the render port, ahead of the admissions; the ms it took. */
function renderWaiting(): number {
  if (!renderPort) return 0;
  const start = performance.now();
  for (
    let received = receiveMessageOnPort(renderPort);
    received;
    received = receiveMessageOnPort(renderPort)
  ) {
    answerRender(renderPort, received.message as RenderBatch);
  }
  return performance.now() - start;
}

parentPort?.on('message', (message: WorkerMessage) => {
  switch (message.kind) {
    case 'admit':
      parentPort?.postMessage(admitBatch(message));
      return;
    case 'render-port': {
      const port = message.port;
      renderPort = port;
      port.on('message', (batch: RenderBatch) => answerRender(port, batch));
      return;
    }
  }
});
