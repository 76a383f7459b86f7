import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { silentLogger } from '../../src/core/index.ts';
import {
  openCtLog,
  parseAddChainResponse,
  parseDataTile,
  verifySct,
  type AddChainResponse,
  type CtErrorCode,
  type CtLog,
} from '../../src/ctlog/index.ts';
import { SqliteStorage } from '../../src/log/index.ts';
import { createRfc6962Verifier, verifyCheckpoint } from '../../src/merkle/index.ts';
import {
  createApp,
  createCtLogRouter,
  createRouter,
  createServerMetrics,
  listen,
  statusForCode,
  type AppendOutcome,
  type RunningServer,
} from '../../src/server/index.ts';
import { buildTestChain, issueCertificate } from '../ctlog/chain-fixtures.ts';

const ORIGIN = 'ct.sigil.test/routes';
const { root, intermediate, leaf, precertificate } = buildTestChain();
const stranger = buildTestChain('stranger root');
const b64 = (der: Uint8Array) => Buffer.from(der).toString('base64');
const sha256 = (der: Uint8Array) => createHash('sha256').update(der).digest();

/** Opens a CT log over SQLite in `dir` and serves it under `/ct-log`. */
async function serve(dir: string, options: { maxPending?: number; maxBodyBytes?: number } = {}) {
  const key = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const ct = await openCtLog({
    storage: new SqliteStorage({ path: join(dir, 'ct.db') }),
    key: key.privateKey,
    origin: ORIGIN,
    roots: [root.der],
    engine: {
      sequencer: {
        maxBatchAgeMs: 1,
        ...(options.maxPending ? { maxPending: options.maxPending, maxBatchSize: options.maxPending } : {}),
      },
    },
  });
  const counted: AppendOutcome[] = [];
  const mount = createRouter();
  mount.use(
    '/ct-log',
    createCtLogRouter(ct, {
      countAppend: (_log, outcome) => counted.push(outcome),
      ...(options.maxBodyBytes ? { maxBodyBytes: options.maxBodyBytes } : {}),
    }),
  );
  const app = createApp({
    logger: silentLogger,
    metrics: createServerMetrics({ collectProcessMetrics: false }),
    routers: [mount],
  });
  const server = await listen(app);
  return { ct, server, key, counted };
}

