import { randomBytes } from 'node:crypto';
import { access } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../core/index.ts';
import { CA_FILES, initCertificateAuthority, loadCertificateAuthority, type CaSigner } from '../ca/index.ts';
import { loadOrCreateSetting } from './key-store.ts';

export interface CaStateOptions {
  /** The CA folder (`<state>/ca` under `sigil up`). */
  dir: string;
  /** SIGIL_CA_PASSPHRASE; when unset, a development passphrase kept beside the keys is used. */
  passphrase: string | undefined;
  logger: Logger;
}

/**
 * The embedded default's CA: the one in `dir`, or a new root and intermediate created there on first
 * start. Without a passphrase from the environment, a random one is generated and stored in
 * `<dir>/passphrase` (owner-only): convenient for a laptop, and logged as a warning, because a key
 * whose passphrase sits beside it is protected only by the folder's permissions.
 */
export async function loadOrCreateCa(
  options: CaStateOptions,
): Promise<{ signer: CaSigner; created: boolean }> {
  let passphrase = options.passphrase;
  if (!passphrase) {
    passphrase = await loadOrCreateSetting(
      join(options.dir, 'passphrase'),
      randomBytes(24).toString('base64url'),
    );
    options.logger.warn(
      { file: join(options.dir, 'passphrase') },
      'CA keys are encrypted with a generated passphrase stored beside them (development default); set SIGIL_CA_PASSPHRASE for a real deployment',
    );
  }
  let created = false;
  if (!(await exists(join(options.dir, CA_FILES.intermediateKey)))) {
    await initCertificateAuthority({ dir: options.dir, passphrase });
    created = true;
    options.logger.info({ dir: options.dir }, 'created a root and intermediate CA');
  }
  return { signer: await loadCertificateAuthority(options.dir, passphrase), created };
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}
