import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { id_ce_subjectAltName } from '@peculiar/asn1-x509';
import {
  DerTag,
  encodeElement,
  encodeOid,
  parseCertificate,
  type ParsedCertificate,
} from '../../src/core/index.ts';
import { FULCIO_EXTENSION_FIELDS, type FulcioExtensions } from '../../src/verify/fulcio-extensions.ts';
import {
  certificateIdentity,
  matchIdentity,
  type CertificateIdentity,
  type IdentityPolicy,
} from '../../src/verify/identity.ts';
import { buildTestChain, extension, issueCertificate } from '../ctlog/chain-fixtures.ts';
import { vectorPath } from '../tools/vectors.ts';
import { FULCIO_LEAVES, fulcioLeaf, throwsCode } from './certificate-chain-fixtures.ts';

/** OID → FulcioExtensions field; the names themselves are checked by the sigstore-go summary below. */
const FIELD_BY_OID: Readonly<Record<string, keyof FulcioExtensions>> = Object.fromEntries(
  FULCIO_EXTENSION_FIELDS.map(([arc, field]) => [`1.3.6.1.4.1.57264.1.${arc}`, field]),
);

interface DecodedLeaf {
  san: { type: 'UniformResourceIdentifier' | 'RFC822Name'; value: string }[];
  fulcio_extensions: { oid: string; value: string }[];
}

const decoded = JSON.parse(
  readFileSync(vectorPath('fulcio-certs/decoded-extensions.json'), 'utf8'),
) as Record<string, DecodedLeaf>;

const utf8 = (text: string): Uint8Array => new TextEncoder().encode(text);
const sanOf = (...names: Uint8Array[]) =>
  extension(id_ce_subjectAltName, true, encodeElement(DerTag.sequence, names));
const uriName = (uri: string) => encodeElement(0x86, [utf8(uri)]);
const emailName = (email: string) => encodeElement(0x81, [utf8(email)]);
const otherName = (type: string, value: Uint8Array) =>
  encodeElement(0xa0, [encodeOid(type), encodeElement(0xa0, [value])]);
const utf8String = (text: string) => encodeElement(0x0c, [utf8(text)]);

const { intermediate } = buildTestChain('identity root');

function leafWith(...extensions: ReturnType<typeof extension>[]): ParsedCertificate {
  return parseCertificate(
    issueCertificate({ subject: 'identity leaf', keyType: 'p256', issuer: intermediate, extensions }).der,
    'leaf',
  );
}

describe('certificateIdentity of public-good Fulcio certificates', () => {
  for (const name of FULCIO_LEAVES) {
    it(`reads the SAN and every Fulcio extension of ${name} as decoded-extensions.json states them`, () => {
      const expected = decoded[name]!;
      const extensions: FulcioExtensions = {};
      for (const { oid, value } of expected.fulcio_extensions) extensions[FIELD_BY_OID[oid]!] = value;
      const [san] = expected.san;
      assert.deepEqual(certificateIdentity(fulcioLeaf(name)), {
        subjectAlternativeName: san!.value,
        sanType: san!.type === 'RFC822Name' ? 'email' : 'uri',
        extensions,
      });
    });
  }

  it('summarizes the sigstore-js release certificate exactly as sigstore-go’s summarize_test expects', () => {
    assert.deepEqual(certificateIdentity(fulcioLeaf('github-actions-sigstore-js-release-leaf')), {
      subjectAlternativeName:
        'https://github.com/sigstore/sigstore-js/.github/workflows/release.yml@refs/heads/main',
      sanType: 'uri',
      extensions: {
        issuer: 'https://token.actions.githubusercontent.com',
        githubWorkflowTrigger: 'push',
        githubWorkflowSha: 'f0b49a04e5a62250e0f60fb128004a73110fe311',
        githubWorkflowName: 'Release',
        githubWorkflowRepository: 'sigstore/sigstore-js',
        githubWorkflowRef: 'refs/heads/main',
        buildSignerUri:
          'https://github.com/sigstore/sigstore-js/.github/workflows/release.yml@refs/heads/main',
        buildSignerDigest: 'f0b49a04e5a62250e0f60fb128004a73110fe311',
        runnerEnvironment: 'github-hosted',
        sourceRepositoryUri: 'https://github.com/sigstore/sigstore-js',
        sourceRepositoryDigest: 'f0b49a04e5a62250e0f60fb128004a73110fe311',
        sourceRepositoryRef: 'refs/heads/main',
        sourceRepositoryIdentifier: '495574555',
        sourceRepositoryOwnerUri: 'https://github.com/sigstore',
        sourceRepositoryOwnerIdentifier: '71096353',
        buildConfigUri:
          'https://github.com/sigstore/sigstore-js/.github/workflows/release.yml@refs/heads/main',
        buildConfigDigest: 'f0b49a04e5a62250e0f60fb128004a73110fe311',
        buildTrigger: 'push',
        runInvocationUri: 'https://github.com/sigstore/sigstore-js/actions/runs/5904696764/attempts/1',
        sourceRepositoryVisibilityAtSigning: 'public',
      },
    });
  });
});

