/**
 * The base of every error Sigil raises on purpose. Each bounded context subclasses it once
 * (`LogError`, `CaError`, ...) with a union of SCREAMING_SNAKE codes carrying the context's prefix.
 * Messages are lower-case, without a final period, and say what was expected and what was received.
 */
export class SigilError<C extends string = string> extends Error {
  readonly code: C;

  constructor(code: C, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }

  /** A plain, serializable view for logs and API bodies; the cause is left out on purpose. */
  toJSON(): { name: string; code: C; message: string } {
    return { name: this.name, code: this.code, message: this.message };
  }
}

export type CoreErrorCode =
  | 'CORE_ENCODING_INVALID'
  | 'CORE_JSON_INVALID'
  | 'CORE_INPUT_TOO_LARGE'
  | 'CORE_CONFIG_INVALID'
  | 'CORE_KEY_INVALID'
  | 'CORE_CERTIFICATE_INVALID'
  | 'CORE_KEY_UNSUPPORTED';

export class CoreError extends SigilError<CoreErrorCode> {}

/** Narrows to a SigilError with a string code (`instanceof` alone yields `SigilError<any>`). */
export function isSigilError(error: unknown): error is SigilError {
  return error instanceof SigilError;
}

/** For the `default` branch of an exhaustive switch: a compile error if a case is missed. */
export function assertNever(value: never, what = 'value'): never {
  throw new TypeError(`unexpected ${what}: ${JSON.stringify(value)}`);
}

/** The message of anything thrown, for logs and user-facing errors. */
export function describeError(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}
