import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, it } from 'node:test';
import { decodeBase64, decodeHex, encodeHex, encodeUtf8 } from '../../src/core/index.ts';
import { CompactRange } from '../../src/merkle/compact-range.ts';
import { buildConsistencyProof, verifyConsistency } from '../../src/merkle/consistency-proof.ts';
import { MerkleError } from '../../src/merkle/errors.ts';
import type { MerkleErrorCode } from '../../src/merkle/errors.ts';
import { emptyRoot, hashChildren, hashLeaf } from '../../src/merkle/hash.ts';
import { buildInclusionProof, verifyInclusion } from '../../src/merkle/inclusion-proof.ts';
import type { NodeHashReader } from '../../src/merkle/proof-nodes.ts';
import { verifySubtreeConsistency, verifySubtreeInclusion } from '../../src/merkle/subtree.ts';
import { vectorPath } from '../tools/vectors.ts';

/**
 * Every probe of transparency-dev/merkle testdata/ (shared/vectors/transparency-dev-merkle, commit
 * 417fb0c): each states in `wantErr` whether upstream's verifier accepts it. Numbers above 2^53 (the
 * `leafIdx sub @1` underflows to 2^64-1) parse to unsafe floats, which the verifiers reject.
 */

type Family = 'inclusion' | 'consistency' | 'subtreeinclusion' | 'subtreeconsistency';

interface Probe {
  file: string;
  family: Family;
  desc: string;
  wantErr: boolean;
  fields: Record<string, unknown>;
}

const proofCode = {
  inclusion: 'MERKLE_INCLUSION_PROOF_INVALID',
  subtreeinclusion: 'MERKLE_INCLUSION_PROOF_INVALID',
  consistency: 'MERKLE_CONSISTENCY_PROOF_INVALID',
  subtreeconsistency: 'MERKLE_CONSISTENCY_PROOF_INVALID',
} as const satisfies Record<Family, MerkleErrorCode>;

const testdata = vectorPath('transparency-dev-merkle/testdata');
const probes = listJsonFiles(testdata).map(readProbe);

/**
 * The code each kind of probe must fail with, by its description. Changed sizes and indices can hit a
 * range check or the proof-length check depending on the numbers, so they allow both.
 */
function expectedCodes(probe: Probe): readonly MerkleErrorCode[] {
  const proof = proofCode[probe.family];
  const desc = probe.desc.replace(/ - subtree$/, '');
  // A plain consistency proof from size 0 is a size error; an empty subtree is checked like a proof.
  const fromZero: readonly MerkleErrorCode[] =
    probe.family === 'consistency' ? ['MERKLE_TREE_SIZE_INVALID'] : [proof];
  const rules: [RegExp, readonly MerkleErrorCode[]][] = [
    [/sizes are zero$|\(zero\)|size1 is zero|empty tree/, fromZero],
    [/^(modified proof|random root|swapped roots|inserted component|wrong root2|roots do not)/, [proof]],
    [
      /^(trailing root|preceding root|preceding proof|removed component|truncated proof|empty proof)/,
      [proof],
    ],
    [/^(trailing|preceding) garbage$/, [proof, 'MERKLE_HASH_SIZE_INVALID']],
    [/^(wrong leaf|empty leaf|empty root and leaf)$/, ['MERKLE_HASH_SIZE_INVALID']],
    [/^wrong root1$/, [proof, 'MERKLE_HASH_SIZE_INVALID']],
    [/^invalid (large )?subtree|^start larger than end$/, ['MERKLE_SUBTREE_INVALID']],
    [/^(oob |everything zero|start equals end)/, ['MERKLE_INDEX_OUT_OF_RANGE']],
    [/^size1 is greater than size2/, ['MERKLE_TREE_SIZE_INVALID']],
    [/^subtree is empty|^sizes (are equal \(one\)|match|do not)/, [proof]],
  ];
  for (const [pattern, codes] of rules) if (pattern.test(desc)) return codes;
  if (probe.family === 'consistency') return ['MERKLE_TREE_SIZE_INVALID', proof];
  if (probe.family === 'subtreeconsistency') return ['MERKLE_TREE_SIZE_INVALID', proof];
  return ['MERKLE_INDEX_OUT_OF_RANGE', 'MERKLE_HASH_SIZE_INVALID', proof];
}

