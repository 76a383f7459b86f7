import { access, constants, mkdir, readFile, stat } from 'node:fs/promises';
import { CliError } from './errors.ts';

/**
 * Creates the state folder (owner-only, since it will hold private keys) or checks an existing one is a
 * writable folder. Fails with a message that says what to change.
 */
export async function prepareStateDir(path: string): Promise<void> {
  try {
    await mkdir(path, { recursive: true, mode: 0o700 });
    const info = await stat(path);
    if (!info.isDirectory()) throw new Error('not a directory');
    await access(path, constants.R_OK | constants.W_OK);
  } catch (cause) {
    throw new CliError(
      'CLI_STATE_UNUSABLE',
      `state folder ${path} cannot be used (${(cause as Error).message}); pass --state with a writable folder or set SIGIL_STATE`,
      { cause },
    );
  }
}

/** The text of a file a flag names, or a CliError naming the flag and what went wrong. */
export async function readOptionFile(flag: string, file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (cause) {
    throw new CliError('CLI_OPTION_INVALID', `${flag}: cannot read ${file} (${(cause as Error).message})`, {
      cause,
    });
  }
}
