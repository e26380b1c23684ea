/** Value conversions along mappings, value equality and emptiness (SPEC §5). */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { FieldSpec, FieldType, Value } from '../../src/connector.js';
import { convertValue, isEmpty, sameValue } from '../../src/mapping/convert.js';
import { field, options } from './mapping-helpers.js';

const f = (type: FieldType, extra: Partial<FieldSpec> = {}) => field(type, type, extra);
const text = f('text');

describe('convertValue', () => {
  it.each<[FieldType, Value, Value]>([
    ['number', 1, '1'],
    ['number', 1.0, '1'],
    ['number', 0.1, '0.1'],
    ['number', 1234567.891, '1234567.891'],
    ['number', -0, '0'],
    ['number', 123456789012345680000, '123456789012345680000'],
    ['boolean', true, 'true'],
    ['boolean', false, 'false'],
    ['date', '2024-03-05', '2024-03-05'],
    ['datetime', '2024-03-05T10:20:30.000Z', '2024-03-05T10:20:30.000Z'],
    ['checkboxes', ['red', 'green'], 'red;green'],
    ['owner', '12345', '12345'],
    ['calculation', 42.5, '42.5'],
    ['score', 7, '7'],
    ['select', 'lead', 'lead'],
    ['radio', 'yes', 'yes'],
    ['multi', ['work@x.se', 'home@x.se'], 'work@x.se'],
  ])('%s %j into text is %j', (type, v, expected) => {
    expect(convertValue(v, f(type), text)).toBe(expected);
  });

  it('date -> datetime is midnight UTC, datetime -> date the UTC date', () => {
    expect(convertValue('2024-03-05', f('date'), f('datetime'))).toBe('2024-03-05T00:00:00.000Z');
    expect(convertValue('2024-03-05T23:59:59.999Z', f('datetime'), f('date'))).toBe('2024-03-05');
    expect(convertValue('2024-03-05T00:30:00.000Z', f('datetime'), f('date'))).toBe('2024-03-05');
  });

  it('select and radio go through the values map; unmapped values pass unchanged', () => {
    const a = f('select', { options: options('lead', 'customer') });
    const b = f('select', { options: options('Lead', 'customer') });
    expect(convertValue('lead', a, b, { lead: 'Lead' })).toBe('Lead');
    expect(convertValue('customer', a, b, { lead: 'Lead' })).toBe('customer');
    expect(convertValue('lead', a, text, { lead: 'Lead' })).toBe('Lead');
    expect(convertValue('toString', a, b, {})).toBe('toString');
  });

  it('null stays null, same types pass unchanged', () => {
    for (const type of ['text', 'number', 'date', 'multi', 'checkboxes'] as const) {
      expect(convertValue(null, f(type), text)).toBeNull();
    }
    expect(convertValue(['a', 'b'], f('multi'), f('multi'))).toEqual(['a', 'b']);
    expect(convertValue(3, f('number'), f('number'))).toBe(3);
  });

  it('a pair no mapping allows is a bug and throws', () => {
    expect(() => convertValue('x', text, f('number'))).toThrow(/no conversion from text/);
  });
});

describe('sameValue', () => {
  it('numbers compare numerically: 1, 1.0 and "1" are equal', () => {
    expect(sameValue(1, 1.0, 'number')).toBe(true);
    expect(sameValue(1, '1', 'number')).toBe(true);
    expect(sameValue('1.0', 1, 'number')).toBe(true);
    expect(sameValue(1, 1.5, 'number')).toBe(false);
    expect(sameValue(0.1 + 0.2, 0.3, 'number')).toBe(false);
  });

  it('dates compare as days, also against a datetime string', () => {
    expect(sameValue('2024-03-05', '2024-03-05', 'date')).toBe(true);
    expect(sameValue('2024-03-05', '2024-03-05T00:00:00.000Z', 'date')).toBe(true);
    expect(sameValue('2024-03-05', '2024-03-06', 'date')).toBe(false);
  });

  it('datetimes compare as instants across zones', () => {
    expect(sameValue('2024-03-05T10:00:00.000Z', '2024-03-05T12:00:00+02:00', 'datetime')).toBe(true);
    expect(sameValue('2024-03-05T10:00:00Z', '2024-03-05T10:00:00.000Z', 'datetime')).toBe(true);
    expect(sameValue('2024-03-05T10:00:00.000Z', '2024-03-05T10:00:00.001Z', 'datetime')).toBe(false);
  });

  it('booleans', () => {
    expect(sameValue(true, true, 'boolean')).toBe(true);
    expect(sameValue(true, 'true', 'boolean')).toBe(true);
    expect(sameValue(false, true, 'boolean')).toBe(false);
  });

  it('checkboxes are sets: order and repeats do not matter; multi are ordered lists', () => {
    expect(sameValue(['a', 'b'], ['b', 'a'], 'checkboxes')).toBe(true);
    expect(sameValue(['a', 'b', 'a'], ['b', 'a'], 'checkboxes')).toBe(true);
    expect(sameValue(['a'], ['a', 'b'], 'checkboxes')).toBe(false);
    expect(sameValue(['a', 'b'], ['b', 'a'], 'multi')).toBe(false);
    expect(sameValue(['a', 'b'], ['a', 'b'], 'multi')).toBe(true);
  });

  it('text compares exactly, emails and domains normalised by role', () => {
    expect(sameValue('Anna', 'anna', 'text')).toBe(false);
    expect(sameValue('Anna@X.se ', 'anna@x.se', field('email', 'text', { role: 'email' }))).toBe(true);
    expect(sameValue('https://www.X.se/', 'x.se', field('domain', 'text', { role: 'domain' }))).toBe(true);
  });

  it('two empty values are equal; empty and filled are not', () => {
    expect(sameValue(null, '', 'text')).toBe(true);
    expect(sameValue(null, [], 'checkboxes')).toBe(true);
    expect(sameValue(null, 0, 'number')).toBe(false);
  });
});

