import { PolicyError } from './errors.ts';
import { normalizeImageName } from './image-name.ts';

// Image globs of ClusterImagePolicy `spec.images[].glob`, as policy-controller's `pkg/apis/glob`:
// `*` matches any run of characters but `/`, `**` any run at all (tag and digest separators are
// ordinary characters), every other character is literal, and the glob covers the whole name. The name
// matched is go-containerregistry's fully qualified one (`ubuntu` → `index.docker.io/library/ubuntu:latest`);
// when that fails and the image was written differently, the image as written is tried too (upstream's
// deprecated fallback, kept for parity). A bare `*` means `index.docker.io/library/*` and `*/*` means
// `index.docker.io/*/*`.
//
// Matching runs over a compiled token list in O(name × glob) steps, never a backtracking RegExp: image
// names come from workloads, and a RegExp of `*a*a*a…` backtracks in time polynomial of that degree.

/** policy-controller `validGlob`. */
const VALID_GLOB = /^[a-zA-Z0-9\-_:/*.@]+$/;
const REWRITES: ReadonlyMap<string, string> = new Map([
  ['*', 'index.docker.io/library/*'],
  ['*/*', 'index.docker.io/*/*'],
]);
/** Globs are policy text; anything longer is a mistake, and bounds the matching work. */
export const MAX_GLOB_LENGTH = 1024;
const CACHE_LIMIT = 4096;

export interface ImageGlob {
  /** The glob as written in the policy. */
  readonly glob: string;
  /** The glob matched, after the rewrite of a bare `*` or of star-slash-star. */
  readonly pattern: string;
  /** Set when the glob was rewritten: what the author should write instead (upstream's TODO warning). */
  readonly warning?: string;
  /**
   * Whether the glob matches `image`. MUST throw PolicyError POLICY_IMAGE_INVALID for an image
   * go-containerregistry cannot parse (upstream returns that error, and the admission is denied).
   */
  matches(image: string): boolean;
}

type Token = { kind: 'literal'; text: string } | { kind: 'segment' } | { kind: 'any' };
/** `segment` is `*` (no `/`), `any` is `**`. */
type Position = { kind: 'char'; char: string } | { kind: 'segment' } | { kind: 'any' };

const compiled = new Map<string, ImageGlob>();
/** Answers each compiled glob keeps, by image. */
const RESULT_CACHE_LIMIT = 4_096;

/**
 * Compiles `glob` (cached: the same text compiles once). Throws PolicyError POLICY_INVALID
 * `invalid value: GLOB: FIELD` when the glob has a character outside `[a-zA-Z0-9-_:/*.@]`.
 */
export function compileImageGlob(glob: string, field = 'glob'): ImageGlob {
  const cached = compiled.get(glob);
  if (cached) return cached;
  if (typeof glob !== 'string' || glob.length > MAX_GLOB_LENGTH) {
    const shown = typeof glob === 'string' ? `${glob.slice(0, 80)}…` : String(glob);
    throw new PolicyError(
      'POLICY_INVALID',
      `invalid value: ${shown}: ${field} (expected a glob of at most ${MAX_GLOB_LENGTH} characters)`,
    );
  }
  const pattern = REWRITES.get(glob) ?? glob;
  if (!VALID_GLOB.test(pattern)) {
    throw new PolicyError(
      'POLICY_INVALID',
      `invalid value: ${glob}: ${field} (expected only letters, digits and - _ : / * . @)`,
    );
  }
  const tokens = tokenize(pattern);
  const literal = tokens.length === 1 && tokens[0]?.kind === 'literal' ? tokens[0].text : undefined;
  const positions = positionsOf(tokens);
  const test =
    literal !== undefined ? (name: string) => name === literal : (name: string) => run(positions, name);
  const results = new Map<string, boolean>();
  const imageGlob: ImageGlob = {
    glob,
    pattern,
    ...(pattern !== glob ? { warning: `the glob match "${glob}" should be "${pattern}"` } : {}),
    matches(image: string): boolean {
      // The webhook asks about the same few images thousands of times a second: remember answers
      // (bounded), never errors.
      const known = results.get(image);
      if (known !== undefined) return known;
      const name = normalizeImageName(image);
      const matched = test(name) || (name !== image && test(image));
      if (results.size >= RESULT_CACHE_LIMIT) results.clear();
      results.set(image, matched);
      return matched;
    },
  };
  if (compiled.size >= CACHE_LIMIT) compiled.clear();
  compiled.set(glob, Object.freeze(imageGlob));
  return imageGlob;
}

/** `compileImageGlob(glob).matches(image)`: throws POLICY_INVALID for the glob, POLICY_IMAGE_INVALID for the image. */
export function matchesImage(glob: string, image: string): boolean {
  return compileImageGlob(glob).matches(image);
}

/** Upstream's translation order: `**` first (left to right), then the single `*` left over. */
function tokenize(pattern: string): Token[] {
  const tokens: Token[] = [];
  let literal = '';
  const flush = () => {
    if (literal !== '') tokens.push({ kind: 'literal', text: literal });
    literal = '';
  };
  for (let index = 0; index < pattern.length; index++) {
    if (pattern[index] !== '*') {
      literal += pattern[index];
      continue;
    }
    flush();
    if (pattern[index + 1] === '*') {
      tokens.push({ kind: 'any' });
      index++;
    } else {
      tokens.push({ kind: 'segment' });
    }
  }
  flush();
  return tokens;
}

/** Each literal character and each wildcard of the glob, in order; the state after the last is the end. */
function positionsOf(tokens: readonly Token[]): Position[] {
  const positions: Position[] = [];
  for (const token of tokens) {
    if (token.kind === 'literal') for (const char of token.text) positions.push({ kind: 'char', char });
    else positions.push({ kind: token.kind });
  }
  return positions;
}

/**
 * Simulates the glob as an NFA over `name`: the live states are a set of positions, so the work is
 * bounded by the name's length times the glob's.
 */
function run(positions: readonly Position[], name: string): boolean {
  const end = positions.length;
  let current = new Uint8Array(end + 1);
  let next = new Uint8Array(end + 1);
  current[0] = 1;
  closeOverWildcards(positions, current);
  for (const char of name) {
    next.fill(0);
    for (let state = 0; state < end; state++) {
      if (current[state] !== 1) continue;
      const position = positions[state];
      if (position?.kind === 'char') {
        if (position.char === char) next[state + 1] = 1;
      } else if (position?.kind === 'any' || char !== '/') {
        next[state] = 1;
      }
    }
    closeOverWildcards(positions, next);
    if (!next.includes(1)) return false;
    [current, next] = [next, current];
  }
  return current[end] === 1;
}

/** A wildcard matches the empty string: being before it is also being after it. */
function closeOverWildcards(positions: readonly Position[], states: Uint8Array): void {
  for (let state = 0; state < positions.length; state++) {
    if (states[state] === 1 && positions[state]?.kind !== 'char') states[state + 1] = 1;
  }
}
