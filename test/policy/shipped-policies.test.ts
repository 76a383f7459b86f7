// The example ClusterImagePolicies shipped in policies/: every YAML file there loads as a cluster would
// load it, every CEL expression compiles with the variables Sigil gives it, the folder keeps one example
// of each kind, and the examples admit and deny what their comments say.
//
// Fixtures: test/policy/fixtures/example-policy-key.pem is an ECDSA P-256 private key made for this
// test (`openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256`); its public half is the
// example key of policies/key-based.yaml, so the test can sign what that policy admits. The keyless
// signature is connaisseur's public-good one (/work/shared/vectors/connaisseur/cosign, upstream
// sse-secure-systems/connaisseur @ 0c40cab1), verified against the production trusted root, as in
// evaluate-policies.test.ts.
import assert from 'node:assert/strict';
import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  ATTESTATION_POLICY_VARIABLES,
  POLICY_RESULT_VARIABLES,
  compileCelPolicy,
  compileImageGlob,
  evaluateCelPolicy,
  evaluateImage,
  formatDecision,
  parsePolicyDocuments,
  policiesFor,
  verifiersFor,
  type ClusterImagePolicy,
  type EvidenceLayer,
  type ImageEvidence,
  type PolicyDefinition,
} from '../../src/policy/index.ts';
import { parseTrustedRoot } from '../../src/verify/index.ts';

const POLICIES = fileURLToPath(new URL('../../policies/', import.meta.url));
const PRIVATE_KEY = createPrivateKey(
  readFileSync(new URL('./fixtures/example-policy-key.pem', import.meta.url), 'utf8'),
);
const COSIGN = '/work/shared/vectors/connaisseur/cosign/securesystemsengineering/testimage';
const PRODUCTION_ROOT = '/work/shared/vectors/npm-provenance/sigstore-tuf-trusted_root.json';
const KEYLESS_DIGEST = 'sha256:31dc72a13a0c34b40eb95419d2b2fd67320c856baf3b72da518023ee8d370aee';

/** Every YAML file of policies/, read from the folder so a new file is checked without listing it. */
const FILES = readdirSync(POLICIES)
  .filter((name) => /\.ya?ml$/.test(name))
  .sort();

function load(name: string): ClusterImagePolicy[] {
  const documents = parsePolicyDocuments(readFileSync(join(POLICIES, name), 'utf8'), `policies/${name}`);
  return documents.filter((document) => document.kind === 'ClusterImagePolicy');
}

function policyNamed(file: string, name = file.replace(/\.ya?ml$/, '')): ClusterImagePolicy {
  const policy = load(file).find((each) => each.metadata.name === name);
  assert.ok(policy, `expected policies/${file} to hold a ClusterImagePolicy named ${name}`);
  return policy;
}

/** Every `policy:` block of a ClusterImagePolicy, with its field and the variables CEL gets there. */
function policyDefinitions(policy: ClusterImagePolicy) {
  const found: { field: string; definition: PolicyDefinition; variables: readonly string[] }[] = [];
  if (policy.policy)
    found.push({ field: 'spec.policy', definition: policy.policy, variables: POLICY_RESULT_VARIABLES });
  policy.authorities.forEach((authority, a) =>
    authority.attestations.forEach((attestation, t) => {
      if (attestation.policy) {
        found.push({
          field: `spec.authorities[${a}].attestations[${t}].policy`,
          definition: attestation.policy,
          variables: ATTESTATION_POLICY_VARIABLES,
        });
      }
    }),
  );
  return found;
}

/** The kinds of example the folder must keep, each recognised by what a policy holds. */
const KINDS: Record<string, (policy: ClusterImagePolicy) => boolean> = {
  'keyless by identity': (policy) =>
    policy.authorities.some(
      (authority) => authority.verifier.kind === 'keyless' && authority.verifier.identities.length > 0,
    ),
  'key-based with an inline key': (policy) =>
    policy.authorities.some(
      (authority) => authority.verifier.kind === 'key' && authority.verifier.key.kind === 'data',
    ),
  'attestations with a CEL policy': (policy) =>
    policy.authorities.some((authority) =>
      authority.attestations.some((attestation) => attestation.policy?.type === 'cel'),
    ),
  'static pass': (policy) =>
    policy.authorities.some(
      (authority) => authority.verifier.kind === 'static' && authority.verifier.action === 'pass',
    ),
  'warn mode': (policy) => policy.mode === 'warn',
};