describe('transparency-dev/merkle proof probes', () => {
  it('finds all 518 probes: 98 inclusion, 98 consistency, 204 subtree inclusion, 118 subtree consistency', () => {
    assert.equal(probes.length, 518);
    assert.deepEqual(
      countBy(probes, (p) => p.family),
      {
        inclusion: 98,
        consistency: 98,
        subtreeinclusion: 204,
        subtreeconsistency: 118,
      },
    );
    assert.deepEqual(
      countBy(
        probes.filter((p) => !p.wantErr),
        (p) => p.family,
      ),
      { inclusion: 6, consistency: 6, subtreeinclusion: 12, subtreeconsistency: 12 },
    );
  });

  for (const family of ['inclusion', 'consistency', 'subtreeinclusion', 'subtreeconsistency'] as const) {
    describe(`in testdata/${family}`, () => {
      const inFamily = probes.filter((p) => p.family === family);

      it('accepts every probe that says wantErr: false', () => {
        for (const probe of inFamily.filter((p) => !p.wantErr)) {
          assert.doesNotThrow(() => runProbe(probe), `${probe.file} (${probe.desc})`);
        }
      });

      it('rejects every probe that says wantErr: true with a MerkleError of the code its mutation calls for', () => {
        for (const probe of inFamily.filter((p) => p.wantErr)) {
          const error = captureError(() => runProbe(probe));
          assert.ok(
            error instanceof MerkleError,
            `${probe.file}: expected a MerkleError, received ${String(error)}`,
          );
          assert.ok(
            expectedCodes(probe).includes(error.code),
            `${probe.file} (${probe.desc}): expected ${expectedCodes(probe).join(' or ')}, received ${error.code}`,
          );
        }
      });
    });
  }
});

interface ReferenceTree {
  hasher_vectors: {
    desc: string;
    hash: string;
    leaf_input_hex?: string;
    leaf_input_ascii?: string;
    left_ascii?: string;
    right_ascii?: string;
  }[];
  leaf_inputs_hex: string[];
  node_hashes_by_level: string[][];
  root_hashes_by_tree_size: Record<string, string>;
  inclusion_proofs: {
    leaf_index_0based: number;
    tree_size: number;
    leaf_hash: string;
    root: string;
    proof: string[];
  }[];
  consistency_proofs: { size1: number; size2: number; root1: string; root2: string; proof: string[] }[];
}