describe('CT log routes', () => {
  let dir: string;
  let ct: CtLog;
  let server: RunningServer;
  let logKey: { publicKey: KeyObject; privateKey: KeyObject };
  let counted: AppendOutcome[];

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sigil-ct-routes-'));
    ({ ct, server, key: logKey, counted } = await serve(dir, { maxBodyBytes: 64 * 1024 }));
  });
  after(async () => {
    await server.close();
    await ct.close();
    await rm(dir, { recursive: true, force: true });
  });

  const url = (path: string) => `${server.url}/ct-log/${path}`;
  const post = (path: string, body: unknown) =>
    fetch(url(path), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });

  it('logs a chain at POST /ct/v1/add-chain and answers with an RFC 6962 AddChainResponse', async () => {
    const response = await post('ct/v1/add-chain', { chain: [b64(leaf.der), b64(intermediate.der)] });
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type') ?? '', /^application\/json/);
    const json = (await response.json()) as AddChainResponse;
    assert.deepEqual(Object.keys(json).sort(), ['extensions', 'id', 'sct_version', 'signature', 'timestamp']);
    const sct = parseAddChainResponse(json);
    assert.ok(verifySct(sct, { kind: 'x509', certificate: leaf.der }, logKey.publicKey));
    assert.equal(json.extensions, Buffer.of(0, 0, 5, 0, 0, 0, 0, 0).toString('base64'));
  });

  it('logs a precertificate chain at POST /ct/v1/add-pre-chain', async () => {
    const response = await post('ct/v1/add-pre-chain', {
      chain: [b64(precertificate.der), b64(intermediate.der), b64(root.der)],
    });
    assert.equal(response.status, 200);
    const json = (await response.json()) as AddChainResponse;
    assert.equal(json.extensions, Buffer.of(0, 0, 5, 0, 0, 0, 0, 1).toString('base64'));
  });

  it('lists its roots at GET /ct/v1/get-roots', async () => {
    const response = await fetch(url('ct/v1/get-roots'));
    assert.deepEqual(await response.json(), { certificates: [b64(root.der)] });
  });

  it('publishes an RFC 6962-signed checkpoint, level-0 tiles and data tiles for both entries', async () => {
    await ct.log.waitForCheckpoint(2);
    const checkpoint = await fetch(url('checkpoint'));
    assert.equal(checkpoint.headers.get('content-type'), 'text/plain; charset=utf-8');
    assert.equal(checkpoint.headers.get('cache-control'), 'no-cache');
    const { checkpoint: body } = verifyCheckpoint(
      await checkpoint.text(),
      [createRfc6962Verifier(ORIGIN, logKey.publicKey)],
      { origin: ORIGIN },
    );
    assert.equal(body.size, 2);

    const hashes = await fetch(url('tile/0/000.p/2'));
    assert.equal(hashes.status, 200);
    assert.equal((await hashes.arrayBuffer()).byteLength, 64);

    const data = await fetch(url('tile/data/000.p/2'));
    assert.equal(data.status, 200);
    assert.equal(data.headers.get('content-type'), 'application/octet-stream');
    assert.equal(data.headers.get('cache-control'), 'public, max-age=31536000, immutable');
    const [first, second] = parseDataTile(new Uint8Array(await data.arrayBuffer()));
    assert.deepEqual(first?.signedEntry, { kind: 'x509', certificate: leaf.der });
    assert.deepEqual(second?.precertificate, precertificate.der);
    assert.deepEqual(
      second?.chainFingerprints.map((fingerprint) => Buffer.from(fingerprint)),
      [sha256(intermediate.der), sha256(root.der)],
    );
  });

  it('serves every issuer a data tile names at GET /issuer/<sha256 hex>', async () => {
    for (const der of [intermediate.der, root.der]) {
      const response = await fetch(url(`issuer/${sha256(der).toString('hex')}`));
      assert.equal(response.status, 200);
      assert.equal(response.headers.get('content-type'), 'application/pkix-cert');
      assert.deepEqual(new Uint8Array(await response.arrayBuffer()), der);
    }
  });

  describe('reads it cannot serve', () => {
    const cases: [string, number, string][] = [
      [`issuer/${sha256(leaf.der).toString('hex')}`, 404, 'CT_ISSUER_NOT_FOUND'],
      [`issuer/${sha256(root.der).toString('hex').toUpperCase()}`, 400, 'SERVER_PATH_INVALID'],
      ['tile/data/000.p/3', 404, 'SERVER_TILE_NOT_FOUND'],
      ['tile/data/000.p/0300', 400, 'SERVER_PATH_INVALID'],
      ['tile/data/x000/000', 400, 'SERVER_PATH_INVALID'],
      ['tile/entries/000.p/2', 404, 'NOT_FOUND'],
    ];
    for (const [path, status, code] of cases) {
      it(`answers GET ${path} with ${status} ${code}`, async () => {
        const response = await fetch(url(path));
        assert.equal(response.status, status);
        assert.equal(((await response.json()) as { code: string }).code, code);
      });
    }
  });

  describe('when a submission is refused', () => {
    const chainOf = (...ders: Uint8Array[]) => ({ chain: ders.map(b64) });
    const refusals: [string, string, unknown, string][] = [
      [
        'an untrusted root',
        'add-chain',
        chainOf(stranger.leaf.der, stranger.intermediate.der),
        'CT_CHAIN_UNTRUSTED',
      ],
      [
        'a broken signature',
        'add-chain',
        chainOf(
          issueCertificate({ subject: 'b', keyType: 'p256', issuer: intermediate, corruptSignature: true })
            .der,
          intermediate.der,
        ),
        'CT_SIGNATURE_INVALID',
      ],
      [
        'a leaf without the codeSigning EKU',
        'add-chain',
        chainOf(issueCertificate({ subject: 'e', keyType: 'p256', issuer: intermediate, ekus: null }).der),
        'CT_EKU_MISSING',
      ],
      [
        'poison on add-chain',
        'add-chain',
        chainOf(precertificate.der, intermediate.der),
        'CT_PRECERT_UNEXPECTED',
      ],
      [
        'no poison on add-pre-chain',
        'add-pre-chain',
        chainOf(leaf.der, intermediate.der),
        'CT_PRECERT_EXPECTED',
      ],
      [
        'garbage base64',
        'add-chain',
        { chain: ['not base64!', b64(intermediate.der)] },
        'CT_REQUEST_INVALID',
      ],
      ['a chain that is not an array', 'add-chain', { chain: b64(leaf.der) }, 'CT_REQUEST_INVALID'],
      ['a body without a chain', 'add-chain', {}, 'CT_REQUEST_INVALID'],
      ['an empty chain', 'add-chain', { chain: [] }, 'CT_CHAIN_EMPTY'],
      [
        'an oversized chain',
        'add-chain',
        chainOf(...Array<Uint8Array>(11).fill(leaf.der)),
        'CT_CHAIN_TOO_LONG',
      ],
      ['a body that is not JSON', 'add-chain', '{"chain": [', 'REQUEST_BODY_INVALID'],
    ];
    for (const [name, endpoint, body, code] of refusals) {
      it(`answers ${name} with 400 ${code} and appends nothing`, async () => {
        const before = await ct.log.storage.sequencedSize();
        const response = await post(`ct/v1/${endpoint}`, body);
        assert.equal(response.status, 400);
        const answer = (await response.json()) as { code: string; message: string };
        assert.equal(answer.code, code, answer.message);
        assert.equal(await ct.log.storage.sequencedSize(), before);
      });
    }

    it('answers a body over the limit with 413', async () => {
      const response = await post('ct/v1/add-chain', { chain: ['A'.repeat(70 * 1024)] });
      assert.equal(response.status, 413);
    });

    it('counts refusals and additions for sigil_log_append_total', () => {
      assert.deepEqual(counted.slice(0, 2), ['added', 'added']);
      assert.ok(counted.slice(2).every((outcome) => outcome === 'refused'));
      assert.equal(counted.length, 2 + refusals.length + 1);
    });
  });

  it('maps every chain refusal to 400 and a missing issuer to 404', () => {
    const refusals: CtErrorCode[] = [
      'CT_REQUEST_INVALID',
      'CT_CHAIN_EMPTY',
      'CT_CHAIN_TOO_LONG',
      'CT_CERTIFICATE_TOO_LARGE',
      'CT_CERTIFICATE_INVALID',
      'CT_CHAIN_INVALID',
      'CT_SIGNATURE_INVALID',
      'CT_ALGORITHM_UNSUPPORTED',
      'CT_CHAIN_UNTRUSTED',
      'CT_EKU_MISSING',
      'CT_PRECERT_EXPECTED',
      'CT_PRECERT_UNEXPECTED',
      'CT_PRECERT_INVALID',
      'CT_ENCODING_INVALID',
    ];
    for (const code of refusals) assert.equal(statusForCode(code), 400, code);
    assert.equal(statusForCode('CT_ISSUER_NOT_FOUND' satisfies CtErrorCode), 404);
  });
});

describe('CT log routes under more load than the log queues', () => {
  it('answers 503 with Retry-After and LOG_OVERLOADED, and logs the rest', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sigil-ct-overload-'));
    const { ct, server } = await serve(dir, { maxPending: 1 });
    try {
      const body = JSON.stringify({ chain: [b64(leaf.der), b64(intermediate.der)] });
      const responses = await Promise.all(
        Array.from({ length: 30 }, () =>
          fetch(`${server.url}/ct-log/ct/v1/add-chain`, { method: 'POST', body }),
        ),
      );
      const overloaded = responses.filter((response) => response.status === 503);
      assert.ok(overloaded.length > 0, 'some submissions found the queue full');
      assert.equal(overloaded[0]!.headers.get('retry-after'), '1');
      assert.equal(((await overloaded[0]!.json()) as { code: string }).code, 'LOG_OVERLOADED');
      const added = responses.filter((response) => response.status === 200).length;
      assert.equal(added + overloaded.length, 30);
      assert.equal(await ct.log.storage.sequencedSize(), added);
    } finally {
      await server.close();
      await ct.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
