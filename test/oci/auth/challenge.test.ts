import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseAuthChallenges } from '../../../src/oci/auth/challenge.ts';

describe('parseAuthChallenges', () => {
  it('reads a distribution bearer challenge with a quoted scope holding a comma', () => {
    const [challenge, ...rest] = parseAuthChallenges(
      'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/nginx:pull,push"',
    );
    assert.deepEqual(rest, []);
    assert.equal(challenge?.scheme, 'bearer');
    assert.deepEqual(challenge?.parameters, {
      realm: 'https://auth.docker.io/token',
      service: 'registry.docker.io',
      scope: 'repository:library/nginx:pull,push',
    });
  });

  it('reads several challenges in one header, spaces around = and escaped quotes', () => {
    const challenges = parseAuthChallenges(
      'Basic realm="a \\"quoted\\" realm", Bearer realm = "https://x/token" , service=reg',
    );
    assert.deepEqual(
      challenges.map((challenge) => [challenge.scheme, { ...challenge.parameters }]),
      [
        ['basic', { realm: 'a "quoted" realm' }],
        ['bearer', { realm: 'https://x/token', service: 'reg' }],
      ],
    );
  });

  it('keeps what it understood before a malformed part, and ignores hostile input', () => {
    assert.deepEqual(
      parseAuthChallenges('Bearer realm="unterminated').map((c) => c.scheme),
      ['bearer'],
    );
    assert.deepEqual(parseAuthChallenges(''), []);
    assert.deepEqual(parseAuthChallenges(undefined), []);
    assert.deepEqual(parseAuthChallenges('x'.repeat(20_000)), []);
    assert.deepEqual(parseAuthChallenges('=,=,"'), []);
    const [proto] = parseAuthChallenges('Bearer __proto__="x",realm="r"');
    assert.equal(proto?.parameters.realm, 'r');
    assert.equal(Object.getPrototypeOf(proto?.parameters), Object.prototype);
  });

  it('reads every value of a repeated header', () => {
    const challenges = parseAuthChallenges(['Basic realm="one"', 'Bearer realm="two"']);
    assert.deepEqual(
      challenges.map((challenge) => challenge.parameters.realm),
      ['one', 'two'],
    );
  });
});
