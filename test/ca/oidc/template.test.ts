import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  compileTemplate,
  TemplateMissingKeyError,
  TemplateSyntaxError,
} from '../../../src/ca/oidc/template.ts';

const data = {
  url: 'https://github.com',
  repository: 'sigstore/fulcio',
  run_id: '42',
  run_attempt: '1',
  ref_type: 'branch',
  ref: 'main',
  'oidc.circleci.com/ssh-rerun': 'true',
  empty: '',
};

const render = (source: string, values: Record<string, string> = data) =>
  compileTemplate(source).execute(values);

describe('the Go template subset', () => {
  // sigstore/fulcio pkg/identity/ciprovider/principal_test.go TestApplyTemplateOrReplace "Valid template"
  it('fills {{ .claim }} fields, with or without spaces', () => {
    assert.equal(
      render('{{ .url }}/{{.repository}}/actions/runs/{{ .run_id }}/attempts/{{ .run_attempt }}'),
      'https://github.com/sigstore/fulcio/actions/runs/42/attempts/1',
    );
  });

  it('fails on a field the data lacks (missingkey=error)', () => {
    assert.throws(
      () => render('{{ .foo }}'),
      (error: unknown) => error instanceof TemplateMissingKeyError && error.key === 'foo',
    );
  });

  it('rejects an empty action, as Go does for "{{}}"', () => {
    assert.throws(() => compileTemplate('{{}}'), TemplateSyntaxError);
  });

  it("evaluates GitLab's ref template for a branch and a tag", () => {
    const template = 'refs/{{if eq .ref_type "branch"}}heads/{{ else }}tags/{{end}}{{ .ref }}';
    assert.equal(render(template), 'refs/heads/main');
    assert.equal(render(template, { ...data, ref_type: 'tag', ref: 'v1' }), 'refs/tags/v1');
  });

  it('evaluates CircleCI\'s index templates, a missing key giving ""', () => {
    const template = '{{if eq (index . "oidc.circleci.com/ssh-rerun") "true"}}ssh-rerun{{ else }}""{{end}}';
    assert.equal(render(template), 'ssh-rerun');
    assert.equal(render(template, { url: 'x' }), '""');
    assert.equal(render('{{index . "oidc.circleci.com/missing"}}'), '');
  });

  it('supports else if, not, ne, and, or', () => {
    const template = '{{ if eq .ref "x" }}x{{ else if ne .ref "main" }}other{{ else }}main{{ end }}';
    assert.equal(render(template), 'main');
    assert.equal(render('{{ if not .empty }}empty{{ end }}'), 'empty');
    assert.equal(render('{{ and .url .empty }}|{{ or .empty .ref }}'), '|main');
    assert.equal(render('{{ if eq .ref "a" "main" }}one of{{ end }}'), 'one of');
  });

  it('trims around {{- and -}}', () => {
    assert.equal(render('a  {{- .ref -}}  b'), 'amainb');
  });

  it('ignores comments and keeps text without actions as it is', () => {
    assert.equal(render('{{/* note */}}plain text'), 'plain text');
  });

  it('takes raw and escaped string literals', () => {
    assert.equal(render('{{ `a"b` }}{{ "c\\"d" }}'), 'a"bc"d');
  });

  const unsupported = [
    '{{ .url | printf "%s" }}',
    '{{ range .x }}{{ end }}',
    '{{ $x := .url }}',
    '{{ printf "%s" .url }}',
    '{{ .a.b }}',
    '{{ . }}',
    '{{ if .url }}unclosed',
    '{{ end }}',
    '{{ .url',
    '{{ eq .url }}',
    '{{ "\\x41" }}',
  ];
  for (const source of unsupported) {
    it(`rejects ${JSON.stringify(source)} when compiling`, () => {
      assert.throws(() => compileTemplate(source), TemplateSyntaxError);
    });
  }
});
