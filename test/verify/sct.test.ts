import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { describe, it } from 'node:test';
import { AsnConvert } from '@peculiar/asn1-schema';
import { DerTag, encodeElement, parseCertificate, type ParsedCertificate } from '../../src/core/index.ts';
import {
  computeLogId,
  encodeLeafIndexExtension,
  encodeSignedCertificateTimestamp,
  signSct,
} from '../../src/ctlog/index.ts';
import { verifyEmbeddedScts } from '../../src/verify/sct.ts';
import {
  buildTbs,
  buildTestChain,
  extension,
  generateKey,
  signTbs,
  type TestCertificate,
} from '../ctlog/chain-fixtures.ts';
import {
  FULCIO_LEAVES,
  bundleCertificates,
  conformanceTrust,
  flipByte,
  fulcioIntermediate,
  fulcioLeaf,
  offsetOf,
  productionTrust,
  testCtLog,
  throwsCode,
} from './certificate-chain-fixtures.ts';

const SCT_LIST_OID = '1.3.6.1.4.1.11129.2.4.2';

const trust = productionTrust();

/** RFC 6962 §3.3 SignedCertificateTimestampList: u16 length, then each SCT with a u16 length. */
function sctList(scts: readonly Uint8Array[]): Uint8Array {
  const items = Buffer.concat(scts.map((sct) => Buffer.concat([u16(sct.length), sct])));
  return Buffer.concat([u16(items.length), items]);
}

function u16(value: number): Uint8Array {
  return Uint8Array.of(value >>> 8, value & 0xff);
}

interface SctSigner {
  readonly key: KeyObject;
  readonly timestamp?: number;
  readonly extensions?: Uint8Array;
}

/**
 * A leaf issued by `issuer` with an SCT list extension whose SCTs each signer signs over the
 * precertificate entry, as a CT log does before the CA embeds them (RFC 6962 §3.2). `list` overrides
 * the extension's TLS bytes.
 */
function leafWithScts(
  issuer: TestCertificate,
  signers: readonly SctSigner[],
  list?: (scts: Uint8Array[]) => Uint8Array,
): ParsedCertificate {
  const tbs = buildTbs({ subject: 'sct leaf', keyType: 'p256', issuer }, generateKey('p256').publicKey);
  const tbsCertificate = new Uint8Array(AsnConvert.serialize(tbs));
  const issuerKeyHash = new Uint8Array(
    createHash('sha256')
      .update(issuer.publicKey.export({ type: 'spki', format: 'der' }))
      .digest(),
  );
  const scts = signers.map(({ key, timestamp = Date.now(), extensions = new Uint8Array(0) }) =>
    encodeSignedCertificateTimestamp(
      signSct(
        { timestamp, signedEntry: { kind: 'precert', issuerKeyHash, tbsCertificate }, extensions },
        key,
        computeLogId(key),
      ),
    ),
  );
  const value = encodeElement(DerTag.octetString, [(list ?? sctList)(scts)]);
  tbs.extensions!.push(extension(SCT_LIST_OID, false, value));
  return parseCertificate(signTbs(tbs, issuer), 'leaf');
}

