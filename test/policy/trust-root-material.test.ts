// trustFor and compileTrustRoot with real material: upstream's valid TrustRoot (fixtures/trust-root,
// see its README), and an end-to-end keyless check against a CA made here with openssl
// (test/tools/test-ca.ts): a v0.1 bundle whose hashedrekord entry carries a signed entry timestamp from a
// log key generated here, so the whole verifier runs — tlog body, SET, chain, signature, identity.
import assert from 'node:assert/strict';
import { X509Certificate, createHash, generateKeyPairSync, sign } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { before, describe, it } from 'node:test';
import { canonicalizeJsonBytes } from '../../src/core/index.ts';
import {
  PolicyError,
  compileTrustRoot,
  evaluateImage,
  formatDecision,
  parseClusterImagePolicy,
  parsePolicyDocuments,
  parseTrustRoot,
  trustFor,
  type ClusterImagePolicy,
  type TrustOptions,
  type TrustRoot,
} from '../../src/policy/index.ts';
import { verifyCertificateSignature, type TrustMaterial } from '../../src/verify/index.ts';
import { issueTestCertificate, type TestCertificate } from '../tools/test-ca.ts';

const FIXTURE = new URL('./fixtures/trust-root/valid-sigstore-keys.yaml', import.meta.url);
const IDENTITY = 'dev@sigil.test';

/** A `remote` TrustRoot (TUF mirror), which Sigil does not fetch yet. */
function remoteTrustRoot(): TrustRoot {
  return parseTrustRoot({
    apiVersion: 'policy.sigstore.dev/v1alpha1',
    kind: 'TrustRoot',
    metadata: { name: 'tuf' },
    spec: {
      remote: {
        root: Buffer.from(JSON.stringify({ signed: {}, signatures: [] })).toString('base64'),
        mirror: 'https://tuf.example',
      },
    },
  });
}

describe('compileTrustRoot', () => {
  const [document] = parsePolicyDocuments(readFileSync(FIXTURE, 'utf8'), 'valid-sigstore-keys.yaml');
  const trustRoot = document as TrustRoot;

  it("compiles upstream's valid sigstoreKeys TrustRoot into trust material", () => {
    const material = compileTrustRoot(trustRoot);
    assert.equal(material.certificateAuthorities.length, 1);
    assert.equal(material.certificateAuthorities[0]!.uri, 'https://fulcio.example.com');
    assert.equal(material.timestampAuthorities[0]!.chain.length, 3);
    assert.deepEqual(
      [...material.tlogs, ...material.ctlogs].map((log) => [
        log.baseUrl,
        log.hashAlgorithm,
        log.publicKey.details,
      ]),
      [
        ['https://rekor.example.com', 'SHA2_256', 'PKIX_ECDSA_P256_SHA_256'],
        ['https://ctfe.example.com', 'SHA2_256', 'PKIX_ECDSA_P256_SHA_256'],
      ],
    );
    // Log IDs are SHA-256 of the SubjectPublicKeyInfo, as Rekor and CT logs compute them.
    const rekor = material.tlogs[0]!;
    assert.deepEqual(rekor.logId, new Uint8Array(createHash('sha256').update(rekor.publicKey.der).digest()));
  });

  it('keeps the chains as written: each certificate is signed by the next, the roots by themselves', () => {
    const material = compileTrustRoot(trustRoot);
    for (const authority of [...material.certificateAuthorities, ...material.timestampAuthorities]) {
      authority.chain.forEach((certificate, index) => {
        const issuer = authority.chain[index + 1] ?? certificate;
        assert.ok(verifyCertificateSignature(certificate, issuer), `${authority.uri} certificate ${index}`);
      });
    }
  });

  it('compiles a TrustRoot object once', () => {
    assert.equal(compileTrustRoot(trustRoot), compileTrustRoot(trustRoot));
  });

  it('refuses a remote TrustRoot with POLICY_UNSUPPORTED naming spec.remote', () => {
    const remote = remoteTrustRoot();
    assert.throws(
      () => compileTrustRoot(remote),
      (error: unknown) =>
        error instanceof PolicyError &&
        error.code === 'POLICY_UNSUPPORTED' &&
        /TrustRoot tuf: spec\.remote: .*until trust distribution lands/.test(error.message),
    );
  });
});