describe('certificateIdentity of generated certificates', () => {
  it('reads a username otherName SAN (1.3.6.1.4.1.57264.1.7) as sanType other', () => {
    const leaf = leafWith(sanOf(otherName('1.3.6.1.4.1.57264.1.7', utf8String('alice!example.com'))));
    assert.equal(certificateIdentity(leaf).subjectAlternativeName, 'alice!example.com');
    assert.equal(certificateIdentity(leaf).sanType, 'other');
  });

  it('takes the issuer from .8 over the deprecated .1, and from .1 when .8 is absent', () => {
    const both = leafWith(
      sanOf(emailName('a@example.com')),
      extension('1.3.6.1.4.1.57264.1.1', false, utf8('https://old.example')),
      extension('1.3.6.1.4.1.57264.1.8', false, utf8String('https://new.example')),
    );
    assert.equal(certificateIdentity(both).extensions.issuer, 'https://new.example');
    const legacy = leafWith(
      sanOf(emailName('a@example.com')),
      extension('1.3.6.1.4.1.57264.1.1', false, utf8('https://old.example')),
    );
    assert.deepEqual(certificateIdentity(legacy).extensions, { issuer: 'https://old.example' });
  });

  it('reads .23 deployment environment and .24 token subject', () => {
    const leaf = leafWith(
      sanOf(uriName('https://example.com/wf')),
      extension('1.3.6.1.4.1.57264.1.23', false, utf8String('production')),
      extension('1.3.6.1.4.1.57264.1.24', false, utf8String('repo:o/r:ref:refs/heads/main')),
    );
    assert.deepEqual(certificateIdentity(leaf).extensions, {
      deploymentEnvironment: 'production',
      tokenSubject: 'repo:o/r:ref:refs/heads/main',
    });
  });

  const refused: [string, () => ParsedCertificate][] = [
    ['no SAN', () => leafWith()],
    [
      'two names in the SAN',
      () => leafWith(sanOf(emailName('a@example.com'), uriName('https://example.com'))),
    ],
    ['a dNSName SAN', () => leafWith(sanOf(encodeElement(0x82, [utf8('example.com')])))],
    ['an otherName of another type', () => leafWith(sanOf(otherName('1.2.3.4', utf8String('x'))))],
    ['a non-ASCII URI', () => leafWith(sanOf(uriName('https://exämple.com')))],
    [
      'a .8 issuer that is not a DER UTF8String',
      () =>
        leafWith(
          sanOf(emailName('a@example.com')),
          extension('1.3.6.1.4.1.57264.1.8', false, utf8('https://raw')),
        ),
    ],
    [
      'a .1 issuer that is not UTF-8',
      () =>
        leafWith(
          sanOf(emailName('a@example.com')),
          extension('1.3.6.1.4.1.57264.1.1', false, Uint8Array.of(0xff)),
        ),
    ],
  ];
  for (const [name, leaf] of refused) {
    it(`refuses ${name} with VERIFY_IDENTITY_MISMATCH`, () => {
      const certificate = leaf();
      throwsCode(() => certificateIdentity(certificate), 'VERIFY_IDENTITY_MISMATCH');
    });
  }
});

