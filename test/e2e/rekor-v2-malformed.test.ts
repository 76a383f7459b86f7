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

const HOSTILE_VALUES = HOSTILE_JSON_VALUES;

/** Every field path of the valid request, to replace or delete. */
const PATHS = [
  ['hashedRekordRequestV002'],
  ['hashedRekordRequestV002', 'digest'],
  ['hashedRekordRequestV002', 'signature'],
  ['hashedRekordRequestV002', 'signature', 'content'],
  ['hashedRekordRequestV002', 'signature', 'verifier'],
  ['hashedRekordRequestV002', 'signature', 'verifier', 'publicKey'],
  ['hashedRekordRequestV002', 'signature', 'verifier', 'publicKey', 'rawBytes'],
  ['hashedRekordRequestV002', 'signature', 'verifier', 'keyDetails'],
];

/** At least 500 malformed or unverifiable v2 requests, each named by what is wrong. */
function malformedRequests(signer: HashedRekordSigner, random: () => number): [string, unknown][] {
  const valid = signer.v2Request(Buffer.from('valid'));
  const text = JSON.stringify(valid);
  const requests: [string, unknown][] = [
    ...fieldCases(valid, PATHS, HOSTILE_VALUES),
    ...truncatedCases(text, 200, random),
  ];
  for (let i = 0; i < 180; i++) {
    // Change one byte of the signature, digest or key: valid shapes that must not verify.
    const copy = structuredClone(valid);
    const { hashedRekordRequestV002: request } = copy;
    const alter = (base64: string): string => {
      const bytes = Buffer.from(base64, 'base64');
      bytes[Math.floor(random() * bytes.length)]! ^= 1 << Math.floor(random() * 8);
      return bytes.toString('base64');
    };
    const field = (['signature', 'digest', 'key'] as const)[i % 3]!;
    if (field === 'signature') request.signature.content = alter(request.signature.content);
    else if (field === 'digest') request.digest = alter(request.digest);
    else request.signature.verifier.publicKey.rawBytes = alter(request.signature.verifier.publicKey.rawBytes);
    requests.push([`${field} altered by one bit (${i})`, copy]);
  }
  // Not here: another SHA-256 keyDetails such as PKIX_RSA_PKCS1V15_2048_SHA256, which upstream accepts for
  // any key (it checks only the hash keyDetails names; sigstore-js sends the P-256 name for every key).
  for (const keyDetails of [
    'PKIX_ED25519',
    'PKIX_ECDSA_P384_SHA_384',
    'LMS_SHA256',
    'ML_DSA_65',
    'pkix_ecdsa_p256_sha_256',
    'UNKNOWN',
  ]) {
    requests.push([`keyDetails ${keyDetails}`, mutate(valid, PATHS[7]!, keyDetails)]);
  }
  requests.push(['an unknown top-level field', { ...valid, extra: true }]);
  requests.push(['both request kinds', { ...valid, dsseRequestV002: { envelope: {}, verifiers: [] } }]);
  requests.push(['a v1 proposal', signer.proposal()]);
  requests.push([
    'a signature by another key',
    mutate(
      valid,
      PATHS[6]!,
      new HashedRekordSigner().v2Request().hashedRekordRequestV002.signature.verifier.publicKey.rawBytes,
    ),
  ]);
  for (const body of ['', 'null', '[]', '"entry"', '42', 'true', '{', '}', '{}', '[{}]']) {
    requests.push([`body ${JSON.stringify(body)}`, body]);
  }
  return requests;
}

describe('Rekor v2 write endpoint under malformed input', () => {
  let sigil: RunningSigil;
  const treeSize = async () => Number((await (await fetch(`${sigil.url}/checkpoint`)).text()).split('\n')[1]);

  before(async () => {
    sigil = await startSigil();
  });

  after(() => sigil?.cleanup());

  it('answers at least 500 malformed requests with a 4xx that names the problem, and stores none of them', async () => {
    const before = await treeSize();
    const requests = malformedRequests(new HashedRekordSigner(), seeded(2027));
    assert.ok(requests.length >= 500, `only ${requests.length} requests`);
    assert.deepEqual(await unrefusedRequests(`${sigil.url}/api/v2/log/entries`, requests), []);
    assert.equal(await treeSize(), before, 'the log changed');
  });

  it('still accepts a valid request afterwards, and answers it again with 409', async () => {
    const request = new HashedRekordSigner().v2Request();
    const created = await postJson(`${sigil.url}/api/v2/log/entries`, request);
    assert.equal(created.status, 201, await created.clone().text());
    const again = await postJson(`${sigil.url}/api/v2/log/entries`, request);
    assert.equal(again.status, 409);
    assert.equal(again.headers.get('x-log-index'), ((await created.json()) as { logIndex: string }).logIndex);
  });
});
