/**
 * The Fulcio certificate extensions under 1.3.6.1.4.1.57264.1 (sigstore/fulcio `docs/oid-info.md`,
 * `pkg/certificate/extensions.go`), as typed fields. Which claim fills which field is the issuer type's
 * business (principal-*.ts); how a value is encoded is the certificate builder's, told by `encoding`.
 */
export interface FulcioExtensions {
  /** OIDs .1 (raw, deprecated) and .8: the token's `iss`, or the federated upstream (`issuer-claim`). */
  readonly issuer: string;
  /** .2 (deprecated): `event_name` of a GitHub workflow. */
  readonly githubWorkflowTrigger?: string;
  /** .3 (deprecated): the commit SHA being built. */
  readonly githubWorkflowSha?: string;
  /** .4 (deprecated): the workflow name. */
  readonly githubWorkflowName?: string;
  /** .5 (deprecated): `owner/repository`. */
  readonly githubWorkflowRepository?: string;
  /** .6 (deprecated): the git ref being built. */
  readonly githubWorkflowRef?: string;
  /** .9: the build instructions that signed, e.g. a reusable workflow URL with its ref. */
  readonly buildSignerUri?: string;
  /** .10: an immutable reference to those instructions. */
  readonly buildSignerDigest?: string;
  /** .11: platform-hosted or self-hosted. */
  readonly runnerEnvironment?: string;
  /** .12 */
  readonly sourceRepositoryUri?: string;
  /** .13 */
  readonly sourceRepositoryDigest?: string;
  /** .14 */
  readonly sourceRepositoryRef?: string;
  /** .15 */
  readonly sourceRepositoryIdentifier?: string;
  /** .16 */
  readonly sourceRepositoryOwnerUri?: string;
  /** .17 */
  readonly sourceRepositoryOwnerIdentifier?: string;
  /** .18: the top-level build instructions. */
  readonly buildConfigUri?: string;
  /** .19 */
  readonly buildConfigDigest?: string;
  /** .20: the event that started the build. */
  readonly buildTrigger?: string;
  /** .21: the one build run. */
  readonly runInvocationUri?: string;
  /** .22 */
  readonly sourceRepositoryVisibilityAtSigning?: string;
  /** .23: the deployment environment of the job, when it has one. */
  readonly deploymentEnvironment?: string;
  /** .24: the token's raw `sub` (fulcio PR #2307; absent from certificates issued before 2026-03). */
  readonly tokenSubject?: string;
}

export type FulcioExtensionField = keyof FulcioExtensions;

/** `.1`–`.6` hold the raw UTF-8 bytes as extnValue; `.8`–`.24` a DER UTF8String (docs/oid-info.md). */
export type FulcioExtensionEncoding = 'raw' | 'utf8-string';

export interface FulcioExtensionDefinition {
  readonly oid: string;
  readonly field: FulcioExtensionField;
  readonly encoding: FulcioExtensionEncoding;
  /**
   * The key of this field under `extension-templates` in a Fulcio config file (YAML), and its key in
   * Fulcio's JSON form (Go field name); undefined where a config cannot template it.
   */
  readonly templateKey?: string;
  readonly goName?: string;
}

const ARC = '1.3.6.1.4.1.57264.1';

/**
 * The one table of Fulcio extensions, in OID order — the order Fulcio's `Extensions.Render` emits them.
 * `issuer` appears twice: .1 raw and .8 DER. `.7` is not here: it is the otherName type of a username
 * SAN, not an extension (see `Principal.subjectAlternativeName`).
 */
