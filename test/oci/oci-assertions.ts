import assert from 'node:assert/strict';
import { OciError, type OciErrorCode } from '../../src/oci/errors.ts';

/** Asserts that `promise` rejects with an OciError of `code` whose message matches `message`. */
export async function rejectsWith(
  promise: Promise<unknown>,
  code: OciErrorCode,
  message?: RegExp,
): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof OciError, `expected an OciError, received ${String(error)}`);
    assert.equal(error.code, code, error.message);
    if (message) assert.match(error.message, message);
    return true;
  });
}
