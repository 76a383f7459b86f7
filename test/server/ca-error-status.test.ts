import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { silentLogger } from '../../src/core/index.ts';
import { CaError, type CaErrorCode } from '../../src/ca/errors.ts';
import { statusForCode, toErrorResponse } from '../../src/server/index.ts';

describe('the HTTP status of identity-token errors', () => {
  const expected: [CaErrorCode, number][] = [
    ['CA_TOKEN_INVALID', 401],
    ['CA_TOKEN_EXPIRED', 401],
    ['CA_TOKEN_NOT_YET_VALID', 401],
    ['CA_TOKEN_AUDIENCE', 401],
    ['CA_TOKEN_ALGORITHM', 401],
    ['CA_ISSUER_UNKNOWN', 401],
    ['CA_EMAIL_UNVERIFIED', 401],
    ['CA_CLAIM_MISSING', 401],
    ['CA_CLAIM_INVALID', 401],
    ['CA_ISSUER_INVALID', 502],
    ['CA_ISSUER_UNAVAILABLE', 503],
    ['CA_CONFIG_INVALID', 500],
    ['CA_REQUEST_INVALID', 400],
  ];
  for (const [code, status] of expected) {
    it(`maps ${code} to ${status}`, () => {
      assert.equal(statusForCode(code), status);
    });
  }

  it('answers an unreachable issuer with Retry-After', () => {
    const response = toErrorResponse(new CaError('CA_ISSUER_UNAVAILABLE', 'down'), silentLogger);
    assert.equal(response.headers['retry-after'], '1');
  });

  it('does not take a prototype property for a status', () => {
    assert.equal(statusForCode('toString'), 500);
  });
});
