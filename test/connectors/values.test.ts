/** Canonical value conversion shared by the sqlite and csv connectors. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { FieldSpec, FieldType } from '../../src/connector.js';
import { canonicalToText, checkCanonical, RowRejection, toCanonical } from '../../connectors/shared/values.js';

const field = (type: FieldType, extra: Partial<FieldSpec> = {}): FieldSpec => ({ name: 'f', label: 'F', type, readOnly: false, ...extra });

describe('toCanonical (reading stored values)', () => {
  it.each([
    ['text', 42, '42'],
    ['text', '', null],
    ['text', '   ', null],
    ['number', '12.5', 12.5],
    ['number', ' 7 ', 7],
    ['number', 'n/a', null],
    ['boolean', 1, true],
    ['boolean', 0, false],
    ['boolean', 'TRUE', true],
    ['boolean', 'no', false],
    ['boolean', 'maybe', null],
    ['date', '2024-02-29', '2024-02-29'],
    ['date', '2024-02-30', null],
    ['date', '2024-03-01T23:30:00-02:00', '2024-03-02'],
    ['datetime', '2024-03-01 10:20:30', '2024-03-01T10:20:30.000Z'],
    ['datetime', '2024-03-01T10:20:30.5+02:00', '2024-03-01T08:20:30.500Z'],
    ['datetime', '2024-03-01T10:20Z', '2024-03-01T10:20:00.000Z'],
    ['datetime', '2024-03-01', '2024-03-01T00:00:00.000Z'],
    ['datetime', 1709288430, '2024-03-01T10:20:30.000Z'],
    ['datetime', 1709288430123, '2024-03-01T10:20:30.123Z'],
    ['datetime', 'yesterday', null],
    ['checkboxes', 'a; b;;c', ['a', 'b', 'c']],
    ['checkboxes', '["a;1","b"]', ['a;1', 'b']],
    ['multi', '[]', null],
    ['multi', '[not json', ['[not json']],
    ['multi', '', null],
  ] as [FieldType, unknown, unknown][])('%s %j → %j', (type, raw, expected) => {
    expect(toCanonical(raw, type)).toEqual(expected);
  });
});

describe('checkCanonical (values to write)', () => {
  it('refuses values of the wrong type with a reason naming the field', () => {
    expect(() => checkCanonical(field('number'), '12')).toThrow(RowRejection);
    expect(() => checkCanonical(field('number'), '12')).toThrow("invalid value for f: expected a number, got '12'");
    expect(() => checkCanonical(field('boolean'), 'true')).toThrow(RowRejection);
    expect(() => checkCanonical(field('date'), '2024-13-01')).toThrow(RowRejection);
    expect(() => checkCanonical(field('datetime'), '2024-01-01')).toThrow(RowRejection);
    expect(() => checkCanonical(field('select', { options: [{ value: 'a' }] }), 'b')).toThrow("invalid option 'b' for f (allowed: a)");
  });

  it('normalises datetimes to UTC with ms and empties to null', () => {
    expect(checkCanonical(field('datetime'), '2024-01-01T01:00:00+01:00')).toBe('2024-01-01T00:00:00.000Z');
    expect(checkCanonical(field('text'), '')).toBeNull();
    expect(checkCanonical(field('checkboxes'), [])).toBeNull();
    expect(checkCanonical(field('text'), 5)).toBe('5');
  });

  it('writes lists as a;b, or as JSON when a value would be misread', () => {
    expect(canonicalToText(['a', 'b'])).toBe('a;b');
    expect(canonicalToText(['a;b', 'c'])).toBe('["a;b","c"]');
    expect(toCanonical(canonicalToText(['[2,3]']), 'checkboxes')).toEqual(['[2,3]']);
  });

  it('a canonical value written as text reads back unchanged, for every type', () => {
    const iso = fc.date({ min: new Date('1900-01-01'), max: new Date('2200-01-01'), noInvalidDate: true }).map((d) => d.toISOString());
    const cases: [FieldType, fc.Arbitrary<unknown>][] = [
      ['text', fc.string({ minLength: 1 }).filter((s) => s.trim() !== '')],
      ['number', fc.double({ noNaN: true, noDefaultInfinity: true }).filter((n) => !Object.is(n, -0))],
      ['boolean', fc.boolean()],
      ['date', iso.map((s) => s.slice(0, 10))],
      ['datetime', iso],
      ['checkboxes', fc.array(fc.string({ minLength: 1 }).filter((s) => s.trim() === s && s !== ''), { minLength: 1 })],
    ];
    for (const [type, arb] of cases) {
      fc.assert(fc.property(arb, (v) => {
        const checked = checkCanonical(field(type), v as never);
        expect(toCanonical(canonicalToText(checked), type)).toEqual(checked);
      }));
    }
  });
});
