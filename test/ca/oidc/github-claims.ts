/**
 * The GitHub Actions ID token claims a Fulcio certificate was made from, rebuilt from its extension
 * values (sigstore/fulcio `pkg/identity/github/principal.go` and the GitHub ci-provider templates, read
 * backwards). `value(arc)` returns the value of 1.3.6.1.4.1.57264.1.<arc>. Times are the caller's.
 */
export function githubClaimsFromExtensions(
  value: (arc: number) => string,
  issuer: string,
): Record<string, unknown> {
  const underGithub = (url: string) => url.replace(/^https:\/\/github\.com\//, '');
  const run = /\/actions\/runs\/(\d+)\/attempts\/(\d+)$/.exec(value(21));
  if (!run) throw new Error(`expected a run invocation URI in .21, received ${value(21)}`);
  return {
    iss: issuer,
    aud: 'sigstore',
    sub: `repo:${value(5)}:ref:${value(6)}`,
    event_name: value(2),
    sha: value(3),
    workflow: value(4),
    repository: value(5),
    ref: value(6),
    job_workflow_ref: underGithub(value(9)),
    job_workflow_sha: value(10),
    runner_environment: value(11),
    repository_id: value(15),
    repository_owner: underGithub(value(16)),
    repository_owner_id: value(17),
    workflow_ref: underGithub(value(18)),
    workflow_sha: value(19),
    run_id: run[1],
    run_attempt: run[2],
    repository_visibility: value(22),
    // Claims GitHub sends that no extension uses.
    actor: 'octocat',
    ref_type: 'branch',
  };
}
