import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync, verify } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { canonicalizeJson } from '../../src/core/index.ts';
import {
  RekorV1,
  SqliteStorage,
  TransparencyLog,
  admitProposal,
  createAdmissionPool,
  renderRekorV1LogEntry,
  type RekorV1EntryValue,
} from '../../src/log/index.ts';
import { createNoteSigner, verifyInclusion } from '../../src/merkle/index.ts';
import { hashedRekordProposal, testKey } from './entries/fixtures.ts';

describe('RekorV1', () => {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  let log: TransparencyLog;
  let rekor: RekorV1;

  before(async () => {
    log = await TransparencyLog.open({
      storage: new SqliteStorage({ path: ':memory:' }),
      origin: 'rekor.sigil.test - 1193046',
      signers: [createNoteSigner('rekor.sigil.test', privateKey)],
    });
    rekor = new RekorV1({ log, key: privateKey, treeId: 0x123456n });
  });

  after(() => log.close());

  /** sigstore/rekor signEntry: the SET signs canonical JSON of exactly these four fields. */
  function assertSetVerifies(value: RekorV1EntryValue): void {
    const payload = canonicalizeJson({
      body: value.body,
      integratedTime: value.integratedTime,
      logID: value.logID,
      logIndex: value.logIndex,
    });
    const signature = Buffer.from(value.verification.signedEntryTimestamp, 'base64');
    assert.ok(
      verify('sha256', Buffer.from(payload), publicKey, signature),
      'the SET verifies over the canonical payload',
    );
  }

  describe('rendered on a worker thread', () => {
    /** The parts of a fresh entry, and the LogEntry the event loop would answer for them. */
    async function freshEntry(message: string) {
      const appended = await rekor.appendProven(
        admitProposal('v1', hashedRekordProposal(testKey('p256'), { message })),
      );
      assert.equal(appended.kind, 'created');
      if (appended.kind !== 'created') throw new Error('unreachable');
      return { appended, onThisThread: await rekor.logEntry(appended.parts) };
    }

    /** `text` parses to `expected` but for the SignedEntryTimestamp, which must verify; and it is the
     * same text JSON.stringify writes for that object. */
    function assertSameEntry(text: string, expected: Record<string, RekorV1EntryValue>, entryId: string) {
      const parsed = JSON.parse(text) as Record<string, RekorV1EntryValue>;
      const value = parsed[entryId]!;
      assertSetVerifies(value);
      const set = value.verification.signedEntryTimestamp;
      expected[entryId]!.verification.signedEntryTimestamp = set;
      assert.deepEqual(parsed, expected);
      assert.equal(text, JSON.stringify(expected));
    }

    it('writes the same LogEntry as the event loop, byte for byte but for the signature', async () => {
      const { appended, onThisThread } = await freshEntry('rendered');
      // A note with characters JSON escapes, as an origin could have.
      const parts = {
        ...appended.parts,
        checkpoint: { ...appended.parts.checkpoint, note: 'origin "quoted" \\ tab\t\n5\n' },
      };
      const expected = { ...onThisThread };
      expected[appended.entryId]!.verification.inclusionProof.checkpoint = parts.checkpoint.note;
      assertSameEntry(renderRekorV1LogEntry(parts, rekor.identity), expected, appended.entryId);
    });

    it('renders through an admission pool given the log identity, and refuses without it', async () => {
      const { appended, onThisThread } = await freshEntry('pooled');
      const pool = createAdmissionPool({ size: 1, rekorV1: rekor.identity });
      const bare = createAdmissionPool({ size: 1 });
      try {
        const bytes = await pool.renderRekorV1(appended.parts);
        assertSameEntry(new TextDecoder().decode(bytes), onThisThread, appended.entryId);
        await assert.rejects(bare.renderRekorV1(appended.parts), /created without the rekorV1 option/);
      } finally {
        await Promise.all([pool.close(), bare.close()]);
      }
    });
  });

  it('answers a new entry with an inclusion proof and a SignedEntryTimestamp over the JCS of its fields', async () => {
    const result = await rekor.createEntry(hashedRekordProposal(testKey('p256'), { message: 'SET' }));
    assert.equal(result.kind, 'created');
    if (result.kind !== 'created') return;
    assert.match(result.entryId, /^0000000000123456[0-9a-f]{64}$/);
    const value = result.entry[result.entryId]!;
    assert.equal(
      value.logID,
      createHash('sha256')
        .update(publicKey.export({ type: 'spki', format: 'der' }))
        .digest('hex'),
    );
    assertSetVerifies(value);
    const { inclusionProof } = value.verification;
    verifyInclusion(
      inclusionProof.logIndex,
      inclusionProof.treeSize,
      createHash('sha256').update(Buffer.of(0)).update(Buffer.from(value.body, 'base64')).digest(),
      inclusionProof.hashes.map((hash) => Buffer.from(hash, 'hex')),
      Buffer.from(inclusionProof.rootHash, 'hex'),
    );
    // Read back by entry ID and by UUID: the same entry (a SET is signed afresh each time, ECDSA is randomized).
    const { entryId } = result;
    for (const id of [entryId, result.uuid]) {
      const read: RekorV1EntryValue = (await rekor.getByUuid(id))[entryId]!;
      assert.equal(read.body, value.body);
      assert.equal(read.logIndex, value.logIndex);
      assert.equal(read.integratedTime, value.integratedTime);
    }
  });

  it('answers an entry already in the log, admitted elsewhere, with its existing ID', async () => {
    const proposal = hashedRekordProposal(testKey('p384'), { hash: 'sha384', message: 'twice' });
    const first = await rekor.createEntry(proposal);
    const second = await rekor.append(admitProposal('v1', proposal));
    assert.equal(first.kind, 'created');
    assert.deepEqual(second, { kind: 'exists', uuid: first.uuid, entryId: first.entryId });
  });
});
