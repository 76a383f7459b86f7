import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync } from 'node:crypto';
import { describe, it } from 'node:test';
import {
  canonicalizeJsonBytes,
  decodeUtf8,
  encodeBase64,
  encodeUtf8,
  publicKeyDer,
} from '../../src/core/index.ts';
import type { TlogEntry } from '../../src/verify/bundle.types.ts';
import { verifyTlogBody } from '../../src/verify/tlog-body.ts';
import { failsWith, flipByte, loadTlogCase } from './tlog-fixtures.ts';

function bodyJson(entry: TlogEntry): Record<string, unknown> {
  return JSON.parse(decodeUtf8(entry.canonicalizedBody)) as Record<string, unknown>;
}

function withBody(entry: TlogEntry, body: unknown): TlogEntry {
  return { ...entry, canonicalizedBody: canonicalizeJsonBytes(body) };
}

/** Cases whose entry body describes the bundle (kind/version in the comment). */
const MATCHING = [
  'happy-path-v0.1', // hashedrekord 0.0.1, x509CertificateChain
  'happy-path-v0.2',
  'happy-path-v0.3', // hashedrekord 0.0.1, certificate
  'happy-path-v0.3-new-mediaType',
  'happy-path-intoto-in-dsse-v3', // dsse 0.0.1
  'intoto-with-custom-trust-root', // intoto 0.0.2, payload kept in the body
  'managed-key-happy-path', // hashedrekord 0.0.1, public key
  'managed-key-and-trusted-root',
  'rekor2-happy-path', // hashedrekord 0.0.2
  'rekor2-dsse-happy-path', // hashedrekord 0.0.2 over the DSSE PAE
  'bundle-with-sct-with-extensions',
  'trust-root-tlog-validity-end-inclusive',
  'trust-root-tsa-validity-end-inclusive',
];

/** Conformance cases whose README says the log entry is not for this bundle, and the field that shows it. */
const MISMATCHED: Readonly<Record<string, string>> = {
  'dsse-mismatch-envelope_fail': 'spec.payloadHash.value',
  'dsse-mismatch-sig_fail': 'spec.signatures[0]',
  'incorrect-public-key_fail': 'spec.signature.publicKey.content',
  'intoto-log-entry-mismatch_fail': 'spec.content.envelope.signatures[0].sig',
  'wrong-hashedrekord-entry_fail': 'spec.data.hash.value',
  'wrong-hashedrekord-cert-and-sig_fail': 'spec.signature.content',
  'rekor2-dsse-mismatch-envelope_fail': 'spec.hashedRekordV002.data.digest',
  'rekor2-dsse-mismatch-sig_fail': 'spec.hashedRekordV002.signature.content',
};

describe('verifyTlogBody on the conformance bundles', () => {
  for (const name of MATCHING) {
    it(`accepts the body of ${name}`, () => {
      const { entry, bundle, signer } = loadTlogCase(name);
      verifyTlogBody(entry, bundle, signer);
    });
  }

  for (const [name, field] of Object.entries(MISMATCHED)) {
    it(`rejects ${name} with VERIFY_TLOG_BODY_ERROR naming ${field}`, () => {
      const { entry, bundle, signer } = loadTlogCase(name);
      assert.throws(() => verifyTlogBody(entry, bundle, signer), failsWith('VERIFY_TLOG_BODY_ERROR', field));
    });
  }
});

