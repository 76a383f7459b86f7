import type { AdmittedResource } from '../policy/index.ts';
import type { DecidedImage } from './image-decider.ts';

/**
 * Where the images of a review are decided, behind one interface: in this process (LocalDecisions), or
 * by the primary process for a webhook worker (worker-decisions.ts). The admission handler parses,
 * triages and answers; this decides.
 */

/** What one review tells about its images: the resource, the pull credentials, the deadline. */
export interface ReviewScope {
  readonly resource: AdmittedResource;
  readonly namespace: string;
  readonly serviceAccountName: string;
  /** The pod's `imagePullSecrets` names. */
  readonly imagePullSecrets: readonly string[];
  /** When the review's deadline passes, ms since the epoch. */
  readonly deadlineAt: number;
  /** Settles when the deadline passes (its timer starts on first use: cached answers need none). */
  readonly deadline: Promise<'deadline'>;
}

export interface ImageDecisions {
  /** Decides `image`; never rejects: every failure is a decision with its reason. */
  decide(image: string, scope: ReviewScope): Promise<DecidedImage>;
  /** The digest of `image` as written (a tag is resolved in the registry); rejects when it cannot be. */
  resolve(image: string, scope: ReviewScope): Promise<string>;
}
