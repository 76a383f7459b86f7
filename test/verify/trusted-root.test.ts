import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { VerificationError, type VerificationErrorCode } from '../../src/verify/index.ts';
import { parseTrustedRoot } from '../../src/verify/trusted-root.ts';

// Vectors and their stated outcomes: /work/shared/vectors/*/README.md.
const VECTORS = new URL('../../../shared/vectors/', import.meta.url);
const CONFORMANCE = new URL('sigstore-conformance/bundle-verify/', VECTORS);
const PRODUCTION = new URL('npm-provenance/sigstore-tuf-trusted_root.json', VECTORS);
const MISSING_START = 'trust-root-tlog-missing-validity-start_fail';

type Json = Record<string, unknown>;

function rejects(code: VerificationErrorCode, message?: RegExp): (error: unknown) => boolean {
  return (error: unknown) => {
    assert.ok(error instanceof VerificationError, `expected a VerificationError, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    if (message) assert.match(error.message, message);
    return true;
  };
}

function production(): Json {
  return JSON.parse(readFileSync(PRODUCTION, 'utf8')) as Json;
}

/** The production root with its first tlog changed. */
function withFirstTlog(change: (tlog: Json) => Json): Json {
  const root = production();
  const [first, ...rest] = root.tlogs as Json[];
  return { ...root, tlogs: [change(first as Json), ...rest] };
}

function withFirstCa(change: (authority: Json) => Json): Json {
  const root = production();
  const [first, ...rest] = root.certificateAuthorities as Json[];
  return { ...root, certificateAuthorities: [change(first as Json), ...rest] };
}

describe('parseTrustedRoot', () => {
  describe('on the production trusted root', () => {
    it('imports both Rekor keys with their details and validity', () => {
      const material = parseTrustedRoot(readFileSync(PRODUCTION));
      const [rekor, rekorV2] = material.tlogs;
      assert.equal(rekor?.baseUrl, 'https://rekor.sigstore.dev');
      assert.equal(rekor?.publicKey.details, 'PKIX_ECDSA_P256_SHA_256');
      assert.equal(rekor?.publicKey.key.asymmetricKeyType, 'ec');
      assert.deepEqual(rekor?.publicKey.validFor, {
        start: Date.parse('2021-01-12T11:53:27Z'),
        end: Infinity,
      });
      assert.equal(
        Buffer.from(rekor?.logId ?? []).toString('base64'),
        'wNI9atQGlz+VWfO6LRygH4QUfY/8W4RFwiT5i5WRgB0=',
      );
      assert.equal(rekorV2?.publicKey.details, 'PKIX_ED25519');
      assert.equal(rekorV2?.hashAlgorithm, 'SHA2_256');
    });

    it('cuts the CA chains and keeps their subject and closed validity window', () => {
      const material = parseTrustedRoot(production());
      const [old, current] = material.certificateAuthorities;
      assert.deepEqual(old?.validFor, {
        start: Date.parse('2021-03-07T03:20:29Z'),
        end: Date.parse('2022-12-31T23:59:59.999Z'),
      });
      assert.deepEqual(current?.subject, { organization: 'sigstore.dev', commonName: 'sigstore' });
      assert.equal(current?.chain.length, 2);
      assert.equal(material.ctlogs.length, 2);
      assert.equal(material.timestampAuthorities[0]?.chain.length, 2);
    });

    it('imports a key once for every root that names it', () => {
      const first = parseTrustedRoot(production());
      const second = parseTrustedRoot(production());
      assert.equal(first.tlogs[0]?.publicKey.key, second.tlogs[0]?.publicKey.key);
    });
  });

  describe('on the sigstore-conformance trusted roots', () => {
    for (const name of readdirSync(CONFORMANCE)) {
      const file = new URL(`${name}/trusted_root.json`, CONFORMANCE);
      if (!existsSync(file)) continue;
      if (name === MISSING_START) {
        it(`rejects ${name}, naming tlogs[1].publicKey.validFor.start`, () => {
          assert.throws(
            () => parseTrustedRoot(readFileSync(file, 'utf8')),
            rejects(
              'VERIFY_TRUST_ROOT_INVALID',
              /tlogs\[1\]\.publicKey\.validFor\.start: expected an RFC 3339 timestamp, received nothing/,
            ),
          );
        });
      } else {
        it(`parses ${name}`, () => {
          assert.ok(parseTrustedRoot(readFileSync(file, 'utf8')).tlogs.length > 0);
        });
      }
    }

    it('reads the staging CT key given as PKCS #1 (PKCS1_RSA_PKCS1V5) as a 4096-bit PKIX RSA key', () => {
      const material = parseTrustedRoot(
        readFileSync(new URL('rekor2-happy-path/trusted_root.json', CONFORMANCE)),
      );
      const [test] = material.ctlogs;
      assert.equal(test?.publicKey.details, 'PKIX_RSA_PKCS1V15_4096_SHA256');
      // The stored DER is the SubjectPublicKeyInfo, so a key ID computed from it is the CT log ID.
      assert.equal(test?.publicKey.der[0], 0x30);
      assert.equal(test?.publicKey.key.asymmetricKeyDetails?.modulusLength, 4096);
    });

    it('reads an end bound given to the second as inclusive', () => {
      const file = new URL('trust-root-tlog-validity-end-inclusive/trusted_root.json', CONFORMANCE);
      const material = parseTrustedRoot(readFileSync(file));
      const rekor = material.tlogs.find((tlog) => tlog.baseUrl === 'https://rekor.sigstore.dev');
      assert.equal(rekor?.publicKey.validFor.end, 1689177396 * 1000);
    });
  });

  describe('when the input is hostile', () => {
    const cases: [string, () => unknown, RegExp][] = [
      ['is not JSON', () => '{', /^trusted root: expected JSON/],
      ['is a JSON string', () => '"x"', /expected a JSON object/],
      [
        'has an unknown media type',
        () => ({ ...production(), mediaType: 'application/json' }),
        /mediaType: expected one of/,
      ],
      [
        'has a tlog without a validity window',
        () =>
          withFirstTlog((tlog) => ({
            ...tlog,
            publicKey: { ...(tlog.publicKey as Json), validFor: undefined },
          })),
        /tlogs\[0\]\.publicKey\.validFor: expected an object, received nothing/,
      ],
      [
        'has a validity start that is not RFC 3339',
        () =>
          withFirstTlog((tlog) => ({
            ...tlog,
            publicKey: { ...(tlog.publicKey as Json), validFor: { start: '2021-02-30T00:00:00Z' } },
          })),
        /tlogs\[0\]\.publicKey\.validFor\.start: expected an RFC 3339 timestamp, received "2021-02-30T00:00:00Z"/,
      ],
      [
        'has a validity end before its start',
        () =>
          withFirstTlog((tlog) => ({
            ...tlog,
            publicKey: {
              ...(tlog.publicKey as Json),
              validFor: { start: '2021-01-01T00:00:00Z', end: '2020-01-01T00:00:00Z' },
            },
          })),
        /tlogs\[0\]\.publicKey\.validFor\.end: expected a time after start/,
      ],
      [
        'has a key that does not match its keyDetails',
        () =>
          withFirstTlog((tlog) => ({
            ...tlog,
            publicKey: { ...(tlog.publicKey as Json), keyDetails: 'PKIX_ED25519' },
          })),
        /tlogs\[0\]\.publicKey: expected a key for PKIX_ED25519, received ec prime256v1/,
      ],
      [
        'has an unsupported keyDetails',
        () =>
          withFirstTlog((tlog) => ({
            ...tlog,
            publicKey: { ...(tlog.publicKey as Json), keyDetails: 'ML_DSA_65' },
          })),
        /tlogs\[0\]\.publicKey: expected a supported keyDetails, received "ML_DSA_65"/,
      ],
      [
        'has key bytes that are not a key',
        () =>
          withFirstTlog((tlog) => ({
            ...tlog,
            publicKey: { ...(tlog.publicKey as Json), rawBytes: 'MAA=' },
          })),
        /tlogs\[0\]\.publicKey: expected a public key node:crypto can import/,
      ],
      [
        'has a key with bytes after it',
        () =>
          withFirstTlog((tlog) => {
            const key = tlog.publicKey as Json;
            const der = Buffer.concat([Buffer.from(key.rawBytes as string, 'base64'), Buffer.from([0])]);
            return { ...tlog, publicKey: { ...key, rawBytes: der.toString('base64') } };
          }),
        /tlogs\[0\]\.publicKey: expected a DER SubjectPublicKeyInfo/,
      ],
      [
        'has a tlog without a logId',
        () => withFirstTlog((tlog) => ({ ...tlog, logId: undefined })),
        /tlogs\[0\]\.logId: expected an object/,
      ],
      [
        'has an unknown hash algorithm',
        () => withFirstTlog((tlog) => ({ ...tlog, hashAlgorithm: 'MD5' })),
        /tlogs\[0\]\.hashAlgorithm/,
      ],
      [
        'has a CA with an empty chain',
        () => withFirstCa((authority) => ({ ...authority, certChain: { certificates: [] } })),
        /certificateAuthorities\[0\]\.certChain\.certificates: expected 1–10 elements, received 0/,
      ],
      [
        'has a CA certificate that is not DER',
        () =>
          withFirstCa((authority) => ({ ...authority, certChain: { certificates: [{ rawBytes: 'MAA=' }] } })),
        /certificateAuthorities\[0\]\.certChain\.certificates\[0\]\.rawBytes: expected a DER X\.509 certificate/,
      ],
      [
        'has a CA without a validity start',
        () => withFirstCa((authority) => ({ ...authority, validFor: { end: '2022-01-01T00:00:00Z' } })),
        /certificateAuthorities\[0\]\.validFor\.start/,
      ],
      [
        'has too many tlogs',
        () => ({ ...production(), tlogs: Array(65).fill((production().tlogs as Json[])[0]) }),
        /tlogs: expected 0–64 elements, received 65/,
      ],
    ];
    for (const [when, input, message] of cases) {
      it(`rejects a root that ${when} with VERIFY_TRUST_ROOT_INVALID`, () => {
        assert.throws(
          () => parseTrustedRoot(input() as object),
          rejects('VERIFY_TRUST_ROOT_INVALID', message),
        );
      });
    }
  });

  describe('when the input uses what protojson allows', () => {
    it('reads a v0.2 root with snake_case names, enum numbers, offsets and a checkpointKeyId', () => {
      const { publicKey } = generateKeyPairSync('ed25519');
      const root = {
        media_type: 'application/vnd.dev.sigstore.trustedroot.v0.2+json',
        tlogs: [
          {
            base_url: 'https://log.example',
            hash_algorithm: 1,
            public_key: {
              raw_bytes: publicKey.export({ type: 'spki', format: 'der' }).toString('base64url'),
              key_details: 7,
              valid_for: { start: '2025-01-01T02:00:00.0000001+02:00', end: null },
            },
            log_id: { key_id: 'AAAA' },
            checkpoint_key_id: { key_id: 'AQID' },
          },
        ],
      };
      const material = parseTrustedRoot(root);
      const [log] = material.tlogs;
      assert.equal(log?.publicKey.details, 'PKIX_ED25519');
      // 100 ns after midnight UTC: a start rounds up to the next millisecond, never down.
      assert.deepEqual(log?.publicKey.validFor, {
        start: Date.parse('2025-01-01T00:00:00.001Z'),
        end: Infinity,
      });
      assert.deepEqual([...(log?.checkpointKeyId ?? [])], [1, 2, 3]);
      assert.deepEqual(material.certificateAuthorities, []);
    });
  });
});
