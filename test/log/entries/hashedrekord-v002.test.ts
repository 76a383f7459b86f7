import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  canonicalizeEntry,
  parseProposedEntry,
  type PublicKeyDetails,
} from '../../../src/log/entries/index.ts';
import {
  assertLogError,
  b64,
  decodeLeaf,
  digestOf,
  generateTestKey,
  selfSignedCertificate,
  signForDigest,
  testKey,
  type Hash,
  type KeyKind,
  type TestKey,
} from './fixtures.ts';

const message = 'a v2 artifact';

interface Request {
  hashedRekordRequestV002: {
    digest: string;
    signature: { content: string; verifier: Record<string, unknown> };
  };
  [extra: string]: unknown;
}

/** A hashedRekordRequestV002 as sigstore-js's CreateEntryRequest.toJSON writes it. */
function request(key: TestKey, keyDetails: string, hash: Hash, form: 'certificate' | 'publicKey'): Request {
  const verifier =
    form === 'certificate'
      ? { x509Certificate: { rawBytes: b64(selfSignedCertificate(key).der) } }
      : { publicKey: { rawBytes: b64(key.spkiDer) } };
  return {
    hashedRekordRequestV002: {
      digest: b64(digestOf(message, hash)),
      signature: { content: b64(signForDigest(key, message, hash)), verifier: { ...verifier, keyDetails } },
    },
  };
}

