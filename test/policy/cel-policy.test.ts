import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import {
  ATTESTATION_POLICY_VARIABLES,
  CEL_LIMITS,
  POLICY_RESULT_VARIABLES,
  compileCelPolicy,
  evaluateCelPolicy,
} from '../../src/policy/cel-policy.ts';
import type { CelPolicyOutcome } from '../../src/policy/cel-policy.ts';
import { PolicyError } from '../../src/policy/errors.ts';
import { unsupportedPolicyType } from '../../src/policy/policy-type.ts';

const FIELD = 'spec.authorities[0].attestations[0].policy.data';

// An in-toto statement as AttestationToPayloadJSON hands it to upstream's CUE/Rego policies.
const SLSA_STATEMENT = {
  _type: 'https://in-toto.io/Statement/v0.1',
  predicateType: 'https://slsa.dev/provenance/v0.2',
  subject: [{ name: 'registry.local/app', digest: { sha256: 'a'.repeat(64) } }],
  predicate: {
    builder: {
      id: 'https://github.com/slsa-framework/slsa-github-generator/.github/workflows/generator.yml@refs/tags/v1.9.0',
    },
    buildType: 'https://github.com/slsa-framework/slsa-github-generator/generic@v1',
    invocation: {
      configSource: {
        uri: 'git+https://github.com/org/app@refs/heads/main',
        entryPoint: '.github/workflows/release.yml',
      },
    },
    materials: [{ uri: 'git+https://github.com/org/app', digest: { sha1: 'b'.repeat(40) } }],
    metadata: { buildInvocationID: '1234-1', completeness: { parameters: true } },
  },
};

// upstream PolicyResult JSON: authority name → signatures, or attestation name → verified attestations.
const POLICY_RESULT = {
  authorityMatches: {
    'ci-keyless': {
      signatures: [
        {
          id: 'sha256:' + 'c'.repeat(64),
          subject: 'https://github.com/org/app/.github/workflows/release.yml@refs/heads/main',
          issuer: 'https://token.actions.githubusercontent.com',
          githubWorkflowRepo: 'org/app',
          githubWorkflowTrigger: 'push',
        },
      ],
    },
    'sbom-key': {
      attestations: {
        'must-have-spdx': [{ id: 'sha256:' + 'd'.repeat(64), predicateType: 'https://spdx.dev/Document' }],
      },
    },
    'system-namespaces': { static: true },
  },
};

function evaluate(source: string, input: unknown): CelPolicyOutcome {
  return evaluateCelPolicy(compileCelPolicy(source, FIELD), input);
}

function assertFails(outcome: CelPolicyOutcome, reason: RegExp): void {
  assert.equal(outcome.passed, false);
  if (!outcome.passed) {
    assert.ok(outcome.reason.startsWith(`${FIELD}: `), `reason names the field: ${outcome.reason}`);
    assert.match(outcome.reason, reason);
  }
}

function assertCompileError(source: string, message: RegExp, variables?: readonly string[]): void {
  assert.throws(
    () => compileCelPolicy(source, FIELD, variables ? { variables } : {}),
    (error: unknown) =>
      error instanceof PolicyError &&
      error.code === 'POLICY_INVALID' &&
      error.message.startsWith(`${FIELD}: invalid CEL expression: `) &&
      message.test(error.message),
  );
}

