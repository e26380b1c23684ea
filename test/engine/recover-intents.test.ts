/**
 * The run after a kill mid-apply recovers each journalled create by finding
 * the record the app made (same values, unlinked): `intentsByValue` files the
 * intents by the value of one text-compared field, so each unlinked record is
 * compared with the intents that can be it, not with all of them (the
 * 200,000-contact kill test's re-run spent hours comparing every record with
 * 70,000 intents). The candidates must never leave out an intent the record
 * matches: that would create the record a second time.
 */
import { describe, expect, test } from 'vitest';
import type { FieldSpec, SourceRecord, Value } from '../../src/connector.js';
import { intentsByValue } from '../../src/engine/run-sync.js';
import { sameValue } from '../../src/mapping/convert.js';

const FIELDS: FieldSpec[] = [
  { name: 'email', type: 'text', role: 'email' },
  { name: 'name', type: 'text' },
  { name: 'age', type: 'number' },
] as FieldSpec[];
const fieldOf = (f: string) => FIELDS.find((x) => x.name === f) ?? 'text';
const rec = (fields: Record<string, Value>): SourceRecord => ({ id: 'r', fields });
const matches = (r: SourceRecord, fields: Record<string, Value>) =>
  Object.entries(fields).every(([f, v]) => sameValue(r.fields[f] ?? null, v, fieldOf(f)));

describe('journalled creates filed by value', () => {
  test('a record is compared with the intents sharing its email only, of thousands', () => {
    const open = Array.from({ length: 5000 }, (_, i) => ({ fields: { email: `p${i}@x.se`, name: `P ${i}` } as Record<string, Value> }));
    expect(intentsByValue(open, fieldOf)(rec({ email: 'P4321@X.se ', name: 'P 4321' }))).toEqual([4321]);
    expect(intentsByValue(open, fieldOf)(rec({ email: 'nobody@x.se', name: 'P 1' }))).toEqual([]);
  });

  test('an intent without an email is filed by another text field; one with no text field is compared with every record', () => {
    const open = [
      { fields: { email: null, name: 'Ann' } },
      { fields: { age: 41 } },
      { fields: { email: 'bo@x.se', name: 'Bo' } },
    ] as { fields: Record<string, Value> }[];
    const candidates = intentsByValue(open, fieldOf);
    expect(candidates(rec({ name: 'Ann' }))).toEqual([0, 1]);
    expect(candidates(rec({ email: 'bo@x.se', name: 'Bo', age: 3 }))).toEqual([1, 2]);
  });

  test('random values: every intent a record matches is among its candidates, in journal order', () => {
    let seed = 20261202;
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const pick = <T>(xs: T[]) => xs[Math.floor(rand() * xs.length)]!;
    const emails = [null, '', ' ', 'a@x.se', 'A@X.SE', ' a@x.se', 'b@x.se', 'ｂ@x.se'];
    const names = [null, '', 'Ann', 'ann', 'Bo'];
    const ages = [null, 1, '1', '01', 2];
    for (let run = 0; run < 300; run++) {
      const open = Array.from({ length: 1 + Math.floor(rand() * 8) }, () => {
        const fields: Record<string, Value> = {};
        if (rand() < 0.7) fields.email = pick(emails);
        if (rand() < 0.7) fields.name = pick(names);
        if (rand() < 0.5) fields.age = pick(ages);
        return { fields };
      });
      const candidates = intentsByValue(open, fieldOf);
      for (let k = 0; k < 10; k++) {
        const r = rec({ email: pick(emails), name: pick(names), age: pick(ages) });
        const want = open.flatMap((intent, i) => (matches(r, intent.fields) ? [i] : []));
        const got = candidates(r).filter((i) => matches(r, open[i]!.fields));
        expect(got, JSON.stringify({ open, r })).toEqual(want);
      }
    }
  });
});