describe('verifyTlogBody', () => {
  const hashedRekord = loadTlogCase('happy-path-v0.3');
  const rekor2 = loadTlogCase('rekor2-happy-path');
  const dsse = loadTlogCase('happy-path-intoto-in-dsse-v3');

  describe('when the entry kindVersion differs from the body', () => {
    it('rejects it with VERIFY_TLOG_BODY_ERROR', () => {
      const { entry, bundle, signer } = hashedRekord;
      const changed = { ...entry, kindVersion: { kind: 'hashedrekord', version: '0.0.2' } };
      assert.throws(
        () => verifyTlogBody(changed, bundle, signer),
        failsWith('VERIFY_TLOG_BODY_ERROR', 'kind/apiVersion'),
      );
    });
  });

  describe('when the body is of a kind this verifier does not know', () => {
    it('rejects it with VERIFY_TLOG_BODY_ERROR', () => {
      const { entry, bundle, signer } = hashedRekord;
      const body = { ...bodyJson(entry), kind: 'rekord' };
      const changed = { ...withBody(entry, body), kindVersion: { kind: 'rekord', version: '0.0.1' } };
      assert.throws(
        () => verifyTlogBody(changed, bundle, signer),
        failsWith('VERIFY_TLOG_BODY_ERROR', 'rekord/0.0.1'),
      );
    });
  });

  describe('when a message-signature body is checked against a DSSE bundle', () => {
    it('rejects it with VERIFY_TLOG_BODY_ERROR', () => {
      assert.throws(
        () => verifyTlogBody(hashedRekord.entry, dsse.bundle, hashedRekord.signer),
        failsWith('VERIFY_TLOG_BODY_ERROR'),
      );
      assert.throws(
        () => verifyTlogBody(dsse.entry, hashedRekord.bundle, dsse.signer),
        failsWith('VERIFY_TLOG_BODY_ERROR'),
      );
    });
  });

  describe('when a DSSE bundle is logged as dsse 0.0.2 (rekor-tiles ≤ v2.2, sigstore-js)', () => {
    // Built by hand from rekor2-dsse-happy-path in the shape rekor-tiles `pkg/types/dsse` ToLogEntry
    // stores: no conformance vector carries this kind.
    const { entry, bundle, signer } = loadTlogCase('rekor2-dsse-happy-path');
    assert.ok(bundle.content.kind === 'dsseEnvelope' && signer.certificate);
    const [signature] = bundle.content.signatures;
    assert.ok(signature);
    const body = {
      apiVersion: '0.0.2',
      kind: 'dsse',
      spec: {
        dsseV002: {
          payloadHash: {
            algorithm: 'SHA2_256',
            digest: encodeBase64(createHash('sha256').update(bundle.content.payload).digest()),
          },
          signatures: [
            {
              content: encodeBase64(signature.sig),
              verifier: {
                keyDetails: 'PKIX_ECDSA_P256_SHA_256',
                x509Certificate: { rawBytes: encodeBase64(signer.certificate.der) },
              },
            },
          ],
        },
      },
    };
    const dsseV002 = { ...withBody(entry, body), kindVersion: { kind: 'dsse', version: '0.0.2' } };

    it('accepts the body that names the envelope payload, signature and certificate', () => {
      verifyTlogBody(dsseV002, bundle, signer);
    });

    it('rejects another payload with VERIFY_TLOG_BODY_ERROR', () => {
      const other = structuredClone(body);
      other.spec.dsseV002.payloadHash.digest = encodeBase64(new Uint8Array(32));
      assert.throws(
        () =>
          verifyTlogBody({ ...dsseV002, canonicalizedBody: canonicalizeJsonBytes(other) }, bundle, signer),
        failsWith('VERIFY_TLOG_BODY_ERROR', 'spec.dsseV002.payloadHash.digest'),
      );
    });

    it('rejects an extra logged signature with VERIFY_TLOG_BODY_ERROR', () => {
      const other = structuredClone(body);
      other.spec.dsseV002.signatures.push(structuredClone(other.spec.dsseV002.signatures[0]!));
      assert.throws(
        () =>
          verifyTlogBody({ ...dsseV002, canonicalizedBody: canonicalizeJsonBytes(other) }, bundle, signer),
        failsWith('VERIFY_TLOG_BODY_ERROR', 'spec.dsseV002.signatures'),
      );
    });
  });

  describe('when the signer is another key than the one logged', () => {
    it('rejects a key-based bundle with VERIFY_TLOG_BODY_ERROR', () => {
      const { entry, bundle } = loadTlogCase('managed-key-happy-path');
      const other = publicKeyDer(generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey);
      assert.throws(
        () => verifyTlogBody(entry, bundle, { publicKeyDer: other }),
        failsWith('VERIFY_TLOG_BODY_ERROR', 'spec.signature.publicKey.content'),
      );
    });

    it('rejects a certificate logged where the signer is the certificate key alone', () => {
      const { entry, bundle, signer } = hashedRekord;
      const spki = signer.certificate?.subjectPublicKeyInfo;
      assert.ok(spki);
      assert.throws(
        () => verifyTlogBody(entry, bundle, { publicKeyDer: spki }),
        failsWith('VERIFY_TLOG_BODY_ERROR'),
      );
      assert.throws(
        () => verifyTlogBody(rekor2.entry, rekor2.bundle, { publicKeyDer: spki }),
        failsWith('VERIFY_TLOG_BODY_ERROR', 'verifier.publicKey'),
      );
    });

    it('throws a TypeError when given neither certificate nor key', () => {
      assert.throws(() => verifyTlogBody(hashedRekord.entry, hashedRekord.bundle, {}), TypeError);
    });
  });

  describe('when a message-signature bundle has no message digest', () => {
    const { entry, bundle, signer } = hashedRekord;
    assert.ok(bundle.content.kind === 'messageSignature' && bundle.content.messageDigest);
    const { messageDigest, ...content } = bundle.content;
    const bare = { ...bundle, content };

    it('compares the artifact digest given instead', () => {
      verifyTlogBody(entry, bare, signer, { artifactDigest: messageDigest });
    });

    it('rejects the entry with VERIFY_TLOG_BODY_ERROR when no artifact digest is given', () => {
      assert.throws(() => verifyTlogBody(entry, bare, signer), failsWith('VERIFY_TLOG_BODY_ERROR'));
    });

    it('rejects another artifact digest with VERIFY_TLOG_BODY_ERROR', () => {
      const artifactDigest = { ...messageDigest, digest: flipByte(messageDigest.digest, 0) };
      assert.throws(
        () => verifyTlogBody(entry, bare, signer, { artifactDigest }),
        failsWith('VERIFY_TLOG_BODY_ERROR', 'spec.data.hash.value'),
      );
    });
  });

  describe('when the body is not JSON of the expected shape', () => {
    const { entry, bundle, signer } = hashedRekord;
    const hostile: [string, Uint8Array][] = [
      ['empty', new Uint8Array()],
      ['not UTF-8', Uint8Array.of(0xff, 0xfe)],
      ['not JSON', encodeUtf8('{"kind":')],
      ['an array', encodeUtf8('[]')],
      ['null', encodeUtf8('null')],
      ['without spec', canonicalizeJsonBytes({ kind: 'hashedrekord', apiVersion: '0.0.1' })],
      ['with a numeric kind', canonicalizeJsonBytes({ kind: 1, apiVersion: '0.0.1', spec: {} })],
    ];
    for (const [what, body] of hostile) {
      it(`rejects a body that is ${what} with VERIFY_TLOG_BODY_ERROR`, () => {
        assert.throws(
          () => verifyTlogBody({ ...entry, canonicalizedBody: body }, bundle, signer),
          failsWith('VERIFY_TLOG_BODY_ERROR'),
        );
      });
    }
  });

  // Fields no verifier can recompute (see tlog-body.ts): only their type is checked, so only type changes
  // are made to them, and bytes inside them are not flipped.
  const cases = [
    { name: 'hashedrekord 0.0.1', subject: hashedRekord, unchecked: [] },
    { name: 'hashedrekord 0.0.2', subject: rekor2, unchecked: [/"keyDetails":"[^"]*"/] },
    { name: 'dsse 0.0.1', subject: dsse, unchecked: [/"envelopeHash":\{[^}]*\}/] },
    {
      name: 'intoto 0.0.2',
      subject: loadTlogCase('intoto-with-custom-trust-root'),
      unchecked: [/"hash":\{[^}]*\}/],
    },
    {
      name: 'hashedrekord 0.0.2 over DSSE',
      subject: loadTlogCase('rekor2-dsse-happy-path'),
      unchecked: [/"keyDetails":"[^"]*"/],
    },
  ];
  for (const { name, subject, unchecked } of cases) {
    describe(`when any leaf of a ${name} body changes type or value`, () => {
      it('rejects every variant with VERIFY_TLOG_BODY_ERROR', () => {
        const { entry, bundle, signer } = subject;
        const original = bodyJson(entry);
        let variants = 0;
        for (const path of leafPaths(original)) {
          const typeOnly = UNCHECKED_LEAVES.has(path.join('.')) || path.at(-1) === 'keyDetails';
          for (const replacement of typeOnly ? [null, 1, [], {}] : [null, 1, [], {}, '', 'AAAA']) {
            const body = structuredClone(original);
            setAt(body, path, replacement);
            variants++;
            assert.throws(
              () => verifyTlogBody(withBody(entry, body), bundle, signer),
              failsWith('VERIFY_TLOG_BODY_ERROR'),
              `${path.join('.')} = ${JSON.stringify(replacement)}`,
            );
          }
        }
        assert.ok(variants > 20);
      });

      it('rejects a one-bit change of any checked value byte with VERIFY_TLOG_BODY_ERROR', () => {
        const { entry, bundle, signer } = subject;
        const text = decodeUtf8(entry.canonicalizedBody);
        const skipped = unchecked.flatMap((pattern) => {
          const match = pattern.exec(text);
          return match ? [[match.index, match.index + match[0].length] as const] : [];
        });
        assert.equal(skipped.length, unchecked.length);
        // Every third value byte keeps this fast; every field is still hit many times. The bodies are
        // ASCII, so character offsets are byte offsets.
        const offsets = valueOffsets(text).filter((_, at) => at % 3 === 0);
        assert.equal(text.length, entry.canonicalizedBody.length);
        for (const index of offsets) {
          if (skipped.some(([start, end]) => index >= start && index < end)) continue;
          const changed = { ...entry, canonicalizedBody: flipByte(entry.canonicalizedBody, index) };
          assert.throws(
            () => verifyTlogBody(changed, bundle, signer),
            failsWith('VERIFY_TLOG_BODY_ERROR'),
            `byte ${index} (${JSON.stringify(text.slice(index - 10, index + 10))})`,
          );
        }
      });
    });
  }
});

