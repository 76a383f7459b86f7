import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CliError } from '../../src/cli/errors.ts';
import { watchPolicyDirectory } from '../../src/cli/policy-directory.ts';
import { resolveWebhookSettings } from '../../src/cli/webhook-config.ts';

const policy = (name: string, glob: string) => `apiVersion: policy.sigstore.dev/v1beta1
kind: ClusterImagePolicy
metadata:
  name: ${name}
spec:
  images: [{glob: "${glob}"}]
  authorities: [{static: {action: pass}}]
`;

const SECRET_AND_ACCOUNT = `apiVersion: v1
kind: Secret
metadata: {name: pull, namespace: apps}
type: kubernetes.io/dockerconfigjson
data:
  .dockerconfigjson: ${Buffer.from('{"auths":{}}').toString('base64')}
stringData:
  note: plain text
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: builder, namespace: apps}
imagePullSecrets: [{name: pull}]
`;

describe('policy folder', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sigil-policies-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function folder(files: Record<string, string>): Promise<string> {
    const path = await mkdtemp(join(dir, 'case-'));
    for (const [name, text] of Object.entries(files)) await writeFile(join(path, name), text);
    return path;
  }

  it('loads policies, Secrets and ServiceAccounts from every YAML file', async () => {
    const path = await folder({
      'a.yaml': policy('a', 'registry.example/**'),
      'b.yml': `${policy('b', 'other.example/**')}---\n${SECRET_AND_ACCOUNT}`,
      'notes.txt': 'not a policy',
    });
    const source = await watchPolicyDirectory(path);
    try {
      const snapshot = source.current();
      assert.deepEqual(
        snapshot.policies.map((each) => each.metadata.name),
        ['a', 'b'],
      );
      assert.equal(
        Buffer.from(snapshot.secret('apps', 'pull')!['.dockerconfigjson']!).toString(),
        '{"auths":{}}',
      );
      assert.equal(Buffer.from(snapshot.secret('apps', 'pull')!.note!).toString(), 'plain text');
      assert.equal(snapshot.secret('other', 'pull'), undefined);
      assert.deepEqual(snapshot.serviceAccountPullSecrets('apps', 'builder'), ['pull']);
    } finally {
      source.close();
    }
  });

  it('applies a change whole and tells subscribers; a broken change keeps the policies in force', async () => {
    const path = await folder({ 'a.yaml': policy('a', 'registry.example/**') });
    const source = await watchPolicyDirectory(path, { intervalMs: 60_000 });
    try {
      const seen: number[] = [];
      source.subscribe((snapshot) => seen.push(snapshot.generation));
      await writeFile(join(path, 'b.yaml'), policy('b', 'other.example/**'));
      await source.refresh();
      assert.deepEqual(seen, [2]);
      assert.equal(source.current().policies.length, 2);
      await writeFile(join(path, 'b.yaml'), 'kind: ClusterImagePolicy\nspec: [');
      await source.refresh();
      assert.deepEqual(seen, [2], 'no new snapshot for a folder that does not load');
      assert.equal(source.current().policies.length, 2);
    } finally {
      source.close();
    }
  });

  it('warns at load time of a policy that cannot pass as written (rego), naming the policy and field', async () => {
    const path = await folder({
      'rego.yaml': `apiVersion: policy.sigstore.dev/v1beta1
kind: ClusterImagePolicy
metadata: {name: uses-rego}
spec:
  images: [{glob: "**"}]
  authorities:
    - keyless:
        identities: [{issuer: https://issuer.example, subject: a@example.com}]
      attestations:
        - name: sbom
          predicateType: spdxjson
          policy: {type: rego, data: "package sigstore"}
`,
    });
    const warnings: string[] = [];
    const warn = (_fields: unknown, message?: string) => void warnings.push(String(message));
    const logger = { debug: () => {}, info: () => {}, warn, error: () => {}, child: () => logger } as never;
    const source = await watchPolicyDirectory(path, { logger });
    source.close();
    assert.deepEqual(warnings, [
      'policy uses-rego: spec.authorities[0].attestations[0].policy.type: rego policies are not supported, expected cel (rewrite the policy as a CEL expression); images it matches are denied',
    ]);
  });

  it('refuses at start a file that does not load, naming the file and the field', async () => {
    const unknownKind = await folder({ 'x.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n' });
    await assert.rejects(watchPolicyDirectory(unknownKind), (error: unknown) => {
      assert.ok(error instanceof CliError);
      assert.equal(error.code, 'CLI_OPTION_INVALID');
      assert.match(
        error.message,
        /x\.yaml \(document 1\): kind: expected ClusterImagePolicy, TrustRoot, Secret or ServiceAccount, received "ConfigMap"/,
      );
      return true;
    });
    const duplicate = await folder({ 'a.yaml': policy('same', 'a/**'), 'b.yaml': policy('same', 'b/**') });
    await assert.rejects(
      watchPolicyDirectory(duplicate),
      /ClusterImagePolicy same is also defined in .*a\.yaml/,
    );
    const badBase64 = await folder({
      's.yaml': 'apiVersion: v1\nkind: Secret\nmetadata: {name: s}\ndata: {key: "not base64!"}\n',
    });
    await assert.rejects(watchPolicyDirectory(badBase64), /data\.key: expected base64/);
    const missing = join(dir, 'no-such-folder');
    await assert.rejects(watchPolicyDirectory(missing), /--policies: cannot read folder/);
  });
});

