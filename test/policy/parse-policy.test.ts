import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import {
  PolicyError,
  parseClusterImagePolicy,
  parsePolicyDocuments,
  parseTrustRoot,
  type PolicyErrorCode,
} from '../../src/policy/index.ts';

// Upstream sigstore/policy-controller samples; see the folder's README for provenance and outcomes.
const VECTORS = '/work/shared/vectors/policy-controller';
const EXAMPLE_KEY = readFileSync(join(VECTORS, 'examples/cosign.pub'), 'utf8');

function filesIn(folder: string): string[] {
  return readdirSync(join(VECTORS, folder))
    .filter((name) => name.endsWith('.yaml'))
    .sort();
}

function read(folder: string, name: string): string {
  return readFileSync(join(VECTORS, folder, name), 'utf8');
}

function rejects(action: () => unknown, code: PolicyErrorCode): PolicyError {
  try {
    action();
  } catch (error) {
    assert.ok(error instanceof PolicyError, `expected a PolicyError, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    return error;
  }
  assert.fail(`expected PolicyError ${code}, but nothing was thrown`);
}

function policy(spec: Record<string, unknown>, apiVersion = 'policy.sigstore.dev/v1beta1'): unknown {
  return { apiVersion, kind: 'ClusterImagePolicy', metadata: { name: 'test-policy' }, spec };
}

const KEYLESS = {
  keyless: { identities: [{ issuer: 'https://issuer.example', subject: 'ci@example.com' }] },
};

describe('parsePolicyDocuments over upstream policy-controller samples', () => {
  describe('every invalid policy', () => {
    for (const name of filesIn('crd-validation/invalid')) {
      it(`rejects ${name} with POLICY_INVALID naming each expected error`, () => {
        const text = read('crd-validation/invalid', name);
        const expected = [...text.matchAll(/^# ?ERROR: ?(.*)$/gm)].map((match) => (match[1] ?? '').trim());
        assert.ok(expected.length > 0, 'the sample states its expected errors');
        const error = rejects(() => parsePolicyDocuments(text, name), 'POLICY_INVALID');
        for (const substring of expected)
          assert.ok(error.message.includes(substring), `${substring}\nnot in\n${error.message}`);
        assert.ok(error.problems.length > 0);
      });
    }
  });

  describe('every valid policy, tester policy, e2e policy and example', () => {
    const folders = ['crd-validation/valid', 'crd-validation/tester', 'e2e', 'examples/policies'];
    // test-deployment.yaml is the workload the e2e scripts deploy; signed-by-aws-kms-key.yaml holds
    // `<< region >>` placeholders, which upstream rejects as well.
    const notPolicies = new Set(['test-deployment.yaml', 'signed-by-aws-kms-key.yaml']);
    for (const folder of folders) {
      for (const name of filesIn(folder).filter((file) => !notPolicies.has(file))) {
        it(`loads ${folder}/${name}`, () => {
          const documents = parsePolicyDocuments(read(folder, name), name);
          assert.equal(documents.length, 1);
          assert.equal(documents[0]?.kind, 'ClusterImagePolicy');
        });
      }
    }

    it('rejects the AWS KMS example, whose key ARN is a template, naming spec.authorities[0].key.kms', () => {
      const error = rejects(
        () => parsePolicyDocuments(read('examples/policies', 'signed-by-aws-kms-key.yaml'), 'aws'),
        'POLICY_INVALID',
      );
      assert.match(error.message, /spec\.authorities\[0\]\.key\.kms/);
    });

    it('rejects a Deployment with POLICY_KIND_UNSUPPORTED', () => {
      rejects(
        () => parsePolicyDocuments(read('e2e', 'test-deployment.yaml'), 'deployment'),
        'POLICY_KIND_UNSUPPORTED',
      );
    });
  });

  describe('policies without authorities (crd-validation/empty-authorities)', () => {
    for (const name of filesIn('crd-validation/empty-authorities')) {
      it(`rejects ${name} by default, as fail-on-empty-authorities is true upstream`, () => {
        const error = rejects(
          () => parsePolicyDocuments(read('crd-validation/empty-authorities', name), name),
          'POLICY_INVALID',
        );
        assert.match(error.message, /missing field\(s\): spec\.authorities/);
      });

      it(`loads ${name} when empty authorities are allowed`, () => {
        const [document] = parsePolicyDocuments(read('crd-validation/empty-authorities', name), name, {
          failOnEmptyAuthorities: false,
        });
        if (document?.kind !== 'ClusterImagePolicy') return assert.fail('expected a ClusterImagePolicy');
        assert.deepEqual(document.authorities, []);
      });
    }
  });
});

describe('parseClusterImagePolicy', () => {
  describe('when fields are left out', () => {
    const parsed = parseClusterImagePolicy(
      policy({ images: [{ glob: '**' }], authorities: [KEYLESS, { key: { data: EXAMPLE_KEY } }] }),
    );

    it('defaults mode to enforce and names authorities by index', () => {
      assert.equal(parsed.mode, 'enforce');
      assert.deepEqual(
        parsed.authorities.map((authority) => authority.name),
        ['authority-0', 'authority-1'],
      );
    });

    it('defaults the keyless url to the public Fulcio and signatureFormat to legacy', () => {
      const verifier = parsed.authorities[0]?.verifier;
      assert.equal(verifier?.kind, 'keyless');
      if (verifier?.kind !== 'keyless') return;
      assert.deepEqual(verifier.certificateAuthority, { kind: 'url', url: 'https://fulcio.sigstore.dev' });
      assert.equal(verifier.insecureIgnoreSCT, false);
      assert.equal(parsed.authorities[0]?.signatureFormat, 'legacy');
    });

    it('defaults hashAlgorithm to sha256 and imports the inline key once', () => {
      const verifier = parsed.authorities[1]?.verifier;
      assert.equal(verifier?.kind, 'key');
      if (verifier?.kind !== 'key' || verifier.key.kind !== 'data')
        return assert.fail('expected an inline key');
      assert.equal(verifier.hashAlgorithm, 'sha256');
      assert.equal(verifier.key.publicKey.asymmetricKeyType, 'ec');
    });
  });

  describe('when an authority uses every field', () => {
    const parsed = parseClusterImagePolicy(
      policy({
        images: [{ glob: 'registry.local/**' }],
        mode: 'warn',
        match: [{ resource: 'pods', version: 'v1', selector: { matchLabels: { team: 'a' } } }],
        authorities: [
          {
            name: 'ci',
            keyless: {
              url: 'https://fulcio.local',
              identities: [{ issuerRegExp: '(?i)^https://ISSUER\\.example$', subject: 'ci@example.com' }],
              trustRootRef: 'local',
              insecureIgnoreSCT: true,
            },
            source: [
              {
                oci: 'registry.local/signatures',
                signaturePullSecrets: [{ name: 'pull' }],
                tagPrefix: 'sig-',
              },
            ],
            ctlog: { url: 'https://rekor.local', trustRootRef: 'local' },
            rfc3161timestamp: { trustRootRef: 'local' },
            signatureFormat: 'bundle',
            attestations: [
              { name: 'sbom', predicateType: 'spdxjson', policy: { type: 'cel', data: 'true' } },
              { name: 'provenance', predicateType: 'https://slsa.dev/provenance/v1' },
            ],
          },
          { static: { action: 'fail', message: 'not here' } },
          { key: { kms: 'gcpkms://projects/p/locations/l/keyRings/r/cryptoKeys/k' } },
        ],
      }),
    );

    it('keeps mode, match and sources as tagged, typed values', () => {
      assert.equal(parsed.mode, 'warn');
      assert.deepEqual(parsed.match, [
        {
          group: '',
          version: 'v1',
          resource: 'pods',
          selector: { matchLabels: { team: 'a' }, matchExpressions: [] },
        },
      ]);
      assert.deepEqual(parsed.authorities[0]?.sources, [
        { oci: 'registry.local/signatures', signaturePullSecrets: ['pull'], tagPrefix: 'sig-' },
      ]);
      assert.equal(parsed.authorities[0]?.signatureFormat, 'bundle');
      assert.deepEqual(parsed.authorities[0]?.rfc3161timestamp, { trustRootRef: 'local' });
    });

    it('compiles Go regular expressions with leading flags into RegExps', () => {
      const verifier = parsed.authorities[0]?.verifier;
      if (verifier?.kind !== 'keyless') return assert.fail('expected keyless');
      const issuer = verifier.identities[0]?.issuer;
      assert.equal(issuer?.kind, 'regexp');
      if (issuer?.kind !== 'regexp') return;
      assert.ok(issuer.regexp.test('https://issuer.example'));
      assert.deepEqual(verifier.identities[0]?.subject, { kind: 'exact', value: 'ci@example.com' });
    });

    it('resolves short predicate types to their URIs', () => {
      assert.deepEqual(
        parsed.authorities[0]?.attestations.map((attestation) => attestation.predicateTypeUri),
        ['https://spdx.dev/Document', 'https://slsa.dev/provenance/v1'],
      );
    });

    it('parses static and KMS authorities (the evaluator reports KMS unsupported)', () => {
      assert.deepEqual(parsed.authorities[1]?.verifier, {
        kind: 'static',
        action: 'fail',
        message: 'not here',
      });
      const kms = parsed.authorities[2]?.verifier;
      assert.equal(kms?.kind === 'key' && kms.key.kind, 'kms');
    });
  });

  describe('when values break upstream rules', () => {
    const cases: [string, Record<string, unknown>, string][] = [
      [
        'static with attestations',
        {
          images: [{ glob: '*' }],
          authorities: [{ static: { action: 'pass' }, attestations: [{ name: 'a', predicateType: 'spdx' }] }],
        },
        'expected exactly one, got both: spec.authorities[0].attestations, spec.authorities[0].static',
      ],
      [
        'an unknown static action',
        { images: [{ glob: '*' }], authorities: [{ static: { action: 'maybe' } }] },
        'invalid value: maybe: spec.authorities[0].static.action',
      ],
      [
        'a selector without a resource',
        {
          images: [{ glob: '*' }],
          authorities: [KEYLESS],
          match: [{ selector: { matchLabels: { a: 'b' } } }],
        },
        'spec.match[0].selector',
      ],
      [
        'a policy of an unknown type',
        { images: [{ glob: '*' }], authorities: [KEYLESS], policy: { type: 'jq', data: '.' } },
        'invalid value: jq: spec.policy.type',
      ],
      [
        'a remote policy over http',
        {
          images: [{ glob: '*' }],
          authorities: [KEYLESS],
          policy: { type: 'cue', remote: { url: 'http://x.example/p', sha256sum: 'a'.repeat(64) } },
        },
        'invalid value: http://x.example/p: spec.policy.remote.url',
      ],
      [
        'fetchConfigFile on an attestation policy',
        {
          images: [{ glob: '*' }],
          authorities: [
            {
              ...KEYLESS,
              attestations: [
                {
                  name: 'a',
                  predicateType: 'spdx',
                  policy: { type: 'cue', data: 'x', fetchConfigFile: true },
                },
              ],
            },
          ],
        },
        'must not set the field(s): spec.authorities[0].attestations[0].policy.fetchConfigFile',
      ],
      [
        'a predicate type that is neither a short name nor a URI',
        {
          images: [{ glob: '*' }],
          authorities: [{ ...KEYLESS, attestations: [{ name: 'a', predicateType: 'sbom' }] }],
        },
        'invalid value: sbom: spec.authorities[0].attestations[0].predicateType',
      ],
      [
        'a lookahead RE2 does not support',
        {
          images: [{ glob: '*' }],
          authorities: [{ keyless: { identities: [{ issuer: 'i', subjectRegExp: '(?=x)' }] } }],
        },
        'invalid value: (?=x): spec.authorities[0].keyless.identities[0].subjectRegExp',
      ],
      [
        'an unknown signatureFormat',
        { images: [{ glob: '*' }], authorities: [{ ...KEYLESS, signatureFormat: 'zip' }] },
        'invalid value: zip: spec.authorities[0].signatureFormat',
      ],
      [
        'an unknown field',
        { images: [{ glob: '*' }], authorities: [{ keylss: {} }] },
        'unknown field "spec.authorities[0].keylss"',
      ],
      [
        'a number where a string belongs',
        { images: [{ glob: 7 }], authorities: [KEYLESS] },
        'spec.images[0].glob: Invalid value: "integer"',
      ],
      ['no images', { authorities: [KEYLESS] }, 'spec.images: Required value'],
    ];
    for (const [what, spec, message] of cases) {
      it(`rejects ${what} with POLICY_INVALID`, () => {
        const error = rejects(() => parseClusterImagePolicy(policy(spec)), 'POLICY_INVALID');
        assert.ok(error.message.includes(message), `${message}\nnot in\n${error.message}`);
      });
    }

    it('collects every problem in one error, sorted as upstream sorts them', () => {
      const error = rejects(
        () =>
          parseClusterImagePolicy(
            policy({ images: [{ glob: '[' }], mode: 'garbage', authorities: [{ key: {} }] }),
          ),
        'POLICY_INVALID',
      );
      assert.deepEqual(
        error.problems.map((problem) => problem.message),
        ['expected exactly one, got neither', 'invalid value: [', 'invalid value: garbage'],
      );
      assert.match(
        error.message,
        /^ClusterImagePolicy "test-policy": validation failed: expected exactly one/,
      );
    });
  });

  describe('when the input is hostile', () => {
    for (const [what, value] of [
      ['null', null],
      ['a string', 'kind: ClusterImagePolicy'],
      ['an array', [policy({})]],
    ] as const) {
      it(`rejects ${what} with POLICY_DOCUMENT_INVALID`, () => {
        rejects(() => parseClusterImagePolicy(value), 'POLICY_DOCUMENT_INVALID');
      });
    }

    it('rejects another apiVersion with POLICY_KIND_UNSUPPORTED', () => {
      rejects(
        () => parseClusterImagePolicy(policy({}, 'cosigned.sigstore.dev/v1alpha1')),
        'POLICY_KIND_UNSUPPORTED',
      );
    });

    it('rejects a huge images array without walking it', () => {
      const images = Array.from({ length: 100_000 }, () => ({ glob: '*' }));
      const error = rejects(
        () => parseClusterImagePolicy(policy({ images, authorities: [KEYLESS] })),
        'POLICY_INVALID',
      );
      assert.match(error.message, /spec\.images: Too many/);
    });

    it('keeps a __proto__ key as data and rejects it as an unknown field', () => {
      const document = JSON.parse(
        '{"apiVersion":"policy.sigstore.dev/v1alpha1","kind":"ClusterImagePolicy","metadata":{"name":"p"},"spec":{"images":[{"glob":"*"}],"authorities":[{"__proto__":{"polluted":true},"static":{"action":"pass"}}]}}',
      ) as unknown;
      const error = rejects(() => parseClusterImagePolicy(document), 'POLICY_INVALID');
      assert.match(error.message, /unknown field "spec\.authorities\[0\]\.__proto__"/);
      assert.equal(({} as Record<string, unknown>)['polluted'], undefined);
    });

    it('rejects YAML syntax errors, oversized files and alias bombs with POLICY_DOCUMENT_INVALID', () => {
      rejects(() => parsePolicyDocuments('spec: [unclosed', 'bad.yaml'), 'POLICY_DOCUMENT_INVALID');
      rejects(
        () => parsePolicyDocuments('a'.repeat(100), 'big.yaml', { maxLength: 10 }),
        'POLICY_DOCUMENT_INVALID',
      );
      const bomb = [
        'a: &a [x, x, x, x, x, x, x, x, x]',
        ...Array.from(
          { length: 9 },
          (_, i) =>
            `${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [*${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}]`,
        ),
      ].join('\n');
      rejects(() => parsePolicyDocuments(bomb, 'bomb.yaml'), 'POLICY_DOCUMENT_INVALID');
    });

    it('names the document of a multi-document file that failed', () => {
      const text = `${read('e2e', 'cip-static-pass.yaml')}\n---\napiVersion: policy.sigstore.dev/v1alpha1\nkind: ClusterImagePolicy\nmetadata: {name: two}\nspec: {images: [{glob: '*'}], mode: nope, authorities: [{static: {action: pass}}]}\n`;
      const error = rejects(() => parsePolicyDocuments(text, 'two.yaml'), 'POLICY_INVALID');
      assert.match(error.message, /^two\.yaml \(document 2\): ClusterImagePolicy "two"/);
    });
  });
});

describe('parseTrustRoot', () => {
  // Sigstore public-good Fulcio intermediate and root (vectors/fulcio-certs).
  const chain = Buffer.from(
    ['public-good-fulcio-2022-intermediate.pem', 'public-good-fulcio-2022-root.pem']
      .map((name) => readFileSync(join('/work/shared/vectors/fulcio-certs', name), 'utf8'))
      .join(''),
  ).toString('base64');
  const key = Buffer.from(EXAMPLE_KEY).toString('base64');
  const root = Buffer.from(JSON.stringify({ signed: {}, signatures: [] })).toString('base64');

  it('decodes sigstoreKeys: certificate chains to DER and log keys to KeyObjects', () => {
    const parsed = parseTrustRoot({
      apiVersion: 'policy.sigstore.dev/v1alpha1',
      kind: 'TrustRoot',
      metadata: { name: 'mine' },
      spec: {
        sigstoreKeys: {
          certificateAuthorities: [
            {
              subject: { organization: 'o', commonName: 'c' },
              uri: 'https://fulcio.local',
              certChain: chain,
            },
          ],
          tLogs: [{ baseURL: 'https://rekor.local', hashAlgorithm: 'sha-256', publicKey: key }],
        },
      },
    });
    assert.equal(parsed.source.kind, 'sigstoreKeys');
    if (parsed.source.kind !== 'sigstoreKeys') return;
    assert.ok((parsed.source.certificateAuthorities[0]?.certChain.length ?? 0) >= 1);
    assert.equal(parsed.source.tLogs[0]?.publicKey.asymmetricKeyType, 'ec');
    assert.deepEqual(parsed.source.ctLogs, []);
  });

  it('defaults remote targets and trustedRootTarget', () => {
    const parsed = parseTrustRoot({
      apiVersion: 'policy.sigstore.dev/v1alpha1',
      kind: 'TrustRoot',
      metadata: { name: 'remote' },
      spec: { remote: { root, mirror: 'https://tuf.example' } },
    });
    assert.deepEqual(
      { ...parsed.source, root: undefined },
      {
        kind: 'remote',
        root: undefined,
        mirror: 'https://tuf.example',
        targets: 'targets',
        trustedRootTarget: 'trusted_root.json',
      },
    );
  });

  const bad: [string, Record<string, unknown>, string][] = [
    ['no form', {}, 'expected exactly one, got neither: spec.remote, spec.repository, spec.sigstoreKeys'],
    [
      'two forms',
      { remote: { root, mirror: 'https://m' }, sigstoreKeys: {} },
      'expected exactly one, got both',
    ],
    [
      'a root without signatures',
      { remote: { root: Buffer.from('{}').toString('base64'), mirror: 'https://m' } },
      'invalid value: missing signatures in root.json: spec.remote.root',
    ],
    [
      'sigstoreKeys without authorities',
      { sigstoreKeys: { tLogs: [] } },
      'expected exactly one, got neither: spec.sigstoreKeys.certificateAuthorities, spec.sigstoreKeys.timestampAuthorities',
    ],
    [
      'a log key that is not a key',
      {
        sigstoreKeys: {
          certificateAuthorities: [
            { subject: { organization: 'o', commonName: 'c' }, uri: 'https://f', certChain: chain },
          ],
          tLogs: [{ baseURL: 'https://r', hashAlgorithm: 'sha-256', publicKey: 'bm90IGEga2V5' }],
        },
      },
      'spec.sigstoreKeys.tLogs[0].publicKey',
    ],
    [
      'a CA without its chain and subject',
      { sigstoreKeys: { certificateAuthorities: [{ uri: 'https://f' }] } },
      'missing field(s): spec.sigstoreKeys.certificateAuthorities[0].certChain, spec.sigstoreKeys.certificateAuthorities[0].subject.commonName, spec.sigstoreKeys.certificateAuthorities[0].subject.organization',
    ],
  ];
  for (const [what, spec, message] of bad) {
    it(`rejects ${what} with POLICY_INVALID`, () => {
      const error = rejects(
        () =>
          parseTrustRoot({
            apiVersion: 'policy.sigstore.dev/v1alpha1',
            kind: 'TrustRoot',
            metadata: { name: 't' },
            spec,
          }),
        'POLICY_INVALID',
      );
      assert.ok(error.message.includes(message), `${message}\nnot in\n${error.message}`);
    });
  }
});
