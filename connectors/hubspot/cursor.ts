/**
 * The HubSpot change cursor (reference §4.1): the newest last-modified value
 * read, plus the records already read inside the overlap window before it,
 * each with the last-modified value it had.
 *
 * Each incremental read starts `overlap` before the cursor, because search
 * lags behind writes and a change may surface later with an older time. The
 * remembered (id, modified) pairs let it skip what it has already delivered,
 * so an unchanged app reads nothing, while a record changed again, or one
 * that surfaced late, is read.
 *
 * Format: `2025-03-05T16:01:02.870Z` when nothing needs remembering, else
 * JSON `{"t":"2025-03-05T16:01:02.870Z","seen":{"51":1741190462870}}`.
 * Epoch ms digits are accepted too.
 */
import { configError } from '../../src/errors.js';

/**
 * Most (id, modified) pairs kept; beyond it the oldest are re-read, which is
 * harmless but costs searches on every idle pass after a bulk write (a bulk
 * create puts thousands of records inside one overlap window). 20,000 pairs
 * keep the cursor under ~500 KB in the state.
 */
const MAX_SEEN = 20_000;

export interface Cursor {
  /** Epoch ms of the newest last-modified value read. */
  t: number;
  /** id → last-modified ms of records read within the overlap window. */
  seen: Map<string, number>;
}

export function parseCursor(text: string): Cursor {
  const bad = () => configError('STATE_CURSOR', `HubSpot cursor "${text.slice(0, 80)}" is not one datasync wrote`, {
    hint: 'reset the sync\'s cursor so the next run reads everything again',
  });
  const s = text.trim();
  if (s.startsWith('{')) {
    let j: { t?: unknown; seen?: unknown };
    try { j = JSON.parse(s) as typeof j; } catch { throw bad(); }
    const t = typeof j.t === 'string' ? Date.parse(j.t) : Number(j.t);
    if (!Number.isFinite(t)) throw bad();
    const seen = new Map<string, number>();
    if (j.seen && typeof j.seen === 'object') {
      for (const [id, ms] of Object.entries(j.seen as Record<string, unknown>)) if (typeof ms === 'number') seen.set(id, ms);
    }
    return { t, seen };
  }
  const t = /^\d+$/.test(s) ? Number(s) : Date.parse(s);
  if (!Number.isFinite(t)) throw bad();
  return { t, seen: new Map() };
}

export function formatCursor(c: Cursor, overlapMs: number): string {
  const t = new Date(c.t).toISOString();
  const kept = [...c.seen].filter(([, ms]) => ms >= c.t - overlapMs).sort((a, b) => b[1] - a[1]).slice(0, MAX_SEEN);
  if (kept.length === 0) return t;
  return JSON.stringify({ t, seen: Object.fromEntries(kept) });
}

/**
 * `since` with our own writes among the pairs a read passes over, at the time
 * each answer gave; a record written with no known time (null) is dropped
 * from them, so the next read delivers it whatever it was before. The time
 * `t` stays: the read still starts where it would have.
 */
export function pastOwnWrites(since: string, written: Map<string, number | null>, overlapMs: number): string {
  const c = parseCursor(since);
  for (const [id, ms] of written) {
    if (ms === null) c.seen.delete(id);
    else c.seen.set(id, ms);
  }
  return formatCursor(c, overlapMs);
}

/** Tracks what a read has delivered, to dedupe and to write the cursor. */
export class Progress {
  readonly seen: Map<string, number>;
  newest: number;

  constructor(start: Cursor, private readonly overlapMs: number) {
    this.seen = new Map(start.seen);
    this.newest = start.t;
  }

  /**
   * True when this record, at this modified time or a later one, was delivered
   * already (or written by us). Search lags: it may answer a version older than
   * one we have seen or written, with its old values and old modified time.
   * That version is stale, never a change: delivered, it would carry the old
   * values back over the newer ones.
   */
  delivered(id: string, modified: number): boolean {
    const at = this.seen.get(id);
    return at !== undefined && modified <= at;
  }

  note(id: string, modified: number): void {
    this.seen.set(id, modified);
    this.passed(modified);
  }

  /**
   * A record search answered with this modified time, delivered now or
   * before (or written by us, cursorAfterWrites). Search showed everything
   * older than its lag at that moment, so the cursor may move up to it: the
   * next read still starts the overlap before.
   */
  passed(modified: number): void {
    if (modified > this.newest) {
      this.newest = modified;
      if (this.seen.size > MAX_SEEN * 4) this.prune();
    }
  }

  cursor(): string {
    return formatCursor({ t: this.newest, seen: this.seen }, this.overlapMs);
  }

  private prune(): void {
    for (const [id, ms] of this.seen) if (ms < this.newest - this.overlapMs) this.seen.delete(id);
  }
}
