import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * The upstream test vectors (shared/vectors beside the repository; see its README for provenance and
 * stated outcomes). SIGIL_VECTORS overrides the location.
 */
export const vectorsDir =
  process.env.SIGIL_VECTORS ?? fileURLToPath(new URL('../../../shared/vectors', import.meta.url));

export function vectorPath(relativePath: string): string {
  const path = `${vectorsDir}/${relativePath}`;
  if (!existsSync(path))
    throw new Error(`test vector ${relativePath} not found under ${vectorsDir}; set SIGIL_VECTORS`);
  return path;
}
