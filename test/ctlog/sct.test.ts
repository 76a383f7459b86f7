import assert from 'node:assert/strict';
import { createHash, createPublicKey, generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import {
  CT_SCT_LIST_OID,
  CtError,
  computeLogId,
  encodeLeafIndexExtension,
  encodeSignedCertificateTimestamp,
  parseAddChainResponse,
  parseCertificate,
  parseSignedCertificateTimestamp,
  readLeafIndexExtension,
  signSct,
  tbsWithoutExtension,
  toAddChainResponse,
  verifySct,
  type AddChainResponse,
  type SignedEntry,
} from '../../src/ctlog/index.ts';
import { vectorPath } from '../tools/vectors.ts';

// sigstore/sigstore-conformance `bundle-with-sct-with-extensions` (shared/vectors README): a certificate
// from a Fulcio test instance whose embedded SCT comes from a TesseraCT (static-ct-api) log and carries
// the 8-byte leaf_index extension; the case's trusted_root.json holds that log's key and the CA root.
const CASE = 'sigstore-conformance/bundle-verify/bundle-with-sct-with-extensions';
const bundle = JSON.parse(readFileSync(vectorPath(`${CASE}/bundle.sigstore.json`), 'utf8')) as {
  verificationMaterial: { certificate: { rawBytes: string } };
};
const trustedRoot = JSON.parse(readFileSync(vectorPath(`${CASE}/trusted_root.json`), 'utf8')) as {
  ctlogs: { publicKey: { rawBytes: string }; logId: { keyId: string } }[];
  certificateAuthorities: { certChain: { certificates: { rawBytes: string }[] } }[];
};

/** The SCTs of an RFC 6962 §3.3 SCT list extension value: an OCTET STRING around u16 length-prefixed SCTs. */
function sctsOfListExtension(value: Uint8Array): Uint8Array[] {
  const octets = Buffer.from(value);
  assert.equal(octets[0], 0x04);
  const lengthBytes = octets[1]! & 0x80 ? octets[1]! & 0x7f : 0;
  const list = octets.subarray(2 + lengthBytes);
  assert.equal(list.readUInt16BE(0), list.length - 2);
  const scts: Uint8Array[] = [];
  for (let offset = 2; offset < list.length;) {
    const length = list.readUInt16BE(offset);
    scts.push(new Uint8Array(list.subarray(offset + 2, offset + 2 + length)));
    offset += 2 + length;
  }
  return scts;
}

describe('a real static-ct-api SCT embedded in a Fulcio certificate', () => {
  const certificate = parseCertificate(
    Buffer.from(bundle.verificationMaterial.certificate.rawBytes, 'base64'),
    'leaf',
  );
  const caRoot = parseCertificate(
    Buffer.from(trustedRoot.certificateAuthorities[0]!.certChain.certificates[0]!.rawBytes, 'base64'),
    'root',
  );
  const logKey = createPublicKey({
    key: Buffer.from(trustedRoot.ctlogs[0]!.publicKey.rawBytes, 'base64'),
    format: 'der',
    type: 'spki',
  });
  const [sctBytes] = sctsOfListExtension(certificate.extensions.get(CT_SCT_LIST_OID)!.value);
  const sct = parseSignedCertificateTimestamp(sctBytes!);
  // RFC 6962 §3.2: the precertificate entry is rebuilt from the final certificate minus its SCT list.
  const entry: SignedEntry = {
    kind: 'precert',
    issuerKeyHash: createHash('sha256').update(caRoot.subjectPublicKeyInfo).digest(),
    tbsCertificate: tbsWithoutExtension(certificate, CT_SCT_LIST_OID, 'leaf'),
  };

  it('parses into the log ID the trusted root names and a leaf_index extension', () => {
    assert.equal(Buffer.from(sct.logId).toString('base64'), trustedRoot.ctlogs[0]!.logId.keyId);
    assert.deepEqual(computeLogId(logKey), sct.logId);
    assert.equal(sct.extensions.length, 8);
    assert.equal(readLeafIndexExtension(sct.extensions), 112);
    assert.deepEqual(sct.extensions, encodeLeafIndexExtension(112));
  });

  it("verifies against the certificate and the log's key", () => {
    assert.equal(verifySct(sct, entry, logKey), true);
  });

  it('serializes back to the same bytes', () => {
    assert.deepEqual(encodeSignedCertificateTimestamp(sct), sctBytes);
  });

  it('fails to verify with another leaf index, timestamp, TBSCertificate or key', () => {
    assert.equal(verifySct({ ...sct, extensions: encodeLeafIndexExtension(113) }, entry, logKey), false);
    assert.equal(verifySct({ ...sct, timestamp: sct.timestamp + 1 }, entry, logKey), false);
    const tbs = Uint8Array.from(entry.kind === 'precert' ? entry.tbsCertificate : []);
    tbs[tbs.length - 1]! ^= 1;
    assert.equal(verifySct(sct, { ...entry, tbsCertificate: tbs }, logKey), false);
    const otherKey = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey;
    assert.equal(verifySct(sct, entry, otherKey), false);
  });
});

describe('SCTs the log signs', () => {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const signedEntry: SignedEntry = { kind: 'x509', certificate: Uint8Array.of(0x30, 0x03, 0x02, 0x01, 0x07) };
  const sct = signSct(
    { timestamp: 1_760_000_000_123, signedEntry, extensions: encodeLeafIndexExtension(2 ** 33 + 5) },
    privateKey,
    computeLogId(privateKey),
  );

  it('verify, and travel as an RFC 6962 AddChainResponse and back', () => {
    assert.equal(verifySct(sct, signedEntry, publicKey), true);
    const json = toAddChainResponse(sct);
    assert.equal(json.sct_version, 0);
    assert.equal(json.timestamp, 1_760_000_000_123);
    assert.equal(Buffer.from(json.id, 'base64').length, 32);
    assert.equal(Buffer.from(json.signature, 'base64').subarray(0, 2).toString('hex'), '0403');
    assert.deepEqual(parseAddChainResponse(JSON.parse(JSON.stringify(json)) as AddChainResponse), sct);
    assert.equal(readLeafIndexExtension(sct.extensions), 2 ** 33 + 5);
  });

  it('refuse an AddChainResponse with a bad field, with CT_ENCODING_INVALID', () => {
    const json = toAddChainResponse(sct);
    for (const bad of [
      { ...json, sct_version: 1 },
      { ...json, id: 'AAAA' },
      { ...json, signature: '%%' },
    ]) {
      assert.throws(
        () => parseAddChainResponse(bad),
        (error: unknown) => error instanceof CtError && error.code === 'CT_ENCODING_INVALID',
      );
    }
  });
});

describe('the leaf_index extension (static-ct-api §SCT Extension)', () => {
  it('is u8 type 0, u16 length 5, uint40 big-endian index', () => {
    assert.equal(Buffer.from(encodeLeafIndexExtension(0)).toString('hex'), '0000050000000000');
    assert.equal(Buffer.from(encodeLeafIndexExtension(0x0102030405)).toString('hex'), '0000050102030405');
    assert.equal(Buffer.from(encodeLeafIndexExtension(2 ** 40 - 1)).toString('hex'), '000005ffffffffff');
    assert.throws(() => encodeLeafIndexExtension(2 ** 40), TypeError);
  });

  it('is found among other extensions, and absent from an empty list', () => {
    assert.equal(readLeafIndexExtension(Uint8Array.of(7, 0, 1, 9, ...encodeLeafIndexExtension(42))), 42);
    assert.equal(readLeafIndexExtension(new Uint8Array()), undefined);
  });

  for (const [name, bytes] of [
    ['a repeated type', Uint8Array.of(...encodeLeafIndexExtension(1), ...encodeLeafIndexExtension(2))],
    ['a 4-byte index', Uint8Array.of(0, 0, 4, 0, 0, 0, 1)],
    ['a truncated list', Uint8Array.of(0, 0, 5, 0)],
  ] as const) {
    it(`refuses ${name} with CT_ENCODING_INVALID`, () => {
      assert.throws(
        () => readLeafIndexExtension(bytes),
        (error: unknown) => error instanceof CtError && error.code === 'CT_ENCODING_INVALID',
      );
    });
  }
});
