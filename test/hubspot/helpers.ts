/** Test helpers for the HubSpot connector and the shared HTTP client. */
import type { Clock } from '../../src/http/clock.js';

/** A clock whose sleeps return at once and move time forward. */
export function fakeClock(start = 1_700_000_000_000): Clock & { slept: number[]; advance(ms: number): void } {
  let now = start;
  const slept: number[] = [];
  return {
    slept,
    now: () => now,
    advance(ms: number) { now += ms; },
    async sleep(ms: number, signal?: AbortSignal) {
      if (signal?.aborted) throw signal.reason;
      slept.push(ms);
      now += ms;
    },
  };
}