describe('evaluateCelPolicy over an attestation statement', () => {
  it('passes when the predicate has the expected build type', () => {
    const outcome = evaluate(
      `predicate.buildType == "${SLSA_STATEMENT.predicate.buildType}"`,
      SLSA_STATEMENT,
    );
    assert.deepEqual(outcome, { passed: true });
  });

  it('fails with the expression in the reason when the build type differs', () => {
    assertFails(
      evaluate('predicate.buildType == "https://example.com/other"', SLSA_STATEMENT),
      /expression evaluated to false: predicate\.buildType == "https:\/\/example\.com\/other"/,
    );
  });

  it('sees the statement fields predicateType, subject and input', () => {
    const source = [
      'predicateType == "https://slsa.dev/provenance/v0.2"',
      'subject.exists(s, s.name == "registry.local/app" && size(s.digest.sha256) == 64)',
      'input._type.startsWith("https://in-toto.io/Statement/")',
      'predicate.builder.id.matches("^https://github\\\\.com/slsa-framework/slsa-github-generator/")',
      'predicate.materials.all(m, m.uri.startsWith("git+https://github.com/org/"))',
      'has(predicate.metadata.completeness) && predicate.metadata.completeness.parameters',
      'predicate.invocation.configSource.entryPoint.lowerAscii().endsWith("release.yml")',
    ].join(' && ');
    assert.deepEqual(evaluate(source, SLSA_STATEMENT), { passed: true });
  });

  it('compares JSON numbers with CEL ints', () => {
    const input = { predicate: { critical: 0, high: 2 } };
    assert.deepEqual(evaluate('predicate.critical == 0 && predicate.high < 3 && size(input) == 1', input), {
      passed: true,
    });
  });

  it('fails a missing field with the evaluation error rather than throwing', () => {
    assertFails(evaluate('predicate.missing == "x"', SLSA_STATEMENT), /evaluation error: .*missing/);
  });

  it('fails an unknown variable with the evaluation error', () => {
    assertFails(evaluate('predicat.buildType == "x"', SLSA_STATEMENT), /evaluation error/);
  });

  it('treats has() on a missing field as false, not as an error', () => {
    assert.deepEqual(evaluate('!has(predicate.missing)', SLSA_STATEMENT), { passed: true });
  });

  it('fails a non-bool result naming the type received', () => {
    assertFails(evaluate('predicate.buildType', SLSA_STATEMENT), /expected .* bool, received string/);
    assertFails(evaluate('size(subject)', SLSA_STATEMENT), /expected .* bool, received int/);
    assertFails(evaluate('subject', SLSA_STATEMENT), /expected .* bool, received list/);
    assertFails(evaluate('null', SLSA_STATEMENT), /expected .* bool, received null/);
  });

  it('fails a runtime error such as a division by zero', () => {
    assertFails(evaluate('1 / 0 == 1', {}), /evaluation error: .*divide by zero/);
  });

  it('does not resolve names through Object.prototype', () => {
    assertFails(evaluate('constructor == constructor', { predicate: {} }), /evaluation error/);
    assertFails(evaluate('has(predicate.constructor)', { predicate: {} }), /evaluated to false/);
    assertFails(evaluate('predicate["__proto__"] == null', { predicate: {} }), /evaluation error/);
  });

  it('reads keys named like Object.prototype members as ordinary data', () => {
    const input = JSON.parse('{"predicate":{"constructor":"x","__proto__":{"polluted":true}}}') as unknown;
    assert.deepEqual(evaluate('predicate.constructor == "x" && predicate["__proto__"].polluted', input), {
      passed: true,
    });
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  });
});

describe('evaluateCelPolicy over a PolicyResult', () => {
  it('passes when a named authority matched with a signature from the expected repository', () => {
    const source =
      '"ci-keyless" in authorityMatches && ' +
      'authorityMatches["ci-keyless"].signatures.exists(s, s.githubWorkflowRepo == "org/app")';
    assert.deepEqual(evaluate(source, POLICY_RESULT), { passed: true });
  });

  it('counts matched authorities and attestations', () => {
    const source =
      'size(authorityMatches) >= 2 && ' +
      'authorityMatches.exists(name, has(authorityMatches[name].attestations) && ' +
      '"must-have-spdx" in authorityMatches[name].attestations)';
    assert.deepEqual(evaluate(source, POLICY_RESULT), { passed: true });
  });

  it('fails when the required authority did not match', () => {
    assertFails(evaluate('"prod-key" in authorityMatches', POLICY_RESULT), /evaluated to false/);
  });

  it('fails a field the policy did not include (spec without includeSpec)', () => {
    assertFails(evaluate('spec.containers.size() == 1', POLICY_RESULT), /evaluation error/);
  });

  it('accepts the PolicyResult variables when they are declared', () => {
    const policy = compileCelPolicy('authorityMatches.all(a, true)', FIELD, {
      variables: POLICY_RESULT_VARIABLES,
    });
    assert.deepEqual(evaluateCelPolicy(policy, POLICY_RESULT), { passed: true });
  });
});

describe('compileCelPolicy', () => {
  it('compiles once and evaluates many inputs', () => {
    const policy = compileCelPolicy('predicate.ok', FIELD);
    assert.deepEqual(evaluateCelPolicy(policy, { predicate: { ok: true } }), { passed: true });
    assert.equal(evaluateCelPolicy(policy, { predicate: { ok: false } }).passed, false);
    assert.equal(policy.source, 'predicate.ok');
    assert.equal(policy.field, FIELD);
  });

  it('rejects a syntax error naming the field and the parser message', () => {
    assertCompileError('predicate.buildType == ', /found end of input|expect/i);
    assertCompileError('predicate.(', /./);
  });

  it('rejects an empty expression', () => {
    assertCompileError('   ', /expected an expression/);
  });

  it('rejects an unknown function', () => {
    assertCompileError('frobnicate(predicate)', /unknown function frobnicate/);
    assertCompileError('subject.exists(s)', /unknown function exists/);
  });

  it('rejects an undeclared variable when the variables are given', () => {
    assertCompileError(
      'predicat.buildType == "x"',
      /undeclared reference to predicat/,
      ATTESTATION_POLICY_VARIABLES,
    );
    assertCompileError(
      'authorityMatches.size() > 0',
      /undeclared reference to authorityMatches/,
      ATTESTATION_POLICY_VARIABLES,
    );
  });

  it('allows loop variables and type names beside the declared variables', () => {
    const policy = compileCelPolicy(
      'subject.all(s, type(s.name) == string) && subject.map(s, s.name).exists(n, n != "")',
      FIELD,
      { variables: ATTESTATION_POLICY_VARIABLES },
    );
    assert.deepEqual(evaluateCelPolicy(policy, SLSA_STATEMENT), { passed: true });
  });

  it('rejects protobuf message construction', () => {
    assertCompileError('google.protobuf.Duration{seconds: 1} == duration("1s")', /message construction/);
  });

  it('rejects an expression longer than the limit', () => {
    assertCompileError(`"${'a'.repeat(CEL_LIMITS.sourceLength)}" == ""`, /at most 16384 characters/);
  });

  it('rejects an expression with too many nodes', () => {
    assertCompileError(Array.from({ length: 1200 }, () => 'true').join(' && '), /at most 2000 nodes/);
  });

  it('rejects deep nesting without overflowing the stack', () => {
    assertCompileError(`${'('.repeat(5000)}true${')'.repeat(5000)}`, /nest|deep/);
    assertCompileError(`${'['.repeat(100)}true${']'.repeat(100)} == []`, /nesting of at most 64/);
  });
});

