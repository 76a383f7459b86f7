// What evaluateImage offers the admission webhook: spec.match against the admitted resource, keys from
// Secrets, a memoize hook around each authority, timed-out decisions, and the admitted object in the
// CIP-level policy. Signatures are connaisseur's cosign legacy ones (/work/shared/vectors/connaisseur,
// see test/policy/evaluate-policies.test.ts): multi-cosigned-alice, signed with alice's key, no tlog.
import assert from 'node:assert/strict';
import { createPublicKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import {
  authorityCacheKeyString,
  evaluateImage,
  formatDecision,
  parseClusterImagePolicy,
  timedOutDecision,
  verifiersFor,
  type AdmittedResource,
  type AuthorityCacheKey,
  type AuthorityOutcome,
  type ClusterImagePolicy,
  type EvaluateImageInput,
  type EvidenceLayer,
} from '../../src/policy/index.ts';
import { parseTrustedRoot } from '../../src/verify/index.ts';

const COSIGN = '/work/shared/vectors/connaisseur/cosign';
const REPOSITORY = join(COSIGN, 'securesystemsengineering/testimage');
const NAME = 'index.docker.io/securesystemsengineering/testimage';
const DIGEST = 'sha256:071bf7a986f1ca9cb2a1f0bc8392822a7777f90d58f2d2c6f271913e08de7c81';
const ALICE_IMAGE = `${NAME}@${DIGEST}`;
const trust = verifiersFor(
  parseTrustedRoot(readFileSync('/work/shared/vectors/npm-provenance/sigstore-tuf-trusted_root.json')),
);
const keyPem = (name: string) => readFileSync(join(COSIGN, `${name}.key`), 'utf8');

function signatureLayers(): EvidenceLayer[] {
  const manifest = JSON.parse(
    readFileSync(join(REPOSITORY, 'manifests', `${DIGEST.replace(':', '-')}.sig.json`), 'utf8'),
  ) as { layers: { digest: string; annotations: Record<string, string> }[] };
  return manifest.layers.map((layer) => ({
    descriptor: { digest: layer.digest },
    payload: readFileSync(join(REPOSITORY, 'blobs', `${layer.digest}.json`)),
    annotations: layer.annotations,
  }));
}

function cip(
  name: string,
  spec: Record<string, unknown>,
  metadata: Record<string, unknown> = {},
): ClusterImagePolicy {
  return parseClusterImagePolicy({
    apiVersion: 'policy.sigstore.dev/v1beta1',
    kind: 'ClusterImagePolicy',
    metadata: { name, ...metadata },
    spec: { images: [{ glob: 'index.docker.io/securesystemsengineering/*' }], ...spec },
  });
}

let evidenceCalls = 0;
function evaluate(policies: ClusterImagePolicy[], options: Partial<EvaluateImageInput> = {}) {
  return evaluateImage({
    image: ALICE_IMAGE,
    policies,
    trust,
    evidence: () => {
      evidenceCalls += 1;
      return Promise.resolve({ signatures: signatureLayers(), attestations: [], bundles: [] });
    },
    ...options,
  });
}

const deployment: AdmittedResource = {
  group: 'apps',
  version: 'v1',
  resource: 'deployments',
  kind: 'Deployment',
  namespace: 'shop',
  labels: { app: 'web' },
  object: {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', namespace: 'shop', labels: { app: 'web' } },
    spec: { replicas: 3 },
  },
};

describe('evaluateImage in an admitted resource', () => {
  it('applies a policy only to the resources its match names, else the image matches no policy', async () => {
    const podsOnly = cip('pods-only', {
      authorities: [{ static: { action: 'pass' } }],
      match: [{ resource: 'pods', version: 'v1' }],
    });
    const decision = await evaluate([podsOnly], { resource: deployment });
    assert.equal(decision.noMatchingPolicy, true);
    assert.equal(decision.outcome, 'denied');
    assert.equal(formatDecision(decision), `image ${ALICE_IMAGE} denied: no matching policies`);
    const forPods = await evaluate([podsOnly], {
      resource: { ...deployment, group: '', resource: 'pods', kind: 'Pod' },
    });
    assert.equal(forPods.outcome, 'allowed');
  });

  it('ignores match without a resource, as sigil policy test does', async () => {
    const podsOnly = cip('pods-only', {
      authorities: [{ static: { action: 'pass' } }],
      match: [{ resource: 'pods', version: 'v1' }],
    });
    assert.equal((await evaluate([podsOnly])).outcome, 'allowed');
  });
});

describe('evaluateImage with key.secretRef authorities', () => {
  const policy = cip('secret', {
    authorities: [{ name: 'from-secret', key: { secretRef: { name: 'cosign-keys' } } }],
  });

  it('verifies with the keys of the Secret, any one passing', async () => {
    const asked: unknown[] = [];
    const decision = await evaluate([policy], {
      secretKeys: (source) => {
        asked.push(source);
        return [createPublicKey(keyPem('bob')), createPublicKey(keyPem('alice'))];
      },
    });
    assert.equal(decision.outcome, 'allowed', formatDecision(decision));
    assert.equal(decision.policies[0]!.authorities[0]!.reason, 'SIGNATURE_VERIFIED');
    assert.deepEqual(asked, [{ kind: 'secretRef', name: 'cosign-keys' }]);
  });

  it('denies when no key of the Secret verifies', async () => {
    const decision = await evaluate([policy], { secretKeys: () => [createPublicKey(keyPem('bob'))] });
    assert.equal(decision.policies[0]!.authorities[0]!.reason, 'SIGNATURE_INVALID');
  });

  for (const [what, options] of [
    ['without a secretKeys callback', {}],
    ['when the Secret has no keys', { secretKeys: () => [] }],
  ] as const) {
    it(`fails the authority with TRUST_UNAVAILABLE naming the Secret ${what}`, async () => {
      const decision = await evaluate([policy], options);
      assert.equal(decision.policies[0]!.authorities[0]!.reason, 'TRUST_UNAVAILABLE');
      assert.match(
        formatDecision(decision),
        /authority from-secret: spec\.authorities\[0\]\.key\.secretRef: expected public keys in Secret cosign-keys, received none/,
      );
    });
  }
});

describe('evaluateImage with memoize', () => {
  const policy = cip(
    'cached',
    {
      authorities: [
        { name: 'alice', key: { data: keyPem('alice') } },
        { name: 'bob', key: { data: keyPem('bob') } },
        { name: 'always', static: { action: 'pass' } },
      ],
    },
    { uid: 'uid-1', resourceVersion: '42' },
  );

  it('wraps every non-static authority once per evaluation, and a cache answers the next one', async () => {
    const cache = new Map<string, Promise<AuthorityOutcome>>();
    const keys: AuthorityCacheKey[] = [];
    const memoize: EvaluateImageInput['memoize'] = (key, run) => {
      keys.push(key);
      const id = authorityCacheKeyString(key);
      let found = cache.get(id);
      if (!found) {
        found = run();
        cache.set(id, found);
      }
      return found;
    };
    evidenceCalls = 0;
    const first = await evaluate([policy], { memoize });
    const second = await evaluate([policy], { memoize });
    assert.deepEqual(keys.slice(0, 2), [
      { policy: 'uid-1@42', authority: '0:alice', digest: DIGEST },
      { policy: 'uid-1@42', authority: '1:bob', digest: DIGEST },
    ]);
    assert.equal(keys.length, 4);
    assert.equal(evidenceCalls, 1, 'the second evaluation fetched nothing');
    assert.deepEqual(second, first);
    assert.equal(first.outcome, 'allowed');
  });

  it('uses what memoize resolves to', async () => {
    const denied: AuthorityOutcome = {
      decision: { name: 'alice', outcome: 'failed', reason: 'TIMED_OUT', message: 'cached failure' },
    };
    const decision = await evaluate(
      [cip('only-alice', { authorities: [{ name: 'alice', key: { data: keyPem('alice') } }] })],
      {
        memoize: () => Promise.resolve(denied),
      },
    );
    assert.equal(decision.outcome, 'denied');
    assert.match(formatDecision(decision), /authority alice: cached failure/);
  });

  it('keys a policy without uid by name, and distinct keys give distinct strings', () => {
    const a = authorityCacheKeyString({ policy: 'p', authority: '0:a', digest: 'sha256:1' });
    const b = authorityCacheKeyString({ policy: 'p@', authority: '0:a', digest: 'sha256:1' });
    const c = authorityCacheKeyString({ policy: 'p', authority: '0:a@', digest: 'sha256:1' });
    assert.equal(new Set([a, b, c]).size, 3);
  });
});

describe('timedOutDecision', () => {
  const enforce = cip('enforced', { authorities: [{ static: { action: 'pass' } }] });
  const warn = cip('warned', { authorities: [{ static: { action: 'pass' } }], mode: 'warn' });

  it('fails each enforced policy with TIMED_OUT and the issue wording, and denies', () => {
    const decision = timedOutDecision(ALICE_IMAGE, [enforce, warn]);
    assert.equal(decision.outcome, 'denied');
    assert.deepEqual(
      decision.policies.map((policy) => [
        policy.name,
        policy.outcome,
        policy.reason?.code,
        policy.reason?.message,
      ]),
      [
        ['enforced', 'failed', 'TIMED_OUT', `timed out verifying ${ALICE_IMAGE} against enforced`],
        ['warned', 'warned', 'TIMED_OUT', `timed out verifying ${ALICE_IMAGE} against warned`],
      ],
    );
    assert.match(
      formatDecision(decision),
      /denied by policy enforced: timed out verifying .* against enforced; policy warned \(warn mode\)/,
    );
  });

  it('only warns when every policy is in warn mode, and takes a message', () => {
    const decision = timedOutDecision(ALICE_IMAGE, [warn], 'deadline of 9s passed');
    assert.equal(decision.outcome, 'warned');
    assert.equal(decision.policies[0]!.reason?.message, 'deadline of 9s passed');
  });

  it('denies when no policy is given', () => {
    assert.equal(timedOutDecision(ALICE_IMAGE, []).outcome, 'denied');
  });
});

describe('the CIP-level policy over the admitted object', () => {
  const withPolicy = (expression: string, include: Record<string, boolean>) =>
    cip('cel', {
      authorities: [{ name: 'always', static: { action: 'pass' } }],
      policy: { type: 'cel', data: expression, ...include },
    });
  const passes = async (expression: string, include: Record<string, boolean>, resource?: AdmittedResource) =>
    (await evaluate([withPolicy(expression, include)], resource ? { resource } : {})).outcome === 'allowed';

  it('sees spec with includeSpec', async () => {
    assert.equal(await passes('spec.replicas == 3', { includeSpec: true }, deployment), true);
    assert.equal(await passes('spec.replicas == 3', {}, deployment), false);
  });

  it('sees metadata with includeObjectMeta', async () => {
    assert.equal(await passes("metadata.labels.app == 'web'", { includeObjectMeta: true }, deployment), true);
    assert.equal(await passes('size(metadata) == 0', {}, deployment), true);
  });

  it('sees typemeta with includeTypeMeta', async () => {
    const expression = "typemeta.kind == 'Deployment' && typemeta.apiVersion == 'apps/v1'";
    assert.equal(await passes(expression, { includeTypeMeta: true }, deployment), true);
    assert.equal(await passes(expression, {}, deployment), false);
  });

  it('sees empty objects without a resource', async () => {
    const all = { includeSpec: true, includeObjectMeta: true, includeTypeMeta: true };
    assert.equal(await passes('size(spec) == 0 && size(metadata) == 0 && size(typemeta) == 0', all), true);
  });
});
