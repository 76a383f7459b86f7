import { readFileSync } from 'node:fs';

/** A version pinned in scripts/install-tools.sh (its one place), e.g. `pinnedVersion('COSIGN_VERSION')`. */
export function pinnedVersion(variable: string): string {
  const script = readFileSync(new URL('../../scripts/install-tools.sh', import.meta.url), 'utf8');
  const match = new RegExp(`^${variable}=(\\S+)$`, 'm').exec(script);
  if (!match?.[1]) throw new Error(`${variable} is not pinned in scripts/install-tools.sh`);
  return match[1];
}
