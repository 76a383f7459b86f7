import { SigilError } from '../core/index.ts';

export type ServerErrorCode =
  | 'SERVER_ADDRESS_IN_USE'
  | 'SERVER_LISTEN_FAILED'
  | 'SERVER_TLS_INVALID'
  | 'SERVER_OVERLOADED'
  | 'REQUEST_TOO_LARGE'
  | 'SERVER_UNAVAILABLE'
  | 'SERVER_PATH_INVALID'
  | 'SERVER_TILE_NOT_FOUND';

export class ServerError extends SigilError<ServerErrorCode> {}
