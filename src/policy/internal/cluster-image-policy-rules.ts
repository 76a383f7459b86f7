import type {
  Attestation,
  Authority,
  AuthorityVerifier,
  CertificateSource,
  HashAlgorithm,
  Identity,
  ImagePattern,
  KeySource,
  LabelSelector,
  MatchResource,
  PolicyBody,
  PolicyDefinition,
  SignatureSource,
  StringMatcher,
} from '../cluster-image-policy.types.ts';
import { MATCH_RESOURCES } from '../cluster-image-policy.types.ts';
import { KNOWN_POLICY_TYPES } from '../policy-type.ts';
import { isPredicateTypeShortName, resolvePredicateType } from '../predicate-types.ts';
import { KEYLESS_IDENTITIES_RULE_MESSAGE } from './crd-schemas.ts';
import type { FieldProblems } from './field-problems.ts';
import type { RawAttestation, RawAuthority, RawKeyRef, RawPolicy, RawSpec } from './raw-documents.ts';
import {
  compileGoRegExp,
  globProblem,
  isAbsoluteUrl,
  kmsProvider,
  ociRepositoryProblem,
  parseCertificateChainPem,
  parsePublicKeyPem,
} from './value-checks.ts';

/**
 * The webhook half of admission: upstream's `ClusterImagePolicy.SetDefaults` and `Validate` (v1beta1 at
 * policy-controller f925c0c), applied to a document that already has the CRD's structure. Every problem
 * is collected with upstream's wording; the returned value is meaningful only when none were found.
 */

export const DEFAULT_FULCIO_URL = 'https://fulcio.sigstore.dev';

const HASH_ALGORITHMS: readonly HashAlgorithm[] = ['sha224', 'sha256', 'sha384', 'sha512'];

export interface SpecRulesOptions {
  /** Upstream's `fail-on-empty-authorities` (config-policy-controller). Default true. */
  failOnEmptyAuthorities: boolean;
}

export interface CheckedSpec {
  images: ImagePattern[];
  authorities: Authority[];
  policy?: PolicyDefinition;
  mode: 'enforce' | 'warn';
  match: MatchResource[];
}

export function checkSpec(spec: RawSpec, problems: FieldProblems, options: SpecRulesOptions): CheckedSpec {
  const images = spec.images ?? [];
  if (images.length === 0) problems.missingField('images');
  images.forEach((image, index) => {
    const at = problems.at('images', index);
    if (!image.glob) at.missingField('glob');
    else {
      const problem = globProblem(image.glob);
      if (problem) at.invalidValue(image.glob, 'glob', problem);
    }
  });

  const authorities = spec.authorities ?? [];
  if (authorities.length === 0 && options.failOnEmptyAuthorities) problems.missingField('authorities');
  const checkedAuthorities = authorities.map((authority, index) =>
    checkAuthority(authority, index, problems.at('authorities', index)),
  );

  const mode = spec.mode ?? 'enforce';
  if (mode !== 'enforce' && mode !== 'warn') problems.invalidValue(mode, 'mode', 'unsupported mode');

  const match = (spec.match ?? []).map((entry, index) => {
    const at = problems.at('match', index);
    const resource = entry.resource ?? '';
    if (resource !== '' && !(MATCH_RESOURCES as readonly string[]).includes(resource)) {
      at.invalidValue(resource, 'resource', 'unsupported resource name');
    }
    if (entry.selector && resource === '' && !entry.version && !entry.group) {
      at.invalidValue(resource, 'selector', 'selector requires a resource type to match the labels');
    }
    const checked: MatchResource = { group: entry.group ?? '', version: entry.version ?? '', resource };
    return entry.selector
      ? { ...checked, selector: checkSelector(entry.selector, at.at('selector')) }
      : checked;
  });

  const policy = spec.policy ? checkPolicy(spec.policy, problems.at('policy'), true) : undefined;
  return {
    images: images.map((image) => ({ glob: image.glob ?? '' })),
    authorities: checkedAuthorities,
    ...(policy ? { policy } : {}),
    mode: mode === 'warn' ? 'warn' : 'enforce',
    match,
  };
}