/** A log key and a trusted root holding only it, for SETs made here. */
function testLog() {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const der = new Uint8Array(publicKey.export({ type: 'spki', format: 'der' }));
  const logId = new Uint8Array(createHash('sha256').update(der).digest());
  const trustedRoot: TrustMaterial = {
    certificateAuthorities: [],
    timestampAuthorities: [],
    ctlogs: [],
    tlogs: [
      {
        baseUrl: 'https://rekor.test',
        hashAlgorithm: 'SHA2_256',
        publicKey: {
          key: publicKey,
          der,
          details: 'PKIX_ECDSA_P256_SHA_256',
          validFor: { start: 0, end: Infinity },
        },
        logId,
      },
    ],
  };
  return { privateKey, publicKey, der, logId, trustedRoot };
}

type TestLog = ReturnType<typeof testLog>;

/** A v0.1 bundle signing `manifest` with the leaf's key, logged (with a SET) in `log`. */
function signedBundle(manifest: Uint8Array, signer: TestCertificate, log: TestLog): Uint8Array {
  const digest = createHash('sha256').update(manifest).digest();
  const signature = sign('sha256', manifest, signer.privateKey);
  const body = canonicalizeJsonBytes({
    apiVersion: '0.0.1',
    kind: 'hashedrekord',
    spec: {
      data: { hash: { algorithm: 'sha256', value: digest.toString('hex') } },
      signature: {
        content: signature.toString('base64'),
        publicKey: { content: Buffer.from(signer.leafPem).toString('base64') },
      },
    },
  });
  const integratedTime = Math.floor(Date.now() / 1000);
  const logIndex = 7;
  const set = sign(
    'sha256',
    canonicalizeJsonBytes({
      body: Buffer.from(body).toString('base64'),
      integratedTime,
      logID: Buffer.from(log.logId).toString('hex'),
      logIndex,
    }),
    log.privateKey,
  );
  const bundle = {
    mediaType: 'application/vnd.dev.sigstore.bundle+json;version=0.1',
    verificationMaterial: {
      x509CertificateChain: {
        certificates: [{ rawBytes: new X509Certificate(signer.leafPem).raw.toString('base64') }],
      },
      tlogEntries: [
        {
          logIndex: String(logIndex),
          logId: { keyId: Buffer.from(log.logId).toString('base64') },
          kindVersion: { kind: 'hashedrekord', version: '0.0.1' },
          integratedTime: String(integratedTime),
          inclusionPromise: { signedEntryTimestamp: set.toString('base64') },
          canonicalizedBody: Buffer.from(body).toString('base64'),
        },
      ],
    },
    messageSignature: {
      messageDigest: { algorithm: 'SHA2_256', digest: digest.toString('base64') },
      signature: signature.toString('base64'),
    },
  };
  return Buffer.from(JSON.stringify(bundle));
}

function keylessPolicy(
  keyless: Record<string, unknown>,
  extra: Record<string, unknown> = {},
): ClusterImagePolicy {
  return parseClusterImagePolicy({
    apiVersion: 'policy.sigstore.dev/v1beta1',
    kind: 'ClusterImagePolicy',
    metadata: { name: 'own-ca' },
    spec: {
      images: [{ glob: 'registry.test/**' }],
      authorities: [
        {
          name: 'team-ca',
          signatureFormat: 'bundle',
          keyless: {
            identities: [{ issuerRegExp: '.*', subject: IDENTITY }],
            insecureIgnoreSCT: true,
            ...keyless,
          },
          ...extra,
        },
      ],
    },
  });
}

