/**
 * Per-field merge of one pair (SPEC §4), scenario by scenario: `mergePair`,
 * `createFields` and `agree` over plain values, no state and no apps.
 */
import { describe, expect, test } from 'vitest';
import type { FieldSpec, Fields } from '../../src/connector.js';
import { agree, createFields, mappingKey, mergePair, type MergePolicy } from '../../src/engine/merge.js';
import type { FieldMapping, Flow } from '../../src/mapping/types.js';
import type { Base } from '../../src/state/store.js';
import { field } from '../unit/mapping-helpers.js';

/** A mapping of side a's field to side b's field. */
const map = (a: FieldSpec, b: FieldSpec, flow: Flow = 'both'): FieldMapping => ({ a, b, flow, origin: 'custom' });

const title = map(field('jobtitle', 'text'), field('title', 'text'));
const email = map(field('email', 'text', { role: 'email' }), field('mail', 'text', { role: 'email' }));
const phone = map(field('phone', 'text'), field('tel', 'text'));

const A_WINS: MergePolicy = { defaultSide: 'a', clears: 'keep' };
const B_WINS: MergePolicy = { defaultSide: 'b', clears: 'keep' };

/** The base of one mapping, as it would be stored after the last sync. */
const baseOf = (m: FieldMapping, a: Fields[string], b: Fields[string]): Base => ({ [mappingKey(m)]: [a, b] });

describe('first match (no base yet)', () => {
  test('equal values stay: nothing is written', () => {
    const r = mergePair([title], { jobtitle: 'CEO' }, { title: 'CEO' }, null, A_WINS);
    expect(r.write).toEqual({ a: {}, b: {} });
    expect(r.changes).toEqual([]);
    expect(r.base).toEqual(baseOf(title, 'CEO', 'CEO'));
  });

  test('a value present on one side only fills the empty side', () => {
    const r = mergePair([title, phone], { jobtitle: 'CEO', phone: null }, { title: null, tel: '555' }, null, A_WINS);
    expect(r.write).toEqual({ a: { phone: '555' }, b: { title: 'CEO' } });
    expect(r.changes.map((c) => c.why)).toEqual(['fills an empty value', 'fills an empty value']);
    expect(r.conflicts).toBe(0);
    expect(r.base).toEqual({ ...baseOf(title, 'CEO', 'CEO'), ...baseOf(phone, '555', '555') });
  });

  test('the filled side fills the empty side even when the empty side is the default app', () => {
    const r = mergePair([title], { jobtitle: '' }, { title: 'CTO' }, null, A_WINS);
    expect(r.write).toEqual({ a: { jobtitle: 'CTO' }, b: {} });
  });

  test('two different values: the default app wins (a)', () => {
    const r = mergePair([title], { jobtitle: 'CEO' }, { title: 'CTO' }, null, A_WINS);
    expect(r.write).toEqual({ a: {}, b: { title: 'CEO' } });
    expect(r.changes).toEqual([{ side: 'b', field: 'title', from: 'CTO', to: 'CEO', why: 'first match: default app wins' }]);
    expect(r.conflicts).toBe(1);
    expect(r.base).toEqual(baseOf(title, 'CEO', 'CEO'));
  });

  test('two different values: the default app wins (b)', () => {
    const r = mergePair([title], { jobtitle: 'CEO' }, { title: 'CTO' }, null, B_WINS);
    expect(r.write).toEqual({ a: { jobtitle: 'CTO' }, b: {} });
  });

  test('the default app never overrides the direction: a one-way mapping never writes its source', () => {
    const oneWay = map(title.a, title.b, 'a-to-b');
    const r = mergePair([oneWay], { jobtitle: 'CEO' }, { title: 'CTO' }, null, B_WINS);
    expect(r.write).toEqual({ a: {}, b: {} });
    expect(r.conflicts).toBe(0);
    expect(r.base).toEqual(baseOf(oneWay, 'CEO', 'CTO'));
  });

  test('one-way: the empty source is not filled from the target', () => {
    const oneWay = map(title.a, title.b, 'a-to-b');
    const r = mergePair([oneWay], { jobtitle: null }, { title: 'CTO' }, null, A_WINS);
    expect(r.write).toEqual({ a: {}, b: {} });
  });

  test('one-way: the empty target is filled from the source', () => {
    const oneWay = map(title.a, title.b, 'b-to-a');
    const r = mergePair([oneWay], { jobtitle: null }, { title: 'CTO' }, null, A_WINS);
    expect(r.write).toEqual({ a: { jobtitle: 'CTO' }, b: {} });
  });

  test('a field missing from a record counts as empty', () => {
    const r = mergePair([title], {}, { title: 'CTO' }, null, A_WINS);
    expect(r.write.a).toEqual({ jobtitle: 'CTO' });
  });
});