function checkAuthority(authority: RawAuthority, index: number, problems: FieldProblems): Authority {
  const name = authority.name || `authority-${index}`;
  const attestations = (authority.attestations ?? []).map((attestation, i) =>
    checkAttestation(attestation, problems.at('attestations', i)),
  );
  const sources = (authority.source ?? []).map((source, i): SignatureSource => {
    const at = problems.at('source', i);
    if (source.oci) {
      const problem = ociRepositoryProblem(source.oci);
      if (problem) at.invalidValue(source.oci, 'oci', problem);
    }
    const secrets = (source.signaturePullSecrets ?? []).map((secret, j) => {
      if (!secret.name) at.at('signaturePullSecrets', j).missingField('name');
      return secret.name ?? '';
    });
    return {
      ...(source.oci ? { oci: source.oci } : {}),
      signaturePullSecrets: secrets,
      ...(source.tagPrefix ? { tagPrefix: source.tagPrefix } : {}),
    };
  });
  const signatureFormat = authority.signatureFormat ?? 'legacy';
  if (signatureFormat !== 'legacy' && signatureFormat !== 'bundle') {
    problems.invalidValue(signatureFormat, 'signatureFormat', 'expected legacy or bundle');
  }
  if (authority.ctlog?.url && !isAbsoluteUrl(authority.ctlog.url)) {
    problems.invalidValue(authority.ctlog.url, 'ctlog.url', 'expected an absolute URL');
  }
  if (authority.keyless && (authority.keyless.identities?.length ?? 0) === 0) {
    // The CRD's x-kubernetes-validations rule: the apiserver applies it whatever else the authority holds.
    const at = problems.at('keyless');
    at.raw(`${at.path('identities')}: Invalid value: "object": ${KEYLESS_IDENTITIES_RULE_MESSAGE}`);
  }
  return {
    name,
    verifier: checkVerifier(authority, problems),
    sources,
    ...(authority.ctlog ? { ctlog: omitEmpty(authority.ctlog) } : {}),
    ...(authority.rfc3161timestamp ? { rfc3161timestamp: omitEmpty(authority.rfc3161timestamp) } : {}),
    signatureFormat: signatureFormat === 'bundle' ? 'bundle' : 'legacy',
    attestations,
  };
}

/** Exactly one of key, keyless, static; static excludes everything that needs a signature. */
function checkVerifier(authority: RawAuthority, problems: FieldProblems): AuthorityVerifier {
  const { key, keyless, static: fixed } = authority;
  const present = [key, keyless, fixed].filter((field) => field != null).length;
  const placeholder: AuthorityVerifier = { kind: 'static', action: 'fail' };
  if (present === 0) {
    problems.missingOneOf('key', 'keyless', 'static');
    return placeholder;
  }
  if (present > 1) {
    problems.multipleOneOf('key', 'keyless', 'static');
    return placeholder;
  }
  if (key) {
    const at = problems.at('key');
    const hashAlgorithm = (key.hashAlgorithm || 'sha256') as HashAlgorithm;
    if (!HASH_ALGORITHMS.includes(hashAlgorithm)) at.invalidValue(hashAlgorithm, 'hashAlgorithm');
    return { kind: 'key', key: checkKeyRef(key, at, 'public-key') as KeySource, hashAlgorithm };
  }
  if (keyless) {
    const at = problems.at('keyless');
    const caCert = keyless['ca-cert'];
    if (keyless.url && caCert) at.multipleOneOf('url', 'ca-cert');
    if (keyless.url && !isAbsoluteUrl(keyless.url))
      at.invalidValue(keyless.url, 'url', 'expected an absolute URL');
    const identities = keyless.identities ?? [];
    return {
      kind: 'keyless',
      certificateAuthority: caCert
        ? {
            kind: 'ca-cert',
            source: checkKeyRef(caCert, at.at('ca-cert'), 'certificates') as CertificateSource,
          }
        : { kind: 'url', url: keyless.url || DEFAULT_FULCIO_URL },
      identities: identities.map((identity, i) => checkIdentity(identity, at.at('identities', i))),
      ...(keyless.trustRootRef ? { trustRootRef: keyless.trustRootRef } : {}),
      insecureIgnoreSCT: keyless.insecureIgnoreSCT === true,
    };
  }
  const at = problems.at('static');
  const action = fixed?.action ?? '';
  if (action === '') at.missingField('action');
  else if (action !== 'pass' && action !== 'fail') at.invalidValue(action, 'action', 'unsupported action');
  for (const field of ['attestations', 'source'] as const) {
    if ((authority[field]?.length ?? 0) > 0) problems.multipleOneOf('static', field);
  }
  for (const field of ['ctlog', 'rfc3161timestamp'] as const) {
    if (authority[field] != null) problems.multipleOneOf('static', field);
  }
  return {
    kind: 'static',
    action: action === 'pass' ? 'pass' : 'fail',
    ...(fixed?.message ? { message: fixed.message } : {}),
  };
}