describe('evaluateCelPolicy with hostile input', () => {
  it('fails input nested deeper than the limit', () => {
    let deep: unknown = { leaf: true };
    for (let index = 0; index < 10_000; index++) deep = { next: deep };
    assertFails(evaluate('true', { predicate: deep }), /nests deeper than 128/);
  });

  it('fails input that is not a JSON object', () => {
    assertFails(evaluate('true', null), /expected a JSON object as input, received null/);
    assertFails(evaluate('true', [1]), /received an array/);
    assertFails(evaluate('true', 'x'), /received string/);
  });

  it('fails input that is not JSON data', () => {
    assertFails(
      evaluate('true', { predicate: { when: new Date(0) } }),
      /not JSON data at \$\.predicate\.when/,
    );
    assertFails(evaluate('true', { predicate: { f: () => true } }), /not JSON data/);
    assertFails(evaluate('true', { predicate: { n: Number.NaN } }), /non-finite number/);
  });

  it('fails a cyclic input instead of looping', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    assertFails(evaluate('true', { predicate: cyclic }), /nests deeper/);
  });

  it('skips undefined fields as JSON does', () => {
    assert.deepEqual(evaluate('!has(input.spec)', { authorityMatches: {}, spec: undefined }), {
      passed: true,
    });
  });

  it('stops nested loops over a large list at a budget', () => {
    const input = {
      predicate: { packages: Array.from({ length: 2_000 }, (_, index) => ({ name: `p${index}` })) },
    };
    const outcome = evaluate(
      'predicate.packages.all(a, predicate.packages.all(b, predicate.packages.all(c, true)))',
      input,
    );
    // Either budget may trip first: the 100,000 iterations, or the 250 ms safety net on a loaded
    // machine (CI once saw the latter). Both stop the evaluation with a failure, which is the contract.
    assertFails(outcome, /evaluation budget exceeded: more than (100000 loop iterations|250 ms)/);
  });

  it('does not let an error-absorbing operator hide an exceeded budget', () => {
    const input = { predicate: { list: Array.from({ length: 1_000 }, (_, index) => index) } };
    const outcome = evaluate('predicate.list.all(a, predicate.list.all(b, true)) || true', input);
    assertFails(outcome, /evaluation budget exceeded/);
  });

  it('keeps budgets of separate evaluations apart', () => {
    const input = { predicate: { list: Array.from({ length: 200 }, (_, index) => index) } };
    const policy = compileCelPolicy('predicate.list.all(a, predicate.list.exists(b, b == a))', FIELD);
    for (let round = 0; round < 5; round++)
      assert.deepEqual(evaluateCelPolicy(policy, input), { passed: true });
  });

  it('fails a policy object that was not compiled', () => {
    assertFails(evaluateCelPolicy({ source: 'true', field: FIELD }, {}), /not compiled/);
  });
});

describe('unsupportedPolicyType', () => {
  it('accepts cel', () => {
    assert.equal(unsupportedPolicyType('cel', 'spec.policy.type'), undefined);
  });

  for (const type of ['cue', 'rego']) {
    it(`reports ${type} as POLICY_UNSUPPORTED naming the field`, () => {
      const error = unsupportedPolicyType(type, 'spec.authorities[0].attestations[0].policy.type');
      assert.ok(error instanceof PolicyError);
      assert.equal(error.code, 'POLICY_UNSUPPORTED');
      assert.match(
        error.message,
        new RegExp(`^spec\\.authorities\\[0\\]\\.attestations\\[0\\]\\.policy\\.type: ${type} `),
      );
    });
  }

  it('reports any other value as POLICY_INVALID with the expected values', () => {
    const error = unsupportedPolicyType('opa', 'spec.policy.type');
    assert.ok(error instanceof PolicyError);
    assert.equal(error.code, 'POLICY_INVALID');
    assert.equal(error.message, 'spec.policy.type: expected one of cel, cue, rego, received "opa"');
    assert.equal(unsupportedPolicyType(undefined)?.code, 'POLICY_INVALID');
  });
});
