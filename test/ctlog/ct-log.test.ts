import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync, verify, type KeyObject } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { AsnConvert } from '@peculiar/asn1-schema';
import { Extensions, TBSCertificate } from '@peculiar/asn1-x509';
import { fixedClock } from '../../src/core/index.ts';
import { CT_POISON_OID, CtError, openCtLog, parseDataTile, type CtLog } from '../../src/ctlog/index.ts';
import { SqliteStorage } from '../../src/log/index.ts';
import {
  createRfc6962Verifier,
  parseSignedNote,
  readRfc6962Timestamp,
  verifyCheckpoint,
  verifyInclusion,
} from '../../src/merkle/index.ts';
import { buildTbs, buildTestChain, generateKey, issueCertificate, signTbs } from './chain-fixtures.ts';

const ORIGIN = 'ct.sigil.test/2026';
const START = new Date('2026-03-01T12:00:00Z');
const { root, intermediate, leaf } = buildTestChain();
const stranger = buildTestChain('stranger root');

// A precertificate whose TBSCertificate without the poison is known independently of the code under test.
const precertKey = generateKey('p256').publicKey;
const precertTbs = buildTbs(
  { subject: 'precert', keyType: 'p256', issuer: intermediate, poison: 'critical' },
  precertKey,
);
const precertificate = signTbs(precertTbs, intermediate);
const finalTbs = AsnConvert.parse(AsnConvert.serialize(precertTbs), TBSCertificate);
finalTbs.extensions = new Extensions(finalTbs.extensions!.filter((ext) => ext.extnID !== CT_POISON_OID));
const tbsWithoutPoison = Buffer.from(AsnConvert.serialize(finalTbs));

const sha256 = (...parts: Uint8Array[]) => {
  const digest = createHash('sha256');
  for (const part of parts) digest.update(part);
  return digest.digest();
};
/** A big-endian unsigned integer of `size` bytes (TLS, RFC 8446 §3.3). */
const u = (value: number, size: number) => {
  const out = Buffer.alloc(8);
  out.writeBigUInt64BE(BigInt(value));
  return out.subarray(8 - size);
};
const spkiOf = (key: KeyObject) => key.export({ type: 'spki', format: 'der' });

/** RFC 6962 §3.4 TimestampedEntry, written out by hand. */
function timestampedEntry(timestamp: number, signedEntry: Buffer, extensions: Buffer): Buffer {
  return Buffer.concat([u(timestamp, 8), signedEntry, u(extensions.length, 2), extensions]);
}
const x509Entry = (der: Uint8Array) => Buffer.concat([u(0, 2), u(der.length, 3), der]);
const precertEntry = (issuerKeyHash: Buffer, tbs: Buffer) =>
  Buffer.concat([u(1, 2), issuerKeyHash, u(tbs.length, 3), tbs]);
const leafIndexExtension = (index: number) => Buffer.concat([Buffer.of(0, 0, 5), u(index, 5)]);

