import { SigilError } from '../core/index.ts';

export type TufErrorCode = 'TUF_KEY_UNSUPPORTED';

export class TufError extends SigilError<TufErrorCode> {}
