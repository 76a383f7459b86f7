import { describeError, silentLogger, type Logger } from '../core/index.ts';
import { InclusionChecker, hashesEqual, type MerkleHash, type NoteSigner } from '../merkle/index.ts';
import { LogError } from './errors.ts';
import { Integrator, type IntegratorOptions } from './integrator.ts';
import { Publisher } from './publisher.ts';
import { Sequencer, type SequencedLeaf, type SequencerOptions } from './sequencer.ts';
import type { LeafToSequence, LogStorage, StoredCheckpoint, TreeState } from './storage/storage.types.ts';
import { TileReader, storageTileSource, type TileReaderOptions } from './tile-reader.ts';

export interface TransparencyLogOptions {
  storage: LogStorage;
  /** Checkpoint origin line. */
  origin: string;
  /** Checkpoint signers; the first is the log's own key. */
  signers: readonly NoteSigner[];
  /** Checkpoint extension lines, e.g. Rekor v1's `Timestamp:`. Default none. */
  checkpointExtensions?: (state: TreeState) => string[];
  sequencer?: Omit<SequencerOptions, 'onSequenced'>;
  integrator?: IntegratorOptions;
  tiles?: TileReaderOptions;
  /** Longest a caller waits for a checkpoint that covers its entry, in ms. Default 20 000 (as Rekor v2). */
  inclusionTimeoutMs?: number;
  /** Pause before retrying a failed integration or publication, in ms. Default 500. */
  retryDelayMs?: number;
  logger?: Logger;
}

/** An entry's place in the log, proven by a checkpoint that covers it. */
export interface ProvenEntry {
  outcome: SequencedLeaf;
  checkpoint: StoredCheckpoint;
  /** Inclusion proof of `outcome.index` in the tree of `checkpoint.size` leaves. */
  proof: MerkleHash[];
}

/**
 * A transparency log: sequence → integrate → publish. `append` resolves once the entry's index is
 * durable; `appendAndProve` additionally waits for the next checkpoint that covers it (no fixed sleep)
 * and returns that checkpoint with an inclusion proof the log has checked against it.
 */
export class TransparencyLog {
  readonly storage: LogStorage;
  readonly #sequencer: Sequencer;
  readonly #integrator: Integrator;
  readonly #publisher: Publisher;
  readonly #tiles: TileReader;
  readonly #log: Logger;
  readonly #inclusionTimeoutMs: number;
  readonly #retryDelayMs: number;
  #pumping: Promise<void> | undefined;
  #again = false;
  #retry: NodeJS.Timeout | undefined;
  #closed = false;
  /** Checks the proofs handed out against the latest checkpoint, sharing the hashing they have in common. */
  #checker: InclusionChecker | undefined;