describe('the policies/ folder', () => {
  it('holds YAML files and a README naming each of them', () => {
    assert.ok(FILES.length > 0, 'expected YAML files in policies/');
    const readme = readFileSync(join(POLICIES, 'README.md'), 'utf8');
    for (const file of FILES)
      assert.ok(readme.includes(`](${file})`), `expected policies/README.md to link ${file}`);
  });

  for (const file of FILES) {
    describe(file, () => {
      it('loads into at least one ClusterImagePolicy without problems', () => {
        const policies = load(file);
        assert.ok(policies.length > 0, `expected a ClusterImagePolicy in policies/${file}`);
        for (const policy of policies) assert.equal(policy.apiVersion, 'policy.sigstore.dev/v1beta1');
      });

      it('has a header comment saying what it admits and what to change', () => {
        const text = readFileSync(join(POLICIES, file), 'utf8');
        assert.match(text, /^# /, 'expected the file to start with a comment');
        assert.match(text, /What to change/);
      });

      it('uses globs as written, with no rewrite warning', () => {
        for (const policy of load(file)) {
          for (const { glob } of policy.images) assert.equal(compileImageGlob(glob).warning, undefined, glob);
        }
      });

      it('writes every policy block as inline CEL that compiles with the variables Sigil gives it', () => {
        for (const policy of load(file)) {
          for (const { field, definition, variables } of policyDefinitions(policy)) {
            assert.equal(definition.type, 'cel', `${policy.metadata.name} ${field}.type`);
            assert.equal(definition.body.kind, 'data', `${policy.metadata.name} ${field}`);
            if (definition.body.kind === 'data')
              compileCelPolicy(definition.body.data, `${field}.data`, { variables });
          }
        }
      });
    });
  }

  it('keeps one example of each kind: keyless, key, attestations with CEL, static pass, warn mode', () => {
    const policies = FILES.flatMap(load);
    const missing = Object.entries(KINDS)
      .filter(([, isKind]) => !policies.some(isKind))
      .map(([kind]) => kind);
    assert.deepEqual(missing, []);
  });
});

describe('keyless-ci-identity.yaml', () => {
  const policy = policyNamed('keyless-ci-identity.yaml');
  const trust = verifiersFor(parseTrustedRoot(readFileSync(PRODUCTION_ROOT)));
  // connaisseur's keyless image, as if pushed under the policy's glob: the signature names only the digest.
  const image = `registry.example.com/org/testimage@${KEYLESS_DIGEST}`;

  it('denies an image signed keyless by another identity, naming the identity found', async () => {
    const decision = await evaluateImage({
      image,
      policies: [policy],
      trust,
      evidence: () => Promise.resolve(evidenceOf(legacySignatures(KEYLESS_DIGEST))),
    });
    assert.equal(decision.outcome, 'denied');
    const authority = decision.policies[0]!.authorities[0]!;
    assert.equal(authority.reason, 'IDENTITY_MISMATCH');
    assert.deepEqual(authority.identitiesSeen, [
      'philipp.belitz@securesystems.de (issuer https://github.com/login/oauth)',
    ]);
  });

  it('anchors the workflow identity to the repository and the main branch', () => {
    const identity = policy.authorities[0]!.verifier;
    assert.equal(identity.kind, 'keyless');
    if (identity.kind !== 'keyless') return;
    const { subject, issuer } = identity.identities[0]!;
    assert.deepEqual(issuer, { kind: 'exact', value: 'https://token.actions.githubusercontent.com' });
    assert.equal(subject.kind, 'regexp');
    if (subject.kind !== 'regexp') return;
    const workflow = 'https://github.com/ORG/REPO/.github/workflows/release.yml';
    assert.ok(subject.regexp.test(`${workflow}@refs/heads/main`));
    assert.ok(!subject.regexp.test(`${workflow}@refs/heads/feature`));
    assert.ok(
      !subject.regexp.test(`https://github.com/evil/ORG/REPO/.github/workflows/x.yml@refs/heads/main`),
    );
  });

  it("loads with its commented variant for Sigil's development issuer uncommented", () => {
    const text = uncommentVariant(readFileSync(join(POLICIES, 'keyless-ci-identity.yaml'), 'utf8'));
    const [variant] = parsePolicyDocuments(text, 'policies/keyless-ci-identity.yaml (variant)');
    assert.equal(variant?.kind, 'ClusterImagePolicy');
    if (variant?.kind !== 'ClusterImagePolicy') return;
    const added = variant.authorities[1];
    assert.equal(added?.name, 'sigil-dev-issuer');
    assert.equal(added.verifier.kind, 'keyless');
    if (added.verifier.kind !== 'keyless') return;
    assert.deepEqual(added.verifier.certificateAuthority, { kind: 'url', url: 'http://127.0.0.1:7070' });
    assert.deepEqual(added.verifier.identities[0]?.issuer, {
      kind: 'exact',
      value: 'http://127.0.0.1:7070/oidc',
    });
  });
});

describe('key-based.yaml', () => {
  const policy = policyNamed('key-based.yaml');
  const trust = verifiersFor(parseTrustedRoot(readFileSync(PRODUCTION_ROOT)));
  const image = `registry.example.com/release/app@sha256:${'ab'.repeat(32)}`;
  const evaluate = (target: string, signatures: EvidenceLayer[]) =>
    evaluateImage({
      image: target,
      policies: [policy],
      trust,
      evidence: () => Promise.resolve(evidenceOf(signatures)),
    });

  it('ships the public half of the example key fixture, with sha256', () => {
    const authority = policy.authorities[0]!.verifier;
    assert.equal(authority.kind, 'key');
    if (authority.kind !== 'key' || authority.key.kind !== 'data') return assert.fail('expected key.data');
    assert.equal(authority.hashAlgorithm, 'sha256');
    const shipped = createPublicKey(authority.key.pem);
    assert.equal(shipped.asymmetricKeyType, 'ec');
    assert.equal(shipped.asymmetricKeyDetails?.namedCurve, 'prime256v1');
    assert.ok(shipped.equals(createPublicKey(PRIVATE_KEY)));
  });

  it('allows an image signed with the example key, skipping the tlog without ctlog', async () => {
    const decision = await evaluate(image, [signatureLayer(image, PRIVATE_KEY)]);
    assert.equal(decision.outcome, 'allowed', formatDecision(decision));
    assert.equal(decision.policies[0]!.authorities[0]!.reason, 'SIGNATURE_VERIFIED');
  });

  it('denies an image signed with another key', async () => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const decision = await evaluate(image, [signatureLayer(image, privateKey)]);
    assert.equal(decision.outcome, 'denied');
    assert.equal(decision.policies[0]!.authorities[0]!.reason, 'SIGNATURE_INVALID');
  });

  it('denies an unsigned image, and a signature made for another digest', async () => {
    const unsigned = await evaluate(image, []);
    assert.equal(unsigned.policies[0]!.authorities[0]!.reason, 'NO_SIGNATURES');
    const other = `registry.example.com/release/app@sha256:${'cd'.repeat(32)}`;
    const moved = await evaluate(image, [signatureLayer(other, PRIVATE_KEY)]);
    assert.equal(moved.outcome, 'denied');
    assert.match(formatDecision(moved), /VERIFY_ARTIFACT_MISMATCH/);
  });

  it('does not apply outside its glob', async () => {
    const elsewhere = `registry.example.com/other/app@sha256:${'ab'.repeat(32)}`;
    const decision = await evaluate(elsewhere, [signatureLayer(elsewhere, PRIVATE_KEY)]);
    assert.equal(decision.noMatchingPolicy, true);
    assert.equal(decision.outcome, 'denied');
  });
});

