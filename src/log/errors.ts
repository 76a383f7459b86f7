import { SigilError } from '../core/index.ts';

export type LogErrorCode =
  | 'LOG_STORAGE_FAILED'
  | 'LOG_STORAGE_CORRUPT'
  | 'LOG_INTEGRATION_CONFLICT'
  | 'LOG_OVERLOADED'
  | 'LOG_CLOSED'
  | 'LOG_ENTRY_NOT_FOUND'
  | 'LOG_ENTRY_TOO_LARGE'
  | 'LOG_INDEX_INVALID'
  | 'LOG_OPTIONS_INVALID'
  | 'LOG_INCLUSION_UNAVAILABLE';

export class LogError extends SigilError<LogErrorCode> {}