describe('webhook settings', () => {
  it('are absent without --policies, and other webhook flags then say what is missing', () => {
    assert.equal(resolveWebhookSettings({}, {}), undefined);
    assert.throws(
      () => resolveWebhookSettings({ tlsCert: 'c.pem' }, {}),
      /--tls-cert configures the webhook: pass --policies DIR too/,
    );
  });

  it('take defaults, environment and flags', () => {
    const defaults = resolveWebhookSettings({ policies: 'p' }, {})!;
    assert.equal(defaults.port, 8443);
    assert.equal(defaults.settings.noMatch, 'deny');
    assert.equal(defaults.settings.mutation, true);
    assert.equal(defaults.settings.deadlineMs, 8_000);
    assert.equal(defaults.settings.workers, 1);
    assert.equal(
      resolveWebhookSettings({ policies: 'p' }, { SIGIL_WEBHOOK_WORKERS: '3' })!.settings.workers,
      3,
    );
    const given = resolveWebhookSettings(
      {
        webhookPort: '0',
        ifNoMatch: 'allow',
        mutation: false,
        mutationOffNamespaces: 'argocd, flux-system',
        reviewDeadline: '2500',
        webhookWorkers: '2',
      },
      { SIGIL_POLICIES: '/etc/sigil/policies' },
    )!;
    assert.equal(given.port, 0);
    assert.equal(given.settings.policiesDir, '/etc/sigil/policies');
    assert.equal(given.settings.noMatch, 'allow');
    assert.equal(given.settings.mutation, false);
    assert.deepEqual(given.settings.mutationDisabledNamespaces, ['argocd', 'flux-system']);
    assert.equal(given.settings.deadlineMs, 2_500);
    assert.equal(given.settings.workers, 2);
  });

  it('refuse bad values naming the flag', () => {
    assert.throws(
      () => resolveWebhookSettings({ policies: 'p', ifNoMatch: 'warn' }, {}),
      /--if-no-match: expected deny or allow, received "warn"/,
    );
    assert.throws(
      () => resolveWebhookSettings({ policies: 'p', reviewDeadline: '60000' }, {}),
      /--review-deadline: expected a whole number from 100 to 29000/,
    );
    assert.throws(
      () => resolveWebhookSettings({ policies: 'p', webhookWorkers: '0' }, {}),
      /--webhook-workers: expected a whole number from 1 to 64, received "0"/,
    );
    assert.throws(
      () => resolveWebhookSettings({ policies: 'p' }, { SIGIL_WEBHOOK_WORKERS: 'many' }),
      /SIGIL_WEBHOOK_WORKERS: expected a whole number/,
    );
    assert.throws(
      () => resolveWebhookSettings({ policies: 'p', webhookPort: '70000' }, {}),
      /--webhook-port: expected a port number/,
    );
  });
});
