import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { HashedRekordSigner, postJson } from '../tools/rekor-entries.ts';
import {
  fieldCases,
  HOSTILE_JSON_VALUES,
  mutate,
  seeded,
  truncatedCases,
  unrefusedRequests,
} from '../tools/malformed.ts';
import { startSigil, type RunningSigil } from '../tools/sigil-process.ts';

// v1 bodies carry base64 text where v2 carries bytes: a long string too.
const HOSTILE_VALUES: unknown[] = [...HOSTILE_JSON_VALUES, 'A'.repeat(5000)];

/** Every field path of the valid proposal, to replace or delete. */
const PATHS = [
  ['apiVersion'],
  ['kind'],
  ['spec'],
  ['spec', 'data'],
  ['spec', 'data', 'hash'],
  ['spec', 'data', 'hash', 'algorithm'],
  ['spec', 'data', 'hash', 'value'],
  ['spec', 'signature'],
  ['spec', 'signature', 'content'],
  ['spec', 'signature', 'publicKey'],
  ['spec', 'signature', 'publicKey', 'content'],
];

/** At least 500 malformed or unverifiable requests, each with a name saying what is wrong. */
function malformedRequests(signer: HashedRekordSigner, random: () => number): [string, unknown][] {
  const valid = signer.proposal(Buffer.from('valid'));
  const text = JSON.stringify(valid);
  const requests: [string, unknown][] = [
    ...fieldCases(valid, PATHS, HOSTILE_VALUES),
    ...truncatedCases(text, 170, random),
  ];
  for (let i = 0; i < 150; i++) {
    // Flip one character of the signature, digest or key: valid shapes that must not verify.
    const field = (['content', 'value', 'publicKey'] as const)[i % 3]!;
    const copy = structuredClone(valid);
    const flip = (s: string): string => {
      const at = Math.floor(random() * s.length);
      const replacement = field === 'value' ? (s[at] === '0' ? '1' : '0') : s[at] === 'A' ? 'B' : 'A';
      const flipped = s.slice(0, at) + replacement + s.slice(at + 1);
      // A base64 character before the padding carries unused low bits: flipping only those leaves the
      // decoded bytes as they were (a valid request, as Go's lenient decoder sees it too). Flip elsewhere.
      const same = field !== 'value' && Buffer.from(flipped, 'base64').equals(Buffer.from(s, 'base64'));
      return same || s[at] === '=' ? flip(s) : flipped;
    };
    if (field === 'content') copy.spec.signature.content = flip(copy.spec.signature.content);
    else if (field === 'value') copy.spec.data.hash.value = flip(copy.spec.data.hash.value);
    else copy.spec.signature.publicKey.content = flip(copy.spec.signature.publicKey.content);
    requests.push([`${field} altered by one character (${i})`, copy]);
  }
  for (const kind of [
    'rekord',
    'rpm',
    'jar',
    'helm',
    'tuf',
    'cose',
    'alpine',
    'rfc3161',
    'HASHEDREKORD',
    'unknown',
  ]) {
    requests.push([`kind ${kind}`, { ...valid, kind }]);
  }
  for (const apiVersion of ['0.0.2', '0.0.0', '1.0.0', '0.0.1 '])
    requests.push([`apiVersion ${apiVersion}`, { ...valid, apiVersion }]);
  for (const algorithm of ['sha1', 'md5', 'SHA256', 'sha384', 'sha512']) {
    requests.push([
      `digest algorithm ${algorithm} with a sha256 digest`,
      mutate(valid, ['spec', 'data', 'hash', 'algorithm'], algorithm),
    ]);
  }
  for (const body of [
    '',
    'null',
    '[]',
    '"entry"',
    '42',
    'true',
    '{',
    '}',
    '[{}]',
    '{"apiVersion":"0.0.1"}',
  ]) {
    requests.push([`body ${JSON.stringify(body)}`, body]);
  }
  requests.push([
    'a signature by another key',
    {
      ...valid,
      spec: {
        ...valid.spec,
        signature: {
          ...valid.spec.signature,
          publicKey: new HashedRekordSigner().proposal().spec.signature.publicKey,
        },
      },
    },
  ]);
  return requests;
}

describe('Rekor v1 write endpoint under malformed input', () => {
  let sigil: RunningSigil;

  before(async () => {
    sigil = await startSigil();
  });

  after(() => sigil?.cleanup());

  it('answers at least 500 malformed requests with a 4xx that names the problem, and stores none of them', async () => {
    const treeSize = async () =>
      ((await (await fetch(`${sigil.url}/api/v1/log`)).json()) as { treeSize: number }).treeSize;
    const before = await treeSize();
    const requests = malformedRequests(new HashedRekordSigner(), seeded(2026));
    assert.ok(requests.length >= 500, `only ${requests.length} requests`);
    assert.deepEqual(await unrefusedRequests(`${sigil.url}/api/v1/log/entries`, requests), []);
    assert.equal(await treeSize(), before, 'the log changed');
  });

  it('answers a body over the limit with 413', async () => {
    const response = await postJson(`${sigil.url}/api/v1/log/entries`, {
      padding: 'x'.repeat(2 * 1024 * 1024),
    });
    assert.equal(response.status, 413);
    assert.equal(((await response.json()) as { code: string }).code, 'REQUEST_TOO_LARGE');
  });

  it('still accepts a valid entry afterwards', async () => {
    const response = await postJson(`${sigil.url}/api/v1/log/entries`, new HashedRekordSigner().proposal());
    assert.equal(response.status, 201, await response.clone().text());
  });

  it('counts every append by outcome and exposes the tree size on /metrics', async () => {
    const text = await (await fetch(`${sigil.url}/metrics`)).text();
    const value = (pattern: RegExp) => Number(pattern.exec(text)?.[1] ?? Number.NaN);
    assert.ok(value(/sigil_log_append_total\{log="rekor-v1",outcome="refused"\} (\d+)/) >= 500);
    assert.equal(value(/sigil_log_append_total\{log="rekor-v1",outcome="added"\} (\d+)/), 1);
    assert.equal(value(/sigil_log_checkpoint_tree_size\{log="rekor-v1"\} (\d+)/), 1);
    assert.equal(value(/sigil_log_pending_appends\{log="tiles"\} (\d+)/), 0);
    // The entries were admitted on the worker threads, which report their time verifying.
    const admitting = value(/sigil_log_admission_seconds_total ([0-9.e-]+)/);
    const verifying = value(/sigil_log_signature_verify_seconds_total ([0-9.e-]+)/);
    assert.ok(verifying > 0 && verifying <= admitting, `verifying ${verifying} s of ${admitting} s`);
    assert.ok(value(/sigil_log_admission_workers (\d+)/) >= 1);
    assert.equal(value(/sigil_log_admission_pending (\d+)/), 0);
  });
});
