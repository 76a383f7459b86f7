import { CaError } from '../errors.ts';
import { describeClaim, requireStringClaim, type TokenClaims } from './claims.ts';
import { goJoinPath } from './go-url-path.ts';
import type { OidcIssuer } from './issuer-config.types.ts';
import type { Principal } from './principal.types.ts';

// Every claim sigstore/fulcio pkg/identity/github/principal.go requires, in its order.
const REQUIRED = [
  'job_workflow_ref',
  'sha',
  'event_name',
  'repository',
  'workflow',
  'ref',
  'job_workflow_sha',
  'runner_environment',
  'repository_id',
  'repository_owner',
  'repository_owner_id',
  'repository_visibility',
  'workflow_ref',
  'workflow_sha',
  'run_id',
  'run_attempt',
] as const;

const GITHUB = 'https://github.com/';

/**
 * The legacy `github-workflow` issuer type (sigstore/fulcio `pkg/identity/github/principal.go`): all 16
 * claims required; SAN URI `https://github.com/<job_workflow_ref>`; extensions .2–.6 (deprecated) and
 * .9–.22; proof of possession over `sub`. The public-good config now maps GitHub through `ci-provider`
 * instead, which yields the same values plus .23 when the job has an `environment`.
 */
export function githubWorkflowPrincipal(claims: TokenClaims, issuer: OidcIssuer): Principal {
  const subject = requireStringClaim(claims, 'sub', `github-workflow issuer ${issuer.issuerUrl}`);
  const claim = Object.fromEntries(
    REQUIRED.map((name) => [
      name,
      requireStringClaim(claims, name, `github-workflow issuer ${issuer.issuerUrl}`),
    ]),
  ) as Record<(typeof REQUIRED)[number], string>;
  const url = (...elements: string[]): string => {
    const joined = goJoinPath(GITHUB, ...elements);
    if (joined === undefined)
      throw new CaError(
        'CA_CLAIM_INVALID',
        `expected URL path parts, received ${describeClaim(elements.join('/'))}`,
      );
    return joined;
  };
  const buildSignerUri = url(claim.job_workflow_ref);
  return {
    name: subject,
    subjectAlternativeName: { kind: 'uri', value: buildSignerUri },
    extensions: {
      issuer: issuer.issuerUrl,
      githubWorkflowTrigger: claim.event_name,
      githubWorkflowSha: claim.sha,
      githubWorkflowName: claim.workflow,
      githubWorkflowRepository: claim.repository,
      githubWorkflowRef: claim.ref,
      buildSignerUri,
      buildSignerDigest: claim.job_workflow_sha,
      runnerEnvironment: claim.runner_environment,
      sourceRepositoryUri: url(claim.repository),
      sourceRepositoryDigest: claim.sha,
      sourceRepositoryRef: claim.ref,
      sourceRepositoryIdentifier: claim.repository_id,
      sourceRepositoryOwnerUri: url(claim.repository_owner),
      sourceRepositoryOwnerIdentifier: claim.repository_owner_id,
      buildConfigUri: url(claim.workflow_ref),
      buildConfigDigest: claim.workflow_sha,
      buildTrigger: claim.event_name,
      runInvocationUri: url(claim.repository, 'actions/runs', claim.run_id, 'attempts', claim.run_attempt),
      sourceRepositoryVisibilityAtSigning: claim.repository_visibility,
      tokenSubject: subject,
    },
  };
}