describe('system-static-allow.yaml', () => {
  const policy = policyNamed('system-static-allow.yaml');
  const evaluate = async (image: string) => {
    const requests: unknown[] = [];
    const decision = await evaluateImage({
      image,
      policies: [policy],
      trust: () => assert.fail('a static authority needs no verifier'),
      evidence: (source) => {
        requests.push(source);
        return Promise.resolve(evidenceOf([]));
      },
    });
    return { decision, requests };
  };

  it('allows an unsigned registry.k8s.io image without fetching any evidence', async () => {
    const { decision, requests } = await evaluate(`registry.k8s.io/pause:3.10@sha256:${'1'.repeat(64)}`);
    assert.equal(decision.outcome, 'allowed', formatDecision(decision));
    assert.equal(decision.policies[0]!.authorities[0]!.reason, 'STATIC_PASS');
    assert.deepEqual(requests, []);
  });

  it('does not apply to images from other registries', async () => {
    const { decision } = await evaluate(`docker.io/library/nginx@sha256:${'1'.repeat(64)}`);
    assert.equal(decision.outcome, 'denied');
    assert.equal(decision.noMatchingPolicy, true);
  });

  it('applies to a Pod running the image, not to the DaemonSet that creates it', () => {
    const image = `registry.k8s.io/kube-proxy:v1.31.0@sha256:${'1'.repeat(64)}`;
    const pod = { group: '', version: 'v1', resource: 'pods', kind: 'Pod', labels: {} };
    const daemonSet = { group: 'apps', version: 'v1', resource: 'daemonsets', kind: 'DaemonSet', labels: {} };
    assert.deepEqual(
      policiesFor(image, [policy], pod).map((each) => each.metadata.name),
      ['system-static-allow'],
    );
    assert.deepEqual(policiesFor(image, [policy], daemonSet), []);
  });
});

