// evaluateImage over connaisseur's cosign legacy signatures (/work/shared/vectors/connaisseur/cosign,
// upstream sse-secure-systems/connaisseur @ 0c40cab1): key-based signatures by alice, bob and charlie
// without tlog entries (upstream policy-controller skips the tlog for a `key` authority without
// `ctlog`), and one public-good keyless signature by philipp.belitz@securesystems.de, verified against
// the production trusted root. Evidence is given as data, as the registry would return it.
import assert from 'node:assert/strict';
import { generateKeyPairSync, sign } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import {
  PolicyError,
  evaluateImage,
  formatDecision,
  parseClusterImagePolicy,
  verifiersFor,
  type ClusterImagePolicy,
  type EvaluateImageInput,
  type EvidenceLayer,
  type ImageEvidence,
} from '../../src/policy/index.ts';
import { parseTrustedRoot } from '../../src/verify/index.ts';

const COSIGN = '/work/shared/vectors/connaisseur/cosign';
const REPOSITORY = join(COSIGN, 'securesystemsengineering/testimage');
const PRODUCTION_ROOT = '/work/shared/vectors/npm-provenance/sigstore-tuf-trusted_root.json';

const NAME = 'index.docker.io/securesystemsengineering/testimage';
const ALICE_IMAGE = `${NAME}@sha256:071bf7a986f1ca9cb2a1f0bc8392822a7777f90d58f2d2c6f271913e08de7c81`;
const ALICE_BOB_CHARLIE_IMAGE = `${NAME}@sha256:bfec161fecb0a887df7cb85e4da327c65986ccda7060cf3cd92171c6c90d7533`;
const KEYLESS_IMAGE = `${NAME}@sha256:31dc72a13a0c34b40eb95419d2b2fd67320c856baf3b72da518023ee8d370aee`;
const UNSIGNED_IMAGE = `${NAME}@sha256:${'0'.repeat(64)}`;

const PHILIPP = { subject: 'philipp.belitz@securesystems.de', issuer: 'https://github.com/login/oauth' };

/** The `.sig` layers of an image, each with its payload blob, as oci's discoverSignatures returns them. */
function signatureLayers(image: string): EvidenceLayer[] {
  const digest = image.split('@')[1]!;
  let text: string;
  try {
    text = readFileSync(join(REPOSITORY, 'manifests', `${digest.replace(':', '-')}.sig.json`), 'utf8');
  } catch {
    return [];
  }
  const manifest = JSON.parse(text) as { layers: { digest: string; annotations: Record<string, string> }[] };
  return manifest.layers.map((layer) => ({
    descriptor: { digest: layer.digest },
    payload: readFileSync(join(REPOSITORY, 'blobs', `${layer.digest}.json`)),
    annotations: layer.annotations,
  }));
}

const keyPem = (name: string) => readFileSync(join(COSIGN, `${name}.key`), 'utf8');
const trust = verifiersFor(parseTrustedRoot(readFileSync(PRODUCTION_ROOT)));

function cip(name: string, spec: Record<string, unknown>): ClusterImagePolicy {
  return parseClusterImagePolicy({
    apiVersion: 'policy.sigstore.dev/v1beta1',
    kind: 'ClusterImagePolicy',
    metadata: { name },
    spec: { images: [{ glob: 'index.docker.io/securesystemsengineering/*' }], ...spec },
  });
}

const keyAuthority = (name: string, key = name) => ({ name, key: { data: keyPem(key) } });
const keylessAuthority = (name: string, identity: Record<string, string>) => ({
  name,
  keyless: { url: 'https://fulcio.sigstore.dev', identities: [identity] },
});

async function evaluate(
  image: string,
  policies: ClusterImagePolicy[],
  options: Partial<EvaluateImageInput> = {},
) {
  const requests: unknown[] = [];
  const decision = await evaluateImage({
    image,
    policies,
    trust,
    evidence: (source) => {
      requests.push(source);
      return Promise.resolve<ImageEvidence>({
        signatures: signatureLayers(image),
        attestations: [],
        bundles: [],
      });
    },
    ...options,
  });
  return { decision, requests };
}