describe('incremental (with a base)', () => {
  const base = baseOf(title, 'CEO', 'CEO');

  test('changed in a only: the change flows to b', () => {
    const r = mergePair([title], { jobtitle: 'CFO' }, { title: 'CEO' }, base, B_WINS);
    expect(r.write).toEqual({ a: {}, b: { title: 'CFO' } });
    expect(r.changes[0]?.why).toBe('changed in a');
    expect(r.conflicts).toBe(0);
    expect(r.base).toEqual(baseOf(title, 'CFO', 'CFO'));
  });

  test('changed in b only: the change flows to a, even when a is the default app', () => {
    const r = mergePair([title], { jobtitle: 'CEO' }, { title: 'COO' }, base, A_WINS);
    expect(r.write).toEqual({ a: { jobtitle: 'COO' }, b: {} });
    expect(r.changes[0]?.why).toBe('changed in b');
  });

  test('a side that was not read this run stands at its base', () => {
    const r = mergePair([title], null, { title: 'COO' }, base, A_WINS);
    expect(r.write).toEqual({ a: { jobtitle: 'COO' }, b: {} });
    const none = mergePair([title], { jobtitle: 'CEO' }, null, base, A_WINS);
    expect(none.write).toEqual({ a: {}, b: {} });
  });

  test('unchanged on both sides: nothing is written', () => {
    const r = mergePair([title], { jobtitle: 'CEO' }, { title: 'CEO' }, base, A_WINS);
    expect(r.changes).toEqual([]);
  });

  test('changed on both sides to the same value: nothing is written, no conflict', () => {
    const r = mergePair([title], { jobtitle: 'CTO' }, { title: 'CTO' }, base, A_WINS);
    expect(r.write).toEqual({ a: {}, b: {} });
    expect(r.conflicts).toBe(0);
    expect(r.base).toEqual(baseOf(title, 'CTO', 'CTO'));
  });

  test('changed on both sides to different values: the default app wins', () => {
    const ra = mergePair([title], { jobtitle: 'CTO' }, { title: 'CFO' }, base, A_WINS);
    expect(ra.write).toEqual({ a: {}, b: { title: 'CTO' } });
    expect(ra.changes[0]?.why).toBe('conflict: default app wins');
    expect(ra.conflicts).toBe(1);
    const rb = mergePair([title], { jobtitle: 'CTO' }, { title: 'CFO' }, base, B_WINS);
    expect(rb.write).toEqual({ a: { jobtitle: 'CFO' }, b: {} });
  });

  test('conflict where the default app cleared the value: nothing changes in the other app', () => {
    const r = mergePair([title], { jobtitle: null }, { title: 'CFO' }, base, A_WINS);
    expect(r.write).toEqual({ a: {}, b: {} });
    expect(r.conflicts).toBe(0);
    expect(r.base).toEqual(baseOf(title, null, 'CFO'));
  });

  test('conflict where the default app cleared the value: nothing changes even with clears: propagate', () => {
    const r = mergePair([title], { jobtitle: null }, { title: 'CFO' }, base, { defaultSide: 'a', clears: 'propagate' });
    expect(r.write).toEqual({ a: {}, b: {} });
  });

  test('conflict where the other app cleared the value: the default app\'s value is written back', () => {
    const r = mergePair([title], { jobtitle: 'CTO' }, { title: '' }, base, A_WINS);
    expect(r.write).toEqual({ a: {}, b: { title: 'CTO' } });
  });

  test('a clear stays local: the other app keeps its value', () => {
    const r = mergePair([title], { jobtitle: '  ' }, { title: 'CEO' }, base, A_WINS);
    expect(r.write).toEqual({ a: {}, b: {} });
    expect(r.base).toEqual(baseOf(title, '  ', 'CEO'));
  });

  test('a clear flows with clears: propagate', () => {
    const r = mergePair([title], { jobtitle: null }, { title: 'CEO' }, base, { defaultSide: 'b', clears: 'propagate' });
    expect(r.write).toEqual({ a: {}, b: { title: null } });
    expect(r.changes[0]?.why).toBe('cleared (clears: propagate)');
    expect(r.base).toEqual(baseOf(title, null, null));
  });

  test('after a kept clear, a later change on the filled side flows into the cleared side', () => {
    const r = mergePair([title], { jobtitle: null }, { title: 'COO' }, baseOf(title, null, 'CEO'), B_WINS);
    expect(r.write).toEqual({ a: { jobtitle: 'COO' }, b: {} });
  });

  test('after a kept clear, filling the cleared side again flows to the other side', () => {
    const r = mergePair([title], { jobtitle: 'VP' }, { title: 'CEO' }, baseOf(title, null, 'CEO'), B_WINS);
    expect(r.write).toEqual({ a: {}, b: { title: 'VP' } });
  });

  test('a one-way mapping ignores changes of its target', () => {
    const oneWay = map(title.a, title.b, 'a-to-b');
    const r = mergePair([oneWay], { jobtitle: 'CEO' }, { title: 'intern' }, baseOf(oneWay, 'CEO', 'CEO'), A_WINS);
    expect(r.write).toEqual({ a: {}, b: {} });
    expect(r.base).toEqual(baseOf(oneWay, 'CEO', 'intern'));
  });

  test('a one-way mapping: both changed and the target is the default app: nothing is written to the source', () => {
    const oneWay = map(title.a, title.b, 'a-to-b');
    const r = mergePair([oneWay], { jobtitle: 'CTO' }, { title: 'intern' }, baseOf(oneWay, 'CEO', 'CEO'), B_WINS);
    expect(r.write).toEqual({ a: {}, b: {} });
  });

  test('a one-way mapping: a change of the source flows', () => {
    const oneWay = map(title.a, title.b, 'a-to-b');
    const r = mergePair([oneWay], { jobtitle: 'CTO' }, { title: 'CEO' }, baseOf(oneWay, 'CEO', 'CEO'), B_WINS);
    expect(r.write).toEqual({ a: {}, b: { title: 'CTO' } });
  });

  test('a mapping new since the last run is merged like a first match', () => {
    const r = mergePair([title, phone], { jobtitle: 'CEO', phone: '1' }, { title: 'CEO', tel: '2' }, base, B_WINS);
    expect(r.write).toEqual({ a: { phone: '2' }, b: {} });
    expect(r.changes[0]?.why).toBe('first match: default app wins');
  });
});

