import assert from 'node:assert/strict';
import { X509Certificate, generateKeyPairSync, sign } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startSigil, type RunningSigil } from '../tools/sigil-process.ts';

/**
 * `sigil serve` runs the services apart: here the logs, CT log and development issuer in one process
 * and the CA in another, which reaches the CT log over HTTP (--ct-url). Both share the state folder, so
 * the CT log accepts the CA's root.
 */
describe('the CA and the CT log as separate services', () => {
  let stateDir: string;
  let logs: RunningSigil;
  let ca: RunningSigil;

  before(async () => {
    stateDir = await mkdtemp(join(tmpdir(), 'sigil-separate-'));
    logs = await startSigil({ stateDir, command: ['serve', 'log', 'ctlog', 'oidc'] });
    const issuer = `${logs.url}/oidc`;
    const config = join(stateDir, 'issuers.yaml');
    await writeFile(
      config,
      `oidc-issuers:\n  ${issuer}:\n    issuer-url: ${issuer}\n    client-id: sigstore\n    type: email\n`,
    );
    ca = await startSigil({
      stateDir,
      command: ['serve', 'ca'],
      args: ['--ct-url', `${logs.url}/ct-log`, '--ca-config', config],
    });
  });

  after(async () => {
    await ca?.stop();
    await logs?.stop();
    await rm(stateDir, { recursive: true, force: true });
  });

  it('reports which services each process runs', () => {
    assert.deepEqual(logs.summary.services, ['log', 'ctlog', 'oidc']);
    assert.deepEqual(ca.summary.services, ['ca']);
    assert.deepEqual(
      ca.summary.endpoints.map((endpoint) => endpoint.name),
      ['ca', 'health', 'ready', 'metrics'],
    );
  });

  it('issues a certificate whose embedded SCT comes from the CT log in the other process', async () => {
    const tokenResponse = await fetch(`${logs.url}/oidc/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ subject: 'apart', email: 'apart@example.com' }),
    });
    const { id_token: token } = (await tokenResponse.json()) as { id_token: string };
    const treeSize = async () =>
      Number((await (await fetch(`${logs.url}/ct-log/checkpoint`)).text()).split('\n')[1]);
    const before = await treeSize();
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const response = await fetch(`${ca.url}/api/v2/signingCert`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({
        publicKeyRequest: {
          publicKey: { algorithm: 'ECDSA', content: publicKey.export({ type: 'spki', format: 'pem' }) },
          proofOfPossession: sign('sha256', Buffer.from('apart@example.com'), privateKey).toString('base64'),
        },
      }),
    });
    assert.equal(response.status, 200, await response.clone().text());
    const body = (await response.json()) as {
      signedCertificateEmbeddedSct: { chain: { certificates: string[] } };
    };
    const [leafPem, intermediatePem, rootPem] = body.signedCertificateEmbeddedSct.chain.certificates;
    const leaf = new X509Certificate(leafPem!);
    assert.equal(leaf.subjectAltName, 'email:apart@example.com');
    assert.ok(leaf.verify(new X509Certificate(intermediatePem!).publicKey));
    assert.equal(rootPem, await readFile(join(stateDir, 'ca', 'root.pem'), 'utf8'));
    // the SCT list extension is there, and the CT log in the other process grew by this entry
    assert.match(Buffer.from(leaf.raw).toString('hex'), /060a2b06010401d679020402/);
    for (let attempt = 0; attempt < 50 && (await treeSize()) === before; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    assert.equal(await treeSize(), before + 1);
  });

  it('serves a CT log alone with the roots it is given, without creating a CA', async () => {
    const alone = await mkdtemp(join(tmpdir(), 'sigil-ctlog-'));
    const ctlog = await startSigil({
      stateDir: alone,
      command: ['serve', 'ctlog'],
      args: ['--ct-roots', join(stateDir, 'ca', 'root.pem')],
    });
    try {
      const roots = (await (await fetch(`${ctlog.url}/ct-log/ct/v1/get-roots`)).json()) as {
        certificates: string[];
      };
      const root = new X509Certificate(await readFile(join(stateDir, 'ca', 'root.pem')));
      assert.deepEqual(roots.certificates, [Buffer.from(root.raw).toString('base64')]);
      await assert.rejects(readFile(join(alone, 'ca', 'root.pem')), { code: 'ENOENT' });
    } finally {
      await ctlog.stop();
      await rm(alone, { recursive: true, force: true });
    }
  });

  it('refuses to start a CA with neither a CT log in process nor --ct-url', async () => {
    await assert.rejects(
      startSigil({
        stateDir,
        command: ['serve', 'ca'],
        args: ['--ca-config', join(stateDir, 'issuers.yaml')],
      }),
      /--ct-url/,
    );
  });
});
