/** Time, injected wherever a decision depends on it, so tests can freeze it. */
export interface Clock {
  /** The current time. */
  now(): Date;
}

export const systemClock: Clock = Object.freeze({ now: () => new Date() });

/** A clock that stands still at `at` until moved; for tests and for replaying decisions. */
export function fixedClock(at: Date): Clock & { set(at: Date): void } {
  let current = new Date(at);
  return {
    now: () => new Date(current),
    set: (next: Date) => {
      current = new Date(next);
    },
  };
}
