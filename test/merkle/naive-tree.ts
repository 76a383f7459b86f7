import { emptyRoot, hashChildren, hashLeaf } from '../../src/merkle/hash.ts';
import type { MerkleHash } from '../../src/merkle/hash.ts';
import type { NodeHashReader } from '../../src/merkle/proof-nodes.ts';

/**
 * A reference Merkle tree written straight from the recursive definitions of RFC 6962 §2.1 (MTH),
 * §2.1.1 (PATH) and §2.1.2 (PROOF, SUBPROOF), to check the iterative code in src/merkle against.
 * Subtree hashes are memoized, so proofs cost O(log n) lookups once the tree has been walked.
 */
export class NaiveTree {
  readonly leafHashes: readonly MerkleHash[];
  readonly #memo = new Map<string, MerkleHash>();

  constructor(leafHashes: readonly MerkleHash[]) {
    this.leafHashes = leafHashes;
  }

  /** MTH(D[start:end]). */
  root(start = 0, end = this.leafHashes.length): MerkleHash {
    const n = end - start;
    if (n === 0) return emptyRoot();
    if (n === 1) return this.leafHashes[start] as MerkleHash;
    const key = `${start}:${end}`;
    const known = this.#memo.get(key);
    if (known !== undefined) return known;
    const k = splitPoint(n);
    const hash = hashChildren(this.root(start, start + k), this.root(start + k, end));
    this.#memo.set(key, hash);
    return hash;
  }

  /** PATH(m, D[start:end]), the inclusion proof of leaf start + m. */
  path(m: number, start = 0, end = this.leafHashes.length): MerkleHash[] {
    const n = end - start;
    if (n <= 1) return [];
    const k = splitPoint(n);
    if (m < k) return [...this.path(m, start, start + k), this.root(start + k, end)];
    return [...this.path(m - k, start + k, end), this.root(start, start + k)];
  }

  /** PROOF(m, D[0:size]), the consistency proof from m to size leaves. */
  consistency(m: number, size = this.leafHashes.length): MerkleHash[] {
    return this.#subproof(m, 0, size, true);
  }

  /** A reader of complete nodes that refuses any node not complete in the tree of `size` leaves. */
  readerAt(size: number): NodeHashReader {
    return {
      nodeHash: (level, index) => {
        const start = index * 2 ** level;
        const end = start + 2 ** level;
        if (end > size) throw new Error(`node (${level}, ${index}) is not complete at size ${size}`);
        return this.root(start, end);
      },
    };
  }

  #subproof(m: number, start: number, end: number, b: boolean): MerkleHash[] {
    const n = end - start;
    if (m === n) return b ? [] : [this.root(start, end)];
    const k = splitPoint(n);
    if (m <= k) return [...this.#subproof(m, start, start + k, b), this.root(start + k, end)];
    return [...this.#subproof(m - k, start + k, end, false), this.root(start, start + k)];
  }
}

/** The largest power of two smaller than n (n ≥ 2), computed the slow way on purpose. */
function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/** A seeded PRNG (mulberry32), so the random trees are the same on every run. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `count` leaf hashes of random leaves of 0 to 63 bytes. */
export function randomLeafHashes(count: number, random: () => number): MerkleHash[] {
  return Array.from({ length: count }, () => {
    const data = Uint8Array.from({ length: Math.floor(random() * 64) }, () => Math.floor(random() * 256));
    return hashLeaf(data);
  });
}

/**
 * A tree of any size (up to 2^53-1) whose leaves all hash to the same value, so every complete node
 * of level l has the same hash: enough to exercise proof arithmetic on indices far above 2^32.
 */
export class UniformTree {
  readonly #levels: MerkleHash[] = [hashLeaf(new Uint8Array([0x5a]))];

  nodeHash(level: number): MerkleHash {
    while (this.#levels.length <= level) {
      const below = this.#levels[this.#levels.length - 1] as MerkleHash;
      this.#levels.push(hashChildren(below, below));
    }
    return this.#levels[level] as MerkleHash;
  }

  /** The root of the tree of `size` leaves: its frontier folded right to left. */
  root(size: number): MerkleHash {
    const levels: number[] = [];
    for (let level = 0, rest = size; rest > 0; level++, rest = Math.floor(rest / 2)) {
      if (rest % 2 === 1) levels.push(level);
    }
    if (levels.length === 0) return emptyRoot();
    let root = this.nodeHash(levels[0] as number);
    for (const level of levels.slice(1)) root = hashChildren(this.nodeHash(level), root);
    return root;
  }

  readerAt(size: number): NodeHashReader {
    return {
      nodeHash: (level, index) => {
        if ((index + 1) * 2 ** level > size) throw new Error(`node (${level}, ${index}) is not complete`);
        return this.nodeHash(level);
      },
    };
  }
}
