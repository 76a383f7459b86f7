import assert from 'node:assert/strict';
import { X509Certificate, createHash, createPublicKey, generateKeyPairSync, sign } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import { Certificate, DirectoryString, Extensions, type Extension } from '@peculiar/asn1-x509';
import {
  CT_SCT_LIST_OID,
  parseSignedCertificateTimestamp,
  verifySct,
  type SignedCertificateTimestamp,
} from '../../src/ctlog/index.ts';
import { signToken, startTestIssuer, testKey, type TestIssuer } from '../ca/oidc/oidc-test-issuer.ts';
import { postJson } from '../tools/rekor-entries.ts';
import { startSigil, type RunningSigil } from '../tools/sigil-process.ts';
import { vectorPath } from '../tools/vectors.ts';
import { githubClaimsFromExtensions } from '../ca/oidc/github-claims.ts';

/**
 * A GitHub-Actions-shaped certificate from `sigil up`, field by field against the real public-good one
 * it imitates: shared/vectors/fulcio-certs/github-actions-sigstore-js-release-leaf.pem (sigstore-js's
 * 2.0.0 release workflow, 2023-08-18; see that folder's README). The token's claims are rebuilt from
 * the real certificate's own extension values, and a local OIDC issuer, configured with `--ca-config` as
 * a `ci-provider` issuer with the built-in `github-workflow` metadata, signs it. A fresh key asks for the
 * certificate (the real one's private key is not ours), with its proof of possession over `sub`.
 *
 * The one value that cannot match is the Issuer (.1 and .8): it is the token's `iss`, here the local
 * issuer's URL rather than https://token.actions.githubusercontent.com. It is checked to hold that URL in
 * the real certificate's encodings (raw bytes for .1, a DER UTF8String for .8).
 */

const FULCIO_ARC = '1.3.6.1.4.1.57264.1';
const ISSUER_V1 = `${FULCIO_ARC}.1`;
const ISSUER_V2 = `${FULCIO_ARC}.8`;
const TOKEN_SUBJECT = `${FULCIO_ARC}.24`;
const GITHUB_ISSUER = 'https://token.actions.githubusercontent.com';
const OID = { keyUsage: '2.5.29.15', extKeyUsage: '2.5.29.37', subjectAltName: '2.5.29.17' } as const;

function certificateFromPem(pem: string): { der: Buffer; certificate: Certificate } {
  const der = new X509Certificate(pem).raw;
  return { der, certificate: AsnConvert.parse(der, Certificate) };
}

/** A plain array (peculiar's Extensions is an Array subclass, which deepEqual tells apart). */
function extensionsOf(certificate: Certificate): Extension[] {
  return [...(certificate.tbsCertificate.extensions ?? [])];
}

function valueOf(extension: Extension): Buffer {
  return Buffer.from(extension.extnValue.buffer);
}

/** Fulcio's encodings (docs/oid-info.md): .1–.6 the raw UTF-8 bytes, .8 on a DER UTF8String. */
function decodeFulcioValue(extension: Extension): string {
  const arc = Number(extension.extnID.slice(FULCIO_ARC.length + 1));
  if (arc <= 6) return valueOf(extension).toString('utf8');
  const decoded = AsnConvert.parse(valueOf(extension), DirectoryString).utf8String;
  assert.ok(decoded !== undefined, `${extension.extnID}: expected a DER UTF8String`);
  return decoded;
}

function utf8StringDer(value: string): Buffer {
  return Buffer.from(AsnConvert.serialize(new DirectoryString({ utf8String: value })));
}

/**
 * The GitHub Actions ID token claims the real certificate was made from, read back from its extensions
 * through the github-workflow templates (the same rebuild as test/ca/oidc/real-certificates.test.ts).
 */
function githubClaims(real: Certificate, issuerUrl: string): Record<string, unknown> {
  const values = new Map(
    extensionsOf(real)
      .filter((extension) => extension.extnID.startsWith(`${FULCIO_ARC}.`))
      .map((extension) => [extension.extnID, decodeFulcioValue(extension)]),
  );
  const value = (arc: number) => {
    const found = values.get(`${FULCIO_ARC}.${arc}`);
    assert.ok(found !== undefined, `the real certificate lacks ${FULCIO_ARC}.${arc}`);
    return found;
  };
  const now = Math.floor(Date.now() / 1000);
  return { ...githubClaimsFromExtensions(value, issuerUrl), iat: now, nbf: now, exp: now + 300 };
}

