import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CaError, type CaErrorCode } from '../../../src/ca/errors.ts';
import {
  findIssuer,
  principalFromClaims,
  resolveIssuerConfig,
  type IssuerConfigDocument,
  type Principal,
} from '../../../src/ca/oidc/index.ts';

const ISSUER = 'https://issuer.example.com';

function principal(
  document: IssuerConfigDocument['oidc-issuers'],
  claims: Record<string, unknown>,
): Principal {
  const config = resolveIssuerConfig({ 'oidc-issuers': document });
  return principalFromClaims({ iss: ISSUER, ...claims }, findIssuer(config, ISSUER)!, config);
}

function throwsCode(run: () => unknown, code: CaErrorCode, message?: RegExp): void {
  assert.throws(run, (error: unknown) => {
    assert.ok(error instanceof CaError, `expected a CaError, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    if (message) assert.match(error.message, message);
    return true;
  });
}

describe('an email issuer', () => {
  const email = { [ISSUER]: { type: 'email' as const } };

  it('certifies the verified email address and signs over it', () => {
    assert.deepEqual(principal(email, { sub: 'u1', email: 'a@example.com', email_verified: true }), {
      name: 'a@example.com',
      subjectAlternativeName: { kind: 'email', value: 'a@example.com' },
      extensions: { issuer: ISSUER, tokenSubject: 'u1' },
    });
  });

  it('rejects a token without email with CA_CLAIM_MISSING', () => {
    throwsCode(() => principal(email, { sub: 'u1', email_verified: true }), 'CA_CLAIM_MISSING', /^email: /);
  });

  it('rejects a token without email_verified with CA_EMAIL_UNVERIFIED', () => {
    throwsCode(
      () => principal(email, { email: 'a@example.com' }),
      'CA_EMAIL_UNVERIFIED',
      /^email_verified: expected true, received nothing$/,
    );
  });

  it('rejects email_verified false, or the string "true", with CA_EMAIL_UNVERIFIED', () => {
    throwsCode(
      () => principal(email, { email: 'a@example.com', email_verified: false }),
      'CA_EMAIL_UNVERIFIED',
    );
    throwsCode(
      () => principal(email, { email: 'a@example.com', email_verified: 'true' }),
      'CA_EMAIL_UNVERIFIED',
    );
  });

  it('accepts an unverified email when the issuer sets skip-email-verification', () => {
    const skipping = { [ISSUER]: { type: 'email' as const, 'skip-email-verification': true } };
    assert.equal(principal(skipping, { email: 'a@example.com' }).name, 'a@example.com');
  });

  it('rejects something that is not an email address with CA_CLAIM_INVALID', () => {
    throwsCode(() => principal(email, { email: 'not-an-address', email_verified: true }), 'CA_CLAIM_INVALID');
  });

  it('takes the Issuer extension from issuer-claim, and rejects a token lacking it with CA_CLAIM_MISSING', () => {
    const dex = {
      [ISSUER]: { type: 'email' as const, 'issuer-claim': "$['federated_claims'].connector_id" },
    };
    const claims = {
      email: 'a@example.com',
      email_verified: true,
      federated_claims: { connector_id: 'https://up' },
    };
    assert.equal(principal(dex, claims).extensions.issuer, 'https://up');
    throwsCode(
      () => principal(dex, { email: 'a@example.com', email_verified: true }),
      'CA_CLAIM_MISSING',
      /^\$\.federated_claims\.connector_id: /,
    );
  });
});

describe('a kubernetes issuer', () => {
  const kubernetes = { [ISSUER]: { type: 'kubernetes' as const } };
  const claims = {
    sub: 'system:serviceaccount:default:builder',
    'kubernetes.io': { namespace: 'default', serviceaccount: { name: 'builder', uid: 'f5720c1d' } },
  };

  it('certifies the service account URI and signs over sub', () => {
    assert.deepEqual(principal(kubernetes, claims), {
      name: 'system:serviceaccount:default:builder',
      subjectAlternativeName: {
        kind: 'uri',
        value: 'https://kubernetes.io/namespaces/default/serviceaccounts/builder',
      },
      extensions: { issuer: ISSUER, tokenSubject: 'system:serviceaccount:default:builder' },
    });
  });

  it('rejects a token without the kubernetes.io claim with CA_CLAIM_MISSING', () => {
    throwsCode(
      () => principal(kubernetes, { sub: claims.sub }),
      'CA_CLAIM_MISSING',
      /^kubernetes\.io\.namespace: /,
    );
  });

  it('rejects a token without a service account name with CA_CLAIM_MISSING', () => {
    const partial = { sub: claims.sub, 'kubernetes.io': { namespace: 'default' } };
    throwsCode(() => principal(kubernetes, partial), 'CA_CLAIM_MISSING', /serviceaccount\.name/);
  });

  it('rejects a token without sub with CA_CLAIM_MISSING', () => {
    throwsCode(
      () => principal(kubernetes, { 'kubernetes.io': claims['kubernetes.io'] }),
      'CA_CLAIM_MISSING',
      /^sub: /,
    );
  });
});

describe('a spiffe issuer', () => {
  const spiffe = { [ISSUER]: { type: 'spiffe' as const, 'spiffe-trust-domain': 'example.com' } };

  it('certifies a SPIFFE ID in the trust domain', () => {
    const result = principal(spiffe, { sub: 'spiffe://example.com/ns/prod/sa/builder' });
    assert.deepEqual(result.subjectAlternativeName, {
      kind: 'uri',
      value: 'spiffe://example.com/ns/prod/sa/builder',
    });
    assert.equal(result.name, 'spiffe://example.com/ns/prod/sa/builder');
  });

  it('rejects a SPIFFE ID outside the trust domain with CA_CLAIM_INVALID', () => {
    throwsCode(
      () => principal(spiffe, { sub: 'spiffe://evil.com/ns/prod' }),
      'CA_CLAIM_INVALID',
      /expected a SPIFFE ID in trust domain example\.com, received one in evil\.com/,
    );
  });

  for (const sub of [
    'https://example.com/x',
    'spiffe://example.com/a//b',
    'spiffe://example.com/../x',
    'spiffe://Example.com/x',
  ]) {
    it(`rejects ${sub} as not a SPIFFE ID with CA_CLAIM_INVALID`, () => {
      throwsCode(() => principal(spiffe, { sub }), 'CA_CLAIM_INVALID');
    });
  }

  it('rejects a token without sub with CA_CLAIM_MISSING', () => {
    throwsCode(() => principal(spiffe, {}), 'CA_CLAIM_MISSING');
  });
});

describe('a uri issuer', () => {
  const uri = { [ISSUER]: { type: 'uri' as const, 'subject-domain': 'https://example.com' } };

  it('certifies a subject URI under the subject domain', () => {
    const result = principal(uri, { sub: 'https://example.com/users/alice' });
    assert.deepEqual(result.subjectAlternativeName, {
      kind: 'uri',
      value: 'https://example.com/users/alice',
    });
    assert.equal(result.name, 'https://example.com/users/alice');
  });

  it('rejects a subject on another host with CA_CLAIM_INVALID', () => {
    throwsCode(
      () => principal(uri, { sub: 'https://evil.com/users/alice' }),
      'CA_CLAIM_INVALID',
      /under https:\/\/example\.com/,
    );
  });

  it('rejects a subject with another scheme with CA_CLAIM_INVALID', () => {
    throwsCode(() => principal(uri, { sub: 'http://example.com/users/alice' }), 'CA_CLAIM_INVALID');
  });

  it('rejects an email address as subject with CA_CLAIM_INVALID', () => {
    throwsCode(
      () => principal(uri, { sub: 'alice@example.com' }),
      'CA_CLAIM_INVALID',
      /not an email address/,
    );
  });

  it('rejects a token without sub with CA_CLAIM_MISSING', () => {
    throwsCode(() => principal(uri, {}), 'CA_CLAIM_MISSING');
  });
});

describe('a username issuer', () => {
  const username = { [ISSUER]: { type: 'username' as const, 'subject-domain': 'example.com' } };

  it('certifies <sub>!<subject-domain> as an otherName and signs over sub', () => {
    const result = principal(username, { sub: 'alice' });
    assert.deepEqual(result.subjectAlternativeName, { kind: 'other-name', value: 'alice!example.com' });
    assert.equal(result.name, 'alice');
  });

  it('rejects a user name containing ! with CA_CLAIM_INVALID', () => {
    throwsCode(() => principal(username, { sub: 'alice!evil.com' }), 'CA_CLAIM_INVALID', /without "!"/);
  });

  it('rejects an email address as user name with CA_CLAIM_INVALID', () => {
    throwsCode(() => principal(username, { sub: 'alice@example.com' }), 'CA_CLAIM_INVALID');
  });

  it('rejects a token without sub with CA_CLAIM_MISSING', () => {
    throwsCode(() => principal(username, {}), 'CA_CLAIM_MISSING');
  });
});

describe('the legacy github-workflow issuer', () => {
  const github = { [ISSUER]: { type: 'github-workflow' as const } };
  const claims: Record<string, string> = {
    sub: 'repo:o/r:ref:refs/heads/main',
    job_workflow_ref: 'o/r/.github/workflows/build.yml@refs/heads/main',
    sha: 'a'.repeat(40),
    event_name: 'push',
    repository: 'o/r',
    workflow: 'Build',
    ref: 'refs/heads/main',
    job_workflow_sha: 'b'.repeat(40),
    runner_environment: 'github-hosted',
    repository_id: '1',
    repository_owner: 'o',
    repository_owner_id: '2',
    repository_visibility: 'public',
    workflow_ref: 'o/r/.github/workflows/build.yml@refs/heads/main',
    workflow_sha: 'c'.repeat(40),
    run_id: '42',
    run_attempt: '1',
  };

  it('certifies https://github.com/<job_workflow_ref>', () => {
    assert.deepEqual(principal(github, claims).subjectAlternativeName, {
      kind: 'uri',
      value: 'https://github.com/o/r/.github/workflows/build.yml@refs/heads/main',
    });
  });

  for (const name of Object.keys(claims).filter((claim) => claim !== 'sub')) {
    it(`rejects a token without ${name} with CA_CLAIM_MISSING`, () => {
      const { [name]: _dropped, ...rest } = claims;
      throwsCode(() => principal(github, rest), 'CA_CLAIM_MISSING', new RegExp(`^${name}: `));
    });
  }

  it("escapes a path the way Go's url.JoinPath does", () => {
    const result = principal(github, {
      ...claims,
      job_workflow_ref: 'o/r/.github/workflows/a b.yml@refs/heads/x',
    });
    assert.equal(
      result.subjectAlternativeName.value,
      'https://github.com/o/r/.github/workflows/a%20b.yml@refs/heads/x',
    );
  });
});

describe('a ci-provider issuer', () => {
  const gitlab = { [ISSUER]: { type: 'ci-provider' as const, 'ci-provider': 'gitlab-pipeline' } };
  const claims = {
    sub: 'project_path:group/project:ref_type:branch:ref:main',
    ci_config_ref_uri: 'gitlab.com/group/project//.gitlab-ci.yml@refs/heads/main',
    ci_config_sha: 'd'.repeat(40),
    runner_environment: 'gitlab-hosted',
    project_path: 'group/project',
    sha: 'e'.repeat(40),
    ref_type: 'branch',
    ref: 'main',
    project_id: '123',
    namespace_path: 'group',
    namespace_id: '45',
    pipeline_source: 'push',
    job_id: 6789,
    project_visibility: 'public',
  };

  it('maps GitLab claims through the built-in gitlab-pipeline templates', () => {
    assert.deepEqual(principal(gitlab, claims), {
      name: claims.sub,
      subjectAlternativeName: {
        kind: 'uri',
        value: 'https://gitlab.com/group/project//.gitlab-ci.yml@refs/heads/main',
      },
      extensions: {
        issuer: ISSUER,
        buildSignerUri: 'https://gitlab.com/group/project//.gitlab-ci.yml@refs/heads/main',
        buildSignerDigest: 'd'.repeat(40),
        runnerEnvironment: 'gitlab-hosted',
        sourceRepositoryUri: 'https://gitlab.com/group/project',
        sourceRepositoryDigest: 'e'.repeat(40),
        sourceRepositoryRef: 'refs/heads/main',
        sourceRepositoryIdentifier: '123',
        sourceRepositoryOwnerUri: 'https://gitlab.com/group',
        sourceRepositoryOwnerIdentifier: '45',
        buildConfigUri: 'https://gitlab.com/group/project//.gitlab-ci.yml@refs/heads/main',
        buildConfigDigest: 'd'.repeat(40),
        buildTrigger: 'push',
        runInvocationUri: 'https://gitlab.com/group/project/-/jobs/6789',
        sourceRepositoryVisibilityAtSigning: 'public',
        tokenSubject: claims.sub,
      },
    });
  });

  it('takes the tags/ branch of the ref template for a tag', () => {
    const result = principal(gitlab, { ...claims, ref_type: 'tag', ref: 'v1.0.0' });
    assert.equal(result.extensions.sourceRepositoryRef, 'refs/tags/v1.0.0');
  });

  it('rejects a token lacking a claim a template reads with CA_CLAIM_MISSING naming both', () => {
    const { project_path: _dropped, ...rest } = claims;
    throwsCode(
      () => principal(gitlab, rest),
      'CA_CLAIM_MISSING',
      /^source-repository-uri: expected claim project_path/,
    );
  });

  it('rejects a token lacking a bare-name claim with CA_CLAIM_MISSING', () => {
    const { ci_config_sha: _dropped, ...rest } = claims;
    throwsCode(
      () => principal(gitlab, rest),
      'CA_CLAIM_MISSING',
      /^build-signer-digest: expected claim ci_config_sha/,
    );
  });

  it('rejects a token lacking the SAN claim with CA_CLAIM_MISSING', () => {
    const { ci_config_ref_uri: _dropped, ...rest } = claims;
    throwsCode(() => principal(gitlab, rest), 'CA_CLAIM_MISSING', /^subject-alternative-name-template: /);
  });

  it("never templates the Issuer: it is always the token's iss", () => {
    const config = resolveIssuerConfig({
      'oidc-issuers': { [ISSUER]: { type: 'ci-provider', 'ci-provider': 'custom' } },
      'ci-issuer-metadata': {
        custom: {
          'extension-templates': { issuer: 'evil', 'build-trigger': 'event' },
          'subject-alternative-name-template': 'https://ci.example/{{ .pipeline }}',
        },
      },
    });
    const result = principalFromClaims(
      { iss: ISSUER, sub: 's', event: 'tag', pipeline: 7, evil: 'https://forged' },
      findIssuer(config, ISSUER)!,
      config,
    );
    assert.deepEqual(result.extensions, { issuer: ISSUER, buildTrigger: 'tag', tokenSubject: 's' });
    assert.equal(result.subjectAlternativeName.value, 'https://ci.example/7');
  });

  it('rejects a SAN template result that is not a URI with CA_CLAIM_INVALID', () => {
    const config = resolveIssuerConfig({
      'oidc-issuers': { [ISSUER]: { type: 'ci-provider', 'ci-provider': 'custom' } },
      'ci-issuer-metadata': { custom: { 'subject-alternative-name-template': '{{ .name }}' } },
    });
    throwsCode(
      () =>
        principalFromClaims(
          { iss: ISSUER, sub: 's', name: 'no scheme here' },
          findIssuer(config, ISSUER)!,
          config,
        ),
      'CA_CLAIM_INVALID',
    );
  });
});