describe('types and comparisons', () => {
  const amount = map(field('amount', 'number'), field('amount_text', 'text'), 'a-to-b');
  const day = map(field('closedate', 'date'), field('closed_at', 'datetime'));

  test('number into text (one-way): written as the shortest decimal', () => {
    const r = mergePair([amount], { amount: 1250.5 }, { amount_text: null }, null, B_WINS);
    expect(r.write).toEqual({ a: {}, b: { amount_text: '1250.5' } });
    expect(createFields([amount], 'a', { amount: 3 }).fields).toEqual({ amount_text: '3' });
  });

  test('number into text: the same number already there as text is agreement', () => {
    expect(agree(amount, 1250.5, '1250.5')).toBe(true);
    expect(agree(amount, 12, '12.0')).toBe(false); // text compares exactly
    const r = mergePair([amount], { amount: 7 }, { amount_text: '7' }, null, A_WINS);
    expect(r.changes).toEqual([]);
  });

  test('number into text: a number change flows, a text change never flows back', () => {
    const base = baseOf(amount, 7, '7');
    expect(mergePair([amount], { amount: 8 }, { amount_text: '7' }, base, B_WINS).write).toEqual({ a: {}, b: { amount_text: '8' } });
    expect(mergePair([amount], { amount: 7 }, { amount_text: 'seven' }, base, B_WINS).write).toEqual({ a: {}, b: {} });
  });

  test('number into text: the same number in another form is not a change', () => {
    const r = mergePair([amount], { amount: 7.0 }, { amount_text: '7' }, baseOf(amount, 7, '7'), A_WINS);
    expect(r.changes).toEqual([]);
  });

  test('date and datetime compare by the UTC day / midnight UTC', () => {
    expect(agree(day, '2024-03-05', '2024-03-05T00:00:00.000Z')).toBe(true);
    expect(agree(day, '2024-03-05', '2024-03-05T00:00:00+00:00')).toBe(true);
    expect(agree(day, '2024-03-05', '2024-03-05T10:00:00.000Z')).toBe(false);
  });

  test('date to datetime: a filled date fills the datetime with midnight UTC, and back as the UTC date', () => {
    expect(mergePair([day], { closedate: '2024-03-05' }, { closed_at: null }, null, A_WINS).write.b)
      .toEqual({ closed_at: '2024-03-05T00:00:00.000Z' });
    expect(mergePair([day], { closedate: null }, { closed_at: '2024-03-05T23:30:00.000Z' }, null, A_WINS).write.a)
      .toEqual({ closedate: '2024-03-05' });
  });

  test('date and datetime: the same instant in another notation is not a change', () => {
    const base = baseOf(day, '2024-03-05', '2024-03-05T00:00:00.000Z');
    const r = mergePair([day], { closedate: '2024-03-05' }, { closed_at: '2024-03-05T01:00:00+01:00' }, base, B_WINS);
    expect(r.changes).toEqual([]);
  });

  test('emails compare case-insensitively and trimmed: a change of case is agreement, not a conflict', () => {
    expect(agree(email, 'Anna@Example.com', ' anna@example.COM')).toBe(true);
    const first = mergePair([email], { email: 'Anna@Example.com' }, { mail: 'anna@example.com' }, null, B_WINS);
    expect(first.changes).toEqual([]);
    const later = mergePair([email], { email: 'ANNA@example.com' }, { mail: 'anna@example.com' },
      baseOf(email, 'anna@example.com', 'anna@example.com'), B_WINS);
    expect(later.changes).toEqual([]);
  });

  test('other text compares exactly: a change of case flows', () => {
    const r = mergePair([title], { jobtitle: 'ceo' }, { title: 'CEO' }, baseOf(title, 'CEO', 'CEO'), B_WINS);
    expect(r.write.b).toEqual({ title: 'ceo' });
  });

  test('two empty values agree, whatever their form', () => {
    expect(agree(title, null, '')).toBe(true);
    expect(agree(title, '  ', null)).toBe(true);
  });
});

