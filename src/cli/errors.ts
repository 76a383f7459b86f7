import { SigilError } from '../core/index.ts';

export type CliErrorCode =
  'CLI_OPTION_INVALID' | 'CLI_STATE_UNUSABLE' | 'CLI_CHECK_FAILED' | 'CLI_WEBHOOK_WORKER_FAILED';

/** An error the user can fix; its message says how. */
export class CliError extends SigilError<CliErrorCode> {}
