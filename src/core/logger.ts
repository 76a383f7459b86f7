/**
 * The logger every context receives: the subset of pino's API that Sigil uses, so that contexts do not
 * import pino themselves. Structured object first, message second:
 * `log.info({ image, digest, decision }, 'admission decided')`.
 */
export interface LogFn {
  (message: string): void;
  (fields: Record<string, unknown>, message: string): void;
}

export interface Logger {
  debug: LogFn;
  info: LogFn;
  warn: LogFn;
  error: LogFn;
  child(bindings: Record<string, unknown>): Logger;
}

/** A logger that drops everything; for tests and library callers that want no output. */
export const silentLogger: Logger = Object.freeze({
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  child: () => silentLogger,
});