describe('CtLog', () => {
  let dir: string;
  let ct: CtLog;
  const key = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const clock = fixedClock(START);
  const open = () =>
    openCtLog({
      storage: new SqliteStorage({ path: join(dir, 'ct.db') }),
      key: key.privateKey,
      origin: ORIGIN,
      roots: [root.der],
      clock,
      engine: { sequencer: { maxBatchAgeMs: 1 } },
    });

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sigil-ctlog-'));
    ct = await open();
  });
  after(async () => {
    await ct.close();
    await rm(dir, { recursive: true, force: true });
  });

  /** The SCT timestamps of entries 0 and 1. */
  const sctTimes: number[] = [];

  it('answers add-chain with an SCT over the RFC 6962 §3.2 input that carries the entry index', async () => {
    const result = await ct.addChain([leaf.der, intermediate.der]);
    sctTimes.push(result.json.timestamp);
    assert.equal(result.index, 0);
    assert.deepEqual(result.json, {
      sct_version: 0,
      id: sha256(spkiOf(key.publicKey)).toString('base64'),
      timestamp: START.getTime(),
      extensions: leafIndexExtension(0).toString('base64'),
      signature: result.json.signature,
    });
    const digitallySigned = Buffer.from(result.json.signature, 'base64');
    assert.deepEqual([...digitallySigned.subarray(0, 2)], [4, 3]); // sha256, ecdsa
    assert.equal(digitallySigned.readUInt16BE(2), digitallySigned.length - 4);
    const input = Buffer.concat([
      Buffer.of(0, 0),
      timestampedEntry(START.getTime(), x509Entry(leaf.der), leafIndexExtension(0)),
    ]);
    assert.ok(verify('sha256', input, key.publicKey, digitallySigned.subarray(4)));
  });

  it('answers add-pre-chain with an SCT over the issuer key hash and the TBSCertificate without poison', async () => {
    const result = await ct.addPreChain([precertificate, intermediate.der, root.der]);
    sctTimes.push(result.json.timestamp);
    assert.equal(result.index, 1);
    // The clock stands still; the checkpoint signed since moved time 1 ms on (RFC 6962 §3.5).
    assert.ok(result.json.timestamp >= START.getTime());
    const signed = precertEntry(sha256(spkiOf(intermediate.publicKey)), tbsWithoutPoison);
    const input = Buffer.concat([
      Buffer.of(0, 0),
      timestampedEntry(result.json.timestamp, signed, leafIndexExtension(1)),
    ]);
    assert.ok(
      verify('sha256', input, key.publicKey, Buffer.from(result.json.signature, 'base64').subarray(4)),
    );
  });

  it('includes each entry in the next checkpoint, signed as static-ct-api requires', async () => {
    const checkpoint = await ct.log.waitForCheckpoint(2);
    const verifier = createRfc6962Verifier(ORIGIN, key.publicKey);
    const { checkpoint: body } = verifyCheckpoint(checkpoint.note, [verifier], { origin: ORIGIN });
    const treeHeadTime = readRfc6962Timestamp(parseSignedNote(checkpoint.note).signatures[0]!.signature);
    assert.ok(treeHeadTime > Math.max(...sctTimes), 'the tree head is newer than the SCTs it covers');
    const entries = [
      timestampedEntry(sctTimes[0]!, x509Entry(leaf.der), leafIndexExtension(0)),
      timestampedEntry(
        sctTimes[1]!,
        precertEntry(sha256(spkiOf(intermediate.publicKey)), tbsWithoutPoison),
        leafIndexExtension(1),
      ),
    ];
    for (const [index, entry] of entries.entries()) {
      const leafHash = sha256(Buffer.of(0, 0, 0), entry); // RFC 6962 §2.1 hash of the MerkleTreeLeaf
      const proof = await ct.log.inclusionProofAt(index, body.size);
      verifyInclusion(index, body.size, leafHash, proof, body.rootHash);
    }
  });

  it('serves data tiles that parse back into the submitted chains, and their issuers', async () => {
    const tile = await ct.readDataTile(0, 2);
    const [first, second] = parseDataTile(tile!);
    assert.deepEqual(first?.signedEntry, { kind: 'x509', certificate: leaf.der });
    assert.deepEqual(
      first?.chainFingerprints,
      [sha256(intermediate.der), sha256(root.der)].map((d) => new Uint8Array(d)),
    );
    assert.deepEqual(second?.precertificate, precertificate);
    for (const der of [intermediate.der, root.der]) assert.deepEqual(await ct.readIssuer(sha256(der)), der);
    assert.equal(await ct.readIssuer(sha256(leaf.der)), undefined);
    assert.equal(await ct.readDataTile(0, 3), undefined, 'no checkpoint covers a third entry yet');
  });

  it('gives concurrent submissions distinct indices, each named in its own SCT and data tile entry', async () => {
    const leaves = Array.from({ length: 20 }, (_, i) =>
      issueCertificate({ subject: `burst ${i}`, keyType: 'p256', issuer: intermediate }),
    );
    const results = await Promise.all(leaves.map((cert) => ct.addChain([cert.der, intermediate.der])));
    assert.deepEqual(
      results.map((result) => result.index).sort((a, b) => a - b),
      Array.from({ length: 20 }, (_, i) => 2 + i),
    );
    await ct.log.waitForCheckpoint(22);
    const tile = parseDataTile((await ct.readDataTile(0, 22))!);
    for (const [i, result] of results.entries()) {
      assert.equal(Buffer.from(result.json.extensions, 'base64').readUIntBE(3, 5), result.index);
      assert.deepEqual(tile[result.index]?.signedEntry, { kind: 'x509', certificate: leaves[i]!.der });
    }
  });

  describe('when a chain is refused', () => {
    const refusals: [string, () => Promise<unknown>, string][] = [
      [
        'an untrusted root',
        () => ct.addChain([stranger.leaf.der, stranger.intermediate.der]),
        'CT_CHAIN_UNTRUSTED',
      ],
      [
        'a broken signature',
        () =>
          ct.addChain([
            issueCertificate({ subject: 'x', keyType: 'p256', issuer: intermediate, corruptSignature: true })
              .der,
            intermediate.der,
          ]),
        'CT_SIGNATURE_INVALID',
      ],
      [
        'a leaf without codeSigning',
        () =>
          ct.addChain([
            issueCertificate({ subject: 'x', keyType: 'p256', issuer: intermediate, ekus: null }).der,
          ]),
        'CT_EKU_MISSING',
      ],
      [
        'a precertificate on add-chain',
        () => ct.addChain([precertificate, intermediate.der]),
        'CT_PRECERT_UNEXPECTED',
      ],
      [
        'a certificate on add-pre-chain',
        () => ct.addPreChain([leaf.der, intermediate.der]),
        'CT_PRECERT_EXPECTED',
      ],
      ['an empty chain', () => ct.addChain([]), 'CT_CHAIN_EMPTY'],
      ['an overlong chain', () => ct.addChain(Array(11).fill(leaf.der)), 'CT_CHAIN_TOO_LONG'],
    ];
    for (const [name, submit, code] of refusals) {
      it(`refuses ${name} with ${code} and appends nothing`, async () => {
        const before = await ct.log.storage.sequencedSize();
        await assert.rejects(submit(), (error: unknown) => error instanceof CtError && error.code === code);
        assert.equal(await ct.log.storage.sequencedSize(), before);
      });
    }
  });

  describe('after a restart with a clock that went back', () => {
    it('keeps SCT and tree head timestamps from going back behind the stored checkpoint', async () => {
      await ct.log.waitForCheckpoint(22);
      const previous = ct.log.latestCheckpoint()!;
      const previousTime = readRfc6962Timestamp(parseSignedNote(previous.note).signatures[0]!.signature);
      await ct.close();
      clock.set(new Date(START.getTime() - 3_600_000));
      ct = await open();
      const result = await ct.addChain([leaf.der, intermediate.der]);
      assert.equal(result.index, 22);
      assert.ok(result.json.timestamp >= previousTime);
      const next = await ct.log.waitForCheckpoint(23);
      const nextTime = readRfc6962Timestamp(parseSignedNote(next.note).signatures[0]!.signature);
      assert.ok(nextTime > previousTime && nextTime >= result.json.timestamp);
    });
  });

  describe('for a precertificate from a CA in the same process (addPreChainFromLocalCa)', () => {
    it('logs it without verifying its signature again, still checking everything else', async () => {
      const unverified = issueCertificate({
        subject: 'local',
        keyType: 'p256',
        issuer: intermediate,
        poison: 'critical',
        corruptSignature: true,
      }).der;
      await assert.rejects(ct.addPreChain([unverified, intermediate.der]), (error: unknown) => {
        return error instanceof CtError && error.code === 'CT_SIGNATURE_INVALID';
      });
      const result = await ct.addPreChainFromLocalCa([unverified, intermediate.der]);
      assert.equal(result.index, (await ct.log.storage.sequencedSize()) - 1);
      const before = await ct.log.storage.sequencedSize();
      await assert.rejects(
        ct.addPreChainFromLocalCa([stranger.precertificate.der, stranger.intermediate.der]),
        (error: unknown) => error instanceof CtError && error.code === 'CT_CHAIN_UNTRUSTED',
      );
      await assert.rejects(
        ct.addPreChainFromLocalCa([leaf.der, intermediate.der]),
        (error: unknown) => error instanceof CtError && error.code === 'CT_PRECERT_EXPECTED',
      );
      assert.equal(await ct.log.storage.sequencedSize(), before);
    });
  });
});

describe('openCtLog', () => {
  const storage = () => new SqliteStorage({ path: ':memory:' });
  const p256 = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;

  for (const origin of ['https://ct.sigil.test/2026', 'ct.sigil.test/2026/', 'CT.sigil.test', 'ct sigil']) {
    it(`refuses the origin ${JSON.stringify(origin)} with a TypeError`, async () => {
      await assert.rejects(
        openCtLog({ storage: storage(), key: p256, origin, roots: [root.der] }),
        TypeError,
      );
    });
  }

  it('refuses a key that is not ECDSA P-256, and an empty root list', async () => {
    const ed25519 = generateKeyPairSync('ed25519').privateKey;
    await assert.rejects(
      openCtLog({ storage: storage(), key: ed25519, origin: ORIGIN, roots: [root.der] }),
      TypeError,
    );
    const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' }).privateKey;
    await assert.rejects(
      openCtLog({ storage: storage(), key: p384, origin: ORIGIN, roots: [root.der] }),
      TypeError,
    );
    await assert.rejects(openCtLog({ storage: storage(), key: p256, origin: ORIGIN, roots: [] }), TypeError);
  });
});
