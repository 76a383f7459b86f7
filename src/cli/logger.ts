import { pino } from 'pino';
import type { Logger } from '../core/index.ts';
import type { LogLevel } from './config.ts';

/** JSON lines on stderr, so stdout stays for what a command prints; secrets redacted wherever they appear. */
export function createLogger(level: LogLevel): Logger {
  return pino(
    {
      level,
      base: { service: 'sigil' },
      redact: {
        paths: ['*.token', '*.password', '*.authorization', '*.privateKey', 'headers.authorization'],
        censor: '[redacted]',
      },
    },
    pino.destination({ fd: 2, sync: false }),
  );
}
