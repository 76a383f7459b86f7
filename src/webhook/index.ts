// The public names of src/webhook: AdmissionReviews in, decisions and digest patches out.
export { createAdmissionHandler } from './admission-handler.ts';
export type {
  AdmissionHandler,
  AdmissionHandlerOptions,
  HandlerSettings,
  MutationSettings,
} from './admission-handler.ts';
export type { DecidedImage, DecisionScope } from './image-decider.ts';
export type { ImageDecisions, ReviewScope } from './image-decisions.ts';
export { LocalDecisions } from './local-decisions.ts';
export type { LocalDecisionsOptions, PolicyFacts } from './local-decisions.ts';
export { serveWorker, WorkerDecisions } from './worker-decisions.ts';
export type {
  Channel,
  PrimaryMessage,
  ScopeMessage,
  WorkerDecisionsOptions,
  WorkerMessage,
} from './worker-decisions.ts';
export { policySnapshot, staticPolicySource } from './policy-source.ts';
export type { PolicySnapshot, PolicySource, StaticPolicySourceInput } from './policy-source.ts';
export { RegistryAccess } from './registry-access.ts';
export type { PullSecretRequest, RegistryAccessOptions } from './registry-access.ts';
export { ResultCache } from './result-cache.ts';
export type { CacheLookup, ResultCacheOptions } from './result-cache.ts';
export { noWebhookMetrics } from './webhook-metrics.ts';
export type { ReviewOutcome, WebhookMetrics } from './webhook-metrics.ts';
export { WebhookError } from './errors.ts';
export type { WebhookErrorCode } from './errors.ts';
export {
  ADMISSION_REVIEW_V1,
  ADMISSION_REVIEW_V1BETA1,
  errorReviewResponse,
  normalizeWarnings,
  parseAdmissionReview,
  reviewResponse,
} from './admission-review.ts';
export type {
  AdmissionOperation,
  AdmissionRequest,
  AdmissionResponse,
  AdmissionReviewApiVersion,
  AdmissionReviewResponse,
  AdmissionStatus,
  AdmissionUserInfo,
  GroupVersionKind,
  GroupVersionResource,
  ReviewResponseOptions,
} from './admission-review.ts';
export { triageRequest } from './workload.ts';
export type { ContainerList, Triage, Workload, WorkloadImage } from './workload.ts';
export { digestPatch, isPinned } from './digest-patch.ts';
export type { JsonPatchOperation } from './digest-patch.ts';
