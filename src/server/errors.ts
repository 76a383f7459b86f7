import { SigilError } from '../core/index.ts';

export type ServerErrorCode = 'SERVER_ADDRESS_IN_USE' | 'SERVER_LISTEN_FAILED' | 'SERVER_OVERLOADED';

export class ServerError extends SigilError<ServerErrorCode> {}
