import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parseBundle } from '../../src/verify/bundle.ts';
import { VerificationError, type VerificationErrorCode } from '../../src/verify/index.ts';

// Vectors and their stated outcomes: /work/shared/vectors/*/README.md.
const VECTORS = new URL('../../../shared/vectors/', import.meta.url);
const CONFORMANCE = new URL('sigstore-conformance/bundle-verify/', VECTORS);
const SIGSTORE_JS = new URL('sigstore-js/tests-bundles/', VECTORS);
const PACOTE = new URL('npm-provenance/pacote-fixtures/', VECTORS);

/**
 * Conformance cases that fail in parseBundle, and why. The first six are named by the case's README;
 * the last is a v0.3 bundle whose entry lacks an inclusion proof, which the version rules (sigstore-js
 * assertBundleLatest, sigstore-go pkg/bundle) refuse before any check. A proof without its checkpoint
 * (invalid-inclusion-proof_fail) parses with checkpoint '' and is refused by the verifier.
 */
const PARSE_FAILURES: Readonly<Record<string, VerificationErrorCode>> = {
  'bundle-malformed-json_fail': 'VERIFY_BUNDLE_INVALID',
  'bundle-unknown-version_fail': 'VERIFY_BUNDLE_UNSUPPORTED_VERSION',
  'bundle-invalid-base64-signature_fail': 'VERIFY_BUNDLE_INVALID',
  'bundle-negative-log-index_fail': 'VERIFY_BUNDLE_INVALID',
  'bundle-empty-certificate-chain_fail': 'VERIFY_BUNDLE_INVALID',
  'intoto-missing-inclusion-proof_fail': 'VERIFY_BUNDLE_INVALID',
  'rekor2-no-inclusion-proof_fail': 'VERIFY_BUNDLE_INVALID',
};