describe('the transparency-dev/merkle reference tree', () => {
  const reference = JSON.parse(
    readFileSync(vectorPath('transparency-dev-merkle/reference-tree.json'), 'utf8'),
  ) as ReferenceTree;
  const leafHashes = reference.leaf_inputs_hex.map((hex) => hashLeaf(decodeHex(hex)));
  // Proof generation reads the stored node hashes of the JSON, not ones computed here.
  const reader: NodeHashReader = {
    nodeHash: (level, index) => decodeHex(reference.node_hashes_by_level[level]?.[index] ?? ''),
  };

  it('reproduces the RFC 6962 hasher known answers', () => {
    const [empty, emptyLeaf, leaf, node] = reference.hasher_vectors;
    assert.equal(encodeHex(emptyRoot()), empty?.hash);
    assert.equal(encodeHex(hashLeaf(decodeHex(emptyLeaf?.leaf_input_hex ?? 'x'))), emptyLeaf?.hash);
    assert.equal(encodeHex(hashLeaf(encodeUtf8(leaf?.leaf_input_ascii ?? ''))), leaf?.hash);
    // HashChildren("N123", "N456") hashes 4-byte children, which hashChildren refuses; hash it by hand.
    const input = new Uint8Array([
      1,
      ...encodeUtf8(node?.left_ascii ?? ''),
      ...encodeUtf8(node?.right_ascii ?? ''),
    ]);
    assert.equal(createHash('sha256').update(input).digest('hex'), node?.hash);
  });

  it('computes the root of every tree size from 0 to 8', () => {
    const range = CompactRange.empty();
    for (let size = 0; size <= 8; size++) {
      assert.equal(
        encodeHex(range.rootHash()),
        reference.root_hashes_by_tree_size[String(size)],
        `size ${size}`,
      );
      if (size < 8) range.append(leafHashes[size] as Uint8Array);
    }
  });

  it('computes every complete node hash, and reports each one while appending', () => {
    const seen: string[][] = [];
    CompactRange.empty().appendAll(leafHashes, (node, hash) => {
      (seen[node.level] ??= [])[node.index] = encodeHex(hash);
    });
    assert.deepEqual(seen, reference.node_hashes_by_level);
    for (const [level, row] of reference.node_hashes_by_level.entries()) {
      for (const [index, hash] of row.entries()) {
        if (level === 0) continue;
        const below = reference.node_hashes_by_level[level - 1] ?? [];
        const children = hashChildren(
          decodeHex(below[2 * index] ?? ''),
          decodeHex(below[2 * index + 1] ?? ''),
        );
        assert.equal(encodeHex(children), hash, `node (${level}, ${index})`);
      }
    }
  });

  it('verifies each reference inclusion proof and regenerates it from the stored nodes', () => {
    for (const vector of reference.inclusion_proofs) {
      const proof = vector.proof.map((hex) => decodeHex(hex));
      const index = vector.leaf_index_0based;
      verifyInclusion(index, vector.tree_size, decodeHex(vector.leaf_hash), proof, decodeHex(vector.root));
      assert.deepEqual(buildInclusionProof(index, vector.tree_size, reader).map(encodeHex), vector.proof);
    }
  });

  it('verifies each reference consistency proof and regenerates it from the stored nodes', () => {
    for (const vector of reference.consistency_proofs) {
      const proof = vector.proof.map((hex) => decodeHex(hex));
      verifyConsistency(vector.size1, vector.size2, proof, decodeHex(vector.root1), decodeHex(vector.root2));
      assert.deepEqual(
        buildConsistencyProof(vector.size1, vector.size2, reader).map(encodeHex),
        vector.proof,
      );
    }
  });
});

function runProbe(probe: Probe): void {
  const f = probe.fields;
  switch (probe.family) {
    case 'inclusion':
      return verifyInclusion(
        num(f.leafIdx),
        num(f.treeSize),
        bytes(f.leafHash),
        hashes(f.proof),
        bytes(f.root),
      );
    case 'consistency':
      return verifyConsistency(num(f.size1), num(f.size2), hashes(f.proof), bytes(f.root1), bytes(f.root2));
    case 'subtreeinclusion':
      return verifySubtreeInclusion(
        num(f.leafIdx),
        num(f.start),
        num(f.end),
        bytes(f.leafHash),
        hashes(f.proof),
        bytes(f.root),
      );
    case 'subtreeconsistency':
      return verifySubtreeConsistency(
        num(f.start),
        num(f.end),
        num(f.size),
        hashes(f.proof),
        bytes(f.root1),
        bytes(f.root2),
      );
  }
}

function readProbe(file: string): Probe {
  const fields = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  const path = relative(testdata, file);
  const family = path.split('/')[0] as Family;
  assert.ok(family in proofCode, `unexpected folder for ${path}`);
  assert.equal(typeof fields.wantErr, 'boolean', `${path}: wantErr`);
  return { file: path, family, desc: String(fields.desc), wantErr: fields.wantErr === true, fields };
}

function listJsonFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .flatMap((entry) => {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) return listJsonFiles(path);
      return entry.name.endsWith('.json') ? [path] : [];
    })
    .sort();
}

/** Go marshals a nil []byte as null and an empty one as "". */
function bytes(value: unknown): Uint8Array {
  return value === null || value === undefined ? new Uint8Array(0) : decodeBase64(value as string, 'probe');
}

function hashes(value: unknown): Uint8Array[] {
  return ((value ?? []) as unknown[]).map(bytes);
}

function num(value: unknown): number {
  assert.equal(typeof value, 'number');
  return value as number;
}

function captureError(run: () => void): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  return undefined;
}

function countBy<T>(items: readonly T[], key: (item: T) => string): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const item of items) counts[key(item)] = (counts[key(item)] ?? 0) + 1;
  return counts;
}
