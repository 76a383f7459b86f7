import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { KeyObject } from 'node:crypto';
import {
  exportPrivateKeyPem,
  generateSigningKey,
  parsePrivateKeyPem,
  signingKeyAlgorithm,
  type SigningKeyAlgorithm,
} from '../core/index.ts';
import { CliError } from './errors.ts';

/**
 * Loads the PEM private key at `path`, or creates one of `algorithm` there (mode 0600, written to a
 * temporary file and renamed, so a crash never leaves half a key).
 */
export async function loadOrCreateKey(
  path: string,
  algorithm: SigningKeyAlgorithm,
): Promise<{ key: KeyObject; created: boolean }> {
  let pem: string | undefined;
  try {
    pem = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw new CliError('CLI_STATE_UNUSABLE', `cannot read key ${path}: ${(error as Error).message}`, {
        cause: error,
      });
    }
  }
  if (pem !== undefined) {
    const key = parsePrivateKeyPem(pem, path);
    if (signingKeyAlgorithm(key) !== algorithm) {
      throw new CliError(
        'CLI_STATE_UNUSABLE',
        `key ${path}: expected an ${algorithm} private key, received ${signingKeyAlgorithm(key) ?? key.asymmetricKeyType ?? 'unknown'}; move it away to create a new one`,
      );
    }
    return { key, created: false };
  }
  const key = generateSigningKey(algorithm);
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const temporary = `${path}.${randomBytes(4).toString('hex')}.tmp`;
  await writeFile(temporary, exportPrivateKeyPem(key), { mode: 0o600, flag: 'wx' });
  await rename(temporary, path);
  return { key, created: true };
}

/** Reads a one-line setting from the state folder, or writes `initial` there on first use. */
export async function loadOrCreateSetting(path: string, initial: string): Promise<string> {
  try {
    return (await readFile(path, 'utf8')).trim();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  await writeFile(path, `${initial}\n`, { mode: 0o600 });
  return initial;
}