describe('createFields (a record created on the other side)', () => {
  const oneWayBack = map(field('score', 'text'), field('points', 'text'), 'b-to-a');

  test('sends the non-empty mapped values, converted, and stores them as the base', () => {
    const out = createFields([title, phone], 'a', { jobtitle: 'CEO', phone: null });
    expect(out.fields).toEqual({ title: 'CEO' });
    expect(out.base).toEqual({ ...baseOf(title, 'CEO', 'CEO'), ...baseOf(phone, null, null) });
  });

  test('a mapping that cannot flow from the source is not sent; its base is what each side holds (nothing on the new record)', () => {
    const out = createFields([title, oneWayBack], 'a', { jobtitle: 'CEO', score: '10' });
    expect(out.fields).toEqual({ title: 'CEO' });
    expect(out.base[mappingKey(oneWayBack)]).toEqual(['10', null]);
  });

  test('after a create, a change of a one-way field\'s source flows, even when the other app is the default', () => {
    const amount = map(field('amount', 'number'), field('amount_text', 'text'), 'a-to-b');
    const created = createFields([title, amount], 'b', { title: 'CEO', amount_text: '7' }); // made in a: amount empty
    expect(created.base[mappingKey(amount)]).toEqual([null, '7']);
    const r = mergePair([amount], { amount: 10 }, null, created.base, B_WINS);
    expect(r.write).toEqual({ a: {}, b: { amount_text: '10' } });
  });

  test('from side b: base entries are [created value, source value]', () => {
    const day = map(field('closedate', 'date'), field('closed_at', 'datetime'));
    const out = createFields([day], 'b', { closed_at: '2024-03-05T12:00:00.000Z' });
    expect(out.fields).toEqual({ closedate: '2024-03-05' });
    expect(out.base).toEqual(baseOf(day, '2024-03-05', '2024-03-05T12:00:00.000Z'));
  });
});
