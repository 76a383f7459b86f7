import { describeError } from '../core/index.ts';

/** One part of the process whose readiness `/readyz` reports, such as a database or a signer. */
export interface ReadinessCheck {
  /** Short, stable name shown in `/readyz` output, e.g. `log-storage`. */
  name: string;
  /** Resolves when ready; rejects (or resolves false) when not, with the reason in the error. */
  check(): Promise<boolean> | boolean;
}

export interface ReadinessReport {
  ready: boolean;
  checks: { name: string; ready: boolean; reason?: string }[];
}

/** Runs every check concurrently; a check that throws counts as not ready, with its message as reason. */
export async function checkReadiness(checks: readonly ReadinessCheck[]): Promise<ReadinessReport> {
  const results = await Promise.all(
    checks.map(async (readinessCheck) => {
      const { name } = readinessCheck;
      try {
        const ready = await readinessCheck.check();
        return ready ? { name, ready } : { name, ready, reason: 'not ready' };
      } catch (error) {
        return { name, ready: false, reason: describeError(error) };
      }
    }),
  );
  return { ready: results.every((result) => result.ready), checks: results };
}
