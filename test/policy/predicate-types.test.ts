import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { PolicyError } from '../../src/policy/errors.ts';
import {
  LEGACY_PREDICATE_TYPE_SHORT_NAMES,
  PREDICATE_TYPE_URIS,
  isPredicateTypeShortName,
  resolvePredicateType,
} from '../../src/policy/predicate-types.ts';

describe('resolvePredicateType', () => {
  // cosign options.PredicateTypeMap, as policy-controller's AttestationToPayloadJSON uses it.
  const expected: [string, string][] = [
    ['custom', 'https://cosign.sigstore.dev/attestation/v1'],
    ['slsaprovenance', 'https://slsa.dev/provenance/v0.2'],
    ['slsaprovenance02', 'https://slsa.dev/provenance/v0.2'],
    ['slsaprovenance1', 'https://slsa.dev/provenance/v1'],
    ['link', 'https://in-toto.io/Link/v1'],
    ['spdx', 'https://spdx.dev/Document'],
    ['spdxjson', 'https://spdx.dev/Document'],
    ['cyclonedx', 'https://cyclonedx.org/bom'],
    ['vuln', 'https://cosign.sigstore.dev/attestation/vuln/v1'],
    ['openvex', 'https://openvex.dev/ns'],
  ];
  for (const [name, uri] of expected) {
    it(`resolves the short name ${name} to ${uri}`, () => assert.equal(resolvePredicateType(name), uri));
  }

  it('knows exactly the ten short names cosign has', () => {
    assert.deepEqual(Object.keys(PREDICATE_TYPE_URIS).sort(), expected.map(([name]) => name).sort());
  });

  it('returns a URI as written', () => {
    assert.equal(resolvePredicateType('https://slsa.dev/provenance/v1'), 'https://slsa.dev/provenance/v1');
    assert.equal(resolvePredicateType('https://example.com/custom/v3'), 'https://example.com/custom/v3');
  });

  it('treats short names case-sensitively, as upstream', () => {
    assert.equal(resolvePredicateType('SPDX'), 'SPDX');
    assert.equal(isPredicateTypeShortName('SPDX'), false);
  });

  it('does not resolve names inherited from Object.prototype', () => {
    assert.equal(resolvePredicateType('constructor'), 'constructor');
    assert.equal(isPredicateTypeShortName('__proto__'), false);
  });

  it('rejects an empty predicate type with POLICY_INVALID naming the field', () => {
    assert.throws(
      () => resolvePredicateType('', 'spec.authorities[0].attestations[1].predicateType'),
      (error: unknown) =>
        error instanceof PolicyError &&
        error.code === 'POLICY_INVALID' &&
        error.message.startsWith('spec.authorities[0].attestations[1].predicateType: '),
    );
  });
});

describe('LEGACY_PREDICATE_TYPE_SHORT_NAMES', () => {
  it("holds policy-controller's ValidPredicateTypes", () => {
    assert.deepEqual([...LEGACY_PREDICATE_TYPE_SHORT_NAMES].sort(), [
      'custom',
      'cyclonedx',
      'link',
      'slsaprovenance',
      'spdx',
      'spdxjson',
      'vuln',
    ]);
  });
});
