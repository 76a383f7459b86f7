import { parseAllDocuments } from 'yaml';
import type { ClusterImagePolicy, PolicyApiVersion, PolicyMetadata } from './cluster-image-policy.types.ts';
import { POLICY_API_VERSIONS } from './cluster-image-policy.types.ts';
import { PolicyError } from './errors.ts';
import { checkSpec } from './internal/cluster-image-policy-rules.ts';
import { CLUSTER_IMAGE_POLICY_SCHEMA, TRUST_ROOT_SCHEMA } from './internal/crd-schemas.ts';
import { describeProblems, FieldProblems } from './internal/field-problems.ts';
import type { RawMetadata, RawSpec, RawTrustRootSpec } from './internal/raw-documents.ts';
import { compileStructuralCheck } from './internal/structural-check.ts';
import { checkTrustRootSpec } from './internal/trust-root-rules.ts';
import type { TrustRoot } from './trust-root.types.ts';

/**
 * Loads `policy.sigstore.dev` ClusterImagePolicies and TrustRoots (v1alpha1 and v1beta1) the way a
 * cluster admits them: first the CRD's structure (crds/*.yaml, via ajv), then upstream
 * policy-controller's defaults and webhook validation, every problem collected into one PolicyError
 * whose message uses upstream's wording (`missing field(s): spec.authorities`).
 */

export interface ParsePolicyOptions {
  /**
   * Upstream's `fail-on-empty-authorities` setting: reject a ClusterImagePolicy without authorities.
   * Default true (upstream's default).
   */
  failOnEmptyAuthorities?: boolean;
  /** Where the document came from, for messages (`policies/prod.yaml`). Default none. */
  source?: string;
}

export type PolicyDocument = ClusterImagePolicy | TrustRoot;

/** Limits for {@link parsePolicyDocuments}. */
export interface ParsePolicyDocumentsOptions extends Omit<ParsePolicyOptions, 'source'> {
  /** Largest accepted file, in UTF-16 code units. Default 4 MiB. */
  maxLength?: number;
  /** Most documents in one file. Default 256. */
  maxDocuments?: number;
}

const checkPolicyStructure = compileStructuralCheck(CLUSTER_IMAGE_POLICY_SCHEMA);
const checkTrustRootStructure = compileStructuralCheck(TRUST_ROOT_SCHEMA);

/**
 * A ClusterImagePolicy from a decoded document (JSON or YAML already parsed). MUST throw PolicyError
 * POLICY_KIND_UNSUPPORTED for another apiVersion/kind and POLICY_INVALID, listing every problem, for
 * anything a cluster running upstream policy-controller would reject.
 */
export function parseClusterImagePolicy(
  document: unknown,
  options: ParsePolicyOptions = {},
): ClusterImagePolicy {
  const { apiVersion, object } = expectKind(document, 'ClusterImagePolicy', options.source);
  const problems = new FieldProblems();
  if (!checkPolicyStructure(object, problems))
    throw invalid(problems, 'ClusterImagePolicy', object, options.source);
  const metadata = readMetadata(object['metadata'], problems.at('metadata'));
  const spec = checkSpec(object['spec'] as RawSpec, problems.at('spec'), {
    failOnEmptyAuthorities: options.failOnEmptyAuthorities ?? true,
  });
  if (problems.count > 0) throw invalid(problems, 'ClusterImagePolicy', object, options.source);
  return { apiVersion, kind: 'ClusterImagePolicy', metadata, ...spec };
}

/** A TrustRoot from a decoded document; same contract as {@link parseClusterImagePolicy}. */
export function parseTrustRoot(document: unknown, options: ParsePolicyOptions = {}): TrustRoot {
  const { apiVersion, object } = expectKind(document, 'TrustRoot', options.source);
  const problems = new FieldProblems();
  if (!checkTrustRootStructure(object, problems))
    throw invalid(problems, 'TrustRoot', object, options.source);
  const metadata = readMetadata(object['metadata'], problems.at('metadata'));
  const source = checkTrustRootSpec(object['spec'] as RawTrustRootSpec, problems.at('spec'));
  if (problems.count > 0) throw invalid(problems, 'TrustRoot', object, options.source);
  return { apiVersion, kind: 'TrustRoot', metadata, source };
}

/** Either kind, chosen by the document's `kind`. */
export function parsePolicyDocument(document: unknown, options: ParsePolicyOptions = {}): PolicyDocument {
  const kind = isObject(document) ? document['kind'] : undefined;
  return kind === 'TrustRoot'
    ? parseTrustRoot(document, options)
    : parseClusterImagePolicy(document, options);
}

/**
 * Every document of a multi-document YAML file, in order; empty documents are skipped. MUST throw
 * POLICY_DOCUMENT_INVALID for YAML errors, oversized input and documents that are not objects, and the
 * errors of {@link parsePolicyDocument} for the first bad document, its index named in the message.
 */
