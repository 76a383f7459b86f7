// Every byte of what a verifier must check, flipped one at a time in each happy-path bundle of the
// sigstore-conformance suite (/work/shared/vectors/sigstore-conformance): the signature, the leaf
// certificate, the inclusion proof's hashes and root hash, the checkpoint's body lines and log signature,
// the signed entry timestamp. Each flip (XOR 0x01 on the decoded bytes, re-encoded into the bundle JSON)
// must be refused with a VerificationError; anything else thrown, or a flip that still verifies, fails
// the test naming the case, the field and the byte index.
//
// Every byte is flipped, the certificate's included: about 51,000 verifications, ~20 s on the 2-core
// development machine, so no sampling is needed. Most leaf-certificate flips are refused by the tlog
// body, which binds the certificate; the chain step's own flips are in certificate-chain.test.ts.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeBase64, encodeBase64 } from '../../src/core/index.ts';
import { VerificationError } from '../../src/verify/index.ts';
import { loadConformanceCases, verifyConformanceCase, type ConformanceCase } from './conformance-cases.ts';

/** The bundle JSON fields read here (protobuf-specs JSON names). */
interface BundleJson {
  messageSignature?: { signature: string };
  dsseEnvelope?: { signatures: { sig: string }[] };
  verificationMaterial: {
    certificate?: { rawBytes: string };
    x509CertificateChain?: { certificates: { rawBytes: string }[] };
    tlogEntries: {
      logId: { keyId: string };
      inclusionPromise?: { signedEntryTimestamp: string };
      inclusionProof?: { hashes: string[]; rootHash: string; checkpoint?: { envelope: string } };
    }[];
  };
}

/** A field of the bundle as bytes, and how to write bytes back into the parsed JSON. */
interface Target {
  readonly field: string;
  readonly bytes: Uint8Array;
  /** The byte indexes to flip: all of them unless the field says otherwise. */
  readonly indexes?: readonly number[];
  readonly write: (bytes: Uint8Array) => void;
}

/** A base64 field of `holder`, as a target. */
function base64Target<K extends string>(field: string, holder: Record<K, string>, key: K): Target {
  return {
    field,
    bytes: decodeBase64(holder[key], field),
    write: (bytes) => {
      holder[key] = encodeBase64(bytes);
    },
  };
}

const EM_DASH = '\u2014';

/**
 * The checkpoint lines that carry the log's commitment: the body's origin, tree size and root hash
 * (C2SP tlog-checkpoint: its first three lines; an extension line such as Rekor v1's `Timestamp:` is
 * not flipped here), and the decoded key hint and signature of the log's own signature line (the one
 * whose 4-byte key hint is the start of the entry's log ID, C2SP signed-note). Witness cosignature
 * lines are left out: a verifier ignores signatures by keys it does not know, by design (C2SP
 * signed-note; conformance rekor2-checkpoint-cosigned: "clients should ignore this signature line
 * since the witness verification key is unknown"), so flipping them must not fail; witnessLineTargets
 * checks exactly that.
 */
function checkpointTargets(
  field: string,
  checkpoint: { envelope: string },
  logId: Uint8Array,
): { log: Target[]; witnesses: Target[] } {
  const lines = checkpoint.envelope.split('\n');
  const setLine = (index: number, line: string) => {
    const copy = [...lines];
    copy[index] = line;
    checkpoint.envelope = copy.join('\n');
  };
  const textLine = (index: number, name: string): Target => ({
    field: `${field}.${name}`,
    bytes: Buffer.from(lines[index]!, 'utf8'),
    write: (bytes) => setLine(index, Buffer.from(bytes).toString('utf8')),
  });
  const log: Target[] = [
    textLine(0, 'origin'),
    textLine(1, 'size'),
    {
      field: `${field}.rootHash`,
      bytes: decodeBase64(lines[2]!, `${field} root hash`),
      write: (bytes) => setLine(2, encodeBase64(bytes)),
    },
  ];
  const witnesses: Target[] = [];
  lines.forEach((line, index) => {
    if (!line.startsWith(`${EM_DASH} `)) return;
    const [, name, signature] = line.split(' ') as [string, string, string];
    const target: Target = {
      field: `${field} signature line ${index} (${name})`,
      bytes: decodeBase64(signature, `${field} signature line ${index}`),
      write: (bytes) => setLine(index, `${EM_DASH} ${name} ${encodeBase64(bytes)}`),
    };
    const isLog = Buffer.from(target.bytes.subarray(0, 4)).equals(logId.subarray(0, 4));
    (isLog ? log : witnesses).push(target);
  });
  assert.equal(
    log.length,
    4,
    `${field}: expected exactly one signature line by the log's key, received ${log.length - 3}`,
  );
  return { log, witnesses };
}

