import { timeoutSignal } from '../core/index.ts';
import {
  TILE_WIDTH,
  entryBundlePath,
  hashLeaf,
  hashesEqual,
  tilePath,
  tileWidth,
  verifyCheckpoint,
  verifyConsistency,
  verifyInclusion,
  type Checkpoint,
  type MerkleHash,
  type NoteVerifier,
} from '../merkle/index.ts';
import { LogError } from './errors.ts';
import { TileReader, type TileSource } from './tile-reader.ts';

export interface TilesClientOptions {
  /** The log's base URL; tiles are read from `<baseUrl>/tile/…` and `<baseUrl>/checkpoint`. */
  baseUrl: string;
  /** Keys the checkpoint MUST be signed by (at least one). */
  verifiers: readonly NoteVerifier[];
  /** The origin the checkpoint MUST carry; any when absent. */
  origin?: string;
  /** Injected for tests and proxies. Default: the global fetch. */
  fetch?: typeof globalThis.fetch;
  /** Per-request timeout, in ms. Default 10 000. */
  timeoutMs?: number;
}

export interface FetchedCheckpoint {
  checkpoint: Checkpoint;
  /** The signed note as served. */
  note: string;
}

/**
 * A verifying client of a C2SP tlog-tiles log: it trusts nothing it did not check. Checkpoints must be
 * signed by a configured key; proofs are built from the log's tiles and verified against them.
 */
export class TilesClient {
  readonly #base: string;
  readonly #options: TilesClientOptions;
  readonly #fetch: typeof globalThis.fetch;
  readonly #timeoutMs: number;
  readonly #reader: TileReader;

  constructor(options: TilesClientOptions) {
    this.#base = options.baseUrl.replace(/\/+$/, '');
    this.#options = options;
    this.#fetch = options.fetch ?? globalThis.fetch;
    this.#timeoutMs = options.timeoutMs ?? 10_000;
    this.#reader = new TileReader(this.#tileSource());
  }

