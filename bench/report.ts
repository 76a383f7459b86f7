/** Prints one benchmark figure beside its target, e.g. `storage: appends/s  61,234  (target ≥ 50,000: met)`. */
export function report(name: string, value: number, target: { atLeast?: number; atMost?: number }): boolean {
  const figure = value.toLocaleString('en-US', { maximumFractionDigits: value < 10 ? 3 : 0 });
  let verdict: string;
  let met = true;
  if (target.atLeast !== undefined) {
    met = value >= target.atLeast;
    verdict = `target ≥ ${target.atLeast.toLocaleString('en-US')}: ${met ? 'met' : 'MISSED'}`;
  } else if (target.atMost !== undefined) {
    met = value <= target.atMost;
    verdict = `target ≤ ${target.atMost.toLocaleString('en-US')}: ${met ? 'met' : 'MISSED'}`;
  } else {
    verdict = 'no target';
  }
  process.stdout.write(`${name.padEnd(48)} ${figure.padStart(12)}  (${verdict})\n`);
  return met;
}