describe('verifyEmbeddedScts with public-good certificates', () => {
  for (const name of FULCIO_LEAVES) {
    it(`verifies the SCT of ${name} from ctfe.sigstore.dev/2022 against the production root`, () => {
      assert.equal(verifyEmbeddedScts(fulcioLeaf(name), fulcioIntermediate(), trust.ctlogs, 1), 1);
    });
  }

  it('verifies conformance bundle-with-sct-with-extensions (a static-ct-api SCT with leaf_index)', () => {
    const { leaf } = bundleCertificates(
      'sigstore-conformance/bundle-verify/bundle-with-sct-with-extensions/bundle.sigstore.json',
    );
    const caseTrust = conformanceTrust('bundle-with-sct-with-extensions');
    const issuer = caseTrust.certificateAuthorities[0]!.chain[0]!;
    assert.equal(verifyEmbeddedScts(leaf, issuer, caseTrust.ctlogs, 1), 1);
  });

  it('rejects conformance invalid-ct-key_fail (its trusted root lacks the SCT’s log) with VERIFY_SCT_ERROR', () => {
    const { leaf } = bundleCertificates(
      'sigstore-conformance/bundle-verify/invalid-ct-key_fail/bundle.sigstore.json',
    );
    const caseTrust = conformanceTrust('invalid-ct-key_fail');
    throwsCode(() => verifyEmbeddedScts(leaf, fulcioIntermediate(), caseTrust.ctlogs, 1), 'VERIFY_SCT_ERROR');
  });

  it('rejects a threshold of 2 when the certificate has SCTs from one log', () => {
    const leaf = fulcioLeaf('github-actions-sigstore-js-release-leaf');
    throwsCode(() => verifyEmbeddedScts(leaf, fulcioIntermediate(), trust.ctlogs, 2), 'VERIFY_SCT_ERROR');
  });

  it('skips the step at threshold 0, even with no CT logs', () => {
    assert.equal(
      verifyEmbeddedScts(fulcioLeaf('email-github-oauth-connaisseur-leaf'), fulcioIntermediate(), [], 0),
      0,
    );
  });

  it('rejects the SCT when the issuer given is not the one whose key the log hashed', () => {
    const leaf = fulcioLeaf('github-actions-sigstore-js-release-leaf');
    throwsCode(() => verifyEmbeddedScts(leaf, leaf, trust.ctlogs, 1), 'VERIFY_SCT_ERROR');
  });

  it('rejects every flipped byte of the TBSCertificate that still parses, never throwing anything else', () => {
    const leaf = fulcioLeaf('github-actions-conformance-beacon-leaf');
    const start = offsetOf(leaf, leaf.tbsCertificate);
    let checked = 0;
    for (let offset = start; offset < start + leaf.tbsCertificate.length; offset++) {
      const mutated = flipByte(leaf, offset);
      if (!mutated) continue;
      checked += 1;
      throwsCode(
        () => verifyEmbeddedScts(mutated, fulcioIntermediate(), trust.ctlogs, 1),
        'VERIFY_SCT_ERROR',
      );
    }
    assert.ok(checked > 500, `expected most flips to parse, ${checked} did`);
  });
});