const UNCHECKED_LEAVES = new Set([
  'spec.envelopeHash.algorithm',
  'spec.envelopeHash.value',
  'spec.content.hash.algorithm',
  'spec.content.hash.value',
]);

/**
 * The byte offsets of the characters of JSON string values (not keys) in `text`. A flipped key only
 * renames a field, which the shape tests cover; a flipped value must change what the body says.
 */
function valueOffsets(text: string): number[] {
  const offsets: number[] = [];
  for (let index = 0; index < text.length; index++) {
    if (text[index] !== '"') continue;
    let end = index + 1;
    while (end < text.length && text[end] !== '"') end += text[end] === '\\' ? 2 : 1;
    if (text[end + 1] !== ':') for (let at = index + 1; at < end; at++) offsets.push(at);
    index = end;
  }
  return offsets;
}

function leafPaths(value: unknown, path: (string | number)[] = []): (string | number)[][] {
  if (Array.isArray(value)) return value.flatMap((item, index) => leafPaths(item, [...path, index]));
  if (typeof value === 'object' && value !== null) {
    return Object.entries(value).flatMap(([key, item]) => leafPaths(item, [...path, key]));
  }
  return [path];
}

function setAt(root: unknown, path: (string | number)[], value: unknown): void {
  let node = root as Record<string | number, unknown>;
  for (const key of path.slice(0, -1)) node = node[key] as Record<string | number, unknown>;
  const last = path.at(-1);
  if (last !== undefined) node[last] = value;
}
