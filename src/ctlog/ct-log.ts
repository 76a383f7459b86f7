import { hash, type KeyObject } from 'node:crypto';
import { encodeHex, signingKeyAlgorithm, silentLogger, type Logger } from '../core/index.ts';
import { LogError, type BuiltLeaf, type TransparencyLog } from '../log/index.ts';
import { TILE_WIDTH, tileWidth } from '../merkle/index.ts';
import { EKU_CODE_SIGNING, type ParsedCertificate } from './certificate.ts';
import { verifyIssuedByAsync } from './certificate-signature.ts';
import { ChainValidator, type SubmissionKind } from './chain-validation.ts';
import { buildPendingEntry, type PendingEntry } from './log-entry.ts';
import {
  computeLogId,
  signSct,
  toAddChainResponse,
  type AddChainResponse,
  type SignedCertificateTimestamp,
} from './sct.ts';
import {
  encodeLeafIndexExtension,
  encodeTileLeaf,
  encodeTimestampedEntry,
  merkleLeafHash,
  type TimestampedEntry,
} from './tile-leaf.ts';
import { CtTimestamps } from './timestamps.ts';

export interface CtLogOptions {
  /**
   * The log engine. Its checkpoints MUST carry an RFC6962NoteSignature by `key` whose timestamps come
   * from `timestamps` (createCtCheckpointSigner); openCtLog sets this up.
   */
  log: TransparencyLog;
  /** The log's ECDSA P-256 private key: it signs SCTs, and SHA-256 of its SPKI is the log ID. */
  key: KeyObject;
  /** DER root certificates; chains must end at one of them or at a certificate one of them issued. */
  roots: readonly Uint8Array[];
  /** Where SCT timestamps come from; share it with the checkpoint signer. Default: the system clock. */
  timestamps?: CtTimestamps;
  /**
   * EKU OIDs of which the leaf must carry one. Default: codeSigning only, as Sigstore runs TesseraCT
   * (`--ext_key_usages CodeSigning`).
   */
  acceptedExtKeyUsages?: readonly string[];
  /** Most certificates in one submitted chain. Default 10. */
  maxChainLength?: number;
  /** Largest certificate accepted, in bytes of DER. Default 65,536. */
  maxCertificateBytes?: number;
  /** Issuers kept parsed, and issuer signatures kept verified, in memory. Default 1,024. */
  cachedIssuers?: number;
  logger?: Logger;
}

/** What add-chain and add-pre-chain answer. */
export interface AddChainResult {
  sct: SignedCertificateTimestamp;
  /** The RFC 6962 §4.1 response body. */
  json: AddChainResponse;
  /** The entry's index, as its SCT's leaf_index extension states. */
  index: number;
}

/** Fingerprints of issuers known to be stored, kept below this many. */
const MAX_REMEMBERED_ISSUERS = 4096;

/**
 * A certificate-transparency log (RFC 6962 write API, C2SP static-ct-api read API) over Sigil's log
 * engine. A submission is validated, its issuers stored, and its entry sequenced; only then, with the
 * index known, is the SCT signed, carrying that index in its leaf_index extension (static-ct-api §SCT
 * Extension). The stored leaf is the static-ct-api TileLeaf; its leaf hash is that of the
 * MerkleTreeLeaf inside it.
 */
export class CtLog {
  readonly log: TransparencyLog;
  /** RFC 6962 §3.2 LogID: SHA-256 of the key's DER SPKI. */
  readonly logId: Uint8Array;
  readonly #key: KeyObject;
  readonly #validator: ChainValidator;
  readonly #timestamps: CtTimestamps;
  readonly #storedIssuers = new Set<string>();
  readonly #log: Logger;

  constructor(options: CtLogOptions) {
    if (options.key.type !== 'private' || signingKeyAlgorithm(options.key) !== 'ecdsa-p256') {
      throw new TypeError(
        `key: expected an ECDSA P-256 private key, received a ${options.key.type} ${options.key.asymmetricKeyType ?? ''} key`,
      );
    }
    if (options.roots.length === 0) throw new TypeError('roots: expected at least one root certificate');
    const limits = {
      maxChainLength: options.maxChainLength ?? 10,
      maxCertificateBytes: options.maxCertificateBytes ?? 65_536,
      cachedIssuers: options.cachedIssuers ?? 1024,
    };
    for (const [name, value] of Object.entries(limits)) {
      if (!Number.isSafeInteger(value) || value < 1) {
        throw new TypeError(`${name}: expected a positive integer, received ${value}`);
      }
    }
    const acceptedExtKeyUsages = options.acceptedExtKeyUsages ?? [EKU_CODE_SIGNING];
    if (acceptedExtKeyUsages.length === 0) {
      throw new TypeError('acceptedExtKeyUsages: expected at least one EKU OID, received none');
    }
    this.log = options.log;
    this.logId = computeLogId(options.key);
    this.#key = options.key;
    this.#timestamps = options.timestamps ?? new CtTimestamps();
    this.#log = options.logger ?? silentLogger;
    // Roots that do not parse are a configuration error: ChainValidator throws CtError naming roots[i].
    this.#validator = new ChainValidator({ roots: options.roots, acceptedExtKeyUsages, ...limits });
  }

  /** RFC 6962 §4.1: logs a certificate chain (DER, leaf first; the root may be left out). */
  addChain(chain: readonly Uint8Array[]): Promise<AddChainResult> {
    return this.#submit(chain, 'certificate');
  }

