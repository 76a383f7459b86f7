import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { openCtLog, parseDataTile, readLeafIndexExtension, type CtLog } from '../../src/ctlog/index.ts';
import { PostgresStorage } from '../../src/log/index.ts';
import { startPostgres, type RunningPostgres } from '../tools/postgres.ts';
import { buildTestChain } from './chain-fixtures.ts';

const { root, intermediate, leaf, precertificate } = buildTestChain();
const sha256 = (der: Uint8Array) => createHash('sha256').update(der).digest();

describe('CtLog on PostgreSQL', () => {
  let postgres: RunningPostgres;
  let ct: CtLog;

  before(async () => {
    postgres = await startPostgres();
    ct = await openCtLog({
      storage: new PostgresStorage({ connectionString: postgres.connectionString, schema: 'ct_log' }),
      key: generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey,
      origin: 'ct.sigil.test/postgres',
      roots: [root.der],
      engine: { sequencer: { maxBatchAgeMs: 1 } },
    });
  });
  after(async () => {
    await ct?.close();
    await postgres?.stop();
  });

  it('sequences entries at the index their SCT names, and serves their data tile and issuers', async () => {
    const [first, second] = await Promise.all([
      ct.addChain([leaf.der, intermediate.der]),
      ct.addPreChain([precertificate.der, intermediate.der, root.der]),
    ]);
    for (const result of [first, second]) {
      assert.equal(readLeafIndexExtension(result.sct.extensions), result.index);
    }
    await ct.log.waitForCheckpoint(2);
    const tile = parseDataTile((await ct.readDataTile(0, 2))!);
    assert.deepEqual(tile[first.index]?.signedEntry, { kind: 'x509', certificate: leaf.der });
    assert.deepEqual(tile[second.index]?.precertificate, precertificate.der);
    assert.deepEqual(await ct.readIssuer(sha256(intermediate.der)), intermediate.der);
    assert.deepEqual(await ct.readIssuer(sha256(root.der)), root.der);
  });
});