describe('hashedrekord 0.0.2 (hashedRekordRequestV002)', () => {
  const accepted: [KeyKind, PublicKeyDetails, Hash, 'certificate' | 'publicKey'][] = [
    ['p256', 'PKIX_ECDSA_P256_SHA_256', 'sha256', 'certificate'],
    ['p384', 'PKIX_ECDSA_P384_SHA_384', 'sha384', 'publicKey'],
    ['p521', 'PKIX_ECDSA_P521_SHA_512', 'sha512', 'publicKey'],
    ['rsa2048', 'PKIX_RSA_PKCS1V15_2048_SHA256', 'sha256', 'certificate'],
    // sigstore-js sends PKIX_ECDSA_P256_SHA_256 for every key; upstream only checks the key with that hash.
    ['rsa2048', 'PKIX_ECDSA_P256_SHA_256', 'sha256', 'publicKey'],
    ['ed25519', 'PKIX_ED25519_PH', 'sha512', 'publicKey'],
  ];
  for (const [kind, keyDetails, hash, form] of accepted) {
    it(`accepts a ${kind} ${form} under ${keyDetails}`, () => {
      const entry = parseProposedEntry(request(testKey(kind), keyDetails, hash, form), 'v2');
      assert.equal(entry.type, 'hashedrekord/0.0.2');
    });
  }

  it('stores the protojson of the Entry in RFC 8785 form, with the request’s signature verbatim', () => {
    const key = testKey('p256');
    const body = request(key, 'PKIX_ECDSA_P256_SHA_256', 'sha256', 'certificate');
    const { digest, signature } = body.hashedRekordRequestV002;
    const rawBytes = (signature.verifier['x509Certificate'] as { rawBytes: string }).rawBytes;
    assert.equal(
      Buffer.from(canonicalizeEntry(parseProposedEntry(body, 'v2'))).toString(),
      `{"apiVersion":"0.0.2","kind":"hashedrekord","spec":{"hashedRekordV002":{"data":{"algorithm":"SHA2_256","digest":"${digest}"},` +
        `"signature":{"content":"${signature.content}","verifier":{"keyDetails":"PKIX_ECDSA_P256_SHA_256","x509Certificate":{"rawBytes":"${rawBytes}"}}}}}}`,
    );
  });

  it('names the digest algorithm after keyDetails', () => {
    const leaf = decodeLeaf(
      canonicalizeEntry(
        parseProposedEntry(request(testKey('p384'), 'PKIX_ECDSA_P384_SHA_384', 'sha384', 'publicKey'), 'v2'),
      ),
    ) as { spec: { hashedRekordV002: { data: { algorithm: string } } } };
    assert.equal(leaf.spec.hashedRekordV002.data.algorithm, 'SHA2_384');
  });

  it('accepts URL-safe unpadded base64, as protojson does, and stores standard padded base64', () => {
    const body = request(testKey('p256'), 'PKIX_ECDSA_P256_SHA_256', 'sha256', 'publicKey');
    const { hashedRekordRequestV002: inner } = body;
    const standard = inner.signature.content;
    inner.signature.content = Buffer.from(standard, 'base64').toString('base64url');
    const leaf = decodeLeaf(canonicalizeEntry(parseProposedEntry(body, 'v2'))) as {
      spec: { hashedRekordV002: { signature: { content: string } } };
    };
    assert.equal(leaf.spec.hashedRekordV002.signature.content, standard);
  });

  describe('when it is refused', () => {
    const key = testKey('p256');
    const valid = () => request(key, 'PKIX_ECDSA_P256_SHA_256', 'sha256', 'publicKey');

    it('refuses a signature over another digest with LOG_SIGNATURE_INVALID', () => {
      const body = valid();
      body.hashedRekordRequestV002.digest = b64(digestOf('other', 'sha256'));
      assertLogError(
        () => parseProposedEntry(body, 'v2'),
        'LOG_SIGNATURE_INVALID',
        /^hashedRekordRequestV002\.signature\.content: expected a signature over hashedRekordRequestV002\.digest/,
      );
    });

    it('refuses another key with LOG_SIGNATURE_INVALID', () => {
      const body = valid();
      body.hashedRekordRequestV002.signature.verifier['publicKey'] = {
        rawBytes: b64(generateTestKey('p256').spkiDer),
      };
      assertLogError(() => parseProposedEntry(body, 'v2'), 'LOG_SIGNATURE_INVALID');
    });

    it('refuses a digest whose length does not match the keyDetails hash', () => {
      const body = valid();
      body.hashedRekordRequestV002.digest = b64(digestOf(message, 'sha512'));
      assertLogError(
        () => parseProposedEntry(body, 'v2'),
        'LOG_ENTRY_INVALID',
        /^hashedRekordRequestV002\.digest: expected 32 bytes for sha256 \(PKIX_ECDSA_P256_SHA_256\), received 64$/,
      );
    });

    it('refuses unknown fields anywhere, as the upstream gateway does', () => {
      const body = valid();
      body['spec'] = {};
      (body.hashedRekordRequestV002.signature as Record<string, unknown>)['extra'] = true;
      const error = assertLogError(() => parseProposedEntry(body, 'v2'), 'LOG_ENTRY_INVALID');
      assert.match(error.message, /(^|; )spec: expected no such field/);
      assert.match(error.message, /hashedRekordRequestV002\.signature\.extra: expected no such field/);
    });

    it('refuses both a public key and a certificate in one verifier', () => {
      const body = valid();
      body.hashedRekordRequestV002.signature.verifier['x509Certificate'] = {
        rawBytes: b64(selfSignedCertificate(key).der),
      };
      assertLogError(
        () => parseProposedEntry(body, 'v2'),
        'LOG_ENTRY_INVALID',
        /^hashedRekordRequestV002\.signature\.verifier: expected one of publicKey or x509Certificate, received both$/,
      );
    });

    it('refuses a keyDetails that is not a PublicKeyDetails name', () => {
      const body = valid();
      body.hashedRekordRequestV002.signature.verifier['keyDetails'] = 'ECDSA';
      assertLogError(
        () => parseProposedEntry(body, 'v2'),
        'LOG_ENTRY_INVALID',
        /keyDetails: expected a PublicKeyDetails name, received "ECDSA"/,
      );
    });

    for (const keyDetails of ['ML_DSA_65', 'PKIX_ECDSA_P384_SHA_256', 'PUBLIC_KEY_DETAILS_UNSPECIFIED']) {
      it(`refuses the known but unverifiable ${keyDetails} with LOG_ENTRY_UNSUPPORTED`, () => {
        const body = valid();
        body.hashedRekordRequestV002.signature.verifier['keyDetails'] = keyDetails;
        assertLogError(
          () => parseProposedEntry(body, 'v2'),
          'LOG_ENTRY_UNSUPPORTED',
          new RegExp(`received ${keyDetails}$`),
        );
      });
    }

    it('refuses pure Ed25519, which Rekor v2 no longer permits', () => {
      assertLogError(
        () => parseProposedEntry(request(testKey('ed25519'), 'PKIX_ED25519', 'sha512', 'publicKey'), 'v2'),
        'LOG_ENTRY_UNSUPPORTED',
        /Ed25519 key: expected digest sha512, received digest none/,
      );
    });

    it('refuses a P-384 key under P-256 keyDetails, since the registry has no P-384 with SHA-256', () => {
      assertLogError(
        () =>
          parseProposedEntry(
            request(testKey('p384'), 'PKIX_ECDSA_P256_SHA_256', 'sha256', 'publicKey'),
            'v2',
          ),
        'LOG_ENTRY_UNSUPPORTED',
        /^hashedRekordRequestV002\.signature\.verifier: unsupported entry algorithm for ECDSA key on P-384/,
      );
    });

    it('refuses bytes that are not base64 under protojson’s rules', () => {
      const body = valid();
      body.hashedRekordRequestV002.digest = 'ab+c_d==';
      assertLogError(
        () => parseProposedEntry(body, 'v2'),
        'LOG_ENTRY_INVALID',
        /^hashedRekordRequestV002\.digest: expected base64/,
      );
    });

    it('refuses a body with both requests, and one with neither', () => {
      const both = {
        ...valid(),
        dsseRequestV002: {
          envelope: { payload: '', payloadType: 'x', signatures: [{ sig: 'AA==' }] },
          verifiers: [],
        },
      };
      assertLogError(() => parseProposedEntry(both, 'v2'), 'LOG_ENTRY_INVALID');
      assertLogError(
        () => parseProposedEntry({}, 'v2'),
        'LOG_ENTRY_INVALID',
        /^\(root\): expected one of hashedRekordRequestV002 or dsseRequestV002, received neither$/,
      );
    });
  });
});
