import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { HashedRekordSigner, postJson } from '../tools/rekor-entries.ts';
import { startSigil, type RunningSigil } from '../tools/sigil-process.ts';

describe('sigil up --max-body-bytes 4096 --admission-workers 0', () => {
  let sigil: RunningSigil;

  before(async () => {
    sigil = await startSigil({ args: ['--max-body-bytes', '4096', '--admission-workers', '0'] });
  });

  after(() => sigil.cleanup());

  for (const path of ['/api/v1/log/entries', '/api/v2/log/entries']) {
    it(`answers a body over 4096 bytes on ${path} with 413 naming the limit and the flag`, async () => {
      const response = await postJson(`${sigil.url}${path}`, { padding: 'x'.repeat(5000) });
      assert.equal(response.status, 413);
      const answer = (await response.json()) as { code: string; message: string };
      assert.equal(answer.code, 'REQUEST_TOO_LARGE');
      assert.match(answer.message, /expected at most 4096 bytes.*--max-body-bytes/);
    });
  }

  it('verifies and appends entries on the main thread, with no admission workers', async () => {
    const response = await postJson(`${sigil.url}/api/v1/log/entries`, new HashedRekordSigner().proposal());
    assert.equal(response.status, 201, await response.clone().text());
    const metrics = await (await fetch(`${sigil.url}/metrics`)).text();
    assert.doesNotMatch(metrics, /sigil_log_admission_workers/);
    assert.match(metrics, /sigil_log_append_total\{log="rekor-v1",outcome="added"\} 1/);
  });
});