  /** RFC 6962 §4.2: logs a precertificate chain (DER, precertificate first; the root may be left out). */
  addPreChain(chain: readonly Uint8Array[]): Promise<AddChainResult> {
    return this.#submit(chain, 'precertificate');
  }

  /**
   * addPreChain for a precertificate that a CA in this same process has just signed (`sigil up` runs
   * the CA and this log together): the precertificate's own signature is not verified again — a P-384
   * verification, ~1 ms here, a quarter of an issuance's CPU — while everything else (the issuers up
   * to a root, EKU, poison) is checked as for any submission. MUST NOT be used for chains that came
   * from outside the process: those go through addPreChain.
   */
  addPreChainFromLocalCa(chain: readonly Uint8Array[]): Promise<AddChainResult> {
    return this.#submit(chain, 'precertificate', true);
  }

  /** RFC 6962 §4.7 get-roots: the accepted roots, DER. */
  roots(): Uint8Array[] {
    return this.#validator.roots;
  }

  /** static-ct-api §Issuers: the DER certificate with this SHA-256 fingerprint, if an entry refers to it. */
  async readIssuer(fingerprint: Uint8Array): Promise<Uint8Array | undefined> {
    const der = await this.log.storage.readObject(fingerprint);
    if (der && !Buffer.from(hash('sha256', der, 'buffer')).equals(fingerprint)) {
      throw new LogError(
        'LOG_STORAGE_CORRUPT',
        `issuer ${encodeHex(fingerprint)}: stored bytes hash to another value`,
      );
    }
    return der;
  }

  /**
   * static-ct-api §Log entries: data tile `index` at `width` entries (the concatenated TileLeafs), or
   * undefined unless the latest checkpoint covers that many.
   */
  async readDataTile(index: number, width: number): Promise<Uint8Array | undefined> {
    const size = this.log.latestCheckpoint()?.size ?? 0;
    if (width < 1 || width > tileWidth(0, index, size)) return undefined;
    const leaves = await this.log.storage.readLeaves(index * TILE_WIDTH, width);
    if (leaves.length !== width) {
      throw new LogError(
        'LOG_STORAGE_CORRUPT',
        `data tile ${index}: expected ${width} stored leaves, received ${leaves.length}`,
      );
    }
    const tile = Buffer.concat(leaves.map((stored) => stored.leaf));
    return new Uint8Array(tile.buffer, tile.byteOffset, tile.byteLength);
  }

  /** Writes every accepted entry and closes the log engine. */
  close(): Promise<void> {
    return this.log.close();
  }

  async #submit(
    chain: readonly Uint8Array[],
    kind: SubmissionKind,
    signedInProcess = false,
  ): Promise<AddChainResult> {
    const verified = this.#validator.validate(chain, kind, { deferLeafSignature: true });
    if (verified.leafSignatureBy && !signedInProcess) {
      await verifyIssuedByAsync(verified.leaf, verified.leafSignatureBy, 'chain[0]');
    }
    const pending = buildPendingEntry(verified);
    // static-ct-api §Issuers: every issuer a TileLeaf names MUST be served, so they are stored first.
    await this.#storeIssuers(verified.issuers);
    const timestamp = this.#timestamps.forSct();
    const outcome = await this.log.append({
      searchKeys: [],
      atIndex(index) {
        return buildLeaf(timestampedEntry(timestamp, pending, index), pending);
      },
    });
    if (outcome.kind !== 'added') {
      throw new LogError(
        'LOG_STORAGE_CORRUPT',
        `a CT entry was taken for a duplicate of entry ${outcome.index}`,
      );
    }
    const sct = signSct(timestampedEntry(timestamp, pending, outcome.index), this.#key, this.logId);
    this.#log.debug({ index: outcome.index, kind, leaf: verified.leaf.fingerprint }, 'ct entry sequenced');
    return { sct, json: toAddChainResponse(sct), index: outcome.index };
  }

  async #storeIssuers(issuers: readonly ParsedCertificate[]): Promise<void> {
    const fresh = issuers.filter((issuer) => !this.#storedIssuers.has(issuer.fingerprint));
    if (fresh.length === 0) return;
    await this.log.storage.writeObjects(
      fresh.map((issuer) => ({
        key: new Uint8Array(Buffer.from(issuer.fingerprint, 'hex')),
        value: issuer.der,
      })),
    );
    if (this.#storedIssuers.size + fresh.length > MAX_REMEMBERED_ISSUERS) this.#storedIssuers.clear();
    for (const issuer of fresh) this.#storedIssuers.add(issuer.fingerprint);
  }
}

/** The stored TileLeaf for an entry at its index, and the RFC 6962 hash of its MerkleTreeLeaf. */
function buildLeaf(entry: TimestampedEntry, pending: PendingEntry): BuiltLeaf {
  return {
    leaf: encodeTileLeaf({ ...entry, ...pending }),
    leafHash: merkleLeafHash(encodeTimestampedEntry(entry)),
  };
}

/** The TimestampedEntry of `pending` at `index` (its leaf_index extension). */
function timestampedEntry(
  timestamp: TimestampedEntry['timestamp'],
  pending: { signedEntry: TimestampedEntry['signedEntry'] },
  index: number,
): TimestampedEntry {
  return { timestamp, signedEntry: pending.signedEntry, extensions: encodeLeafIndexExtension(index) };
}
