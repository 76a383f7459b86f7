import { SigilError } from '../core/index.ts';

/**
 * Why the webhook could not handle an admission request. Messages name the field
 * (`request.uid`, `request.object.spec.template.spec`) and say what was expected and what was received.
 * server/ maps these to HTTP status and to the AdmissionReview answer.
 */
export type WebhookErrorCode =
  /**
   * The body is not an AdmissionReview v1/v1beta1 a webhook can answer, or the object under review lacks
   * what its kind requires (a pod spec, a container image).
   */
  'WEBHOOK_REVIEW_INVALID';

export class WebhookError extends SigilError<WebhookErrorCode> {
  /** The review's `request.uid` when it could be read before the problem was found, for the answer. */
  readonly uid: string | undefined;

  constructor(code: WebhookErrorCode, message: string, options?: { cause?: unknown; uid?: string }) {
    super(code, message, options);
    this.uid = options?.uid;
  }
}

/** `expected a string, received number`: names the JSON type received, `nothing` for a missing field. */
export function expected(what: string, value: unknown): string {
  return `expected ${what}, received ${describeJsonType(value)}`;
}

function describeJsonType(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}