  /** The log's latest checkpoint, its signature and origin checked. */
  async checkpoint(): Promise<FetchedCheckpoint> {
    const note = new TextDecoder().decode(await this.#get('checkpoint'));
    return { note, checkpoint: this.verifyCheckpointNote(note) };
  }

  /** Checks a checkpoint note against the configured keys and origin (LOG_REMOTE_INVALID otherwise). */
  verifyCheckpointNote(note: string): Checkpoint {
    try {
      const origin = this.#options.origin;
      return verifyCheckpoint(note, this.#options.verifiers, origin === undefined ? {} : { origin })
        .checkpoint;
    } catch (cause) {
      throw new LogError('LOG_REMOTE_INVALID', `checkpoint from ${this.#base}: ${(cause as Error).message}`, {
        cause,
      });
    }
  }

  /** The entries of bundle `index` at `width` entries. */
  async entryBundle(index: number, width: number): Promise<Uint8Array[]> {
    const bytes = await this.#getTileWithFallback(
      entryBundlePath(index, width),
      entryBundlePath(index, TILE_WIDTH),
      width,
    );
    const entries: Uint8Array[] = [];
    let offset = 0;
    while (offset < bytes.length && entries.length < width) {
      if (offset + 2 > bytes.length) break;
      const length = (bytes[offset]! << 8) | bytes[offset + 1]!;
      if (offset + 2 + length > bytes.length) break;
      entries.push(bytes.subarray(offset + 2, offset + 2 + length));
      offset += 2 + length;
    }
    if (entries.length !== width) {
      throw new LogError(
        'LOG_REMOTE_INVALID',
        `entry bundle ${index}: expected ${width} entries, decoded ${entries.length}`,
      );
    }
    return entries;
  }

  /**
   * Entry `index` of the tree of `checkpoint`, proven included: its hash against the level-0 tile and
   * an inclusion proof to the checkpoint's root.
   */
  async provenEntry(
    index: number,
    checkpoint: Checkpoint,
  ): Promise<{ entry: Uint8Array; leafHash: MerkleHash; proof: MerkleHash[] }> {
    if (!Number.isSafeInteger(index) || index < 0 || index >= checkpoint.size) {
      throw new LogError(
        'LOG_INDEX_INVALID',
        `index: expected 0 to ${checkpoint.size - 1}, received ${index}`,
      );
    }
    const bundle = Math.floor(index / TILE_WIDTH);
    const entries = await this.entryBundle(bundle, tileWidth(0, bundle, checkpoint.size));
    const entry = entries[index % TILE_WIDTH]!;
    const leafHash = hashLeaf(entry);
    const proof = await this.#reader.inclusionProof(index, checkpoint.size);
    try {
      verifyInclusion(index, checkpoint.size, leafHash, proof, checkpoint.rootHash);
    } catch (cause) {
      throw new LogError(
        'LOG_REMOTE_INVALID',
        `entry ${index} is not included in the checkpoint: ${(cause as Error).message}`,
        { cause },
      );
    }
    return { entry, leafHash, proof };
  }

  /**
   * Proves `newer` consistent with `older` from the log's tiles (RFC 9162 §2.1.4); LOG_INCONSISTENT
   * when it is not: the log has shown two different histories.
   */
  async proveConsistent(older: Checkpoint, newer: Checkpoint): Promise<MerkleHash[]> {
    if (newer.size < older.size) {
      throw new LogError('LOG_INCONSISTENT', `tree shrank from ${older.size} to ${newer.size} leaves`);
    }
    if (older.size === 0) return [];
    if (older.size === newer.size) {
      if (!hashesEqual(older.rootHash, newer.rootHash)) {
        throw new LogError('LOG_INCONSISTENT', `two different roots for tree size ${older.size}`);
      }
      return [];
    }
    const proof = await this.#reader.consistencyProof(older.size, newer.size);
    try {
      verifyConsistency(older.size, newer.size, proof, older.rootHash, newer.rootHash);
    } catch (cause) {
      throw new LogError(
        'LOG_INCONSISTENT',
        `tree of size ${newer.size} is not an extension of tree of size ${older.size}: ${(cause as Error).message}`,
        { cause },
      );
    }
    return proof;
  }

  #tileSource(): TileSource {
    return {
      readTiles: (ids) =>
        Promise.all(
          ids.map((id) =>
            this.#getTileWithFallback(
              tilePath(id),
              tilePath({ level: id.level, index: id.index, width: TILE_WIDTH }),
              id.width,
            ),
          ),
        ),
    };
  }

  /** C2SP tlog-tiles: a partial tile may be gone once full, so fall back to the full tile. */
  async #getTileWithFallback(path: string, fullPath: string, width: number): Promise<Uint8Array> {
    try {
      return await this.#get(path);
    } catch (error) {
      if (width < TILE_WIDTH && error instanceof LogError && error.code === 'LOG_REMOTE_NOT_FOUND') {
        return this.#get(fullPath);
      }
      throw error;
    }
  }

  async #get(path: string): Promise<Uint8Array> {
    const url = `${this.#base}/${path}`;
    let response: Response;
    const deadline = timeoutSignal(this.#timeoutMs); // for the request and its body
    try {
      try {
        response = await this.#fetch(url, { signal: deadline.signal });
      } catch (cause) {
        throw new LogError('LOG_REMOTE_FAILED', `GET ${url} failed: ${(cause as Error).message}`, { cause });
      }
      if (!response.ok) {
        const code = response.status === 404 ? 'LOG_REMOTE_NOT_FOUND' : 'LOG_REMOTE_FAILED';
        throw new LogError(code, `GET ${url}: HTTP ${response.status}`);
      }
      return new Uint8Array(await response.arrayBuffer());
    } finally {
      deadline.clear();
    }
  }
}
