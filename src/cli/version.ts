import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Sigil's version, from the package.json above this file (src/cli or dist/src/cli alike). */
export function readVersion(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let depth = 0; depth < 5; depth += 1) {
    try {
      const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as {
        name?: string;
        version?: string;
      };
      if (manifest.name === 'sigil' && typeof manifest.version === 'string') return manifest.version;
    } catch {
      // no package.json at this level: look one folder up
    }
    dir = dirname(dir);
  }
  return '0.0.0-unknown';
}
