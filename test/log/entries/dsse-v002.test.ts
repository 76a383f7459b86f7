import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { canonicalizeEntry, entrySearchKeys, parseProposedEntry } from '../../../src/log/entries/index.ts';
import {
  IN_TOTO,
  assertLogError,
  b64,
  decodeLeaf,
  generateTestKey,
  pae,
  selfSignedCertificate,
  signMessage,
  statement,
  testKey,
  type Hash,
  type TestKey,
} from './fixtures.ts';

const payload = statement('12'.repeat(32));

interface Signer {
  key: TestKey;
  keyDetails: string;
  hash?: Hash;
}

/** A dsseRequestV002 as sigstore-js's `toCreateEntryRequestDSSE` serializes it. */
function request(signers: Signer[], verifiers: Signer[] = signers) {
  return {
    dsseRequestV002: {
      envelope: {
        payload: b64(payload),
        payloadType: IN_TOTO,
        signatures: signers.map(({ key, hash }) => ({
          sig: b64(signMessage(key, pae(IN_TOTO, payload), hash)),
          keyid: '',
        })),
      },
      verifiers: verifiers.map(({ key, keyDetails }) => ({
        x509Certificate: { rawBytes: b64(selfSignedCertificate(key).der) },
        keyDetails,
      })),
    },
  };
}

describe('dsse 0.0.2 (dsseRequestV002)', () => {
  const p256: Signer = { key: testKey('p256'), keyDetails: 'PKIX_ECDSA_P256_SHA_256' };

  it('stores the payload hash and each signature with its verifier, in RFC 8785 form', () => {
    const body = request([p256]);
    const entry = parseProposedEntry(body, 'v2');
    assert.equal(entry.type, 'dsse/0.0.2');
    const verifier = body.dsseRequestV002.verifiers[0]!;
    assert.equal(
      Buffer.from(canonicalizeEntry(entry)).toString(),
      `{"apiVersion":"0.0.2","kind":"dsse","spec":{"dsseV002":{"payloadHash":{"algorithm":"SHA2_256",` +
        `"digest":"${createHash('sha256').update(payload).digest('base64')}"},"signatures":[{"content":"${body.dsseRequestV002.envelope.signatures[0]!.sig}",` +
        `"verifier":{"keyDetails":"PKIX_ECDSA_P256_SHA_256","x509Certificate":{"rawBytes":"${verifier.x509Certificate.rawBytes}"}}}]}}}`,
    );
  });

  it('checks each signature with the hash its keyDetails names (P-384 over SHA-384)', () => {
    const p384: Signer = { key: testKey('p384'), keyDetails: 'PKIX_ECDSA_P384_SHA_384', hash: 'sha384' };
    assert.equal(parseProposedEntry(request([p384]), 'v2').type, 'dsse/0.0.2');
    assertLogError(
      () => parseProposedEntry(request([{ ...p384, hash: 'sha256' }]), 'v2'),
      'LOG_SIGNATURE_INVALID',
    );
  });

  it('verifies Ed25519 as pure Ed25519 under PKIX_ED25519_PH, as LoadVerifier(key, sha512) does', () => {
    const ed: Signer = { key: testKey('ed25519'), keyDetails: 'PKIX_ED25519_PH' };
    assert.equal(parseProposedEntry(request([ed]), 'v2').type, 'dsse/0.0.2');
  });

  it('sorts signatures by their raw bytes', () => {
    const rsa: Signer = { key: testKey('rsa2048'), keyDetails: 'PKIX_RSA_PKCS1V15_2048_SHA256' };
    const leaf = decodeLeaf(canonicalizeEntry(parseProposedEntry(request([rsa, p256]), 'v2'))) as {
      spec: { dsseV002: { signatures: { content: string }[] } };
    };
    const raw = leaf.spec.dsseV002.signatures.map((signature) => Buffer.from(signature.content, 'base64'));
    assert.equal(raw.length, 2);
    assert.ok(Buffer.compare(raw[0]!, raw[1]!) < 0);
  });

  it('keeps the envelope on the entry for the search index', () => {
    const keys = entrySearchKeys(parseProposedEntry(request([p256]), 'v2'));
    assert.ok(keys.artifactHashes.includes(`sha256:${'12'.repeat(32)}`));
    assert.ok(keys.subjects.includes('alice@example.com'));
  });

  describe('when it is refused', () => {
    it('refuses a verifier that verifies no signature with LOG_SIGNATURE_INVALID', () => {
      const stranger: Signer = { key: generateTestKey('p256'), keyDetails: 'PKIX_ECDSA_P256_SHA_256' };
      assertLogError(
        () => parseProposedEntry(request([p256], [stranger]), 'v2'),
        'LOG_SIGNATURE_INVALID',
        /^dsseRequestV002\.verifiers\[0\]: expected a key that verifies a signature of the envelope/,
      );
    });

    it('refuses an empty signature', () => {
      const body = request([p256]);
      body.dsseRequestV002.envelope.signatures[0]!.sig = '';
      assertLogError(
        () => parseProposedEntry(body, 'v2'),
        'LOG_ENTRY_INVALID',
        /dsseRequestV002\.envelope\.signatures\[0\]\.sig: expected at least 1 characters, received 0/,
      );
    });

    it('refuses more than ten signatures with LOG_ENTRY_TOO_LARGE', () => {
      const body = request([p256]);
      const [signature] = body.dsseRequestV002.envelope.signatures;
      body.dsseRequestV002.envelope.signatures = Array.from({ length: 11 }, () => signature!);
      assertLogError(
        () => parseProposedEntry(body, 'v2'),
        'LOG_ENTRY_TOO_LARGE',
        /at most 10 items, received 11/,
      );
    });

    it('refuses a payload over the configured length before reading it', () => {
      assertLogError(
        () => parseProposedEntry(request([p256]), 'v2', { maxEnvelopeLength: 10 }),
        'LOG_ENTRY_TOO_LARGE',
        /^dsseRequestV002\.envelope\.payload: expected at most 10 characters/,
      );
    });

    it('refuses unknown envelope fields', () => {
      const body = request([p256]) as { dsseRequestV002: { envelope: Record<string, unknown> } };
      body.dsseRequestV002.envelope['payload_type'] = IN_TOTO;
      assertLogError(
        () => parseProposedEntry(body, 'v2'),
        'LOG_ENTRY_INVALID',
        /envelope\.payload_type: expected no such field/,
      );
    });
  });
});
