// The Merkle core alone, on one core: node hashes, leaf appends, and proof verification in a tree of
// about 100,000 leaves (17 hashes per proof). Prints figures only; nothing here has a target yet.
import { randomBytes } from 'node:crypto';
import { CompactRange } from '../src/merkle/compact-range.ts';
import { buildConsistencyProof, verifyConsistency } from '../src/merkle/consistency-proof.ts';
import { hashChildren, hashLeaf } from '../src/merkle/hash.ts';
import type { MerkleHash } from '../src/merkle/hash.ts';
import { InclusionChecker, buildInclusionProof, verifyInclusion } from '../src/merkle/inclusion-proof.ts';
import type { NodeHashReader } from '../src/merkle/proof-nodes.ts';
import { report } from './report.ts';

const TREE_SIZE = Number(process.env.SIGIL_BENCH_TREE_SIZE ?? 100_003);

/** Calls `run` for about `seconds` after a short warm-up and returns calls per second. */
function rate(run: (i: number) => void, seconds = 1): number {
  for (let i = 0; i < 2_000; i++) run(i);
  let calls = 0;
  const start = performance.now();
  const until = start + seconds * 1000;
  while (performance.now() < until) {
    for (let i = 0; i < 1_000; i++) run(calls++);
  }
  return calls / ((performance.now() - start) / 1000);
}

const left = hashLeaf(randomBytes(16));
const right = hashLeaf(randomBytes(16));
report(
  'merkle: hashChildren/s',
  rate(() => hashChildren(left, right)),
  {},
);

const body = randomBytes(400); // about the size of a hashedrekord body
report(
  'merkle: hashLeaf/s (400-byte leaf)',
  rate(() => hashLeaf(body)),
  {},
);

// Build the tree once through the compact range, keeping every complete node for proof generation.
const leafHashes = Array.from({ length: TREE_SIZE }, () => hashLeaf(randomBytes(32)));
const levels: MerkleHash[][] = [];
const range = CompactRange.empty();
const start = performance.now();
range.appendAll(leafHashes, (node, hash) => {
  (levels[node.level] ??= [])[node.index] = hash;
});
report(
  'merkle: CompactRange appends/s (storing nodes)',
  TREE_SIZE / ((performance.now() - start) / 1000),
  {},
);
const root = range.rootHash();
const reader: NodeHashReader = { nodeHash: (level, index) => levels[level]?.[index] as MerkleHash };

const samples = Array.from({ length: 1_024 }, (_, i) => Math.floor((i * TREE_SIZE) / 1_024));
const proofs = samples.map((index) => buildInclusionProof(index, TREE_SIZE, reader));
report(
  `merkle: verifyInclusion/s (size ${TREE_SIZE})`,
  rate((i) => {
    const j = i % samples.length;
    const index = samples[j] as number;
    verifyInclusion(index, TREE_SIZE, leafHashes[index] as MerkleHash, proofs[j] as MerkleHash[], root);
  }),
  {},
);
// What the log does after each checkpoint: check the proofs of the batch of consecutive leaves it
// covers (here 16 leaves, a new checker per batch), against checking each proof on its own.
const BATCH = 16;
const batchProofs = Array.from({ length: 64 * BATCH }, (_, i) => {
  const index = TREE_SIZE - 64 * BATCH + i;
  return { index, proof: buildInclusionProof(index, TREE_SIZE, reader) };
});
let checker = new InclusionChecker(TREE_SIZE, root);
report(
  `merkle: InclusionChecker/s (batches of ${BATCH} leaves)`,
  rate((i) => {
    const j = i % batchProofs.length;
    if (j % BATCH === 0) checker = new InclusionChecker(TREE_SIZE, root);
    const { index, proof } = batchProofs[j]!;
    if (!checker.verifies(index, leafHashes[index] as MerkleHash, proof)) throw new Error('proof refused');
  }),
  {},
);
report(
  `merkle: verifyInclusion/s (the same, one by one)`,
  rate((i) => {
    const { index, proof } = batchProofs[i % batchProofs.length]!;
    verifyInclusion(index, TREE_SIZE, leafHashes[index] as MerkleHash, proof, root);
  }),
  {},
);
report(
  `merkle: buildInclusionProof/s (size ${TREE_SIZE})`,
  rate((i) => buildInclusionProof(samples[i % samples.length] as number, TREE_SIZE, reader)),
  {},
);

const size1 = Math.floor(TREE_SIZE * 0.7) + 1;
const oldRange = CompactRange.empty();
oldRange.appendAll(leafHashes.slice(0, size1));
const oldRoot = oldRange.rootHash();
const consistency = buildConsistencyProof(size1, TREE_SIZE, reader);
report(
  `merkle: verifyConsistency/s (${size1} → ${TREE_SIZE})`,
  rate(() => verifyConsistency(size1, TREE_SIZE, consistency, oldRoot, root)),
  {},
);