/** The one SCT of the RFC 6962 §3.3 SignedCertificateTimestampList in the leaf's SCT extension. */
function embeddedSct(leaf: Certificate): SignedCertificateTimestamp {
  const extension = extensionsOf(leaf).find((item) => item.extnID === CT_SCT_LIST_OID);
  assert.ok(extension, 'expected an embedded SCT list');
  const list = Buffer.from(AsnConvert.parse(valueOf(extension), OctetString).buffer);
  assert.equal(list.readUInt16BE(0), list.length - 2);
  assert.equal(list.readUInt16BE(2), list.length - 4, 'expected exactly one SCT');
  return parseSignedCertificateTimestamp(list.subarray(4));
}

interface TrustedRootJson {
  ctlogs: { publicKey: { rawBytes: string }; logId: { keyId: string } }[];
  tlogs: { publicKey: { rawBytes: string } }[];
  certificateAuthorities: { certChain: { certificates: { rawBytes: string }[] } }[];
}

describe('a GitHub-Actions-shaped certificate issued by sigil up, against the real sigstore-js release certificate', () => {
  const realPem = vectorPath('fulcio-certs/github-actions-sigstore-js-release-leaf.pem');
  let real: Certificate;
  let realDer: Buffer;
  let issuer: TestIssuer;
  let dir: string;
  let sigil: RunningSigil;
  let claims: Record<string, unknown>;
  let chainPems: string[];
  let leaf: Certificate;
  let leafDer: Buffer;
  let trustedRoot: TrustedRootJson;
  const requester = generateKeyPairSync('ec', { namedCurve: 'P-256' });

  const realExtension = (oid: string) => extensionsOf(real).find((extension) => extension.extnID === oid)!;
  const ourExtension = (oid: string) => extensionsOf(leaf).find((extension) => extension.extnID === oid);

  before(async () => {
    ({ der: realDer, certificate: real } = certificateFromPem(await readFile(realPem, 'utf8')));
    issuer = await startTestIssuer([testKey('ES256', 'github-actions-test-key')]);
    dir = await mkdtemp(join(tmpdir(), 'sigil-github-actions-'));
    const config = join(dir, 'ca-config.yaml');
    // sigstore/fulcio config/identity/config.yaml's GitHub Actions entry, at the local issuer's URL.
    await writeFile(
      config,
      [
        'oidc-issuers:',
        `  "${issuer.url}":`,
        `    issuer-url: "${issuer.url}"`,
        '    client-id: sigstore',
        '    type: ci-provider',
        '    ci-provider: github-workflow',
        '',
      ].join('\n'),
    );
    sigil = await startSigil({ args: ['--ca-config', config] });
    trustedRoot = JSON.parse(await readFile(sigil.summary.ca.trustedRootFile, 'utf8')) as TrustedRootJson;

    claims = githubClaims(real, issuer.url);
    const token = await signToken(issuer.keys[0]!, claims, { typ: 'JWT' });
    const response = await postJson(`${sigil.summary.ca.url}/api/v2/signingCert`, {
      credentials: { oidcIdentityToken: token },
      publicKeyRequest: {
        publicKey: {
          algorithm: 'ECDSA',
          content: requester.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
        },
        // ci-provider issuers: the proof of possession is over `sub` (Fulcio's challenge claim).
        proofOfPossession: sign('sha256', Buffer.from(String(claims['sub'])), requester.privateKey).toString(
          'base64',
        ),
      },
    });
    const text = await response.text();
    assert.equal(response.status, 200, text);
    chainPems = (JSON.parse(text) as { signedCertificateEmbeddedSct: { chain: { certificates: string[] } } })
      .signedCertificateEmbeddedSct.chain.certificates;
    ({ der: leafDer, certificate: leaf } = certificateFromPem(chainPems[0]!));
  });

  after(async () => {
    await sigil?.cleanup();
    await issuer?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('is issued by a CA whose configuration names the local issuer as a ci-provider issuer challenged on sub', async () => {
    const response = await fetch(`${sigil.summary.ca.url}/api/v2/configuration`);
    const configuration = (await response.json()) as { issuers: Record<string, unknown>[] };
    assert.equal(configuration.issuers.length, 1);
    assert.equal(configuration.issuers[0]!['issuerUrl'], issuer.url);
    assert.equal(configuration.issuers[0]!['issuerType'], 'ci-provider');
    assert.equal(configuration.issuers[0]!['challengeClaim'], 'sub');
    assert.ok(new X509Certificate(leafDer).publicKey.equals(requester.publicKey));
  });

  it("has the real certificate's SAN, byte for byte, and critical as the real one's", () => {
    const ours = ourExtension(OID.subjectAltName);
    assert.ok(ours, 'expected a SAN extension');
    assert.equal(
      new X509Certificate(leafDer).subjectAltName,
      'URI:https://github.com/sigstore/sigstore-js/.github/workflows/release.yml@refs/heads/main',
    );
    assert.deepEqual(valueOf(ours), valueOf(realExtension(OID.subjectAltName)));
    assert.equal(ours.critical, realExtension(OID.subjectAltName).critical);
    assert.equal(ours.critical, true); // an empty subject makes the SAN critical (RFC 5280 §4.2.1.6)
  });

  it("has the real certificate's key usage and extended key usage, values and criticality", () => {
    for (const oid of [OID.keyUsage, OID.extKeyUsage]) {
      const ours = ourExtension(oid);
      assert.ok(ours, `expected extension ${oid}`);
      assert.deepEqual(valueOf(ours), valueOf(realExtension(oid)), oid);
      assert.equal(ours.critical, realExtension(oid).critical, oid);
    }
  });

  it('has the extensions of the real certificate in its order, adding only Token Subject (.24) after .22', () => {
    const realOids = extensionsOf(real).map((extension) => extension.extnID);
    const expected = [...realOids.slice(0, -1), TOKEN_SUBJECT, realOids.at(-1)];
    assert.equal(realOids.at(-1), CT_SCT_LIST_OID);
    assert.ok(!realOids.includes(TOKEN_SUBJECT), 'the 2023 certificate predates Token Subject');
    assert.deepEqual(
      extensionsOf(leaf).map((extension) => extension.extnID),
      expected,
    );
  });

  it('has every Fulcio extension of the real certificate with an identical extnValue, not critical', () => {
    const realFulcio = extensionsOf(real).filter((extension) =>
      extension.extnID.startsWith(`${FULCIO_ARC}.`),
    );
    assert.equal(realFulcio.length, 21); // .1–.6 and .8–.22
    for (const expected of realFulcio) {
      if (expected.extnID === ISSUER_V1 || expected.extnID === ISSUER_V2) continue; // the next test
      const ours = ourExtension(expected.extnID);
      assert.ok(ours, `expected extension ${expected.extnID}`);
      assert.deepEqual(
        valueOf(ours),
        valueOf(expected),
        `${expected.extnID} (${decodeFulcioValue(expected)})`,
      );
      assert.equal(ours.critical, false, expected.extnID);
    }
  });

  it("has the Issuer (.1, .8) as the token's iss, in the real certificate's encodings", () => {
    // The real certificate: .1 the raw URL bytes, .8 the URL as a DER UTF8String.
    assert.deepEqual(valueOf(realExtension(ISSUER_V1)), Buffer.from(GITHUB_ISSUER));
    assert.deepEqual(valueOf(realExtension(ISSUER_V2)), utf8StringDer(GITHUB_ISSUER));
    assert.deepEqual(valueOf(ourExtension(ISSUER_V1)!), Buffer.from(issuer.url));
    assert.deepEqual(valueOf(ourExtension(ISSUER_V2)!), utf8StringDer(issuer.url));
    assert.equal(ourExtension(ISSUER_V1)!.critical, false);
    assert.equal(ourExtension(ISSUER_V2)!.critical, false);
  });

  it("has Token Subject (.24) as the token's sub in a DER UTF8String", () => {
    const ours = ourExtension(TOKEN_SUBJECT);
    assert.ok(ours, 'expected Token Subject');
    assert.deepEqual(valueOf(ours), utf8StringDer('repo:sigstore/sigstore-js:ref:refs/heads/main'));
    assert.equal(ours.critical, false);
  });

  it('embeds an SCT that verifies against the CT log key of trusted_root.json', () => {
    const sct = embeddedSct(leaf);
    const [ctlog] = trustedRoot.ctlogs;
    assert.ok(ctlog, 'expected a CT log in the trusted root');
    const ctKey = createPublicKey({
      key: Buffer.from(ctlog.publicKey.rawBytes, 'base64'),
      format: 'der',
      type: 'spki',
    });
    assert.equal(Buffer.from(sct.logId).toString('base64'), ctlog.logId.keyId);

    // RFC 6962 §3.2 precert_entry: the leaf's TBS without the SCT list, and the issuer's SPKI hash.
    const { tbsCertificate: tbs } = AsnConvert.parse(leafDer, Certificate);
    const tbsDer = Buffer.from(AsnConvert.serialize(tbs));
    const tbsStart = leafDer[1]! & 0x80 ? 2 + (leafDer[1]! & 0x7f) : 2;
    assert.deepEqual(tbsDer, leafDer.subarray(tbsStart, tbsStart + tbsDer.length), 'TBS re-encodes exactly');
    tbs.extensions = new Extensions(
      extensionsOf(leaf).filter((extension) => extension.extnID !== CT_SCT_LIST_OID),
    );
    const precertTbs = new Uint8Array(AsnConvert.serialize(tbs));
    const intermediate = certificateFromPem(chainPems[1]!).certificate;
    const issuerKeyHash = new Uint8Array(
      createHash('sha256')
        .update(Buffer.from(AsnConvert.serialize(intermediate.tbsCertificate.subjectPublicKeyInfo)))
        .digest(),
    );
    const entry = { kind: 'precert', issuerKeyHash, tbsCertificate: precertTbs } as const;
    assert.equal(verifySct(sct, entry, ctKey), true);

    // The check discriminates: another log's key, or the final certificate's TBS, does not verify.
    const rekorKey = createPublicKey({
      key: Buffer.from(trustedRoot.tlogs[0]!.publicKey.rawBytes, 'base64'),
      format: 'der',
      type: 'spki',
    });
    assert.equal(verifySct(sct, entry, rekorKey), false);
    assert.equal(verifySct(sct, { ...entry, tbsCertificate: new Uint8Array(tbsDer) }, ctKey), false);

    const validity = new X509Certificate(leafDer);
    assert.ok(
      sct.timestamp >= Date.parse(validity.validFrom) && sct.timestamp <= Date.parse(validity.validTo),
    );
  });

  it('chains leaf → intermediate → root of trusted_root.json, valid now for as long as the real one', () => {
    const [intermediateBytes, rootBytes] = trustedRoot.certificateAuthorities[0]!.certChain.certificates;
    assert.ok(intermediateBytes && rootBytes, 'expected an intermediate and a root in the trusted root');
    const intermediate = new X509Certificate(Buffer.from(intermediateBytes.rawBytes, 'base64'));
    const root = new X509Certificate(Buffer.from(rootBytes.rawBytes, 'base64'));
    const ours = new X509Certificate(leafDer);
    // The response's chain is the trusted root's.
    assert.deepEqual(
      chainPems.slice(1).map((pem) => new X509Certificate(pem).raw),
      [intermediate.raw, root.raw],
    );
    assert.ok(ours.checkIssued(intermediate) && ours.verify(intermediate.publicKey), 'leaf ← intermediate');
    assert.ok(intermediate.checkIssued(root) && intermediate.verify(root.publicKey), 'intermediate ← root');
    assert.ok(root.checkIssued(root) && root.verify(root.publicKey), 'root is self-signed');
    assert.equal(ours.verify(root.publicKey), false, 'the leaf is not signed by the root directly');
    const now = Date.now();
    assert.ok(Date.parse(ours.validFrom) <= now && now <= Date.parse(ours.validTo));
    const realValidity = new X509Certificate(realDer);
    assert.equal(
      Date.parse(ours.validTo) - Date.parse(ours.validFrom),
      Date.parse(realValidity.validTo) - Date.parse(realValidity.validFrom),
    );
  });
});
