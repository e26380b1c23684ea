/**
 * The account's daily API budget (reference §8.1, §8.3): HubSpot's private
 * apps share one daily allowance per account, reported on each answer as
 * `X-HubSpot-RateLimit-Daily` and `-Daily-Remaining` (not sent to OAuth
 * apps, which have no daily limit). Below a reserve the client sends nothing
 * more, so the account's other integrations keep their calls; the sync waits
 * as Queued until the allowance resets (midnight in the account's time zone).
 */

/** A fixed number of calls, or a share of the daily allowance (0.1 = 10%). */
export type DailyReserve = { calls: number } | { share: number };

/**
 * 10% of the allowance: 25,000 calls of a Free/Starter account's 250,000,
 * 100,000 of an Enterprise's 1,000,000; about what a 5-minute watch of a
 * mid-sized portal spends in a few hours, left for the other apps.
 */
export const DEFAULT_DAILY_RESERVE: DailyReserve = { share: 0.1 };

/** `10%`, `0.1` is not accepted (ambiguous); a whole number is a count of calls; `0` turns it off. */
export function parseDailyReserve(value: unknown): DailyReserve | undefined {
  if (typeof value === 'number' && Number.isInteger(value) && value >= 0) return { calls: value };
  if (typeof value !== 'string') return undefined;
  const s = value.trim();
  const pct = /^(\d+(?:\.\d+)?)\s*%$/.exec(s);
  if (pct) {
    const n = Number(pct[1]);
    return n >= 0 && n < 100 ? { share: n / 100 } : undefined;
  }
  return /^\d+$/.test(s) ? { calls: Number(s) } : undefined;
}

export function reserveCalls(r: DailyReserve, allowance: number): number {
  return 'calls' in r ? r.calls : Math.ceil(allowance * r.share);
}

export class DailyBudget {
  private last?: { allowance: number; remaining: number };

  constructor(private readonly reserve: DailyReserve) {}

  observe(allowance: number | undefined, remaining: number | undefined): void {
    if (remaining === undefined) return;
    this.last = { allowance: allowance ?? this.last?.allowance ?? remaining, remaining };
  }

  /** Why the next request must not be sent, or undefined. */
  refusal(): { remaining: number; allowance: number; reserve: number } | undefined {
    if (!this.last) return undefined;
    const reserve = reserveCalls(this.reserve, this.last.allowance);
    return reserve > 0 && this.last.remaining <= reserve ? { ...this.last, reserve } : undefined;
  }
}