describe('evaluateImage', () => {
  describe('with key authorities (connaisseur cases 1, 5–7)', () => {
    it("allows multi-cosigned-alice with alice's key, skipping the tlog as upstream does without ctlog", async () => {
      const { decision } = await evaluate(ALICE_IMAGE, [
        cip('signed', { authorities: [keyAuthority('alice')] }),
      ]);
      assert.equal(decision.outcome, 'allowed', formatDecision(decision));
      assert.deepEqual(
        decision.policies.map((policy) => [policy.name, policy.outcome, policy.authorities[0]?.reason]),
        [['signed', 'passed', 'SIGNATURE_VERIFIED']],
      );
      assert.equal(formatDecision(decision), `image ${ALICE_IMAGE} allowed by policy signed`);
    });

    it("denies multi-cosigned-alice with bob's key, naming the authority and why", async () => {
      const { decision } = await evaluate(ALICE_IMAGE, [
        cip('signed', { authorities: [keyAuthority('bob')] }),
      ]);
      assert.equal(decision.outcome, 'denied');
      const authority = decision.policies[0]!.authorities[0]!;
      assert.equal(authority.reason, 'SIGNATURE_INVALID');
      assert.match(
        formatDecision(decision),
        new RegExp(
          `^image ${escape(ALICE_IMAGE)} denied by policy signed: authority bob: no signatures verified \\(1 checked: VERIFY_SIGNATURE_ERROR`,
        ),
      );
    });

    it('allows when any one authority passes (OR) and reports each', async () => {
      const { decision } = await evaluate(ALICE_IMAGE, [
        cip('signed', { authorities: [keyAuthority('bob'), keyAuthority('charlie'), keyAuthority('alice')] }),
      ]);
      assert.equal(decision.outcome, 'allowed');
      assert.deepEqual(
        decision.policies[0]!.authorities.map((authority) => [authority.name, authority.outcome]),
        [
          ['bob', 'failed'],
          ['charlie', 'failed'],
          ['alice', 'passed'],
        ],
      );
    });

    it('requires every matching policy to pass (AND)', async () => {
      const policies = [
        cip('alice-signed', { authorities: [keyAuthority('alice')] }),
        cip('bob-signed', { authorities: [keyAuthority('bob')] }),
      ];
      assert.equal((await evaluate(ALICE_BOB_CHARLIE_IMAGE, policies)).decision.outcome, 'allowed');
      const { decision } = await evaluate(ALICE_IMAGE, policies);
      assert.equal(decision.outcome, 'denied');
      assert.deepEqual(
        decision.policies.map((policy) => [policy.name, policy.outcome]),
        [
          ['alice-signed', 'passed'],
          ['bob-signed', 'failed'],
        ],
      );
      assert.match(formatDecision(decision), /denied by policy bob-signed: authority bob: /);
    });

    it('fetches the evidence once for every authority of every policy', async () => {
      const { requests } = await evaluate(ALICE_IMAGE, [
        cip('one', { authorities: [keyAuthority('bob'), keyAuthority('alice')] }),
        cip('two', { authorities: [keyAuthority('alice')] }),
      ]);
      assert.deepEqual(requests, [undefined]);
    });

    it('denies an unsigned image with NO_SIGNATURES', async () => {
      const { decision } = await evaluate(UNSIGNED_IMAGE, [
        cip('signed', { authorities: [keyAuthority('alice')] }),
      ]);
      assert.equal(decision.policies[0]!.authorities[0]!.reason, 'NO_SIGNATURES');
      assert.match(formatDecision(decision), /authority alice: no signatures found \(legacy format\)$/);
    });

    it('asks for the evidence of the authority source (oci repository, tag prefix)', async () => {
      const { requests } = await evaluate(ALICE_IMAGE, [
        cip('elsewhere', {
          authorities: [
            { ...keyAuthority('alice'), source: [{ oci: 'registry.example/signatures', tagPrefix: 'v1-' }] },
          ],
        }),
      ]);
      assert.deepEqual(requests, [{ signatureRepository: 'registry.example/signatures', tagPrefix: 'v1-' }]);
    });
  });

  describe('with a keyless authority against the production trusted root (connaisseur K1, K2)', () => {
    it('allows the keyless image signed by the identity named, and reports it', async () => {
      const { decision } = await evaluate(KEYLESS_IMAGE, [
        cip('keyless', { authorities: [keylessAuthority('philipp', PHILIPP)] }),
      ]);
      assert.equal(decision.outcome, 'allowed', formatDecision(decision));
      assert.equal(
        decision.policies[0]!.authorities[0]!.matchedIdentity,
        'philipp.belitz@securesystems.de (issuer https://github.com/login/oauth)',
      );
    });

    it('matches regular expressions unanchored, as Go MatchString', async () => {
      const { decision } = await evaluate(KEYLESS_IMAGE, [
        cip('keyless', {
          authorities: [keylessAuthority('philipp', { subjectRegExp: 'philipp', issuerRegExp: 'github' })],
        }),
      ]);
      assert.equal(decision.outcome, 'allowed', formatDecision(decision));
    });

    it('denies another identity, listing the identities seen', async () => {
      const { decision } = await evaluate(KEYLESS_IMAGE, [
        cip('keyless', {
          authorities: [
            keylessAuthority('bob-keyless', { subject: 'bob@gmail.com', issuerRegExp: 'google' }),
          ],
        }),
      ]);
      assert.equal(decision.outcome, 'denied');
      const authority = decision.policies[0]!.authorities[0]!;
      assert.equal(authority.reason, 'IDENTITY_MISMATCH');
      assert.deepEqual(authority.identitiesSeen, [
        'philipp.belitz@securesystems.de (issuer https://github.com/login/oauth)',
      ]);
      assert.equal(
        formatDecision(decision),
        `image ${KEYLESS_IMAGE} denied by policy keyless: authority bob-keyless: no signatures from subject bob@gmail.com and issuer matching google (found: philipp.belitz@securesystems.de (issuer https://github.com/login/oauth))`,
      );
    });

    it('denies the key-signed image for a keyless authority (no certificate)', async () => {
      const { decision } = await evaluate(ALICE_IMAGE, [
        cip('keyless', { authorities: [keylessAuthority('philipp', PHILIPP)] }),
      ]);
      assert.equal(decision.policies[0]!.authorities[0]!.reason, 'SIGNATURE_INVALID');
    });
  });

  describe('policy selection and modes', () => {
    it('applies only the policies whose globs match', async () => {
      const other = parseClusterImagePolicy({
        apiVersion: 'policy.sigstore.dev/v1beta1',
        kind: 'ClusterImagePolicy',
        metadata: { name: 'other' },
        spec: { images: [{ glob: 'ghcr.io/**' }], authorities: [{ static: { action: 'fail' } }] },
      });
      const { decision } = await evaluate(ALICE_IMAGE, [
        other,
        cip('signed', { authorities: [keyAuthority('alice')] }),
      ]);
      assert.deepEqual(
        decision.policies.map((policy) => policy.name),
        ['signed'],
      );
      assert.equal(decision.outcome, 'allowed');
    });

    it('denies an image no policy matches by default, and allows it with noMatch allow', async () => {
      const policies = [cip('signed', { authorities: [keyAuthority('alice')] })];
      const image = `ghcr.io/org/app@sha256:${'1'.repeat(64)}`;
      const denied = (await evaluate(image, policies)).decision;
      assert.equal(denied.outcome, 'denied');
      assert.equal(formatDecision(denied), `image ${image} denied: no matching policies`);
      assert.equal((await evaluate(image, policies, { noMatch: 'allow' })).decision.outcome, 'allowed');
    });

    it('passes and fails static authorities with their message, fetching no evidence', async () => {
      const pass = await evaluate(ALICE_IMAGE, [
        cip('system', { authorities: [{ static: { action: 'pass' } }] }),
      ]);
      assert.equal(pass.decision.outcome, 'allowed');
      assert.deepEqual(pass.requests, []);
      const fail = await evaluate(ALICE_IMAGE, [
        cip('blocked', {
          authorities: [{ name: 'nope', static: { action: 'fail', message: 'no testimages here' } }],
        }),
      ]);
      assert.equal(fail.decision.policies[0]!.authorities[0]!.reason, 'STATIC_FAIL');
      assert.equal(
        formatDecision(fail.decision),
        `image ${ALICE_IMAGE} denied by policy blocked: authority nope: disallowed by static policy: no testimages here`,
      );
    });

    it('turns a failure into a warning in warn mode, and a denial still wins', async () => {
      const warn = cip('audit', { mode: 'warn', authorities: [keyAuthority('bob')] });
      const warned = (await evaluate(ALICE_IMAGE, [warn])).decision;
      assert.equal(warned.outcome, 'warned');
      assert.equal(warned.policies[0]!.outcome, 'warned');
      assert.match(
        formatDecision(warned),
        /allowed with warnings by policy audit \(warn mode\): authority bob: /,
      );
      const denied = (
        await evaluate(ALICE_IMAGE, [warn, cip('blocked', { authorities: [{ static: { action: 'fail' } }] })])
      ).decision;
      assert.equal(denied.outcome, 'denied');
    });

    it('throws POLICY_IMAGE_INVALID for an image without a digest', async () => {
      await assert.rejects(
        evaluate(`${NAME}:latest`, []),
        (error) => error instanceof PolicyError && error.code === 'POLICY_IMAGE_INVALID',
      );
    });
  });

  describe('policy-level CEL and what Sigil does not run', () => {
    it('runs spec.policy over the authorities that matched (upstream PolicyResult)', async () => {
      const policy = (expression: string) =>
        cip('cel', {
          authorities: [keyAuthority('alice'), keyAuthority('bob')],
          policy: { type: 'cel', data: expression },
        });
      const passing =
        "'alice' in authorityMatches && !('bob' in authorityMatches) && authorityMatches.alice.signatures.size() == 1";
      assert.equal((await evaluate(ALICE_IMAGE, [policy(passing)])).decision.outcome, 'allowed');
      const { decision } = await evaluate(ALICE_IMAGE, [policy("'bob' in authorityMatches")]);
      assert.equal(decision.outcome, 'denied');
      assert.equal(decision.policies[0]!.reason?.code, 'ATTESTATION_POLICY_FAILED');
      assert.match(
        formatDecision(decision),
        /denied by policy cel: spec\.policy\.data: expression evaluated to false/,
      );
    });

    for (const type of ['cue', 'rego']) {
      it(`denies with a ${type} spec.policy, naming the policy and the field`, async () => {
        const { decision } = await evaluate(ALICE_IMAGE, [
          cip(`uses-${type}`, { authorities: [keyAuthority('alice')], policy: { type, data: 'anything' } }),
        ]);
        assert.equal(decision.outcome, 'denied');
        assert.equal(decision.policies[0]!.reason?.code, 'UNSUPPORTED');
        assert.match(
          formatDecision(decision),
          new RegExp(
            `denied by policy uses-${type}: spec\\.policy\\.type: ${type} policies are not supported`,
          ),
        );
      });
    }

    it('denies with a kms key, naming the authority and why', async () => {
      const { decision } = await evaluate(ALICE_IMAGE, [
        cip('kms', { authorities: [{ name: 'vault', key: { kms: 'hashivault://key/path' } }] }),
      ]);
      assert.equal(decision.policies[0]!.authorities[0]!.reason, 'UNSUPPORTED');
      assert.match(
        formatDecision(decision),
        /denied by policy kms: authority vault: spec\.authorities\[0\]\.key\.kms: hashivault keys are not supported here/,
      );
    });

    it('denies an attestation authority when no attestation is found', async () => {
      const { decision } = await evaluate(ALICE_IMAGE, [
        cip('attested', {
          authorities: [
            { ...keyAuthority('alice'), attestations: [{ name: 'sbom', predicateType: 'spdxjson' }] },
          ],
        }),
      ]);
      assert.equal(decision.policies[0]!.authorities[0]!.reason, 'NO_SIGNATURES');
      assert.match(formatDecision(decision), /authority alice: no attestations found/);
    });
  });
});

