/**
 * The listing from a cursor tests the stored change time cheaply before it
 * computes it (read.ts maybeSinceSql). That test may let too much through,
 * never too little: a row it drops at or after the bound would never be read.
 */
import Database from 'better-sqlite3';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { changeTimeSql, maybeSinceBounds, maybeSinceSql } from '../../connectors/sqlite/read.js';

const db = new Database(':memory:');
afterAll(() => db.close());
const check = db.prepare(`SELECT ${changeTimeSql('v')} AS ts, ${maybeSinceSql('v')} AS maybe FROM (SELECT :v AS v)`);

const pad = (n: number, w = 2) => String(Math.abs(n)).padStart(w, '0');
const MIN = Date.UTC(1990, 0, 1);
const MAX = Date.UTC(2040, 0, 1);

/** A change time stored the ways programs store one, for an instant `ms`. */
const stored = (ms: number, form: number, offsetMin: number): string | number => {
  const d = new Date(ms);
  const iso = d.toISOString();
  const local = new Date(ms + offsetMin * 60_000).toISOString().slice(0, 19);
  const off = `${offsetMin < 0 ? '-' : '+'}${pad(Math.trunc(Math.abs(offsetMin) / 60))}:${pad(Math.abs(offsetMin) % 60)}`;
  switch (form) {
    case 0: return iso;                                  // 2024-06-01T12:00:00.123Z
    case 1: return iso.slice(0, 19).replace('T', ' ');   // 2024-06-01 12:00:00 (CURRENT_TIMESTAMP)
    case 2: return `${local}${off}`;                     // 2024-06-01T17:00:00+05:00
    case 3: return iso.slice(0, 10);                     // a date
    case 4: return ms;                                   // epoch ms
    case 5: return Math.floor(ms / 1000);                // epoch s
    default: return ms / 1000;                           // epoch s with a fraction
  }
};

describe('the cheap test before a listing from a cursor', () => {
  it('lets through every stored time at or after the bound, in every storage', () => {
    fc.assert(fc.property(
      fc.integer({ min: MIN, max: MAX }), fc.integer({ min: 0, max: 6 }), fc.integer({ min: -14 * 60, max: 14 * 60 }),
      fc.integer({ min: -3 * 86_400_000, max: 3 * 86_400_000 }),
      (ms, form, offset, delta) => {
        const lower = new Date(ms + delta).toISOString();
        const { ts, maybe } = check.get({ v: stored(ms, form, offset), ...maybeSinceBounds(lower) }) as { ts: string; maybe: number };
        if (ts !== '' && ts >= lower) expect(maybe, `${String(stored(ms, form, offset))} at or after ${lower}`).toBe(1);
      },
    ), { numRuns: 2000 });
  });

  it('lets through any text at or after the bound: date-shaped text with other characters where the digits go', () => {
    const iso = fc.integer({ min: MIN, max: MAX }).map((ms) => new Date(ms).toISOString());
    // A stored time with some characters changed (letters, signs, spaces, other case), or any text at all.
    const text = fc.oneof(
      fc.tuple(iso, fc.array(fc.tuple(fc.nat(23), fc.constantFrom('a', 't', 'z', ' ', '+', '-', ':', '.', '9', '٣', '')), { maxLength: 3 }))
        .map(([v, edits]) => edits.reduce((t, [i, ch]) => t.slice(0, i) + ch + t.slice(i + 1), v)),
      fc.string({ maxLength: 30 }),
    );
    fc.assert(fc.property(text, fc.integer({ min: MIN, max: MAX }), (v, at) => {
      const lower = new Date(at).toISOString();
      const { ts, maybe } = check.get({ v, ...maybeSinceBounds(lower) }) as { ts: string; maybe: number };
      if (ts !== '' && ts >= lower) expect(maybe, `${JSON.stringify(v)} is ${ts}, at or after ${lower}`).toBe(1);
    }), { numRuns: 3000 });
  });

  it('drops what is well before the bound, so a listing from a cursor computes few change times', () => {
    const lower = '2024-06-10T00:00:00.000Z';
    const old = ['2024-06-01T12:00:00.000Z', '2024-06-01 12:00:00', Date.parse('2024-06-01T12:00:00Z'), Date.parse('2024-06-01T12:00:00Z') / 1000];
    for (const v of old) expect((check.get({ v, ...maybeSinceBounds(lower) }) as { maybe: number }).maybe, String(v)).toBe(0);
  });

  it('drops what this connector and toISOString wrote earlier the same day, and numbers a second or more before', () => {
    // Right after a sync every row it wrote is from that day: a day's margin let all of them through.
    const lower = '2024-06-10T15:30:00.000Z';
    const earlier = ['2024-06-10T15:29:59.999Z', '2024-06-10T01:00:00.000Z', '2024-06-09T23:00:00.000Z',
      Date.parse('2024-06-10T15:29:58.000Z'), Date.parse('2024-06-10T15:29:58.000Z') / 1000];
    for (const v of earlier) expect((check.get({ v, ...maybeSinceBounds(lower) }) as { maybe: number }).maybe, String(v)).toBe(0);
    for (const v of ['2024-06-10T15:30:00.000Z', '2024-06-10T15:30:00.001Z']) {
      expect((check.get({ v, ...maybeSinceBounds(lower) }) as { maybe: number }).maybe, v).toBe(1);
    }
  });

  it('lets through ISO times SQLite carries into the next month (day 29-31 of a short month)', () => {
    for (const [v, lower] of [['2023-02-30T10:00:00.000Z', '2023-03-02T00:00:00.000Z'], ['2023-02-31T10:00:00.000Z', '2023-03-03T00:00:00.000Z']]) {
      const { ts, maybe } = check.get({ v, ...maybeSinceBounds(lower!) }) as { ts: string; maybe: number };
      expect(ts >= lower!, `${v} is read as ${ts}`).toBe(true);
      expect(maybe, v).toBe(1);
    }
  });

  it('lets through what it cannot judge: no bound, text that is not a date, empty values', () => {
    expect((check.get({ v: '2001-01-01T00:00:00Z', ...maybeSinceBounds('') }) as { maybe: number }).maybe).toBe(1);
    for (const v of ['now', ' 2024-06-01', 'June 1', null]) {
      expect((check.get({ v, ...maybeSinceBounds('2024-06-10T00:00:00.000Z') }) as { maybe: number }).maybe, String(v)).toBe(1);
    }
  });
});
