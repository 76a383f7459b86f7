import type { CiIssuerMetadataDocument } from './issuer-config.types.ts';

/**
 * The `ci-issuer-metadata` of the public-good Fulcio for GitHub Actions and GitLab, copied from
 * sigstore/fulcio `config/identity/config.yaml` (the `*github-type` = `github-workflow` and
 * `*gitlab-type` = `gitlab-pipeline` entries). A config file's own entry of the same name replaces one.
 */
export const BUILTIN_CI_ISSUER_METADATA: Readonly<Record<string, CiIssuerMetadataDocument>> = Object.freeze({
  'github-workflow': {
    'default-template-values': {
      // url: URL of issuer, https://github.com
      url: 'https://github.com',
      // Nil default value to handle optional environment claim
      environment: '',
    },
    'extension-templates': {
      'github-workflow-trigger': 'event_name',
      'github-workflow-sha': 'sha',
      'github-workflow-name': 'workflow',
      'github-workflow-repository': 'repository',
      'github-workflow-ref': 'ref',
      'build-signer-uri': '{{ .url }}/{{ .job_workflow_ref }}',
      'build-signer-digest': 'job_workflow_sha',
      'runner-environment': 'runner_environment',
      'source-repository-uri': '{{ .url }}/{{ .repository }}',
      'source-repository-digest': 'sha',
      'source-repository-ref': 'ref',
      'source-repository-identifier': 'repository_id',
      'source-repository-owner-uri': '{{ .url }}/{{ .repository_owner }}',
      'source-repository-owner-identifier': 'repository_owner_id',
      'build-config-uri': '{{ .url }}/{{ .workflow_ref }}',
      'build-config-digest': 'workflow_sha',
      'build-trigger': 'event_name',
      'run-invocation-uri':
        '{{ .url }}/{{ .repository }}/actions/runs/{{ .run_id }}/attempts/{{ .run_attempt }}',
      'source-repository-visibility-at-signing': 'repository_visibility',
      'deployment-environment': 'environment',
    },
    'subject-alternative-name-template': '{{ .url }}/{{ .job_workflow_ref }}',
  },
  'gitlab-pipeline': {
    'default-template-values': {
      url: 'https://gitlab.com',
      // Nil default value to handle optional environment claim
      environment: '',
    },
    'extension-templates': {
      // ci_config_ref_uri: e.g. gitlab.com/my-group/my-project//.gitlab-ci.yml@refs/heads/main
      'build-signer-uri': 'https://{{ .ci_config_ref_uri }}',
      'build-signer-digest': 'ci_config_sha',
      'runner-environment': 'runner_environment',
      'source-repository-uri': '{{ .url }}/{{ .project_path }}',
      'source-repository-digest': 'sha',
      'source-repository-ref': 'refs/{{if eq .ref_type "branch"}}heads/{{ else }}tags/{{end}}{{ .ref }}',
      'source-repository-identifier': 'project_id',
      'source-repository-owner-uri': '{{ .url }}/{{ .namespace_path }}',
      'source-repository-owner-identifier': 'namespace_id',
      'build-config-uri': 'https://{{ .ci_config_ref_uri }}',
      'build-config-digest': 'ci_config_sha',
      'build-trigger': 'pipeline_source',
      'run-invocation-uri': '{{ .url }}/{{ .project_path }}/-/jobs/{{ .job_id }}',
      'source-repository-visibility-at-signing': 'project_visibility',
      'deployment-environment': 'environment',
    },
    'subject-alternative-name-template': 'https://{{ .ci_config_ref_uri }}',
  },
});
