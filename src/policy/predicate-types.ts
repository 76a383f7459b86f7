import { PolicyError } from './errors.ts';

/**
 * The short predicate type names cosign's `--type` flag takes and policy-controller accepts in
 * `attestations[].predicateType`, with the in-toto predicate type URI each stands for (cosign
 * `cmd/cosign/cli/options/predicate.go` `PredicateTypeMap`, the map policy-controller's
 * `AttestationToPayloadJSON` resolves with). Anything else is a URI and is compared as written.
 */
export const PREDICATE_TYPE_URIS: Readonly<Record<PredicateTypeShortName, string>> = Object.freeze({
  custom: 'https://cosign.sigstore.dev/attestation/v1',
  slsaprovenance: 'https://slsa.dev/provenance/v0.2',
  slsaprovenance02: 'https://slsa.dev/provenance/v0.2',
  slsaprovenance1: 'https://slsa.dev/provenance/v1',
  link: 'https://in-toto.io/Link/v1',
  spdx: 'https://spdx.dev/Document',
  spdxjson: 'https://spdx.dev/Document',
  cyclonedx: 'https://cyclonedx.org/bom',
  vuln: 'https://cosign.sigstore.dev/attestation/vuln/v1',
  openvex: 'https://openvex.dev/ns',
});

export type PredicateTypeShortName =
  | 'custom'
  | 'slsaprovenance'
  | 'slsaprovenance02'
  | 'slsaprovenance1'
  | 'link'
  | 'spdx'
  | 'spdxjson'
  | 'cyclonedx'
  | 'vuln'
  | 'openvex';

/**
 * The short names policy-controller's admission validation knows (`common.ValidPredicateTypes`); the
 * newer three (`slsaprovenance02`, `slsaprovenance1`, `openvex`) resolve at verification time but draw
 * the same "not a URI" warning there as any other non-URI.
 */
export const LEGACY_PREDICATE_TYPE_SHORT_NAMES: ReadonlySet<PredicateTypeShortName> = new Set([
  'custom',
  'slsaprovenance',
  'spdx',
  'spdxjson',
  'cyclonedx',
  'link',
  'vuln',
]);

/** Whether `name` is one of cosign's short predicate type names (case-sensitive, as upstream). */
export function isPredicateTypeShortName(name: string): name is PredicateTypeShortName {
  return Object.hasOwn(PREDICATE_TYPE_URIS, name);
}

/**
 * The predicate type URI an attestation MUST carry to satisfy `predicateType: NAME`: the URI of a short
 * name, otherwise `name` itself. Throws PolicyError POLICY_INVALID naming `field` for an empty name
 * (upstream: "missing predicate type").
 */
export function resolvePredicateType(name: string, field = 'predicateType'): string {
  if (typeof name !== 'string' || name.length === 0) {
    throw new PolicyError(
      'POLICY_INVALID',
      `${field}: expected a predicate type short name or URI, received none`,
    );
  }
  return isPredicateTypeShortName(name) ? PREDICATE_TYPE_URIS[name] : name;
}
