// The principal mapping against real public-good Fulcio certificates (shared/vectors/fulcio-certs, see
// its README for provenance): the token claims are reconstructed from the certificates' own extension
// values, and the principal must reproduce every Fulcio extension and the SAN exactly, byte for byte.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import {
  fulcioExtensionList,
  principalFromClaims,
  resolveIssuerConfig,
  findIssuer,
  type FulcioExtensionValue,
  type IssuerConfig,
} from '../../../src/ca/oidc/index.ts';
import { vectorPath } from '../../tools/vectors.ts';
import { githubClaimsFromExtensions } from './github-claims.ts';

interface DecodedLeaf {
  san: { type: string; value: string }[];
  fulcio_extensions: { oid: string; raw_value_hex: string; encoding: string; value: string }[];
}

const decoded = JSON.parse(
  readFileSync(vectorPath('fulcio-certs/decoded-extensions.json'), 'utf8'),
) as Record<string, DecodedLeaf>;

const GITHUB_ISSUER = 'https://token.actions.githubusercontent.com';
const ARC = '1.3.6.1.4.1.57264.1';

/** The public-good configuration's entries for these issuers (sigstore/fulcio config/identity/config.yaml). */
const publicGood: IssuerConfig = resolveIssuerConfig({
  'oidc-issuers': {
    [GITHUB_ISSUER]: {
      'issuer-url': GITHUB_ISSUER,
      'client-id': 'sigstore',
      type: 'ci-provider',
      'ci-provider': 'github-workflow',
    },
    'https://oauth2.sigstore.dev/auth': {
      'issuer-url': 'https://oauth2.sigstore.dev/auth',
      'client-id': 'sigstore',
      type: 'email',
      'issuer-claim': '$.federated_claims.connector_id',
    },
  },
});
const legacyGithub: IssuerConfig = resolveIssuerConfig({
  'oidc-issuers': { [GITHUB_ISSUER]: { type: 'github-workflow' } },
});

/** The GitHub Actions ID token claims that the certificate's extensions were made from. */
function githubClaims(leaf: DecodedLeaf): Record<string, unknown> {
  const value = (arc: number) =>
    leaf.fulcio_extensions.find((extension) => extension.oid === `${ARC}.${arc}`)!.value;
  return { ...githubClaimsFromExtensions(value, GITHUB_ISSUER), exp: 1692375335, iat: 1692374735 };
}

/** What the certificate holds, as `fulcioExtensionList` states it. */
function certificateExtensions(leaf: DecodedLeaf): FulcioExtensionValue[] {
  return leaf.fulcio_extensions.map((extension) => ({
    oid: extension.oid,
    value: extension.value,
    encoding: extension.encoding === 'DER UTF8String' ? 'utf8-string' : 'raw',
  }));
}

/** The extnValue bytes, as Fulcio writes them: raw UTF-8 for .1–.6, a DER UTF8String from .8 on. */
function extnValueHex(extension: FulcioExtensionValue): string {
  const bytes = Buffer.from(extension.value, 'utf8');
  if (extension.encoding === 'raw') return bytes.toString('hex');
  const length = bytes.length < 0x80 ? [bytes.length] : [0x81, bytes.length];
  return Buffer.concat([Buffer.from([0x0c, ...length]), bytes]).toString('hex');
}

/** Token Subject (.24) is newer than these certificates (fulcio PR #2307, 2026-03). */
function withoutTokenSubject(list: FulcioExtensionValue[]): FulcioExtensionValue[] {
  return list.filter((extension) => extension.oid !== `${ARC}.24`);
}

for (const name of ['github-actions-sigstore-js-release-leaf', 'github-actions-conformance-beacon-leaf']) {
  const leaf = decoded[name]!;
  describe(`the GitHub Actions certificate ${name}`, () => {
    const claims = githubClaims(leaf);

    for (const [label, config] of [
      ['the public-good ci-provider metadata', publicGood],
      ['the legacy github-workflow type', legacyGithub],
    ] as const) {
      describe(`mapped through ${label}`, () => {
        const principal = principalFromClaims(claims, findIssuer(config, GITHUB_ISSUER)!, config);

        it("has the certificate's SAN URI", () => {
          assert.deepEqual(principal.subjectAlternativeName, { kind: 'uri', value: leaf.san[0]!.value });
        });

        it("has exactly the certificate's Fulcio extensions, in OID order", () => {
          assert.deepEqual(
            withoutTokenSubject(fulcioExtensionList(principal.extensions)),
            certificateExtensions(leaf),
          );
        });

        it("encodes to the certificate's extension bytes", () => {
          const hex = withoutTokenSubject(fulcioExtensionList(principal.extensions)).map(extnValueHex);
          assert.deepEqual(
            hex,
            leaf.fulcio_extensions.map((extension) => extension.raw_value_hex),
          );
        });

        it('signs the proof of possession over sub and records it as Token Subject', () => {
          assert.equal(principal.name, claims['sub']);
          assert.equal(principal.extensions.tokenSubject, claims['sub']);
        });
      });
    }

    it('adds Deployment Environment (.23) when the job has an environment', () => {
      const principal = principalFromClaims(
        { ...claims, environment: 'production' },
        findIssuer(publicGood, GITHUB_ISSUER)!,
        publicGood,
      );
      assert.equal(principal.extensions.deploymentEnvironment, 'production');
    });
  });
}

describe('the email certificate email-github-oauth-connaisseur-leaf', () => {
  const leaf = decoded['email-github-oauth-connaisseur-leaf']!;
  // A Dex token of the public-good instance for a GitHub login (the federated connector's issuer).
  const claims = {
    iss: 'https://oauth2.sigstore.dev/auth',
    aud: 'sigstore',
    sub: 'CgY4OTcxNjUSJmh0dHBzOiUyRiUyRmdpdGh1Yi5jb20lMkZsb2dpbiUyRm9hdXRo',
    email: 'philipp.belitz@securesystems.de',
    email_verified: true,
    federated_claims: { connector_id: 'https://github.com/login/oauth', user_id: '897165' },
  };
  const principal = principalFromClaims(claims, findIssuer(publicGood, claims.iss)!, publicGood);

  it("has the certificate's rfc822 SAN and signs over the email address", () => {
    assert.deepEqual(principal.subjectAlternativeName, { kind: 'email', value: leaf.san[0]!.value });
    assert.equal(principal.name, 'philipp.belitz@securesystems.de');
  });

  it('has the federated issuer from issuer-claim as .1 and .8, exactly as the certificate', () => {
    const list = withoutTokenSubject(fulcioExtensionList(principal.extensions));
    assert.deepEqual(list, certificateExtensions(leaf));
    assert.deepEqual(
      list.map(extnValueHex),
      leaf.fulcio_extensions.map((extension) => extension.raw_value_hex),
    );
  });
});