export const FULCIO_EXTENSIONS: readonly FulcioExtensionDefinition[] = Object.freeze([
  { oid: `${ARC}.1`, field: 'issuer', encoding: 'raw' },
  {
    oid: `${ARC}.2`,
    field: 'githubWorkflowTrigger',
    encoding: 'raw',
    templateKey: 'github-workflow-trigger',
    goName: 'GithubWorkflowTrigger',
  },
  {
    oid: `${ARC}.3`,
    field: 'githubWorkflowSha',
    encoding: 'raw',
    templateKey: 'github-workflow-sha',
    goName: 'GithubWorkflowSHA',
  },
  {
    oid: `${ARC}.4`,
    field: 'githubWorkflowName',
    encoding: 'raw',
    templateKey: 'github-workflow-name',
    goName: 'GithubWorkflowName',
  },
  {
    oid: `${ARC}.5`,
    field: 'githubWorkflowRepository',
    encoding: 'raw',
    templateKey: 'github-workflow-repository',
    goName: 'GithubWorkflowRepository',
  },
  {
    oid: `${ARC}.6`,
    field: 'githubWorkflowRef',
    encoding: 'raw',
    templateKey: 'github-workflow-ref',
    goName: 'GithubWorkflowRef',
  },
  { oid: `${ARC}.8`, field: 'issuer', encoding: 'utf8-string' },
  ...utf8([
    ['9', 'buildSignerUri', 'build-signer-uri', 'BuildSignerURI'],
    ['10', 'buildSignerDigest', 'build-signer-digest', 'BuildSignerDigest'],
    ['11', 'runnerEnvironment', 'runner-environment', 'RunnerEnvironment'],
    ['12', 'sourceRepositoryUri', 'source-repository-uri', 'SourceRepositoryURI'],
    ['13', 'sourceRepositoryDigest', 'source-repository-digest', 'SourceRepositoryDigest'],
    ['14', 'sourceRepositoryRef', 'source-repository-ref', 'SourceRepositoryRef'],
    ['15', 'sourceRepositoryIdentifier', 'source-repository-identifier', 'SourceRepositoryIdentifier'],
    ['16', 'sourceRepositoryOwnerUri', 'source-repository-owner-uri', 'SourceRepositoryOwnerURI'],
    [
      '17',
      'sourceRepositoryOwnerIdentifier',
      'source-repository-owner-identifier',
      'SourceRepositoryOwnerIdentifier',
    ],
    ['18', 'buildConfigUri', 'build-config-uri', 'BuildConfigURI'],
    ['19', 'buildConfigDigest', 'build-config-digest', 'BuildConfigDigest'],
    ['20', 'buildTrigger', 'build-trigger', 'BuildTrigger'],
    ['21', 'runInvocationUri', 'run-invocation-uri', 'RunInvocationURI'],
    [
      '22',
      'sourceRepositoryVisibilityAtSigning',
      'source-repository-visibility-at-signing',
      'SourceRepositoryVisibilityAtSigning',
    ],
    ['23', 'deploymentEnvironment', 'deployment-environment', 'DeploymentEnvironment'],
  ]),
  // Always the token's own `sub`, whatever the issuer type; never templated.
  { oid: `${ARC}.24`, field: 'tokenSubject', encoding: 'utf8-string' },
]);

function utf8(
  rows: readonly (readonly [string, FulcioExtensionField, string, string])[],
): FulcioExtensionDefinition[] {
  return rows.map(([arc, field, templateKey, goName]) => ({
    oid: `${ARC}.${arc}`,
    field,
    encoding: 'utf8-string' as const,
    templateKey,
    goName,
  }));
}

/** The rows a CI provider's `extension-templates` may fill (.2–.6, .9–.23). */
export const TEMPLATED_EXTENSIONS: readonly FulcioExtensionDefinition[] = FULCIO_EXTENSIONS.filter(
  (definition) => definition.templateKey !== undefined,
);

/** One extension ready for the certificate builder (`LeafExtension` in ../certificate-profile.ts). */
export interface FulcioExtensionValue {
  readonly oid: string;
  readonly value: string;
  readonly encoding: FulcioExtensionEncoding;
}

/**
 * The extensions of `extensions` in OID order, empty fields left out, as Fulcio's `Render` does. The
 * issuer MUST be non-empty (Render fails otherwise); callers get principals whose issuer is never empty.
 */
export function fulcioExtensionList(extensions: FulcioExtensions): FulcioExtensionValue[] {
  const list: FulcioExtensionValue[] = [];
  for (const { oid, field, encoding } of FULCIO_EXTENSIONS) {
    const value = extensions[field];
    if (value !== undefined && value !== '') list.push({ oid, value, encoding });
  }
  return list;
}