/** A KeyRef: exactly one of data, kms, secretRef. `data` is a public key, or for ca-cert a certificate chain. */
function checkKeyRef(
  key: RawKeyRef,
  problems: FieldProblems,
  data: 'public-key' | 'certificates',
): KeySource | CertificateSource {
  const present = [key.data, key.kms, key.secretRef].filter((field) => field != null && field !== '').length;
  if (present === 0) problems.missingOneOf('data', 'kms', 'secretref');
  if (present > 1) problems.multipleOneOf('data', 'kms', 'secretref');
  if (key.data) {
    if (data === 'public-key') {
      const publicKey = parsePublicKeyPem(key.data);
      if (!publicKey) problems.invalidValue(key.data, 'data');
      else return { kind: 'data', pem: key.data, publicKey };
    } else {
      const certificates = parseCertificateChainPem(key.data, problems.path('data'));
      if (typeof certificates === 'string') problems.invalidValue(key.data, 'data', certificates);
      else return { kind: 'data', certificates };
    }
  }
  if (key.kms) {
    const provider = kmsProvider(key.kms);
    if (typeof provider === 'object') problems.invalidValue(key.kms, 'kms', provider.problem);
    else return { kind: 'kms', uri: key.kms, provider };
  }
  if (key.secretRef) {
    if (!key.secretRef.name) problems.at('secretRef').missingField('name');
    return {
      kind: 'secretRef',
      name: key.secretRef.name ?? '',
      ...(key.secretRef.namespace ? { namespace: key.secretRef.namespace } : {}),
    };
  }
  return { kind: 'secretRef', name: '' };
}

function checkIdentity(identity: Record<string, string | undefined>, problems: FieldProblems): Identity {
  const matcher = (exactField: string, regexpField: string): StringMatcher => {
    const exact = identity[exactField];
    const pattern = identity[regexpField];
    if (exact && pattern) problems.multipleOneOf(exactField, regexpField);
    if (!exact && !pattern) problems.missingField(exactField, regexpField);
    if (pattern) {
      const regexp = compileGoRegExp(pattern);
      if (typeof regexp === 'string') problems.invalidValue(pattern, regexpField, regexp);
      else return { kind: 'regexp', pattern, regexp };
    }
    return { kind: 'exact', value: exact ?? '' };
  };
  return { issuer: matcher('issuer', 'issuerRegExp'), subject: matcher('subject', 'subjectRegExp') };
}

function checkAttestation(attestation: RawAttestation, problems: FieldProblems): Attestation {
  if (!attestation.name) problems.missingField('name');
  const predicateType = attestation.predicateType ?? '';
  if (predicateType === '') problems.missingField('predicateType');
  else if (!isPredicateTypeShortName(predicateType) && !isAbsoluteUrl(predicateType)) {
    problems.invalidValue(predicateType, 'predicateType', 'unsupported predicate type');
  }
  const predicateTypeUri = predicateType === '' ? '' : resolvePredicateType(predicateType);
  const policy = attestation.policy
    ? checkPolicy(attestation.policy, problems.at('policy'), false)
    : undefined;
  return { name: attestation.name ?? '', predicateType, predicateTypeUri, ...(policy ? { policy } : {}) };
}