describe('verifyEmbeddedScts with generated certificates and logs', () => {
  const { intermediate } = buildTestChain('sct root');
  const issuer = parseCertificate(intermediate.der, 'issuer');
  const logKey = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
  const otherLogKey = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
  const log = testCtLog(logKey);
  const otherLog = testCtLog(otherLogKey);

  it('verifies an SCT whose extensions carry a leaf_index (static-ct-api)', () => {
    const leaf = leafWithScts(intermediate, [{ key: logKey, extensions: encodeLeafIndexExtension(42) }]);
    assert.equal(verifyEmbeddedScts(leaf, issuer, [log], 1), 1);
  });

  it('verifies an SCT from an RSA log', () => {
    const rsaKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
    const leaf = leafWithScts(intermediate, [{ key: rsaKey }]);
    assert.equal(verifyEmbeddedScts(leaf, issuer, [testCtLog(rsaKey)], 1), 1);
  });

  it('counts distinct logs: two SCTs from one log count once, from two logs twice', () => {
    const same = leafWithScts(intermediate, [{ key: logKey }, { key: logKey, timestamp: Date.now() + 1 }]);
    assert.equal(verifyEmbeddedScts(same, issuer, [log, otherLog], 1), 1);
    throwsCode(() => verifyEmbeddedScts(same, issuer, [log, otherLog], 2), 'VERIFY_SCT_ERROR');
    const both = leafWithScts(intermediate, [{ key: logKey }, { key: otherLogKey }]);
    assert.equal(verifyEmbeddedScts(both, issuer, [log, otherLog], 2), 2);
  });

  it('skips an SCT from a log the trusted root does not know and counts the others', () => {
    const leaf = leafWithScts(intermediate, [{ key: otherLogKey }, { key: logKey }]);
    assert.equal(verifyEmbeddedScts(leaf, issuer, [log], 1), 1);
    throwsCode(() => verifyEmbeddedScts(leaf, issuer, [], 1), 'VERIFY_SCT_ERROR');
  });

  it('rejects an SCT dated outside the log key’s validFor', () => {
    const timestamp = Date.now();
    const leaf = leafWithScts(intermediate, [{ key: logKey, timestamp }]);
    throwsCode(
      () => verifyEmbeddedScts(leaf, issuer, [testCtLog(logKey, { start: 0, end: timestamp - 1 })], 1),
      'VERIFY_SCT_ERROR',
    );
    throwsCode(
      () => verifyEmbeddedScts(leaf, issuer, [testCtLog(logKey, { start: timestamp + 1, end: Infinity })], 1),
      'VERIFY_SCT_ERROR',
    );
    assert.equal(
      verifyEmbeddedScts(leaf, issuer, [testCtLog(logKey, { start: timestamp, end: timestamp })], 1),
      1,
    );
  });

  it('rejects a certificate without an SCT list', () => {
    const { leaf } = buildTestChain('no sct');
    throwsCode(
      () => verifyEmbeddedScts(parseCertificate(leaf.der, 'leaf'), issuer, [log], 1),
      'VERIFY_SCT_ERROR',
    );
  });

  describe('when the SCT list is malformed', () => {
    const cases: [string, (scts: Uint8Array[]) => Uint8Array][] = [
      ['an empty list', () => u16(0)],
      ['bytes after the list', (scts) => Buffer.concat([sctList(scts), Uint8Array.of(0)])],
      [
        'a list length past its end',
        (scts) => Buffer.concat([u16(sctList(scts).length), sctList(scts).subarray(2)]),
      ],
      ['an SCT cut short', (scts) => sctList([scts[0]!.subarray(0, 40)])],
      ['bytes after an SCT signature', (scts) => sctList([Buffer.concat([scts[0]!, Uint8Array.of(1)])])],
    ];
    for (const [name, list] of cases) {
      it(`rejects ${name} with VERIFY_SCT_ERROR`, () => {
        const leaf = leafWithScts(intermediate, [{ key: logKey }], list);
        throwsCode(() => verifyEmbeddedScts(leaf, issuer, [log], 1), 'VERIFY_SCT_ERROR');
      });
    }
  });

  it('skips an SCT of an unknown version (RFC 6962 §3.2) without reading it', () => {
    const leaf = leafWithScts(intermediate, [{ key: logKey }], (scts) =>
      sctList([Uint8Array.of(1, 2, 3), scts[0]!]),
    );
    assert.equal(verifyEmbeddedScts(leaf, issuer, [log], 1), 1);
    const onlyV2 = leafWithScts(intermediate, [], () => sctList([Uint8Array.of(1, 2, 3)]));
    throwsCode(() => verifyEmbeddedScts(onlyV2, issuer, [log], 1), 'VERIFY_SCT_ERROR');
  });

  it('rejects every flipped byte of the SCT list extension with VERIFY_SCT_ERROR', () => {
    const leaf = leafWithScts(intermediate, [{ key: logKey }]);
    const value = leaf.extensions.get(SCT_LIST_OID)!.value;
    const start = offsetOf(leaf, value);
    for (let offset = start; offset < start + value.length; offset++) {
      const mutated = flipByte(leaf, offset);
      if (!mutated) continue;
      throwsCode(() => verifyEmbeddedScts(mutated, issuer, [log], 1), 'VERIFY_SCT_ERROR');
    }
  });
});