describe('evaluateImage with attestations', () => {
  // No vector holds a key-signed `.att` layer, so one is made here: a DSSE envelope (DSSE v1 PAE,
  // ECDSA P-256 over SHA-256) around an in-toto statement about ALICE_IMAGE, as cosign attest writes it.
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const pem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
  function attestationLayer(predicateType: string, predicate: unknown): EvidenceLayer {
    const statement = Buffer.from(
      JSON.stringify({
        _type: 'https://in-toto.io/Statement/v1',
        subject: [{ name: NAME, digest: { sha256: ALICE_IMAGE.split(':').at(-1) } }],
        predicateType,
        predicate,
      }),
    );
    const payloadType = 'application/vnd.in-toto+json';
    const pae = Buffer.concat([
      Buffer.from(`DSSEv1 ${payloadType.length} ${payloadType} ${statement.length} `),
      statement,
    ]);
    const envelope = {
      payloadType,
      payload: statement.toString('base64'),
      signatures: [{ keyid: '', sig: sign('sha256', pae, privateKey).toString('base64') }],
    };
    return { payload: Buffer.from(JSON.stringify(envelope)), annotations: { predicateType } };
  }
  const evidence = (layers: EvidenceLayer[]) => () =>
    Promise.resolve<ImageEvidence>({ signatures: [], attestations: layers, bundles: [] });
  const attested = (policy?: string) =>
    cip('attested', {
      authorities: [
        {
          name: 'builder',
          key: { data: pem },
          attestations: [
            {
              name: 'sbom',
              predicateType: 'spdxjson',
              ...(policy ? { policy: { type: 'cel', data: policy } } : {}),
            },
          ],
        },
      ],
    });
  const spdx = attestationLayer('https://spdx.dev/Document', { spdxVersion: 'SPDX-2.3', packages: [] });
  const vuln = attestationLayer('https://cosign.sigstore.dev/attestation/vuln/v1', {});

  it('allows an image with a verified attestation of the short-named predicate type', async () => {
    const decision = await evaluateImage({
      image: ALICE_IMAGE,
      policies: [attested("predicate.spdxVersion == 'SPDX-2.3'")],
      trust,
      evidence: evidence([vuln, spdx]),
    });
    assert.equal(decision.outcome, 'allowed', formatDecision(decision));
    assert.equal(decision.policies[0]!.authorities[0]!.reason, 'ATTESTATIONS_VERIFIED');
  });

  it('denies when the attestation fails its CEL policy, naming the field', async () => {
    const decision = await evaluateImage({
      image: ALICE_IMAGE,
      policies: [attested('predicate.packages.size() > 0')],
      trust,
      evidence: evidence([spdx]),
    });
    assert.equal(decision.policies[0]!.authorities[0]!.reason, 'ATTESTATION_POLICY_FAILED');
    assert.match(
      formatDecision(decision),
      /authority builder: attestation sbom: spec\.authorities\[0\]\.attestations\[0\]\.policy\.data: expression evaluated to false/,
    );
  });

  it('denies when no attestation has the predicate type, listing the types checked', async () => {
    const decision = await evaluateImage({
      image: ALICE_IMAGE,
      policies: [attested()],
      trust,
      evidence: evidence([vuln]),
    });
    assert.equal(decision.policies[0]!.authorities[0]!.reason, 'NO_MATCHING_ATTESTATION');
    assert.match(
      formatDecision(decision),
      /no matching attestations with type https:\/\/spdx\.dev\/Document, checked the following predicateTypes: https:\/\/cosign\.sigstore\.dev\/attestation\/vuln\/v1$/,
    );
  });

  it('denies a rego attestation policy as unsupported', async () => {
    const policy = cip('rego', {
      authorities: [
        {
          name: 'builder',
          key: { data: pem },
          attestations: [
            { name: 'sbom', predicateType: 'spdxjson', policy: { type: 'rego', data: 'package sigstore' } },
          ],
        },
      ],
    });
    const decision = await evaluateImage({
      image: ALICE_IMAGE,
      policies: [policy],
      trust,
      evidence: evidence([spdx]),
    });
    assert.equal(decision.policies[0]!.authorities[0]!.reason, 'UNSUPPORTED');
    assert.match(
      formatDecision(decision),
      /spec\.authorities\[0\]\.attestations\[0\]\.policy\.type: rego policies are not supported/,
    );
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