describe('warn-mode.yaml', () => {
  const policy = policyNamed('warn-mode.yaml');

  it('admits with a warning an image the authority rejects', async () => {
    const image = `docker.io/library/nginx@sha256:${'2'.repeat(64)}`;
    const decision = await evaluateImage({
      image,
      policies: [policy],
      trust: verifiersFor(parseTrustedRoot(readFileSync(PRODUCTION_ROOT))),
      evidence: () => Promise.resolve(evidenceOf([])),
    });
    assert.equal(decision.outcome, 'warned');
    assert.match(formatDecision(decision), /allowed with warnings by policy warn-mode \(warn mode\)/);
  });
});

describe('attestations-cel.yaml', () => {
  const [provenance, scan] = ['slsa-provenance', 'vulnerability-scan'].map((name) => {
    const policy = policyNamed('attestations-cel.yaml', name);
    const [found] = policyDefinitions(policy);
    assert.ok(found && found.definition.body.kind === 'data', `expected a CEL policy in ${name}`);
    return compileCelPolicy(found.definition.body.data, found.field, { variables: found.variables });
  }) as [ReturnType<typeof compileCelPolicy>, ReturnType<typeof compileCelPolicy>];

  const builder =
    'https://github.com/slsa-framework/slsa-github-generator/.github/workflows/generator_container_slsa3.yml@refs/tags/v2.1.0';
  const provenanceOf = (builderId: string, repository: string, ref = 'refs/heads/main') => ({
    _type: 'https://in-toto.io/Statement/v1',
    subject: [{ name: 'registry.example.com/org/app', digest: { sha256: 'a'.repeat(64) } }],
    predicateType: 'https://slsa.dev/provenance/v1',
    predicate: {
      buildDefinition: {
        buildType: 'https://slsa-framework.github.io/github-actions-buildtypes/workflow/v1',
        externalParameters: { workflow: { ref, repository, path: '.github/workflows/release.yml' } },
      },
      runDetails: { builder: { id: builderId }, metadata: { invocationId: '1234/1' } },
    },
  });
  const scanOf = (scanner: string, result: unknown) => ({
    _type: 'https://in-toto.io/Statement/v0.1',
    subject: [{ name: 'registry.example.com/org/app', digest: { sha256: 'a'.repeat(64) } }],
    predicateType: 'https://cosign.sigstore.dev/attestation/vuln/v1',
    predicate: {
      invocation: { uri: '', event_id: '', 'builder.id': '' },
      scanner: { uri: scanner, version: '0.50.0', result },
      metadata: { scanStartedOn: '2024-05-01T10:00:00Z', scanFinishedOn: '2024-05-01T10:01:00Z' },
    },
  });
  const trivy = 'pkg:github/aquasecurity/trivy@v0.50.0';
  const findings = (...severities: string[]) => ({
    Results: [
      { Target: 'app (alpine 3.19)', Class: 'os-pkgs' },
      {
        Target: 'app/go.mod',
        Vulnerabilities: severities.map((Severity, i) => ({ VulnerabilityID: `CVE-2024-${i}`, Severity })),
      },
    ],
  });

  it('passes provenance from the generator that built ORG/REPO on main', () => {
    assert.deepEqual(evaluateCelPolicy(provenance, provenanceOf(builder, 'https://github.com/ORG/REPO')), {
      passed: true,
    });
  });

  it('fails provenance from another builder, another repository or another branch', () => {
    for (const statement of [
      provenanceOf(
        'https://github.com/evil/builder/.github/workflows/b.yml@refs/heads/main',
        'https://github.com/ORG/REPO',
      ),
      provenanceOf(builder, 'https://github.com/ORG/OTHER'),
      provenanceOf(builder, 'https://github.com/ORG/REPO', 'refs/heads/feature'),
    ]) {
      const outcome = evaluateCelPolicy(provenance, statement);
      assert.equal(outcome.passed, false);
      if (!outcome.passed) assert.match(outcome.reason, /expression evaluated to false/);
    }
  });

  it('passes a Trivy scan with no CRITICAL finding, or with nothing to report', () => {
    assert.deepEqual(evaluateCelPolicy(scan, scanOf(trivy, findings('HIGH', 'LOW'))), { passed: true });
    assert.deepEqual(evaluateCelPolicy(scan, scanOf(trivy, { SchemaVersion: 2 })), { passed: true });
  });

  it('fails a scan with a CRITICAL finding, or from another scanner', () => {
    const critical = evaluateCelPolicy(scan, scanOf(trivy, findings('HIGH', 'CRITICAL')));
    assert.equal(critical.passed, false);
    if (!critical.passed) assert.match(critical.reason, /expression evaluated to false/);
    const grype = evaluateCelPolicy(scan, scanOf('pkg:github/anchore/grype@v0.77.0', findings()));
    assert.equal(grype.passed, false);
    if (!grype.passed) assert.match(grype.reason, /expression evaluated to false/);
  });
});