  private constructor(options: TransparencyLogOptions) {
    this.storage = options.storage;
    this.#log = options.logger ?? silentLogger;
    this.#inclusionTimeoutMs = options.inclusionTimeoutMs ?? 20_000;
    this.#retryDelayMs = options.retryDelayMs ?? 500;
    this.#integrator = new Integrator(options.storage, options.integrator);
    this.#publisher = new Publisher(options.storage, {
      origin: options.origin,
      signers: options.signers,
      ...(options.checkpointExtensions ? { extensions: options.checkpointExtensions } : {}),
    });
    this.#tiles = new TileReader(storageTileSource(options.storage), options.tiles);
    this.#sequencer = new Sequencer(options.storage, {
      ...options.sequencer,
      onSequenced: () => this.#kick(),
    });
  }

  /**
   * Opens storage, rebuilds the tree's right edge from stored tiles, integrates anything sequenced
   * before a crash and publishes a checkpoint for it.
   */
  static async open(options: TransparencyLogOptions): Promise<TransparencyLog> {
    const log = new TransparencyLog(options);
    await options.storage.open();
    await log.#integrator.open();
    await log.#publisher.open();
    await log.#publisher.publish(await log.#integrator.integrate());
    return log;
  }

  /**
   * Resolves with the entry's index once it is durable (or the existing index of an identical entry).
   * An IndexedLeaf is built at the index it is given and is never a duplicate.
   */
  append(leaf: LeafToSequence): Promise<SequencedLeaf> {
    return this.#sequencer.add(leaf);
  }

  /** Appends, waits for a covering checkpoint, and proves inclusion in it. */
  async appendAndProve(leaf: LeafToSequence): Promise<ProvenEntry> {
    const outcome = await this.append(leaf);
    const checkpoint = await this.waitForCheckpoint(outcome.index + 1);
    // An indexed leaf is deterministic: building it again gives the hash that was stored.
    const leafHash = 'atIndex' in leaf ? leaf.atIndex(outcome.index).leafHash : leaf.leafHash;
    const proof = await this.inclusionProof(outcome.index, checkpoint, leafHash);
    return { outcome, checkpoint, proof };
  }

  /** The first checkpoint with at least `size` leaves; LOG_INCLUSION_UNAVAILABLE after the timeout. */
  waitForCheckpoint(size: number): Promise<StoredCheckpoint> {
    return this.#publisher.waitFor(size, this.#inclusionTimeoutMs);
  }

  /**
   * The inclusion proof of `index` in the tree of `checkpoint`, checked against the checkpoint's root
   * before it is handed out (LOG_STORAGE_CORRUPT if storage returned a wrong hash).
   */
  async inclusionProof(
    index: number,
    checkpoint: StoredCheckpoint,
    leafHash: Uint8Array,
  ): Promise<MerkleHash[]> {
    const proof = await this.#tiles.inclusionProof(index, checkpoint.size);
    if (!this.#checkerFor(checkpoint).verifies(index, leafHash, proof)) {
      throw new LogError(
        'LOG_STORAGE_CORRUPT',
        `inclusion proof of entry ${index} does not reach the checkpoint root`,
      );
    }
    return proof;
  }

  /**
   * The checker for `checkpoint`'s tree: the one kept for the latest checkpoint, replaced when a newer
   * one is asked for; an older checkpoint gets one of its own, not kept.
   */
  #checkerFor(checkpoint: StoredCheckpoint): InclusionChecker {
    const kept = this.#checker;
    if (kept?.treeSize === checkpoint.size && hashesEqual(kept.root, checkpoint.rootHash)) return kept;
    const checker = new InclusionChecker(checkpoint.size, checkpoint.rootHash);
    if (kept === undefined || checkpoint.size > kept.treeSize) this.#checker = checker;
    return checker;
  }

  /** The inclusion proof of `index` in the tree of `treeSize` leaves, unchecked (the caller checks it). */
  inclusionProofAt(index: number, treeSize: number): Promise<MerkleHash[]> {
    return this.#tiles.inclusionProof(index, treeSize);
  }

  consistencyProof(size1: number, size2: number): Promise<MerkleHash[]> {
    return this.#tiles.consistencyProof(size1, size2);
  }

  readTile(level: number, index: number, width: number): Promise<Uint8Array | undefined> {
    return this.#tiles.readTile(level, index, width);
  }

  latestCheckpoint(): StoredCheckpoint | undefined {
    return this.#publisher.latest;
  }

  /** Entries accepted but not yet durable; for metrics and overload decisions. */
  get pendingAppends(): number {
    return this.#sequencer.pending;
  }

  /** Writes every accepted entry, integrates and publishes it, then closes storage. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#sequencer.close();
    clearTimeout(this.#retry);
    await this.#pumping;
    try {
      await this.#publisher.publish(await this.#integrator.integrate());
    } finally {
      this.#publisher.abandon(new LogError('LOG_CLOSED', 'the log is shutting down'));
      await this.storage.close();
    }
  }

  /** Runs integrate → publish until nothing new is sequenced; coalesces concurrent kicks. */
  #kick(): void {
    if (this.#pumping) {
      this.#again = true;
      return;
    }
    this.#pumping = this.#pump().finally(() => {
      this.#pumping = undefined;
      if (this.#again && !this.#closed) {
        this.#again = false;
        this.#kick();
      }
    });
  }

  async #pump(): Promise<void> {
    try {
      do {
        this.#again = false;
        await this.#publisher.publish(await this.#integrator.integrate());
      } while (this.#again);
    } catch (error) {
      this.#log.error({ err: error }, `integration failed, retrying: ${describeError(error)}`);
      if (error instanceof LogError && error.code === 'LOG_INTEGRATION_CONFLICT') {
        await this.#integrator.open().catch(() => undefined);
      }
      if (!this.#closed) {
        clearTimeout(this.#retry);
        this.#retry = setTimeout(() => this.#kick(), this.#retryDelayMs);
      }
    }
  }
}