describe('isEmpty', () => {
  it.each<[Value, boolean]>([
    [null, true], ['', true], ['  \t', true], [[], true], [['', ' '], true],
    [0, false], [false, false], ['x', false], [['a'], false],
  ])('%j -> %s', (v, expected) => expect(isEmpty(v)).toBe(expected));
});

describe('two-way pairs round-trip (property)', () => {
  const day = fc.date({ min: new Date('1900-01-01T00:00:00Z'), max: new Date('2199-12-31T23:59:59Z'), noInvalidDate: true });
  const selectA = f('select', { options: options('lead', 'customer', 'other') });
  const selectB = f('select', { options: options('Lead', 'Won', 'other') });
  const there = { lead: 'Lead', customer: 'Won' }, back = { Lead: 'lead', Won: 'customer' };

  const pairs: Array<{ name: string; a: FieldSpec; b: FieldSpec; arb: fc.Arbitrary<Value>; ab?: Record<string, string>; ba?: Record<string, string> }> = [
    { name: 'text–text', a: text, b: text, arb: fc.string() },
    { name: 'number–number', a: f('number'), b: f('number'), arb: fc.double({ noNaN: true }) },
    { name: 'date–date', a: f('date'), b: f('date'), arb: day.map((d) => d.toISOString().slice(0, 10)) },
    { name: 'date–datetime', a: f('date'), b: f('datetime'), arb: day.map((d) => d.toISOString().slice(0, 10)) },
    { name: 'datetime–datetime', a: f('datetime'), b: f('datetime'), arb: day.map((d) => d.toISOString()) },
    { name: 'datetime (midnight)–date', a: f('datetime'), b: f('date'), arb: day.map((d) => `${d.toISOString().slice(0, 10)}T00:00:00.000Z`) },
    { name: 'boolean–boolean', a: f('boolean'), b: f('boolean'), arb: fc.boolean() },
    { name: 'select–select via values', a: selectA, b: selectB, arb: fc.constantFrom('lead', 'customer', 'other'), ab: there, ba: back },
    { name: 'radio–radio', a: f('radio'), b: f('radio'), arb: fc.constantFrom('yes', 'no') },
  ];

  it.each(pairs)('$name', ({ a, b, arb, ab, ba }) => {
    fc.assert(fc.property(fc.option(arb, { nil: null }), (x) => {
      const there = convertValue(x, a, b, ab);
      const back = convertValue(there, b, a, ba);
      expect(sameValue(back, x, a.type)).toBe(true);
      expect(back).toEqual(x);
    }));
  });

  it('a number written as text reads back as the same number', () => {
    fc.assert(fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), (n) => {
      const s = convertValue(n, f('number'), text) as string;
      expect(Number(s)).toBe(n === 0 ? 0 : n);
      if (Math.abs(n) >= 1e-6 && Math.abs(n) < 1e21) expect(s).not.toMatch(/e/i);
    }));
  });

  it('a datetime taken to a date and back lands on midnight UTC of its UTC day', () => {
    fc.assert(fc.property(day, (d) => {
      const back = convertValue(convertValue(d.toISOString(), f('datetime'), f('date')), f('date'), f('datetime'));
      expect(back).toBe(`${d.toISOString().slice(0, 10)}T00:00:00.000Z`);
    }));
  });
});
