import { accessSync, constants } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';

/** Where scripts/install-tools.sh builds Go tools and the sigstore-python venv. */
export const toolsDir = process.env.SIGIL_TOOLS ?? join(homedir(), '.cache', 'sigil-tools');

/**
 * The absolute path of a tool the tests need: first the tools cache, then PATH, then `extraDirs`.
 * Throws with the command that installs it, so a missing tool is never mistaken for a failing feature.
 */
export function toolPath(name: string, extraDirs: readonly string[] = []): string {
  const dirs = [join(toolsDir, 'bin'), ...(process.env.PATH ?? '').split(delimiter), ...extraDirs];
  for (const dir of dirs) {
    if (!dir) continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this folder
    }
  }
  throw new Error(`${name} not found in ${toolsDir}/bin or PATH; run scripts/install-tools.sh`);
}
