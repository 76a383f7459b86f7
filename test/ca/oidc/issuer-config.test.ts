import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { CaError } from '../../../src/ca/errors.ts';
import {
  findIssuer,
  fulcioConfiguration,
  parseIssuerConfig,
  resolveIssuerConfig,
  type IssuerConfig,
} from '../../../src/ca/oidc/index.ts';

const publicConfigText = readFileSync(
  new URL('./fixtures/fulcio-public-config.yaml.txt', import.meta.url),
  'utf8',
);

function configError(run: () => unknown, ...messages: RegExp[]): void {
  assert.throws(run, (error: unknown) => {
    assert.ok(error instanceof CaError, `expected a CaError, got ${String(error)}`);
    assert.equal(error.code, 'CA_CONFIG_INVALID');
    for (const message of messages) assert.match(error.message, message);
    return true;
  });
}

describe('the issuer configuration', () => {
  describe('read from the public-good Fulcio config (YAML with anchors)', () => {
    const config = parseIssuerConfig(publicConfigText, 'config.yaml');

    it('holds every oidc-issuer under its URL with its type and client ID', () => {
      assert.equal(config.oidcIssuers.size, 14);
      assert.deepEqual(config.oidcIssuers.get('https://oauth2.sigstore.dev/auth'), {
        issuerUrl: 'https://oauth2.sigstore.dev/auth',
        clientId: 'sigstore',
        type: 'email',
        issuerClaim: ['federated_claims', 'connector_id'],
        challengeClaim: 'email',
        skipEmailVerification: false,
      });
      assert.equal(
        config.oidcIssuers.get('https://token.actions.githubusercontent.com')?.ciProvider,
        'github-workflow',
      );
    });

    it("compiles the ci-issuer-metadata of every provider, including CircleCI's index templates", () => {
      assert.deepEqual([...config.ciIssuerMetadata.keys()].sort(), [
        'buildkite-job',
        'circleci-job',
        'codefresh-workflow',
        'github-workflow',
        'gitlab-pipeline',
      ]);
    });

    describe('matching meta-issuers', () => {
      const matches: [string, string][] = [
        ['https://oidc.eks.us-west-2.amazonaws.com/id/B02C93B6A2D30341AD01E1B6D48164CB', 'kubernetes'],
        [
          'https://container.googleapis.com/v1/projects/mattmoor-credit/locations/us-west1-b/clusters/tenant-cluster',
          'kubernetes',
        ],
        ['https://eastus.oic.prod-aks.azure.com/00000000-0000-0000-0000-000000000000', 'kubernetes'],
        ['https://token.actions.githubusercontent.com/my-enterprise', 'ci-provider'],
      ];
      for (const [url, type] of matches) {
        it(`matches ${url} as a ${type} issuer with that URL`, () => {
          const issuer = findIssuer(config, url);
          assert.equal(issuer?.type, type);
          assert.equal(issuer?.issuerUrl, url);
        });
      }

      const misses = [
        // `*` is one host label: no dots
        'https://oidc.eks.us-west-2.evil.amazonaws.com/id/B02C',
        // `*` is one path part: no slashes
        'https://oidc.eks.us-west-2.amazonaws.com/id/B02C/extra',
        // the whole URL must match
        'https://evil.example/?https://oidc.eks.us-west-2.amazonaws.com/id/B02C',
        'https://oidc.eks.us-west-2.amazonaws.com/id/',
        'https://oidc.eks.us-west-2.amazonaws.com.evil.example/id/x',
      ];
      for (const url of misses) {
        it(`does not match ${url}`, () => {
          assert.equal(findIssuer(config, url), undefined);
        });
      }

      it('prefers an exact oidc-issuer entry over a meta-issuer', () => {
        assert.equal(findIssuer(config, 'https://oidc.circleci.com')?.ciProvider, 'circleci-job');
        assert.equal(findIssuer(config, 'https://oidc.circleci.com')?.issuerUrl, 'https://oidc.circleci.com');
      });
    });

    it('describes itself as GET /api/v2/configuration does', () => {
      const response = fulcioConfiguration(config);
      assert.equal(response.issuers.length, 14 + 6);
      assert.deepEqual(response.issuers[0], {
        issuerUrl: 'https://accounts.google.com',
        audience: 'sigstore',
        challengeClaim: 'email',
        spiffeTrustDomain: '',
        issuerType: 'email',
        subjectDomain: '',
      });
      assert.deepEqual(response.issuers.at(-1), {
        wildcardIssuerUrl: 'https://token.actions.githubusercontent.com/*',
        audience: 'sigstore',
        challengeClaim: 'sub',
        spiffeTrustDomain: '',
        issuerType: 'ci-provider',
        subjectDomain: '',
      });
    });
  });

  describe("read from Fulcio's JSON form (Go field names, as sigstore/scaffolding writes it)", () => {
    const config: IssuerConfig = parseIssuerConfig(
      JSON.stringify({
        OIDCIssuers: {
          'https://kubernetes.default.svc': {
            IssuerURL: 'https://kubernetes.default.svc',
            ClientID: 'sigstore',
            Type: 'kubernetes',
          },
          'https://spire.example.com': {
            IssuerURL: 'https://spire.example.com',
            ClientID: 'sigstore',
            Type: 'spiffe',
            SPIFFETrustDomain: 'example.com',
          },
        },
        MetaIssuers: {
          'https://oidc.eks.*.amazonaws.com/id/*': { ClientID: 'sigstore', Type: 'kubernetes' },
        },
        CIIssuerMetadata: {
          custom: {
            DefaultTemplateValues: { url: 'https://ci.example' },
            ExtensionTemplates: { BuildSignerURI: '{{ .url }}/{{ .pipeline }}' },
            SubjectAlternativeNameTemplate: '{{ .url }}/{{ .pipeline }}',
          },
        },
      }),
    );

    it('has the same issuers as the YAML names would give', () => {
      assert.equal(config.oidcIssuers.get('https://spire.example.com')?.spiffeTrustDomain, 'example.com');
      assert.equal(config.oidcIssuers.get('https://kubernetes.default.svc')?.type, 'kubernetes');
      assert.equal(findIssuer(config, 'https://oidc.eks.eu-west-1.amazonaws.com/id/ABC')?.type, 'kubernetes');
      assert.equal(
        config.ciIssuerMetadata.get('custom')?.extensionTemplates[0]?.definition.field,
        'buildSignerUri',
      );
    });
  });

  it('defaults client-id to sigstore and issuer-url to the key', () => {
    const config = resolveIssuerConfig({ 'oidc-issuers': { 'https://a.example': { type: 'email' } } });
    assert.equal(config.oidcIssuers.get('https://a.example')?.clientId, 'sigstore');
    assert.equal(config.oidcIssuers.get('https://a.example')?.issuerUrl, 'https://a.example');
  });

  it('ships the GitHub and GitLab ci-issuer-metadata when the file has none', () => {
    const config = resolveIssuerConfig({});
    assert.deepEqual([...config.ciIssuerMetadata.keys()], ['github-workflow', 'gitlab-pipeline']);
  });

  describe('when the file is not valid', () => {
    it('names every bad field by its path in one CA_CONFIG_INVALID', () => {
      configError(
        () =>
          resolveIssuerConfig({
            'oidc-issuers': {
              'https://a.example': { type: 'gitlab-pipeline' },
              'https://b.example': { type: 'email', client_id: 'x' },
              'https://c.example': { 'client-id': 'x' },
            },
            extra: true,
          }),
        /oidc-issuers\["https:\/\/a\.example"\]\.type: expected one of email, github-workflow, ci-provider, kubernetes, spiffe, uri, username, received "gitlab-pipeline"/,
        /oidc-issuers\["https:\/\/b\.example"\]\.client_id: expected no such field/,
        /oidc-issuers\["https:\/\/c\.example"\]\.type: expected a value, received nothing/,
        /extra: expected no such field/,
      );
    });

    it('rejects text that is neither YAML nor JSON', () => {
      configError(
        () => parseIssuerConfig('oidc-issuers: [unclosed', 'fulcio.yaml'),
        /^fulcio\.yaml: expected YAML or JSON/,
      );
    });

    it('rejects an issuer-url different from its key', () => {
      configError(
        () =>
          resolveIssuerConfig({
            'oidc-issuers': { 'https://a.example': { 'issuer-url': 'https://b.example', type: 'email' } },
          }),
        /issuer-url: expected the entry's key "https:\/\/a\.example", received "https:\/\/b\.example"/,
      );
    });

    it('rejects an issuer URL that is not http(s)', () => {
      configError(
        () => resolveIssuerConfig({ 'oidc-issuers': { 'ftp://a.example': { type: 'email' } } }),
        /expected an http or https issuer URL/,
      );
    });

    it('rejects issuer-claim on a non-email issuer, and a malformed claim path', () => {
      configError(
        () =>
          resolveIssuerConfig({
            'oidc-issuers': {
              'https://a.example': { type: 'kubernetes', 'issuer-claim': '$.x' },
              'https://b.example': { type: 'email', 'issuer-claim': 'federated_claims.connector_id' },
            },
          }),
        /a\.example"\]\.issuer-claim: expected only on email issuers, received type kubernetes/,
        /b\.example"\]\.issuer-claim: expected a claim path like/,
      );
    });

    it('rejects a spiffe issuer without a valid trust domain, and a spiffe meta-issuer', () => {
      configError(
        () =>
          resolveIssuerConfig({
            'oidc-issuers': {
              'https://a.example': { type: 'spiffe' },
              'https://b.example': { type: 'spiffe', 'spiffe-trust-domain': 'Upper.Case' },
            },
            'meta-issuers': { 'https://*.example': { type: 'spiffe', 'spiffe-trust-domain': 'example.com' } },
          }),
        /a\.example"\]\.spiffe-trust-domain: expected a trust domain for type spiffe, received nothing/,
        /b\.example"\]\.spiffe-trust-domain: expected a SPIFFE trust domain/,
        /meta-issuers\["https:\/\/\*\.example"\]\.type: expected a type other than spiffe/,
      );
    });

    it('rejects uri and username subject domains the issuer does not own', () => {
      configError(
        () =>
          resolveIssuerConfig({
            'oidc-issuers': {
              'https://accounts.a.example': { type: 'uri', 'subject-domain': 'https://evil.example' },
              'https://accounts.b.example': { type: 'uri', 'subject-domain': 'b.example' },
              'https://accounts.c.example': { type: 'uri', 'subject-domain': 'http://c.example' },
              'https://accounts.d.example': { type: 'username', 'subject-domain': 'https://d.example' },
              'https://accounts.e.example': { type: 'username', 'subject-domain': 'evil.example' },
              'https://accounts.f.example': { type: 'username' },
            },
          }),
        /accounts\.a\.example"\]\.subject-domain: expected the issuer's registered domain a\.example, received evil\.example/,
        /accounts\.b\.example"\]\.subject-domain: expected a URL with a scheme/,
        /accounts\.c\.example"\]\.subject-domain: expected the issuer's scheme https, received http/,
        /accounts\.d\.example"\]\.subject-domain: expected a domain without a scheme/,
        /accounts\.e\.example"\]\.subject-domain: expected the issuer's registered domain e\.example/,
        /accounts\.f\.example"\]\.subject-domain: expected a domain for type username/,
      );
    });

    it("accepts subject domains under the issuer's registered domain", () => {
      const config = resolveIssuerConfig({
        'oidc-issuers': {
          'https://accounts.example.com': { type: 'uri', 'subject-domain': 'https://users.example.com' },
          'https://login.example.com': { type: 'username', 'subject-domain': 'example.com' },
        },
      });
      assert.equal(config.oidcIssuers.size, 2);
    });

    it('rejects a ci-provider issuer naming no known metadata', () => {
      configError(
        () =>
          resolveIssuerConfig({
            'oidc-issuers': { 'https://a.example': { type: 'ci-provider', 'ci-provider': 'jenkins' } },
          }),
        /ci-provider: expected one of github-workflow, gitlab-pipeline, received "jenkins"/,
      );
      configError(
        () => resolveIssuerConfig({ 'oidc-issuers': { 'https://a.example': { type: 'ci-provider' } } }),
        /ci-provider: expected a ci-issuer-metadata name for type ci-provider, received nothing/,
      );
    });

    it('rejects templates Sigil cannot evaluate exactly, naming the template', () => {
      configError(
        () =>
          resolveIssuerConfig({
            'ci-issuer-metadata': {
              custom: {
                'extension-templates': {
                  'build-signer-uri': '{{ .url | printf "%s" }}',
                  'build-trigger': '{{ range .x }}',
                },
                'subject-alternative-name-template': '{{ .url',
              },
            },
          }),
        /ci-issuer-metadata\.custom\.extension-templates\.build-signer-uri: expected a template Sigil can evaluate/,
        /extension-templates\.build-trigger: expected a template Sigil can evaluate/,
        /subject-alternative-name-template: expected a template Sigil can evaluate, unclosed action/,
      );
    });

    it('rejects an unknown extension-templates key and a missing SAN template', () => {
      configError(
        () =>
          resolveIssuerConfig({
            'ci-issuer-metadata': { custom: { 'extension-templates': { 'build-signer-url': 'x' } } },
          }),
        /ci-issuer-metadata\.custom\.extension-templates\.build-signer-url: expected no such field/,
        /ci-issuer-metadata\.custom\.subject-alternative-name-template: expected a value, received nothing/,
      );
    });
  });

  it('reports skip-email-verification and a custom challenge claim in the configuration response', () => {
    const config = resolveIssuerConfig({
      'oidc-issuers': {
        'https://a.example': { type: 'email', 'skip-email-verification': true },
        'https://spire.example': {
          type: 'spiffe',
          'spiffe-trust-domain': 'example.org',
          'challenge-claim': 'sub',
        },
      },
    });
    assert.deepEqual(fulcioConfiguration(config).issuers, [
      {
        issuerUrl: 'https://a.example',
        audience: 'sigstore',
        challengeClaim: 'email',
        spiffeTrustDomain: '',
        issuerType: 'email',
        subjectDomain: '',
        skipEmailVerification: true,
      },
      {
        issuerUrl: 'https://spire.example',
        audience: 'sigstore',
        challengeClaim: 'sub',
        spiffeTrustDomain: 'example.org',
        issuerType: 'spiffe',
        subjectDomain: '',
      },
    ]);
  });
});
