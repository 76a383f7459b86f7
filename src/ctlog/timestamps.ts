import type { KeyObject } from 'node:crypto';
import { systemClock, type Clock } from '../core/index.ts';
import {
  createRfc6962Signer,
  parseSignedNote,
  readRfc6962Timestamp,
  type NoteSigner,
} from '../merkle/index.ts';

/**
 * The millisecond timestamps of one CT log: SCTs and tree heads (RFC 6962 §3.5: a tree head's timestamp
 * MUST be at least as recent as every SCT timestamp in the tree, and each MUST be more recent than the
 * previous tree head's). Both come from here, so a clock that steps back (NTP, a restart on another
 * node) never breaks those rules: time holds still for SCTs and creeps forward 1 ms per tree head.
 */
export class CtTimestamps {
  readonly #clock: Clock;
  #latest: number;

  /** `floor`: the latest timestamp already published, e.g. read from the stored checkpoint. */
  constructor(clock: Clock = systemClock, floor = 0) {
    this.#clock = clock;
    this.#latest = floor;
  }

  /** For an SCT: now, but never before the latest tree head. */
  forSct(): number {
    this.#latest = Math.max(this.#clock.now().getTime(), this.#latest);
    return this.#latest;
  }

  /** For a tree head: now, but after every timestamp handed out so far. */
  forTreeHead(): number {
    this.#latest = Math.max(this.#clock.now().getTime(), this.#latest + 1);
    return this.#latest;
  }
}

/**
 * The checkpoint signer of a static-ct-api log: an RFC6962NoteSignature (c2sp.org/static-ct-api
 * §Checkpoints) whose tree head timestamp comes from `timestamps` at the moment each checkpoint is
 * signed (the key's SPKI and key ID are derived once: exporting a key costs ~180 µs here). The key name
 * MUST be the log's origin (the submission prefix without scheme or trailing slash).
 */
export function createCtCheckpointSigner(
  origin: string,
  key: KeyObject,
  timestamps: CtTimestamps,
): NoteSigner {
  return createRfc6962Signer(origin, key, () => timestamps.forTreeHead());
}

/**
 * The tree head timestamp of `signer`'s signature on a stored checkpoint note, or 0 if it carries
 * none; what a restarted log must not go back behind.
 */
export function checkpointTimestamp(note: string, signer: NoteSigner): number {
  const signature = parseSignedNote(note).signatures.find(
    (candidate) => candidate.keyName === signer.keyName && candidate.keyId === signer.keyId,
  );
  return signature ? readRfc6962Timestamp(signature.signature) : 0;
}