export function parsePolicyDocuments(
  yamlText: string,
  source: string,
  options: ParsePolicyDocumentsOptions = {},
): PolicyDocument[] {
  const maxLength = options.maxLength ?? 4 * 1024 * 1024;
  const maxDocuments = options.maxDocuments ?? 256;
  if (yamlText.length > maxLength) {
    throw new PolicyError(
      'POLICY_DOCUMENT_INVALID',
      `${source}: expected at most ${maxLength} characters, received ${yamlText.length}`,
    );
  }
  const documents = parseAllDocuments(yamlText, { uniqueKeys: true });
  if (!Array.isArray(documents)) {
    throw new PolicyError(
      'POLICY_DOCUMENT_INVALID',
      `${source}: expected YAML documents, received an empty stream`,
    );
  }
  if (documents.length > maxDocuments) {
    throw new PolicyError(
      'POLICY_DOCUMENT_INVALID',
      `${source}: expected at most ${maxDocuments} documents, received ${documents.length}`,
    );
  }
  const parsed: PolicyDocument[] = [];
  documents.forEach((document, index) => {
    const where = documents.length > 1 ? `${source} (document ${index + 1})` : source;
    const error = document.errors[0];
    if (error)
      throw new PolicyError('POLICY_DOCUMENT_INVALID', `${where}: invalid YAML: ${error.message}`, {
        cause: error,
      });
    let value: unknown;
    try {
      value = document.toJS({ maxAliasCount: 100 });
    } catch (cause) {
      throw new PolicyError('POLICY_DOCUMENT_INVALID', `${where}: invalid YAML: ${String(cause)}`, { cause });
    }
    if (value === null || value === undefined) return;
    parsed.push(parsePolicyDocument(value, { ...options, source: where }));
  });
  return parsed;
}

function expectKind(
  document: unknown,
  kind: 'ClusterImagePolicy' | 'TrustRoot',
  source: string | undefined,
): { apiVersion: PolicyApiVersion; object: Record<string, unknown> } {
  const where = source ? `${source}: ` : '';
  if (!isObject(document)) {
    throw new PolicyError(
      'POLICY_DOCUMENT_INVALID',
      `${where}expected a ${kind} object, received ${describeType(document)}`,
    );
  }
  const apiVersion = document['apiVersion'];
  if (document['kind'] !== kind || !(POLICY_API_VERSIONS as readonly unknown[]).includes(apiVersion)) {
    throw new PolicyError(
      'POLICY_KIND_UNSUPPORTED',
      `${where}expected ${POLICY_API_VERSIONS.join(' or ')} ${kind}, received ${preview(apiVersion)} ${preview(document['kind'])}`,
    );
  }
  return {
    apiVersion: apiVersion as PolicyApiVersion,
    object: dropNulls(document) as Record<string, unknown>,
  };
}

const NAME = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;

function readMetadata(value: unknown, problems: FieldProblems): PolicyMetadata {
  const metadata = (isObject(value) ? value : {}) as RawMetadata;
  const name = metadata.name;
  if (typeof name !== 'string' || name === '') problems.missingField('name');
  else if (name.length > 253 || !NAME.test(name)) {
    problems.invalidValue(
      name,
      'name',
      'a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, - or .',
    );
  }
  const labels: Record<string, string> = {};
  if (isObject(metadata.labels)) {
    for (const [key, label] of Object.entries(metadata.labels)) {
      if (typeof label === 'string') labels[key] = label;
      else problems.at('labels').invalidValue(describeType(label), key, 'label values must be strings');
    }
  }
  return {
    name: typeof name === 'string' ? name : '',
    ...(typeof metadata.uid === 'string' ? { uid: metadata.uid } : {}),
    ...(typeof metadata.resourceVersion === 'string' ? { resourceVersion: metadata.resourceVersion } : {}),
    labels,
  };
}

function invalid(
  problems: FieldProblems,
  kind: string,
  object: Record<string, unknown>,
  source?: string,
): PolicyError {
  const name = isObject(object['metadata']) ? object['metadata']['name'] : undefined;
  const what = typeof name === 'string' ? `${kind} "${name}"` : kind;
  const list = problems.problems();
  return new PolicyError(
    'POLICY_INVALID',
    `${source ? `${source}: ` : ''}${what}: ${describeProblems(list)}`,
    {
      problems: list,
    },
  );
}

/** The apiserver drops null values of non-nullable fields before validating (`keyless:` with no value). */
function dropNulls(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(dropNulls);
  if (!isObject(value)) return value;
  // fromEntries defines own properties, so a `__proto__` key stays data (and fails the schema).
  return Object.fromEntries(
    Object.entries(value)
      .filter(([, field]) => field !== null)
      .map(([key, field]) => [key, dropNulls(field)]),
  );
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function describeType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

function preview(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 80 ? `${text.slice(0, 80)}...` : text;
}
