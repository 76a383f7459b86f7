import { once } from 'node:events';
import type { CliIo } from './program.ts';

/** The real process: environment, stdout/stderr, and SIGINT/SIGTERM as the stop request. */
export function processIo(): CliIo {
  return {
    env: process.env,
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
    untilStopped: () =>
      Promise.race([
        once(process, 'SIGINT').then(() => 'SIGINT'),
        once(process, 'SIGTERM').then(() => 'SIGTERM'),
      ]),
  };
}