function rejects(code: VerificationErrorCode, message?: RegExp): (error: unknown) => boolean {
  return (error: unknown) => {
    assert.ok(error instanceof VerificationError, `expected a VerificationError, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    if (message) assert.match(error.message, message);
    return true;
  };
}

function conformanceCases(): string[] {
  return readdirSync(CONFORMANCE).filter((name) =>
    existsSync(new URL(`${name}/bundle.sigstore.json`, CONFORMANCE)),
  );
}

function readJson(url: URL): Record<string, unknown> {
  return JSON.parse(readFileSync(url, 'utf8')) as Record<string, unknown>;
}

const happyV01 = (): Record<string, unknown> =>
  readJson(new URL('happy-path-v0.1/bundle.sigstore.json', CONFORMANCE));
const happyV03 = (): Record<string, unknown> =>
  readJson(new URL('happy-path-v0.3/bundle.sigstore.json', CONFORMANCE));

describe('parseBundle', () => {
  describe('on the sigstore-conformance bundles', () => {
    for (const name of conformanceCases()) {
      const bytes = readFileSync(new URL(`${name}/bundle.sigstore.json`, CONFORMANCE));
      const code = PARSE_FAILURES[name];
      if (code) {
        it(`rejects ${name} with ${code}`, () => {
          assert.throws(() => parseBundle(bytes), rejects(code));
        });
      } else {
        it(`parses ${name}`, () => {
          const bundle = parseBundle(bytes);
          assert.ok(bundle.verificationMaterial.tlogEntries.length > 0);
        });
      }
    }

    it('names the negative log index and the bad base64 field', () => {
      const negative = readFileSync(
        new URL('bundle-negative-log-index_fail/bundle.sigstore.json', CONFORMANCE),
      );
      assert.throws(
        () => parseBundle(negative),
        rejects('VERIFY_BUNDLE_INVALID', /tlogEntries\[0\]\.logIndex/),
      );
      const base64 = readFileSync(
        new URL('bundle-invalid-base64-signature_fail/bundle.sigstore.json', CONFORMANCE),
      );
      assert.throws(
        () => parseBundle(base64),
        rejects('VERIFY_BUNDLE_INVALID', /messageSignature\.signature/),
      );
    });

    it('decodes a v0.1 bundle into its parts', () => {
      const bundle = parseBundle(happyV01());
      assert.equal(bundle.version, '0.1');
      const { signer, tlogEntries } = bundle.verificationMaterial;
      assert.equal(signer.kind, 'certificate');
      assert.equal(
        signer.kind === 'certificate' && signer.chain[0],
        signer.kind === 'certificate' && signer.certificate,
      );
      const [entry] = tlogEntries;
      assert.equal(entry?.logIndex, 27246492);
      assert.equal(entry?.integratedTime, 1689177396);
      assert.equal(entry?.kindVersion.kind, 'hashedrekord');
      assert.equal(
        Buffer.from(entry?.logId ?? []).toString('base64'),
        'wNI9atQGlz+VWfO6LRygH4QUfY/8W4RFwiT5i5WRgB0=',
      );
      assert.equal(entry?.inclusionProof?.hashes.length, 10);
      assert.match(entry?.inclusionProof?.checkpoint ?? '', /^rekor\.sigstore\.dev - /);
      assert.ok(entry?.signedEntryTimestamp && entry.signedEntryTimestamp.length > 0);
      assert.equal(bundle.content.kind, 'messageSignature');
      assert.equal(
        bundle.content.kind === 'messageSignature' && bundle.content.messageDigest?.digest.length,
        32,
      );
    });

    it('keeps a v0.1 inclusion proof without a checkpoint, with an empty checkpoint', () => {
      const bundle = parseBundle(
        readFileSync(new URL('bundle-with-root-cert_fail/bundle.sigstore.json', CONFORMANCE)),
      );
      assert.equal(bundle.verificationMaterial.tlogEntries[0]?.inclusionProof?.checkpoint, '');
    });

    it('reads a Rekor v2 entry without integratedTime as time 0, and the managed-key hint', () => {
      const rekor2 = parseBundle(
        readFileSync(new URL('rekor2-happy-path/bundle.sigstore.json', CONFORMANCE)),
      );
      assert.equal(rekor2.verificationMaterial.tlogEntries[0]?.integratedTime, 0);
      assert.equal(rekor2.verificationMaterial.rfc3161Timestamps.length, 1);
      const managed = parseBundle(
        readFileSync(new URL('managed-key-happy-path/bundle.sigstore.json', CONFORMANCE)),
      );
      assert.deepEqual(managed.verificationMaterial.signer, {
        kind: 'publicKey',
        hint: 'TLMsSDfG3ajPsWge+z/vX5T/zluXnmvbkTkwLIV68Tk=',
      });
    });

    it('accepts base64 wrapped at 76 columns, as `base64` writes it', () => {
      const text = readFileSync(
        new URL('rekor2-timestamp-with-incorrect-time_fail/bundle.sigstore.json', CONFORMANCE),
      );
      assert.equal(parseBundle(text).verificationMaterial.rfc3161Timestamps[0]?.[0], 0x30);
    });
  });

  describe('on the sigstore-js backward-compatibility bundles', () => {
    for (const name of readdirSync(SIGSTORE_JS).filter((file) => file.endsWith('.sigstore'))) {
      it(`parses ${name}`, () => {
        const bundle = parseBundle(readFileSync(new URL(name, SIGSTORE_JS), 'utf8'));
        assert.equal(bundle.content.kind, 'dsseEnvelope');
      });
    }

    it('keeps the whole x509CertificateChain, leaf first', () => {
      const bundle = parseBundle(readFileSync(new URL('bundleV01-full-cert-chain.sigstore', SIGSTORE_JS)));
      const { signer } = bundle.verificationMaterial;
      assert.ok(signer.kind === 'certificate');
      assert.equal(signer.chain.length, 3);
      assert.equal(signer.chain[0], signer.certificate);
    });
  });

  describe('on the npm attestation bundles (pacote fixtures)', () => {
    for (const name of readdirSync(PACOTE)) {
      const { attestations } = readJson(new URL(name, PACOTE)) as { attestations: { bundle: object }[] };
      attestations.forEach(({ bundle }, index) => {
        // invalid-attestations.json's publish signature is the literal text `invalid-signature`: not base64.
        if (name === 'invalid-attestations.json' && index === 1) {
          it(`rejects ${name} #${index}, whose DSSE sig is not base64`, () => {
            assert.throws(
              () => parseBundle(bundle),
              rejects('VERIFY_BUNDLE_INVALID', /dsseEnvelope\.signatures\[0\]\.sig/),
            );
          });
        } else {
          it(`parses ${name} #${index}`, () => {
            assert.equal(parseBundle(bundle).content.kind, 'dsseEnvelope');
          });
        }
      });
    }
  });

  describe('when the input is hostile', () => {
    const cases: [string, () => unknown, VerificationErrorCode, RegExp][] = [
      ['is not JSON', () => '{"mediaType":', 'VERIFY_BUNDLE_INVALID', /^bundle: expected JSON/],
      ['is not UTF-8', () => new Uint8Array([0x7b, 0xff, 0x7d]), 'VERIFY_BUNDLE_INVALID', /UTF-8/],
      ['is a JSON array', () => '[]', 'VERIFY_BUNDLE_INVALID', /expected a JSON object/],
      [
        'has no media type',
        () => ({ ...happyV03(), mediaType: undefined }),
        'VERIFY_BUNDLE_INVALID',
        /mediaType/,
      ],
      [
        'has an unknown media type',
        () => ({ ...happyV03(), mediaType: 'application/json' }),
        'VERIFY_BUNDLE_UNSUPPORTED_VERSION',
        /received "application\/json"/,
      ],
      [
        'has no content',
        () => ({ ...happyV03(), messageSignature: undefined }),
        'VERIFY_BUNDLE_INVALID',
        /one of messageSignature, dsseEnvelope, received none/,
      ],
      [
        'has both kinds of content',
        () => ({
          ...happyV03(),
          dsseEnvelope: { payload: 'e30=', payloadType: 't', signatures: [{ sig: 'AA==' }] },
        }),
        'VERIFY_BUNDLE_INVALID',
        /received messageSignature and dsseEnvelope/,
      ],
      [
        'sets a field by both its JSON and its proto name',
        () => ({ ...happyV03(), verification_material: {} }),
        'VERIFY_BUNDLE_INVALID',
        /verificationMaterial: expected one of verificationMaterial and verification_material/,
      ],
      [
        'uses a chain in a v0.3 bundle',
        () =>
          withMaterial(happyV03(), (material) => ({
            x509CertificateChain: { certificates: [material.certificate] },
            tlogEntries: material.tlogEntries,
          })),
        'VERIFY_BUNDLE_INVALID',
        /certificate or publicKey in a v0\.3 bundle/,
      ],
      [
        'has a certificate that is not DER',
        () => withMaterial(happyV03(), (material) => ({ ...material, certificate: { rawBytes: 'MAA=' } })),
        'VERIFY_BUNDLE_INVALID',
        /verificationMaterial\.certificate\.rawBytes: expected a DER X\.509 certificate/,
      ],
      [
        'has too many tlog entries',
        () =>
          withMaterial(happyV03(), (material) => ({
            ...material,
            tlogEntries: Array(33).fill(firstEntry(material)),
          })),
        'VERIFY_BUNDLE_INVALID',
        /tlogEntries: expected 0–32 elements, received 33/,
      ],
      [
        'has too many proof hashes',
        () =>
          withEntry(happyV03(), (entry) => ({
            ...entry,
            inclusionProof: { ...proofOf(entry), hashes: Array(65).fill('AA==') },
          })),
        'VERIFY_BUNDLE_INVALID',
        /hashes: expected 0–64 elements, received 65/,
      ],
      [
        'has too many certificates',
        () =>
          withMaterial(happyV01(), (material) => ({
            ...material,
            x509CertificateChain: { certificates: Array(11).fill({ rawBytes: 'MAA=' }) },
          })),
        'VERIFY_BUNDLE_INVALID',
        /certificates: expected 1–10 elements, received 11/,
      ],
      [
        'has a log index beyond 2^53',
        () => withEntry(happyV03(), (entry) => ({ ...entry, logIndex: '9007199254740993' })),
        'VERIFY_BUNDLE_INVALID',
        /logIndex: expected a non-negative integer/,
      ],
      [
        'has a log index of the wrong type',
        () => withEntry(happyV03(), (entry) => ({ ...entry, logIndex: { value: 1 } })),
        'VERIFY_BUNDLE_INVALID',
        /logIndex: expected a non-negative integer, received an object/,
      ],
      [
        'mixes the base64 alphabets',
        () => withEntry(happyV03(), (entry) => ({ ...entry, logId: { keyId: 'ab+_' } })),
        'VERIFY_BUNDLE_INVALID',
        /logId\.keyId: expected base64/,
      ],
      [
        'has a v0.1 entry without an inclusion promise',
        () => withEntry(happyV01(), (entry) => ({ ...entry, inclusionPromise: null })),
        'VERIFY_BUNDLE_INVALID',
        /inclusionPromise: expected an inclusionPromise in a v0\.1 bundle, received nothing/,
      ],
      [
        'has a digest of the wrong length for its algorithm',
        () => ({
          ...happyV03(),
          messageSignature: { messageDigest: { algorithm: 'SHA2_384', digest: 'AAAA' }, signature: 'AAAA' },
        }),
        'VERIFY_BUNDLE_INVALID',
        /messageDigest\.digest: expected a 48-byte SHA2_384 digest, received 3 bytes/,
      ],
      [
        'has an unknown digest algorithm',
        () => ({
          ...happyV03(),
          messageSignature: { messageDigest: { algorithm: 'MD5', digest: 'AAAA' }, signature: 'AAAA' },
        }),
        'VERIFY_BUNDLE_INVALID',
        /messageDigest\.algorithm: expected one of SHA2_256/,
      ],
      [
        'has a DSSE envelope without signatures',
        () => ({
          ...happyV03(),
          messageSignature: undefined,
          dsseEnvelope: { payload: 'e30=', payloadType: 't', signatures: [] },
        }),
        'VERIFY_BUNDLE_INVALID',
        /dsseEnvelope\.signatures: expected 1–16 elements, received 0/,
      ],
    ];
    for (const [when, input, code, message] of cases) {
      it(`rejects a bundle that ${when} with ${code}`, () => {
        assert.throws(() => parseBundle(input() as object), rejects(code, message));
      });
    }

    it('names every bad field in one error', () => {
      const bundle = withEntry(happyV03(), (entry) => ({
        ...entry,
        logIndex: -1,
        canonicalizedBody: '!',
        kindVersion: null,
      }));
      assert.throws(
        () => parseBundle(bundle),
        rejects('VERIFY_BUNDLE_INVALID', /logIndex.*kindVersion.*canonicalizedBody/),
      );
    });

    it('refuses a bundle larger than 32 MiB without parsing it', () => {
      assert.throws(
        () => parseBundle(' '.repeat(32 * 1024 * 1024 + 1)),
        rejects('VERIFY_BUNDLE_INVALID', /at most/),
      );
    });
  });

  describe('when the input uses what protojson allows', () => {
    it('reads snake_case proto names, numbers for int64 and enums, and null as unset', () => {
      const bundle = happyV03();
      const material = bundle.verificationMaterial as Record<string, unknown>;
      const [entry] = material.tlogEntries as Record<string, unknown>[];
      const snake = {
        media_type: bundle.mediaType,
        verification_material: {
          certificate: { raw_bytes: (material.certificate as { rawBytes: string }).rawBytes },
          tlog_entries: [{ ...entry, logIndex: undefined, log_index: 79571823, integratedTime: 1710869186 }],
          timestamp_verification_data: null,
        },
        message_signature: {
          message_digest: { algorithm: 1, digest: 'oM_HEnHW4njlfNMy_5V8P3BD_do1TEy7GQow1W76Ab8' },
          signature: 'AAAA',
        },
        dsse_envelope: null,
      };
      const parsed = parseBundle(snake);
      assert.equal(parsed.verificationMaterial.tlogEntries[0]?.logIndex, 79571823);
      assert.ok(parsed.content.kind === 'messageSignature');
      assert.equal(parsed.content.messageDigest?.algorithm, 'SHA2_256');
      assert.equal(
        Buffer.from(parsed.content.messageDigest?.digest ?? []).toString('base64'),
        'oM/HEnHW4njlfNMy/5V8P3BD/do1TEy7GQow1W76Ab8=',
      );
    });
  });
});

type Json = Record<string, unknown>;

function withMaterial(bundle: Json, change: (material: Json) => Json): Json {
  return { ...bundle, verificationMaterial: change(bundle.verificationMaterial as Json) };
}

function withEntry(bundle: Json, change: (entry: Json) => Json): Json {
  return withMaterial(bundle, (material) => ({ ...material, tlogEntries: [change(firstEntry(material))] }));
}

function firstEntry(material: Json): Json {
  return (material.tlogEntries as Json[])[0] as Json;
}

function proofOf(entry: Json): Json {
  return entry.inclusionProof as Json;
}
