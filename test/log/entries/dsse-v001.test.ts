import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { canonicalizeEntry, parseProposedEntry } from '../../../src/log/entries/index.ts';
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

const payload = statement('ab'.repeat(32));

/** A DSSE envelope signed by each key, in order, serialized the way sigstore-js sends it. */
function envelope(signers: TestKey[], body: Uint8Array = payload, payloadType = IN_TOTO): string {
  const signatures = signers.map((key) => ({
    sig: b64(signMessage(key, pae(payloadType, body))),
    keyid: '',
  }));
  return JSON.stringify({ payload: b64(body), payloadType, signatures });
}

function proposal(envelopeText: string, verifierPems: string[]): Record<string, unknown> {
  return {
    apiVersion: '0.0.1',
    kind: 'dsse',
    spec: { proposedContent: { envelope: envelopeText, verifiers: verifierPems.map((pem) => b64(pem)) } },
  };
}

const sha256 = (data: Uint8Array | string) => createHash('sha256').update(data).digest('hex');

describe('dsse 0.0.1', () => {
  const key = testKey('p256');
  const certificate = selfSignedCertificate(key).pem;

  it('stores the signature with its canonical verifier, the envelope hash and the payload hash', () => {
    const text = envelope([key]);
    const entry = parseProposedEntry(proposal(text, [certificate]), 'v1');
    assert.equal(entry.type, 'dsse/0.0.1');
    const signature = (JSON.parse(text) as { signatures: { sig: string }[] }).signatures[0]!.sig;
    assert.equal(
      Buffer.from(canonicalizeEntry(entry)).toString(),
      `{"apiVersion":"0.0.1","kind":"dsse","spec":{"envelopeHash":{"algorithm":"sha256","value":"${sha256(text)}"},` +
        `"payloadHash":{"algorithm":"sha256","value":"${sha256(payload)}"},` +
        `"signatures":[{"signature":"${signature}","verifier":"${b64(certificate)}"}]}}`,
    );
    assert.deepEqual(entry.envelope, { payloadType: IN_TOTO, payload: new Uint8Array(payload) });
  });

  it('hashes the envelope string exactly as sent, whitespace included', () => {
    const text = JSON.stringify(JSON.parse(envelope([key])), null, 2);
    const leaf = decodeLeaf(canonicalizeEntry(parseProposedEntry(proposal(text, [key.publicPem]), 'v1'))) as {
      spec: { envelopeHash: { value: string } };
    };
    assert.equal(leaf.spec.envelopeHash.value, sha256(text));
  });

  it('accepts an RSA-2048 signer and sorts the signatures by their base64 text', () => {
    const rsa = testKey('rsa2048');
    const text = envelope([rsa, key]);
    const leaf = decodeLeaf(
      canonicalizeEntry(parseProposedEntry(proposal(text, [rsa.publicPem, key.publicPem]), 'v1')),
    ) as { spec: { signatures: { signature: string; verifier: string }[] } };
    const signatures = leaf.spec.signatures.map((signature) => signature.signature);
    assert.deepEqual(signatures, [...signatures].sort());
    assert.equal(leaf.spec.signatures.length, 2);
  });

  describe('when a signature does not verify', () => {
    it('refuses a tampered payload with LOG_SIGNATURE_INVALID naming the verifier', () => {
      const tampered = JSON.parse(envelope([key])) as { payload: string };
      tampered.payload = b64(statement('cd'.repeat(32)));
      assertLogError(
        () => parseProposedEntry(proposal(JSON.stringify(tampered), [key.publicPem]), 'v1'),
        'LOG_SIGNATURE_INVALID',
        /^spec\.proposedContent\.verifiers\[0\]: expected a key that verifies a signature of the envelope, received one that verifies none$/,
      );
    });

    it('refuses a verifier that verifies no signature, even when another one does', () => {
      const stranger = generateTestKey('p256');
      assertLogError(
        () => parseProposedEntry(proposal(envelope([key]), [stranger.publicPem, key.publicPem]), 'v1'),
        'LOG_SIGNATURE_INVALID',
        /verifiers\[0\]/,
      );
    });

    it('refuses a signature that no verifier verifies', () => {
      const other = generateTestKey('p256');
      assertLogError(
        () => parseProposedEntry(proposal(envelope([key, other]), [key.publicPem]), 'v1'),
        'LOG_SIGNATURE_INVALID',
        /^spec\.proposedContent\.envelope\.signatures\[1\]: expected a signature verified by one of spec\.proposedContent\.verifiers/,
      );
    });

    it('refuses two signatures by one key even when the key is listed twice, as upstream does', () => {
      // go-securesystemslib: each verifier accepts the first signature, in envelope order, that it
      // verifies, so a second signature by the same key is never accounted for.
      const twice = envelope([key, key]);
      for (const verifiers of [[key.publicPem], [key.publicPem, key.publicPem]]) {
        assertLogError(
          () => parseProposedEntry(proposal(twice, verifiers), 'v1'),
          'LOG_SIGNATURE_INVALID',
          /envelope\.signatures\[1\]: expected a signature verified by one of/,
        );
      }
    });
  });

  describe('when the proposal is malformed', () => {
    it('refuses the fields the log computes itself', () => {
      const body = proposal(envelope([key]), [key.publicPem]) as { spec: Record<string, unknown> };
      body.spec['envelopeHash'] = { algorithm: 'sha256', value: '00'.repeat(32) };
      assertLogError(
        () => parseProposedEntry(body, 'v1'),
        'LOG_ENTRY_INVALID',
        /^spec\.envelopeHash: expected no such field in a proposed entry, the log computes it$/,
      );
    });

    it('reads a null signatures field as absent, as Rekor does (sigstore-go sends it)', () => {
      const body = proposal(envelope([key]), [key.publicPem]) as { spec: Record<string, unknown> };
      body.spec['signatures'] = null;
      assert.equal(parseProposedEntry(body, 'v1').type, 'dsse/0.0.1');
    });

    it('refuses an envelope that is not JSON, naming the field', () => {
      assertLogError(
        () => parseProposedEntry(proposal('{not json', [key.publicPem]), 'v1'),
        'LOG_ENTRY_INVALID',
        /^spec\.proposedContent\.envelope: expected JSON/,
      );
    });

    it('names the envelope’s own fields under the string that carries them', () => {
      const text = JSON.stringify({ payload: 'e30=', payloadType: 7, signatures: [] });
      const error = assertLogError(
        () => parseProposedEntry(proposal(text, [key.publicPem]), 'v1'),
        'LOG_ENTRY_INVALID',
      );
      assert.match(
        error.message,
        /spec\.proposedContent\.envelope\.payloadType: expected string, received number/,
      );
      assert.match(
        error.message,
        /spec\.proposedContent\.envelope\.signatures: expected at least 1 items, received 0/,
      );
    });

    it('refuses an envelope over the configured length with LOG_ENTRY_TOO_LARGE', () => {
      const text = envelope([key]);
      assertLogError(
        () => parseProposedEntry(proposal(text, [key.publicPem]), 'v1', { maxEnvelopeLength: 100 }),
        'LOG_ENTRY_TOO_LARGE',
        new RegExp(
          `^spec\\.proposedContent\\.envelope: expected at most 100 characters, received ${text.length}$`,
        ),
      );
    });

    it('refuses more than ten verifiers with LOG_ENTRY_TOO_LARGE', () => {
      const pems = Array.from({ length: 11 }, () => key.publicPem);
      assertLogError(
        () => parseProposedEntry(proposal(envelope([key]), pems), 'v1'),
        'LOG_ENTRY_TOO_LARGE',
        /at most 10 items/,
      );
    });
  });

  describe('when the key cannot sign a sha256 payload hash under Rekor’s algorithm registry', () => {
    for (const kind of ['p384', 'ed25519'] as const) {
      it(`refuses a ${kind} verifier with LOG_ENTRY_UNSUPPORTED`, () => {
        const signer = testKey(kind);
        assertLogError(
          () => parseProposedEntry(proposal(envelope([signer]), [signer.publicPem]), 'v1'),
          'LOG_ENTRY_UNSUPPORTED',
          /^spec\.proposedContent\.verifiers\[0\]: unsupported entry algorithm/,
        );
      });
    }
  });
});