describe('matchIdentity', () => {
  const identity: CertificateIdentity = certificateIdentity(
    fulcioLeaf('github-actions-sigstore-js-release-leaf'),
  );
  const ISSUER = 'https://token.actions.githubusercontent.com';
  const SAN = 'https://github.com/sigstore/sigstore-js/.github/workflows/release.yml@refs/heads/main';

  it('returns the policy whose exact subject and issuer match', () => {
    const policy: IdentityPolicy = { subject: { exact: SAN }, issuer: { exact: ISSUER } };
    assert.equal(matchIdentity(identity, [policy]), policy);
  });

  it('returns the first matching policy of several', () => {
    const wrong: IdentityPolicy = { subject: { exact: 'https://elsewhere' }, issuer: { exact: ISSUER } };
    const first: IdentityPolicy = {
      subject: { regexp: 'https://github\\.com/sigstore/.*' },
      issuer: { exact: ISSUER },
    };
    const second: IdentityPolicy = { subject: { exact: SAN }, issuer: { exact: ISSUER } };
    assert.equal(matchIdentity(identity, [wrong, first, second]), first);
  });

  it('anchors regular expressions: a prefix pattern does not match the longer SAN', () => {
    throwsCode(
      () =>
        matchIdentity(identity, [
          { subject: { regexp: 'https://github\\.com/sigstore' }, issuer: { exact: ISSUER } },
        ]),
      'VERIFY_IDENTITY_MISMATCH',
    );
    throwsCode(
      () =>
        matchIdentity(identity, [
          { subject: { regexp: 'nothing|https://github.com/sigstore' }, issuer: { exact: ISSUER } },
        ]),
      'VERIFY_IDENTITY_MISMATCH',
    );
    const anchored: IdentityPolicy = {
      subject: { regexp: '^https://github\\.com/sigstore/.+$' },
      issuer: { regexp: '^https://token\\..*$' },
    };
    assert.equal(matchIdentity(identity, [anchored]), anchored);
  });

  it('requires every extension the policy names to be present and match', () => {
    const policy: IdentityPolicy = {
      subject: { exact: SAN },
      issuer: { exact: ISSUER },
      extensions: {
        sourceRepositoryRef: { exact: 'refs/heads/main' },
        runnerEnvironment: { regexp: 'github-.*' },
      },
    };
    assert.equal(matchIdentity(identity, [policy]), policy);
    throwsCode(
      () =>
        matchIdentity(identity, [
          {
            subject: { exact: SAN },
            issuer: { exact: ISSUER },
            extensions: { deploymentEnvironment: { regexp: '.*' } },
          },
        ]),
      'VERIFY_IDENTITY_MISMATCH',
      'deploymentEnvironment (absent)',
    );
  });

  it('says what was expected and what the certificate holds when nothing matches', () => {
    throwsCode(
      () =>
        matchIdentity(identity, [
          { subject: { exact: 'someone@example.com' }, issuer: { exact: 'https://accounts.google.com' } },
        ]),
      'VERIFY_IDENTITY_MISMATCH',
      `expected subject "someone@example.com" and issuer "https://accounts.google.com", received subject "${SAN}" (uri), issuer "${ISSUER}"`,
    );
  });

  it('refuses an empty policy list and an invalid regular expression with VERIFY_OPTIONS_INVALID', () => {
    throwsCode(() => matchIdentity(identity, []), 'VERIFY_OPTIONS_INVALID');
    throwsCode(
      () => matchIdentity(identity, [{ subject: { regexp: '(' }, issuer: { exact: ISSUER } }]),
      'VERIFY_OPTIONS_INVALID',
    );
    throwsCode(
      () => matchIdentity(identity, [{ subject: {} as never, issuer: { exact: ISSUER } }]),
      'VERIFY_OPTIONS_INVALID',
    );
  });
});
