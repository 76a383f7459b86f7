import { postJson } from './rekor-entries.ts';

/** A seeded PRNG (mulberry32), so every run sends the same requests. */
export function seeded(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** Values of every JSON type and a few awkward strings, put in place of fields that expect others. */
export const HOSTILE_JSON_VALUES: readonly unknown[] = [
  null,
  0,
  -1,
  1.5,
  true,
  '',
  'x',
  '!!!!',
  [],
  {},
  ['a'],
  { a: 1 },
  '\u0000',
  1e308,
];

/** Marks a field to delete in `mutate`. */
export const DELETE = Symbol('delete');

/** A deep copy of `value` with the field at `path` replaced by `replacement` (or deleted). */
export function mutate(value: object, path: readonly string[], replacement: unknown): unknown {
  const copy = structuredClone(value) as Record<string, unknown>;
  let node = copy;
  for (const key of path.slice(0, -1)) node = node[key] as Record<string, unknown>;
  const last = path.at(-1)!;
  if (replacement === DELETE) delete node[last];
  else node[last] = replacement;
  return copy;
}

/** Named requests: `valid` with each field at `paths` deleted, then replaced by each of `hostile`. */
export function fieldCases(
  valid: object,
  paths: readonly (readonly string[])[],
  hostile: readonly unknown[],
): [string, unknown][] {
  return paths.flatMap((path): [string, unknown][] => [
    [`${path.join('.')} deleted`, mutate(valid, path, DELETE)],
    ...hostile.map((value): [string, unknown] => [
      `${path.join('.')} = ${JSON.stringify(value)?.slice(0, 20)}`,
      mutate(valid, path, value),
    ]),
  ]);
}

/** `count` named requests: `text` cut at random places (never empty, never whole). */
export function truncatedCases(text: string, count: number, random: () => number): [string, unknown][] {
  return Array.from({ length: count }, (): [string, unknown] => {
    const cut = 1 + Math.floor(random() * (text.length - 2));
    return [`JSON truncated at ${cut}`, text.slice(0, cut)];
  });
}

/**
 * POSTs each named request to `url`, 16 at a time, and returns a line for every one not answered with
 * a 4xx carrying a string `code` and a non-empty `message`.
 */
export async function unrefusedRequests(
  url: string,
  requests: readonly [string, unknown][],
): Promise<string[]> {
  const failures: string[] = [];
  for (let i = 0; i < requests.length; i += 16) {
    await Promise.all(
      requests.slice(i, i + 16).map(async ([name, body]) => {
        const response = await postJson(url, body);
        const answer = (await response.json().catch(() => ({}))) as { code?: unknown; message?: unknown };
        const ok =
          response.status >= 400 &&
          response.status < 500 &&
          typeof answer.code === 'string' &&
          typeof answer.message === 'string' &&
          answer.message.length > 0;
        if (!ok) failures.push(`${name}: HTTP ${response.status} ${JSON.stringify(answer).slice(0, 200)}`);
      }),
    );
  }
  return failures;
}