const SPEC_ONLY_FIELDS = ['fetchConfigFile', 'includeSpec', 'includeObjectMeta', 'includeTypeMeta'] as const;

function checkPolicy(policy: RawPolicy, problems: FieldProblems, atSpecLevel: boolean): PolicyDefinition {
  const type = policy.type ?? '';
  if (!KNOWN_POLICY_TYPES.includes(type)) {
    problems.invalidValue(type, 'type', 'only [cue,rego,cel] are supported');
  }
  const bodies = (['data', 'remote', 'configMapRef'] as const).filter(
    (field) => policy[field] != null && policy[field] !== '',
  );
  if (bodies.length === 0) problems.missingOneOf('data', 'remote', 'configMapRef');
  if (bodies.length > 1) problems.multipleOneOf('data', 'remote', 'configMapRef');
  let body: PolicyBody = { kind: 'data', data: policy.data ?? '' };
  if (policy.remote) {
    const { url = '', sha256sum = '' } = policy.remote;
    if (url === '') problems.at('remote').missingField('url');
    else if (!isAbsoluteUrl(url) || new URL(url).protocol !== 'https:') {
      problems.at('remote').invalidValue(url, 'url', 'expected an https URL');
    }
    if (sha256sum === '') problems.at('remote').missingField('sha256sum');
    else if (!/^[0-9a-f]{64}$/.test(sha256sum)) {
      problems.at('remote').invalidValue(sha256sum, 'sha256sum', 'expected 64 lower-case hex digits');
    }
    if (bodies.length === 1) body = { kind: 'remote', url, sha256sum };
  }
  if (policy.configMapRef) {
    const { name = '', namespace, key = '' } = policy.configMapRef;
    if (name === '') problems.at('configMapRef').missingField('name');
    if (key === '') problems.at('configMapRef').missingField('key');
    if (bodies.length === 1) body = { kind: 'configMapRef', name, key, ...(namespace ? { namespace } : {}) };
  }
  if (!atSpecLevel) {
    const disallowed = SPEC_ONLY_FIELDS.filter((field) => policy[field] != null);
    if (disallowed.length > 0) problems.disallowed(...disallowed);
  }
  return {
    type: type === 'rego' ? 'rego' : type === 'cel' ? 'cel' : 'cue',
    body,
    fetchConfigFile: policy.fetchConfigFile === true,
    includeSpec: policy.includeSpec === true,
    includeObjectMeta: policy.includeObjectMeta === true,
    includeTypeMeta: policy.includeTypeMeta === true,
  };
}

const OPERATORS = ['In', 'NotIn', 'Exists', 'DoesNotExist'] as const;

/** metav1.LabelSelector rules (`LabelSelectorAsSelector`): In/NotIn need values, Exists/DoesNotExist none. */
function checkSelector(
  selector: NonNullable<RawSpec['match']>[number]['selector'] & object,
  problems: FieldProblems,
): LabelSelector {
  const matchExpressions = (selector.matchExpressions ?? []).map((expression, index) => {
    const at = problems.at('matchExpressions', index);
    const operator = expression.operator ?? '';
    const values = expression.values ?? [];
    if (!expression.key) at.missingField('key');
    if (!(OPERATORS as readonly string[]).includes(operator))
      at.invalidValue(operator, 'operator', 'not a valid selector operator');
    else if ((operator === 'In' || operator === 'NotIn') !== values.length > 0) {
      at.invalidValue(
        values.join(','),
        'values',
        `values must be ${values.length > 0 ? 'empty' : 'non-empty'} for ${operator}`,
      );
    }
    return { key: expression.key ?? '', operator: operator as (typeof OPERATORS)[number], values };
  });
  return { matchLabels: { ...(selector.matchLabels ?? {}) }, matchExpressions };
}

function omitEmpty<T extends Record<string, string | undefined>>(value: T): T {
  return Object.fromEntries(
    Object.entries(value).filter(([, field]) => field !== undefined && field !== ''),
  ) as T;
}
