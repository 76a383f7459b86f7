// Enforces the import rules of DESIGN.md: arrows point inward, `verify` does no I/O, only `server`
// imports the HTTP framework, only `cli` reads process.env, and `internal/` stays inside its context.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const CONTEXTS = {
  core: [],
  merkle: ['core'],
  log: ['core', 'merkle'],
  ctlog: ['core', 'merkle', 'log'],
  ca: ['core'],
  tsa: ['core'],
  tuf: ['core'],
  oci: ['core'],
  verify: ['core', 'merkle'],
  policy: ['core', 'verify'],
  webhook: ['core', 'policy', 'verify', 'oci'],
  k8s: ['core', 'policy', 'verify'],
  server: ['core', 'merkle', 'log', 'ctlog', 'ca', 'tsa', 'tuf', 'oci', 'verify', 'policy', 'webhook', 'k8s'],
  cli: [
    'core',
    'merkle',
    'log',
    'ctlog',
    'ca',
    'tsa',
    'tuf',
    'oci',
    'verify',
    'policy',
    'webhook',
    'k8s',
    'server',
  ],
} as const satisfies Record<string, readonly string[]>;

type Context = keyof typeof CONTEXTS;

/** Packages only one context may import. */
const PACKAGE_OWNERS: Record<string, Context> = {
  express: 'server',
  'prom-client': 'server',
  pino: 'cli',
  commander: 'cli',
};
/** Modules that do I/O, forbidden in `verify` (DESIGN.md: verification is offline). */
const IO_MODULES = /^node:(fs|fs\/promises|net|http|https|http2|child_process|dgram|dns|tls)$/;

export interface SourceFile {
  /** Path relative to src/, with forward slashes, e.g. `log/append.ts`. */
  path: string;
  text: string;
}

const IMPORT =
  /(?:^|[^\w.])(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|(?:^|[^\w.])import\s*\(\s*['"]([^'"]+)['"]\s*\)|^\s*import\s*['"]([^'"]+)['"]/gm;

export function findViolations(files: readonly SourceFile[]): string[] {
  const violations: string[] = [];
  for (const { path, text } of files) {
    const context = path.split('/')[0] as Context;
    if (!(context in CONTEXTS)) {
      violations.push(`${path}: src/${context} is not a context of DESIGN.md`);
      continue;
    }
    const allowed: readonly string[] = CONTEXTS[context];
    const code = stripComments(text);
    for (const match of code.matchAll(IMPORT)) {
      const specifier = match[1] ?? match[2] ?? match[3] ?? '';
      if (specifier.startsWith('.')) {
        const target = join(path, '..', specifier).split(sep);
        const targetContext = target[0] ?? '';
        if (targetContext === context) continue;
        if (!allowed.includes(targetContext)) {
          violations.push(`${path}: ${context} may not import ${targetContext} (${specifier})`);
        } else if (target.includes('internal')) {
          violations.push(`${path}: imports ${targetContext}'s internal module ${specifier}`);
        } else if (target.slice(1).join('/') !== 'index.ts') {
          violations.push(`${path}: imports ${specifier}; import another context only through its index.ts`);
        }
        continue;
      }
      const packageName = specifier.startsWith('@')
        ? specifier.split('/').slice(0, 2).join('/')
        : specifier.split('/')[0]!;
      const owner = PACKAGE_OWNERS[packageName];
      if (owner && owner !== context) violations.push(`${path}: only ${owner} may import ${packageName}`);
      if (context === 'verify' && IO_MODULES.test(specifier))
        violations.push(`${path}: verify does no I/O, but imports ${specifier}`);
    }
    if (context !== 'cli' && /\bprocess\.env\b/.test(code))
      violations.push(`${path}: only cli reads process.env`);
    if (context === 'verify' && /\bfetch\s*\(/.test(code))
      violations.push(`${path}: verify does no I/O, but calls fetch`);
  }
  return violations;
}

function stripComments(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`])\/\/.*$/gm, '$1');
}

function readSources(root: string): SourceFile[] {
  const files: SourceFile[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const full = join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.name.endsWith('.ts'))
        files.push({ path: relative(root, full).split(sep).join('/'), text: readFileSync(full, 'utf8') });
    }
  };
  walk(root);
  return files;
}

describe('architecture', () => {
  it('src/ follows the import rules of DESIGN.md', () => {
    const sources = readSources(fileURLToPath(new URL('../src', import.meta.url)));
    assert.ok(sources.length > 0, 'no sources found');
    assert.deepEqual(findViolations(sources), []);
  });

  describe('the checker itself', () => {
    const cases: [string, SourceFile, RegExp][] = [
      [
        'an outward arrow',
        { path: 'core/x.ts', text: "import { a } from '../log/index.ts';" },
        /core may not import log/,
      ],
      [
        'a sideways arrow',
        { path: 'ca/x.ts', text: "import type { A } from '../tsa/index.ts';" },
        /ca may not import tsa/,
      ],
      [
        'a dynamic import',
        { path: 'merkle/x.ts', text: "const m = await import('../verify/index.ts');" },
        /merkle may not import verify/,
      ],
      [
        'a re-export',
        { path: 'verify/x.ts', text: "export { a } from '../oci/index.ts';" },
        /verify may not import oci/,
      ],
      [
        'a deep import',
        { path: 'log/x.ts', text: "import { a } from '../merkle/hash.ts';" },
        /only through its index\.ts/,
      ],
      [
        'an internal import',
        { path: 'webhook/x.ts', text: "import { a } from '../oci/internal/auth.ts';" },
        /internal module/,
      ],
      [
        'express outside server',
        { path: 'log/x.ts', text: "import express from 'express';" },
        /only server may import express/,
      ],
      [
        'I/O in verify',
        { path: 'verify/x.ts', text: "import { readFile } from 'node:fs/promises';" },
        /verify does no I\/O/,
      ],
      [
        'fetch in verify',
        { path: 'verify/x.ts', text: 'await fetch(url);' },
        /verify does no I\/O, but calls fetch/,
      ],
      [
        'process.env outside cli',
        { path: 'server/x.ts', text: 'const port = process.env.PORT;' },
        /only cli reads process\.env/,
      ],
      ['an unknown context', { path: 'utils/x.ts', text: '' }, /not a context of DESIGN\.md/],
    ];
    for (const [name, file, expected] of cases) {
      it(`flags ${name}`, () => {
        const violations = findViolations([file]);
        assert.equal(violations.length, 1, violations.join('\n'));
        assert.match(violations[0]!, expected);
      });
    }

    it('accepts inward arrows through index.ts, same-context imports and commented-out imports', () => {
      const ok: SourceFile[] = [
        {
          path: 'log/x.ts',
          text: "import { a } from '../merkle/index.ts';\nimport { b } from './internal/y.ts';",
        },
        { path: 'cli/x.ts', text: "import { c } from '../server/index.ts';\nconst e = process.env.HOME;" },
        { path: 'core/x.ts', text: "// import { a } from '../log/index.ts';" },
      ];
      assert.deepEqual(findViolations(ok), []);
    });
  });
});
