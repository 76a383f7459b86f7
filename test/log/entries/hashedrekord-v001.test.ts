import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { canonicalizeEntry, parseProposedEntry } from '../../../src/log/entries/index.ts';
import {
  assertLogError,
  b64,
  decodeLeaf,
  digestOf,
  generateTestKey,
  hashedRekordProposal,
  hex,
  selfSignedCertificate,
  testKey,
  type Hash,
  type KeyKind,
} from './fixtures.ts';

interface Spec {
  data: { hash: { algorithm: unknown; value: unknown } };
  signature: { content: unknown; publicKey: { content: unknown } };
}

/** A fresh P-256 proposal with one change applied to its spec. */
function proposalWith(change: (spec: Spec) => void, kind: KeyKind = 'p256'): unknown {
  const proposal = hashedRekordProposal(testKey(kind));
  change(proposal.spec as unknown as Spec);
  return proposal;
}

function leafOf(proposal: unknown): Spec & { apiVersion: string; kind: string; spec: Spec } {
  return decodeLeaf(canonicalizeEntry(parseProposedEntry(proposal, 'v1'))) as never;
}

describe('hashedrekord 0.0.1', () => {
  const accepted: [KeyKind, Hash, 'certificate' | 'public key'][] = [
    ['p256', 'sha256', 'certificate'],
    ['p256', 'sha256', 'public key'],
    ['p384', 'sha384', 'public key'],
    ['p521', 'sha512', 'certificate'],
    ['rsa2048', 'sha256', 'public key'],
    ['ed25519', 'sha512', 'public key'],
  ];
  for (const [kind, hash, form] of accepted) {
    it(`accepts a ${kind} signature over a ${hash} digest with a ${form}`, () => {
      const key = testKey(kind);
      const verifierPem = form === 'certificate' ? selfSignedCertificate(key).pem : key.publicPem;
      const proposal = hashedRekordProposal(key, { hash, verifierPem });
      const entry = parseProposedEntry(proposal, 'v1');
      assert.equal(entry.type, 'hashedrekord/0.0.1');
      assert.deepEqual(decodeLeaf(canonicalizeEntry(entry)), proposal);
    });
  }

  it('stores exactly apiVersion, kind and the spec, in RFC 8785 order, dropping unknown fields', () => {
    const key = testKey('p256');
    const proposal = hashedRekordProposal(key);
    const spec = proposal.spec as unknown as {
      data: { hash: { value: string } };
      signature: { content: string };
    };
    const entry = parseProposedEntry({ ...proposal, extra: 1, spec: { ...proposal.spec, note: 'x' } }, 'v1');
    assert.equal(
      Buffer.from(canonicalizeEntry(entry)).toString(),
      `{"apiVersion":"0.0.1","kind":"hashedrekord","spec":{"data":{"hash":{"algorithm":"sha256","value":"${spec.data.hash.value}"}},` +
        `"signature":{"content":"${spec.signature.content}","publicKey":{"content":"${b64(key.publicPem)}"}}}}`,
    );
  });

  it('re-encodes the key as canonical PEM, as Canonicalize does with keyObj.CanonicalValue()', () => {
    const key = testKey('p256');
    const { pem } = selfSignedCertificate(key);
    const base64 = pem.replace(/-----[^-]+-----|\s/g, '');
    const untidy = `\r\n  -----BEGIN CERTIFICATE-----\r\n${base64}\r\n-----END CERTIFICATE-----`;
    const leaf = leafOf(hashedRekordProposal(key, { verifierPem: untidy }));
    assert.equal(Buffer.from(leaf.spec.signature.publicKey.content as string, 'base64').toString(), pem);
  });

  it('keeps an upper-case digest as given, as upstream does', () => {
    const proposal = proposalWith((spec) => {
      spec.data.hash.value = String(spec.data.hash.value).toUpperCase();
    });
    assert.match(String(leafOf(proposal).spec.data.hash.value), /^[0-9A-F]{64}$/);
  });

  describe('when the signature does not verify', () => {
    it('refuses a digest of another artifact with LOG_SIGNATURE_INVALID', () => {
      const proposal = proposalWith((spec) => {
        spec.data.hash.value = hex(digestOf('another artifact', 'sha256'));
      });
      assertLogError(
        () => parseProposedEntry(proposal, 'v1'),
        'LOG_SIGNATURE_INVALID',
        /^spec\.signature\.content: expected a signature over spec\.data\.hash\.value by the key in spec\.signature\.publicKey\.content, received one that does not verify$/,
      );
    });

    it('refuses a key other than the signer’s with LOG_SIGNATURE_INVALID', () => {
      const proposal = proposalWith((spec) => {
        spec.signature.publicKey.content = b64(generateTestKey('p256').publicPem);
      });
      assertLogError(() => parseProposedEntry(proposal, 'v1'), 'LOG_SIGNATURE_INVALID');
    });

    it('refuses a tampered signature with LOG_SIGNATURE_INVALID', () => {
      const proposal = proposalWith((spec) => {
        const bytes = Buffer.from(String(spec.signature.content), 'base64');
        bytes[bytes.length - 1]! ^= 0x01;
        spec.signature.content = bytes.toString('base64');
      });
      assertLogError(() => parseProposedEntry(proposal, 'v1'), 'LOG_SIGNATURE_INVALID');
    });
  });

  describe('when a field is malformed', () => {
    const cases: [string, (spec: Spec) => void, RegExp][] = [
      [
        'the signature is not base64',
        (spec) => (spec.signature.content = 'not base64!'),
        /^spec\.signature\.content: expected base64 of a signature, received "not base64!"$/,
      ],
      [
        'the key is not base64 of PEM',
        (spec) => (spec.signature.publicKey.content = b64('hello')),
        /^spec\.signature\.publicKey\.content: expected a PEM certificate or public key/,
      ],
      [
        'the PEM block is not a key or certificate',
        (spec) =>
          (spec.signature.publicKey.content = b64(
            '-----BEGIN RSA PUBLIC KEY-----\nAAAA\n-----END RSA PUBLIC KEY-----\n',
          )),
        /^spec\.signature\.publicKey\.content: expected a CERTIFICATE or PUBLIC KEY PEM block, received "RSA PUBLIC KEY"$/,
      ],
      [
        'text follows the PEM block',
        (spec) => (spec.signature.publicKey.content = b64(`${testKey('p256').publicPem}trailing words`)),
        /^spec\.signature\.publicKey\.content: expected nothing but one PEM block/,
      ],
      [
        'the PEM holds garbage DER',
        (spec) =>
          (spec.signature.publicKey.content = b64(
            '-----BEGIN PUBLIC KEY-----\nMAMCAQA=\n-----END PUBLIC KEY-----\n',
          )),
        /^spec\.signature\.publicKey\.content: expected a DER SubjectPublicKeyInfo/,
      ],
      [
        'the digest is not hex',
        (spec) => (spec.data.hash.value = 'zz'),
        /^spec\.data\.hash\.value: expected hex, received "zz"$/,
      ],
      [
        'the digest is too short for its algorithm',
        (spec) => (spec.data.hash.value = 'ab'.repeat(20)),
        /^spec\.data\.hash\.value: expected 64 hex characters for sha256, received 40$/,
      ],
      [
        'the algorithm is unknown',
        (spec) => (spec.data.hash.algorithm = 'md5'),
        /^spec\.data\.hash\.algorithm: expected one of "sha256", "sha384", "sha512", received "md5"$/,
      ],
    ];
    for (const [name, change, fragment] of cases) {
      it(`refuses the entry with LOG_ENTRY_INVALID when ${name}`, () => {
        assertLogError(() => parseProposedEntry(proposalWith(change), 'v1'), 'LOG_ENTRY_INVALID', fragment);
      });
    }

    it('reports every schema error of the body in one message', () => {
      const error = assertLogError(
        () =>
          parseProposedEntry(
            {
              apiVersion: '0.0.1',
              kind: 'hashedrekord',
              spec: { data: { hash: { algorithm: 7 } }, signature: { content: [] } },
            },
            'v1',
          ),
        'LOG_ENTRY_INVALID',
      );
      for (const fragment of [
        'spec.data.hash.algorithm: expected one of',
        'spec.data.hash.value: expected a value, received nothing',
        'spec.signature.content: expected string, received array',
        'spec.signature.publicKey: expected a value, received nothing',
      ]) {
        assert.ok(error.message.includes(fragment), `missing "${fragment}" in: ${error.message}`);
      }
    });

    it('refuses an oversized signature with LOG_ENTRY_TOO_LARGE', () => {
      const proposal = proposalWith((spec) => (spec.signature.content = 'A'.repeat(8192)));
      assertLogError(
        () => parseProposedEntry(proposal, 'v1'),
        'LOG_ENTRY_TOO_LARGE',
        /spec\.signature\.content: expected at most 4096 characters, received 8192/,
      );
    });
  });

  describe('when the key and digest are not a pairing Rekor permits', () => {
    const refused: [KeyKind, Hash, RegExp][] = [
      ['p256', 'sha384', /ECDSA key on P-256: expected digest sha256, received digest sha384/],
      ['p384', 'sha256', /ECDSA key on P-384: expected digest sha384, received digest sha256/],
      ['rsa2048', 'sha512', /RSA key of 2048 bits: expected digest sha256, received digest sha512/],
      ['ed25519', 'sha256', /Ed25519 key: expected digest none or sha512, received digest sha256/],
      ['rsa1024', 'sha256', /RSA key of 1024 bits: expected a permitted key type/],
    ];
    for (const [kind, hash, fragment] of refused) {
      it(`refuses ${kind} with ${hash} as LOG_ENTRY_UNSUPPORTED`, () => {
        const proposal = hashedRekordProposal(testKey(kind), { hash });
        assertLogError(() => parseProposedEntry(proposal, 'v1'), 'LOG_ENTRY_UNSUPPORTED', fragment);
      });
    }

    it('refuses a key on a curve other than P-256, P-384 and P-521', () => {
      const proposal = hashedRekordProposal(testKey('secp256k1'));
      assertLogError(
        () => parseProposedEntry(proposal, 'v1'),
        'LOG_ENTRY_UNSUPPORTED',
        /received curve secp256k1/,
      );
    });

    it('refuses a certificate chain rather than verifying it', () => {
      const key = testKey('p256');
      const chain = selfSignedCertificate(key).pem + selfSignedCertificate(testKey('p384')).pem;
      const proposal = hashedRekordProposal(key, { verifierPem: chain });
      assertLogError(
        () => parseProposedEntry(proposal, 'v1'),
        'LOG_ENTRY_UNSUPPORTED',
        /received 2 PEM blocks/,
      );
    });
  });
});