describe('trustFor with keyless ca-cert and trustRootRef', () => {
  const manifest = Buffer.from('{"schemaVersion":2,"note":"signed under the team CA"}');
  const image = `registry.test/app@sha256:${createHash('sha256').update(manifest).digest('hex')}`;
  const log = testLog();
  let team: TestCertificate;
  let stranger: TestCertificate;

  before(async () => {
    [team, stranger] = await Promise.all([issueTestCertificate(IDENTITY), issueTestCertificate(IDENTITY)]);
  });

  const decide = (policy: ClusterImagePolicy, signer: TestCertificate, options: Partial<TrustOptions> = {}) =>
    evaluateImage({
      image,
      policies: [policy],
      trust: trustFor({ trustedRoot: log.trustedRoot, ...options }),
      evidence: () =>
        Promise.resolve({
          signatures: [],
          attestations: [],
          bundles: [{ annotations: {}, bundle: signedBundle(manifest, signer, log) }],
        }),
    });

  it('admits a bundle whose certificate the inline ca-cert issued', async () => {
    const decision = await decide(keylessPolicy({ 'ca-cert': { data: team.caPem } }), team);
    assert.equal(decision.outcome, 'allowed', formatDecision(decision));
    assert.equal(decision.policies[0]!.authorities[0]!.reason, 'SIGNATURE_VERIFIED');
  });

  it('refuses a bundle whose certificate another CA issued, with SIGNATURE_INVALID', async () => {
    const decision = await decide(keylessPolicy({ 'ca-cert': { data: team.caPem } }), stranger);
    assert.equal(decision.outcome, 'denied');
    assert.equal(decision.policies[0]!.authorities[0]!.reason, 'SIGNATURE_INVALID');
    assert.match(
      formatDecision(decision),
      /no signatures verified \(1 checked: VERIFY_CERTIFICATE_CHAIN_ERROR/,
    );
  });

  it('takes a ca-cert secretRef from the caCertificates callback, and fails naming the Secret without it', async () => {
    const policy = keylessPolicy({ 'ca-cert': { secretRef: { name: 'team-ca' } } });
    const caDer = () => [new Uint8Array(new X509Certificate(team.caPem).raw)];
    const asked: unknown[] = [];
    const allowed = await decide(policy, team, {
      caCertificates: (source) => {
        asked.push(source);
        return caDer();
      },
    });
    assert.equal(allowed.outcome, 'allowed', formatDecision(allowed));
    assert.deepEqual(asked, [{ kind: 'secretRef', name: 'team-ca' }]);
    const missing = await decide(policy, team);
    assert.equal(missing.policies[0]!.authorities[0]!.reason, 'TRUST_UNAVAILABLE');
    assert.match(
      formatDecision(missing),
      /ca-cert\.secretRef: expected certificates in Secret team-ca, received none/,
    );
  });

  it("verifies against the TrustRoot a keyless trustRootRef names, with that TrustRoot's CA and logs", async () => {
    const pem = (text: string) => Buffer.from(text).toString('base64');
    const logPem = log.publicKey.export({ type: 'spki', format: 'pem' }).toString();
    const trustRoot = parseTrustRoot({
      apiVersion: 'policy.sigstore.dev/v1alpha1',
      kind: 'TrustRoot',
      metadata: { name: 'team' },
      spec: {
        sigstoreKeys: {
          certificateAuthorities: [
            {
              subject: { organization: 'sigil test', commonName: 'ca' },
              uri: 'https://ca.test',
              certChain: pem(team.caPem),
            },
          ],
          tLogs: [{ baseURL: 'https://rekor.test', hashAlgorithm: 'sha-256', publicKey: pem(logPem) }],
        },
      },
    });
    const policy = keylessPolicy({ url: 'https://ca.test', trustRootRef: 'team' });
    const emptyRoot = { ...log.trustedRoot, tlogs: [] };
    const withRoot = await decide(policy, team, {
      trustedRoot: emptyRoot,
      trustRoots: new Map([['team', trustRoot]]),
    });
    assert.equal(withRoot.outcome, 'allowed', formatDecision(withRoot));
    const stranger_ = await decide(policy, stranger, {
      trustedRoot: emptyRoot,
      trustRoots: new Map([['team', trustRoot]]),
    });
    assert.equal(stranger_.policies[0]!.authorities[0]!.reason, 'SIGNATURE_INVALID');
  });

  it('fails an authority whose trustRootRef names no loaded TrustRoot with TRUST_UNAVAILABLE', async () => {
    const decision = await decide(keylessPolicy({ url: 'https://ca.test', trustRootRef: 'missing' }), team);
    assert.equal(decision.policies[0]!.authorities[0]!.reason, 'TRUST_UNAVAILABLE');
    assert.match(
      formatDecision(decision),
      /authority team-ca: team-ca: keyless\.trustRootRef: expected the name of a TrustRoot, received "missing", which is not loaded/,
    );
  });

  it('fails an authority whose TrustRoot is remote with UNSUPPORTED naming spec.remote', async () => {
    const remote = remoteTrustRoot();
    const decision = await decide(keylessPolicy({ url: 'https://ca.test', trustRootRef: 'tuf' }), team, {
      trustRoots: new Map([['tuf', remote]]),
    });
    assert.equal(decision.policies[0]!.authorities[0]!.reason, 'UNSUPPORTED');
    assert.match(formatDecision(decision), /TrustRoot tuf: spec\.remote: .*until trust distribution lands/);
  });
});
