// The sigstore-conformance bundle-verify suite (/work/shared/vectors/sigstore-conformance, upstream
// sigstore/sigstore-conformance @ a73de497): every case gives its stated outcome, and every failing case
// fails for its stated reason, asserted as the VerificationError code of the step that reason names.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { VerificationError } from '../../src/verify/index.ts';
import { EXPECTED_FAILURES, loadConformanceCases, verifyConformanceCase } from './conformance-cases.ts';

const cases = loadConformanceCases();

describe('sigstore-conformance bundle-verify', () => {
  it('has the 70 cases the suite states (21 pass, 49 fail), each with a stated failure reason', () => {
    assert.equal(cases.length, 70);
    const failing = cases
      .filter((testCase) => testCase.name.endsWith('_fail'))
      .map((testCase) => testCase.name);
    assert.equal(failing.length, 49);
    assert.deepEqual(failing.sort(), Object.keys(EXPECTED_FAILURES).sort());
  });

  for (const testCase of cases) {
    const expected = EXPECTED_FAILURES[testCase.name];
    if (expected === undefined) {
      it(`${testCase.name}: verifies`, () => {
        const result = verifyConformanceCase(testCase);
        assert.equal(result.version, 'sigil.dev/verification-result/v1');
        assert.ok(result.tlogEntries.length >= 1);
        if (!testCase.keyPem) {
          assert.equal(result.signer.kind, 'certificate');
          assert.ok(result.verifiedTimes.length >= 1);
        }
      });
    } else {
      it(`${testCase.name}: refused with ${expected}`, () => {
        assert.throws(
          () => verifyConformanceCase(testCase),
          (error: unknown) => {
            assert.ok(
              error instanceof VerificationError,
              `expected a VerificationError, received ${String(error)}`,
            );
            assert.equal(error.code, expected, error.message);
            return true;
          },
        );
      });
    }
  }
});