/** Every target of `bundle` (a parsed bundle JSON, written in place). */
function targetsOf(bundle: BundleJson): { log: Target[]; witnesses: Target[] } {
  const targets: Target[] = [];
  const witnesses: Target[] = [];
  if (bundle.messageSignature) {
    targets.push(base64Target('messageSignature.signature', bundle.messageSignature, 'signature'));
  }
  bundle.dsseEnvelope?.signatures.forEach((signature, index) =>
    targets.push(base64Target(`dsseEnvelope.signatures[${index}].sig`, signature, 'sig')),
  );
  const material = bundle.verificationMaterial;
  const leaf = material.certificate ?? material.x509CertificateChain?.certificates[0];
  if (leaf) {
    targets.push(
      base64Target(
        material.certificate ? 'certificate.rawBytes' : 'x509CertificateChain.certificates[0].rawBytes',
        leaf,
        'rawBytes',
      ),
    );
  }
  material.tlogEntries.forEach((entry, index) => {
    const field = `tlogEntries[${index}]`;
    if (entry.inclusionPromise) {
      targets.push(
        base64Target(
          `${field}.inclusionPromise.signedEntryTimestamp`,
          entry.inclusionPromise,
          'signedEntryTimestamp',
        ),
      );
    }
    const proof = entry.inclusionProof;
    if (!proof) return;
    proof.hashes.forEach((_, position) =>
      targets.push({
        field: `${field}.inclusionProof.hashes[${position}]`,
        bytes: decodeBase64(proof.hashes[position]!),
        write: (bytes) => {
          proof.hashes[position] = encodeBase64(bytes);
        },
      }),
    );
    targets.push(base64Target(`${field}.inclusionProof.rootHash`, proof, 'rootHash'));
    if (proof.checkpoint) {
      const checkpoint = checkpointTargets(
        `${field}.inclusionProof.checkpoint`,
        proof.checkpoint,
        decodeBase64(entry.logId.keyId),
      );
      targets.push(...checkpoint.log);
      witnesses.push(...checkpoint.witnesses);
    }
  });
  return { log: targets, witnesses };
}

/** Flips each byte of each target in turn; returns what went wrong, one line per flip. */
function flipEach(
  testCase: ConformanceCase,
  bundle: BundleJson,
  targets: readonly Target[],
  expectFailure: boolean,
): { problems: string[]; flips: number } {
  const problems: string[] = [];
  let flips = 0;
  for (const target of targets) {
    const indexes = target.indexes ?? target.bytes.keys();
    for (const index of indexes) {
      const mutated = Uint8Array.from(target.bytes);
      mutated[index]! ^= 0x01;
      target.write(mutated);
      const text = JSON.stringify(bundle);
      target.write(target.bytes);
      flips++;
      const where = `${testCase.name} ${target.field} byte ${index}`;
      try {
        verifyConformanceCase(testCase, text);
        if (expectFailure) problems.push(`${where}: verified`);
      } catch (error) {
        if (!expectFailure) problems.push(`${where}: ${String(error)}`);
        else if (!(error instanceof VerificationError)) {
          problems.push(`${where}: threw ${(error as Error)?.constructor?.name} ${String(error)}`);
        }
      }
    }
  }
  return { problems, flips };
}

const cases = loadConformanceCases().filter((testCase) => !testCase.name.endsWith('_fail'));

describe('a happy-path conformance bundle with one byte flipped', () => {
  it('covers the 21 happy-path cases', () => {
    assert.equal(cases.length, 21);
  });

  for (const testCase of cases) {
    it(`${testCase.name}: verifies as is, and is refused with a VerificationError for every flip`, () => {
      const bundle = JSON.parse(Buffer.from(testCase.bundle).toString('utf8')) as BundleJson;
      const { log } = targetsOf(bundle);
      verifyConformanceCase(testCase, JSON.stringify(bundle));
      const { problems, flips } = flipEach(testCase, bundle, log, true);
      assert.ok(flips > 0);
      assert.deepEqual(problems, []);
      verifyConformanceCase(testCase, JSON.stringify(bundle));
    });
  }
});

describe('a happy-path conformance bundle with a witness cosignature line flipped', () => {
  for (const testCase of cases) {
    const bundle = JSON.parse(Buffer.from(testCase.bundle).toString('utf8')) as BundleJson;
    const { witnesses } = targetsOf(bundle);
    if (witnesses.length === 0) continue;
    it(`${testCase.name}: still verifies (signatures by unknown keys are ignored)`, () => {
      const { problems } = flipEach(testCase, bundle, witnesses, false);
      assert.deepEqual(problems, []);
    });
  }
});
