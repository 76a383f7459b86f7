import { performance } from 'node:perf_hooks';

/**
 * Time this thread has spent in signature verification, so the log can report what share of its work
 * verifying is (the admission workers send it with each batch). A counter per thread — each worker has
 * its own module instance — and nothing else: verification stays a pure function of its arguments.
 */
let verifyingSeconds = 0;

/** Runs `verify` and adds its duration to this thread's verification time. */
export function timeVerification<T>(verify: () => T): T {
  const start = performance.now();
  try {
    return verify();
  } finally {
    verifyingSeconds += (performance.now() - start) / 1000;
  }
}

/** Seconds this thread has spent verifying signatures since it started. */
export function verificationSeconds(): number {
  return verifyingSeconds;
}
