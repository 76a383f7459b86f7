import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { entrySearchKeys, parseProposedEntry } from '../../../src/log/entries/index.ts';
import { formatIp, subjectAlternativeNames } from '../../../src/log/entries/internal/certificate-names.ts';
import { vectorPath } from '../../tools/vectors.ts';
import { hashedRekordProposal, selfSignedCertificate, testKey } from './fixtures.ts';

const sha256Hex = (text: string) => createHash('sha256').update(text).digest('hex');

describe('entrySearchKeys', () => {
  it('indexes a hashedrekord by digest, canonical PEM hash and every SAN, in upstream order and lower case', () => {
    const key = testKey('p256');
    const { pem } = selfSignedCertificate(key);
    const proposal = hashedRekordProposal(key, { verifierPem: pem });
    const value = (proposal.spec as { data: { hash: { value: string } } }).data.hash.value;
    (proposal.spec as { data: { hash: { value: string } } }).data.hash.value = value.toUpperCase();
    const keys = entrySearchKeys(parseProposedEntry(proposal, 'v1'));
    assert.deepEqual(keys, {
      artifactHashes: [`sha256:${value}`],
      // pkg/api/index.go: a queried key is hashed as key.CanonicalValue(), the PEM.
      publicKeyHashes: [sha256Hex(pem)],
      // cryptoutils.GetSubjectAlternateNames: DNS, email, IP, URI, then the Fulcio OtherName.
      subjects: [
        'build.example.com',
        'alice@example.com',
        '10.1.2.3',
        '2001:db8::1',
        'https://github.com/acme/app/.github/workflows/release.yml@refs/heads/main',
        'alice-user',
      ],
    });
  });

  it('gives a bare key no subjects and the hash of its canonical PEM', () => {
    const key = testKey('p384');
    const keys = entrySearchKeys(parseProposedEntry(hashedRekordProposal(key, { hash: 'sha384' }), 'v1'));
    assert.deepEqual(keys.subjects, []);
    assert.deepEqual(keys.publicKeyHashes, [sha256Hex(key.publicPem)]);
    assert.match(keys.artifactHashes[0] ?? '', /^sha384:[0-9a-f]{96}$/);
  });

  for (const [file, expected] of [
    [
      'github-actions-sigstore-js-release-leaf.pem',
      'https://github.com/sigstore/sigstore-js/.github/workflows/release.yml@refs/heads/main',
    ],
    ['email-github-oauth-connaisseur-leaf.pem', 'philipp.belitz@securesystems.de'],
  ] as const) {
    it(`reads the SAN of the real Fulcio leaf ${file} (fulcio-certs/README.md)`, () => {
      const der = Buffer.from(
        readFileSync(vectorPath(`fulcio-certs/${file}`), 'utf8').replace(/-----[^-]+-----|\s/g, ''),
        'base64',
      );
      assert.deepEqual(subjectAlternativeNames(der), [expected]);
    });
  }
});

describe('formatIp (Go net.IP String)', () => {
  for (const [bytes, text] of [
    [[127, 0, 0, 1], '127.0.0.1'],
    [[0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 0, 2, 1], '192.0.2.1'],
    [[0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1], '2001:db8::1'],
    [[0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1], '2001:db8:0:1::1'],
    [[0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 0, 0, 1, 0, 1, 0, 1, 0, 1], '2001:db8:1:0:1:1:1:1'],
    [[0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], '::'],
  ] as const) {
    it(`writes ${text}`, () => assert.equal(formatIp(Uint8Array.from(bytes)), text));
  }
});
