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
  type TestKey,
} from './fixtures.ts';

const payload = statement('ef'.repeat(32));
const sha256 = (data: Uint8Array | string) => createHash('sha256').update(data).digest('hex');

interface Signer {
  key: TestKey;
  pem: string;
  keyid?: string;
}

/** An intoto 0.0.2 proposal as sigstore-js `toProposedIntotoEntry` builds it: payload and sig base64 twice. */
function proposal(signers: Signer[], body: Uint8Array = payload) {
  return {
    apiVersion: '0.0.2',
    kind: 'intoto',
    spec: {
      content: {
        envelope: {
          payloadType: IN_TOTO,
          payload: b64(b64(body)),
          signatures: signers.map(({ key, pem, keyid }) => ({
            ...(keyid === undefined ? {} : { keyid }),
            sig: b64(b64(signMessage(key, pae(IN_TOTO, body)))),
            publicKey: b64(pem),
          })),
        },
        hash: { algorithm: 'sha256', value: sha256('client computed') },
      },
    },
  };
}

describe('intoto 0.0.2', () => {
  const key = testKey('p256');
  const certificate = selfSignedCertificate(key).pem;

  it('stores the current upstream canonical form: no payload, canonical PEM, payload hash computed', () => {
    const unterminated = certificate.trimEnd(); // sigstore-js sends the PEM without its final newline
    const request = proposal([{ key, pem: unterminated }]);
    const entry = parseProposedEntry(request, 'v1');
    assert.equal(entry.type, 'intoto/0.0.2');
    const sig = request.spec.content.envelope.signatures[0]!.sig;
    assert.equal(
      Buffer.from(canonicalizeEntry(entry)).toString(),
      `{"apiVersion":"0.0.2","kind":"intoto","spec":{"content":{"envelope":{"payloadType":"${IN_TOTO}",` +
        `"signatures":[{"publicKey":"${b64(certificate)}","sig":"${sig}"}]},` +
        `"hash":{"algorithm":"sha256","value":"${sha256('client computed')}"},` +
        `"payloadHash":{"algorithm":"sha256","value":"${sha256(payload)}"}}}}`,
    );
  });

  it('keeps a non-empty keyid and the order of the signatures', () => {
    const rsa = testKey('rsa2048');
    const request = proposal([
      { key: rsa, pem: rsa.publicPem, keyid: 'second-is-first' },
      { key, pem: key.publicPem },
    ]);
    const leaf = decodeLeaf(canonicalizeEntry(parseProposedEntry(request, 'v1'))) as {
      spec: { content: { envelope: { signatures: { keyid?: string; publicKey: string }[] } } };
    };
    const [first, second] = leaf.spec.content.envelope.signatures;
    assert.equal(first?.keyid, 'second-is-first');
    assert.equal(first?.publicKey, b64(rsa.publicPem));
    assert.equal(second?.keyid, undefined);
  });

  it('recomputes a payload hash the client supplied', () => {
    const request = proposal([{ key, pem: key.publicPem }]) as ReturnType<typeof proposal> & {
      spec: { content: { payloadHash?: unknown } };
    };
    request.spec.content.payloadHash = { algorithm: 'sha256', value: '00'.repeat(32) };
    const leaf = decodeLeaf(canonicalizeEntry(parseProposedEntry(request, 'v1'))) as {
      spec: { content: { payloadHash: { value: string } } };
    };
    assert.equal(leaf.spec.content.payloadHash.value, sha256(payload));
  });

  it('indexes the statement subjects and SLSA materials while it still has the envelope', () => {
    const keys = entrySearchKeys(parseProposedEntry(proposal([{ key, pem: certificate }]), 'v1'));
    assert.ok(keys.artifactHashes.includes(`sha256:${'ef'.repeat(32)}`));
    assert.ok(keys.artifactHashes.includes('sha1:abcdef0123'));
    assert.ok(keys.artifactHashes.includes(`sha256:${sha256(payload)}`));
  });

  describe('when it cannot be verified', () => {
    it('refuses a signature over another payload with LOG_SIGNATURE_INVALID', () => {
      const request = proposal([{ key, pem: key.publicPem }]);
      request.spec.content.envelope.payload = b64(b64(statement('00'.repeat(32))));
      assertLogError(
        () => parseProposedEntry(request, 'v1'),
        'LOG_SIGNATURE_INVALID',
        /^spec\.content\.envelope\.signatures\[0\]\.publicKey: expected a key that verifies a signature/,
      );
    });

    it('refuses a public key that is not the signer’s', () => {
      const request = proposal([{ key, pem: generateTestKey('p256').publicPem }]);
      assertLogError(() => parseProposedEntry(request, 'v1'), 'LOG_SIGNATURE_INVALID');
    });

    it('refuses a proposal without the client hash, as Canonicalize does', () => {
      const request = proposal([{ key, pem: key.publicPem }]) as {
        spec: { content: Record<string, unknown> };
      };
      delete request.spec.content['hash'];
      assertLogError(
        () => parseProposedEntry(request, 'v1'),
        'LOG_ENTRY_INVALID',
        /^spec\.content\.hash: expected a value/,
      );
    });

    it('refuses a signature that is base64 only once', () => {
      const request = proposal([{ key, pem: key.publicPem }]);
      request.spec.content.envelope.signatures[0]!.sig = b64(signMessage(key, pae(IN_TOTO, payload)));
      assertLogError(
        () => parseProposedEntry(request, 'v1'),
        'LOG_ENTRY_INVALID',
        /signatures\[0\]\.sig: expected base64 of a base64 signature/,
      );
    });

    it('refuses a payload over the configured length with LOG_ENTRY_TOO_LARGE', () => {
      assertLogError(
        () => parseProposedEntry(proposal([{ key, pem: key.publicPem }]), 'v1', { maxEnvelopeLength: 64 }),
        'LOG_ENTRY_TOO_LARGE',
        /^spec\.content\.envelope\.payload: expected at most 64 characters/,
      );
    });

    it('refuses a P-384 key, which cannot sign a sha256 payload hash under the registry', () => {
      const p384 = testKey('p384');
      assertLogError(
        () => parseProposedEntry(proposal([{ key: p384, pem: p384.publicPem }]), 'v1'),
        'LOG_ENTRY_UNSUPPORTED',
      );
    });
  });
});
