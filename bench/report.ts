/** A figure with thousands separators; three decimals for small values, none for large ones. */
export function format(value: number): string {
  return value.toLocaleString('en-US', { maximumFractionDigits: Math.abs(value) < 10 ? 3 : 0 });
}

/** Prints one benchmark figure beside its target, e.g. `storage: appends/s  61,234  (target ≥ 50,000: met)`. */
export function report(name: string, value: number, target: { atLeast?: number; atMost?: number }): boolean {
  let verdict: string;
  let met = true;
  if (target.atLeast !== undefined) {
    met = value >= target.atLeast;
    verdict = `target ≥ ${format(target.atLeast)}: ${met ? 'met' : 'MISSED'}`;
  } else if (target.atMost !== undefined) {
    met = value <= target.atMost;
    verdict = `target ≤ ${format(target.atMost)}: ${met ? 'met' : 'MISSED'}`;
  } else {
    verdict = 'no target';
  }
  process.stdout.write(`${name.padEnd(56)} ${format(value).padStart(12)}  (${verdict})\n`);
  return met;
}

/** The middle value (the upper one of an even count). */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}
