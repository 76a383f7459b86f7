import type { PolicyProblem } from '../errors.ts';

/**
 * Collects field problems the way knative's `apis.FieldError` does, so messages read exactly like
 * upstream policy-controller's: `missing field(s)`, `expected exactly one, got neither`,
 * `expected exactly one, got both`, `invalid value: <value>`, `must not set the field(s)`.
 * Paths are written relative to the collector's prefix (`spec.authorities[0]`).
 */
export class FieldProblems {
  private readonly collected: PolicyProblem[];
  private readonly prefix: string;

  constructor(prefix = '', collected: PolicyProblem[] = []) {
    this.prefix = prefix;
    this.collected = collected;
  }

  /** A collector for a child field: `at('key')`, `at('images', 0)`. */
  at(field: string, index?: number): FieldProblems {
    const step = index === undefined ? field : `${field}[${index}]`;
    return new FieldProblems(joinPath(this.prefix, step), this.collected);
  }

  /** The full path of a child field, for messages built elsewhere. */
  path(field = ''): string {
    return field === '' ? this.prefix : joinPath(this.prefix, field);
  }

  missingField(...fields: string[]): void {
    this.add('missing field(s)', fields);
  }

  missingOneOf(...fields: string[]): void {
    this.add('expected exactly one, got neither', fields);
  }

  multipleOneOf(...fields: string[]): void {
    this.add('expected exactly one, got both', fields);
  }

  disallowed(...fields: string[]): void {
    this.add('must not set the field(s)', fields);
  }

  /** `invalid value: <value>: <path>`; `field` '' means the collector's own path. */
  invalidValue(value: string, field: string, details?: string): void {
    this.add(`invalid value: ${value}`, [field], details);
  }

  /** A problem in apiserver wording, already formatted (`<path>: Invalid value: ...`). */
  raw(message: string): void {
    this.collected.push({ paths: [], message });
  }

  get count(): number {
    return this.collected.length;
  }

  /** Merged and sorted as knative does: same message and details share one entry. */
  problems(): PolicyProblem[] {
    const merged = new Map<string, { paths: string[]; message: string; details?: string }>();
    for (const problem of this.collected) {
      const key = `${problem.message}\u0000${problem.details ?? ''}`;
      const existing = merged.get(key);
      if (existing) existing.paths.push(...problem.paths);
      else merged.set(key, { ...problem, paths: [...problem.paths] });
    }
    const list = [...merged.values()].map((problem) => ({
      ...problem,
      paths: [...new Set(problem.paths)].sort(),
    }));
    return list.sort((a, b) =>
      a.message === b.message ? compare(a.details ?? '', b.details ?? '') : compare(a.message, b.message),
    );
  }

  private add(message: string, fields: readonly string[], details?: string): void {
    const paths = fields.map((field) => this.path(field));
    this.collected.push(details === undefined ? { paths, message } : { paths, message, details });
  }
}

/** `validation failed: <problem>; <problem>`, each problem as `message: path, path (details)`. */
export function describeProblems(problems: readonly PolicyProblem[]): string {
  const lines = problems.map((problem) => {
    const head =
      problem.paths.length > 0 ? `${problem.message}: ${problem.paths.join(', ')}` : problem.message;
    return problem.details === undefined ? head : `${head} (${problem.details})`;
  });
  return `validation failed: ${lines.join('; ')}`;
}

function joinPath(prefix: string, step: string): string {
  if (prefix === '') return step;
  return step.startsWith('[') ? `${prefix}${step}` : `${prefix}.${step}`;
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