/**
 * A cosign `.sig` layer for `image` (NAME@DIGEST): the simple-signing payload cosign writes, signed
 * (ECDSA over SHA-256, DER) with `key` into the signature annotation, without a tlog entry.
 */
function signatureLayer(image: string, key: KeyObject): EvidenceLayer {
  const [name, digest] = image.split('@') as [string, string];
  const payload = Buffer.from(
    JSON.stringify({
      critical: {
        identity: { 'docker-reference': name },
        image: { 'docker-manifest-digest': digest },
        type: 'cosign container image signature',
      },
      optional: null,
    }),
  );
  return {
    payload,
    annotations: { 'dev.cosignproject.cosign/signature': sign('sha256', payload, key).toString('base64') },
  };
}

/** The `.sig` layers connaisseur's test image holds for `digest`, with their blobs. */
function legacySignatures(digest: string): EvidenceLayer[] {
  const manifest = JSON.parse(
    readFileSync(join(COSIGN, 'manifests', `${digest.replace(':', '-')}.sig.json`), 'utf8'),
  ) as { layers: { digest: string; annotations: Record<string, string> }[] };
  return manifest.layers.map((layer) => ({
    descriptor: { digest: layer.digest },
    payload: readFileSync(join(COSIGN, 'blobs', `${layer.digest}.json`)),
    annotations: layer.annotations,
  }));
}

function evidenceOf(signatures: EvidenceLayer[]): ImageEvidence {
  return { signatures, attestations: [], bundles: [] };
}

/**
 * The file with its commented authority uncommented, as a reader would: from the first indented
 * `# - name:` line, each following line of the same indentation loses its `# `.
 */
function uncommentVariant(text: string): string {
  const lines = text.split('\n');
  const start = lines.findIndex((line) => /^\s+# - name: /.test(line));
  assert.notEqual(start, -1, 'expected a commented authority (`# - name: ...`)');
  const indent = /^(\s*)#/.exec(lines[start]!)![1]!;
  for (let i = start; i < lines.length && lines[i]!.startsWith(`${indent}# `); i++) {
    lines[i] = indent + lines[i]!.slice(indent.length + 2);
  }
  return lines.join('\n');
}
