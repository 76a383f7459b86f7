/** An AbortSignal that aborts after a delay, and the way to stop its timer once the work is done. */
export interface TimeoutSignal {
  readonly signal: AbortSignal;
  clear(): void;
}

/**
 * An AbortSignal aborted with a TimeoutError `ms` after the call, held by an ordinary timer. Used
 * instead of `AbortSignal.timeout`, whose timer does not keep its signal alive: a fetch whose peer
 * never answers was seen waiting far past its timeout in CI (the OIDC key refresh test hung for
 * minutes). The timer is unref'd, so it never keeps a process alive by itself. Call `clear()` once the
 * response (body included) is read.
 */
export function timeoutSignal(ms: number): TimeoutSignal {
  const controller = new AbortController();
  const timer = setTimeout(
    () => controller.abort(new DOMException(`timed out after ${ms} ms`, 'TimeoutError')),
    ms,
  );
  timer.unref();
  return { signal: controller.signal, clear: () => clearTimeout(timer) };
}
