/** Per-side filters (SPEC §4 Filters): validation and evaluation. */
import { describe, expect, it } from 'vitest';
import type { Fields } from '../../src/connector.js';
import type { FilterCondition, FilterOp } from '../../src/config/types.js';
import { evaluateFilters, validateFilters } from '../../src/engine/filters.js';
import { field, object, options } from './mapping-helpers.js';

const spec = object([
  field('country', 'text'),
  field('employees', 'number'),
  field('score', 'score', { readOnly: true }),
  field('founded', 'date'),
  field('lastseen', 'datetime'),
  field('vip', 'boolean'),
  field('stage', 'select', { options: options('lead', 'customer') }),
  field('size', 'radio', { options: options('S', 'M', 'L') }),
  field('tags', 'checkboxes', { options: options('red', 'green', 'blue') }),
  field('phones', 'multi'),
  field('owner', 'owner'),
]);

const cond = (fieldName: string, op: FilterOp, value?: unknown): FilterCondition =>
  ({ field: fieldName, op, ...(value === undefined ? {} : { value }), where: 'sync.yaml:30:9' });

const record: Fields = {
  country: 'SE', employees: 120, score: 55, founded: '2010-06-01', lastseen: '2024-03-05T10:00:00.000Z', vip: true,
  stage: 'customer', size: 'M', tags: ['red', 'blue'], phones: ['+46 8 123', '+46 70 999'], owner: '7001',
};

const passes = (c: FilterCondition, fields: Fields = record) => evaluateFilters([c], fields, spec).pass;

describe('evaluateFilters: every operator on the types it fits', () => {
  it.each<[string, FilterOp, unknown, boolean]>([
    // text: case-insensitive and trimmed
    ['country', 'eq', 'SE', true], ['country', 'eq', 'se', true], ['country', 'eq', 'DE', false],
    ['country', 'neq', 'DE', true], ['country', 'neq', 'se', false],
    ['country', 'in', ['NO', 'se'], true], ['country', 'in', ['NO', 'DK'], false],
    ['country', 'not_in', ['NO', 'DK'], true], ['country', 'not_in', ['SE'], false],
    ['country', 'contains', 's', true], ['country', 'contains', 'x', false],
    ['country', 'is_empty', undefined, false], ['country', 'is_not_empty', undefined, true],
    // number
    ['employees', 'eq', 120, true], ['employees', 'eq', 120.0, true], ['employees', 'neq', 120, false],
    ['employees', 'gt', 100, true], ['employees', 'gt', 120, false], ['employees', 'gte', 120, true],
    ['employees', 'lt', 120, false], ['employees', 'lte', 120, true], ['employees', 'lt', 1000, true],
    ['employees', 'in', [1, 120], true], ['employees', 'not_in', [1, 2], true],
    // score and calculation order like numbers
    ['score', 'gte', 50, true], ['score', 'lt', 50, false],
    // date: as days
    ['founded', 'eq', '2010-06-01', true], ['founded', 'gt', '2010-05-31', true], ['founded', 'gt', '2010-06-01', false],
    ['founded', 'gte', '2010-06-01', true], ['founded', 'lt', '2011-01-01', true], ['founded', 'lte', '2009-12-31', false],
    // datetime: as instants; a bare date is midnight UTC
    ['lastseen', 'gt', '2024-03-05', true], ['lastseen', 'lt', '2024-03-05T12:00:01+02:00', true], ['lastseen', 'lt', '2024-03-05T12:00:00+02:00', false],
    ['lastseen', 'eq', '2024-03-05T11:00:00+01:00', true], ['lastseen', 'lte', '2024-03-05T09:59:59Z', false],
    // boolean
    ['vip', 'eq', true, true], ['vip', 'eq', false, false], ['vip', 'neq', false, true],
    // select / radio: options, case-insensitive
    ['stage', 'eq', 'customer', true], ['stage', 'eq', 'Customer', true], ['stage', 'in', ['lead'], false],
    ['stage', 'not_in', ['lead'], true], ['stage', 'contains', 'cust', true],
    ['size', 'eq', 'm', true], ['size', 'neq', 'L', true],
    // checkboxes: contains = has that option
    ['tags', 'contains', 'red', true], ['tags', 'contains', 'RED', true], ['tags', 'contains', 'green', false],
    ['tags', 'contains', 're', false], ['tags', 'is_not_empty', undefined, true],
    // multi: any value containing the text
    ['phones', 'contains', '+46 70', true], ['phones', 'contains', '+47', false],
    // owner
    ['owner', 'eq', '7001', true], ['owner', 'in', ['1', '7001'], true],
  ])('%s %s %j -> %s', (name, op, value, expected) => {
    expect(passes(cond(name, op, value))).toBe(expected);
  });
});

describe('empty values', () => {
  const empty: Fields = { country: null, employees: null, founded: null, tags: [], stage: '  ' };
  it.each<[string, FilterOp, unknown, boolean]>([
    ['country', 'is_empty', undefined, true], ['country', 'is_not_empty', undefined, false],
    ['country', 'neq', 'SE', true], ['country', 'not_in', ['SE'], true],
    ['country', 'eq', 'SE', false], ['country', 'in', ['SE'], false], ['country', 'contains', 'S', false],
    ['employees', 'gt', 0, false], ['employees', 'lt', 0, false], ['employees', 'gte', 0, false], ['employees', 'lte', 0, false],
    ['founded', 'lt', '2100-01-01', false], ['tags', 'contains', 'red', false], ['tags', 'is_empty', undefined, true],
    ['stage', 'is_empty', undefined, true], ['stage', 'eq', 'lead', false],
    ['vip', 'eq', false, false], ['vip', 'is_empty', undefined, true],
  ])('%s %s %j on an empty value -> %s', (name, op, value, expected) => {
    expect(passes(cond(name, op, value), empty)).toBe(expected);
  });
});

describe('the first failing condition and its reason', () => {
  it('says which condition failed and what the value was', () => {
    const r = evaluateFilters([cond('employees', 'gt', 10), cond('country', 'eq', 'SE')], { ...record, country: 'DE' }, spec);
    expect(r).toEqual({ pass: false, failed: cond('country', 'eq', 'SE'), reason: 'filter: country eq SE (was DE)' });
  });

  it('renders lists and empty values', () => {
    const r1 = evaluateFilters([cond('country', 'in', ['SE', 'NO'])], { country: null }, spec);
    expect(r1).toMatchObject({ reason: 'filter: country in [SE, NO] (was empty)' });
    const r2 = evaluateFilters([cond('country', 'is_empty')], { country: 'SE' }, spec);
    expect(r2).toMatchObject({ reason: 'filter: country is_empty (was SE)' });
  });

  it('no conditions, or all of them holding, pass', () => {
    expect(evaluateFilters([], record, spec)).toEqual({ pass: true });
    expect(evaluateFilters([cond('country', 'eq', 'SE'), cond('vip', 'eq', true)], record, spec)).toEqual({ pass: true });
  });
});

describe('validateFilters', () => {
  const problems = (...c: FilterCondition[]) => validateFilters(c, spec, 'crm');

  it('accepts conditions that fit their fields', () => {
    expect(problems(
      cond('country', 'eq', 'SE'), cond('employees', 'gte', 10), cond('founded', 'lt', '2020-01-01'),
      cond('lastseen', 'gt', '2024-01-01T00:00:00Z'), cond('vip', 'eq', true), cond('stage', 'in', ['lead', 'Customer']),
      cond('tags', 'contains', 'red'), cond('phones', 'contains', '+46'), cond('score', 'lt', 10), cond('country', 'is_empty'),
      cond('founded', 'eq', new Date('2020-01-01T00:00:00Z')),
    )).toEqual([]);
  });

  it('an unknown field suggests close names', () => {
    expect(problems(cond('contry', 'eq', 'SE'))).toEqual([
      'sync.yaml:30:9: filter on crm.contry: crm has no field "contry" on contacts; did you mean "country"?',
    ]);
  });

  it.each<[FilterCondition, string]>([
    [cond('country', 'gt', 'A'), 'gt compares numbers, dates and datetimes, and country is text'],
    [cond('vip', 'lte', true), 'lte compares numbers, dates and datetimes, and vip is boolean'],
    [cond('employees', 'contains', '1'), 'contains works on text, select, checkboxes and multi fields, and employees is number'],
    [cond('size', 'contains', 'S'), 'contains works on text, select, checkboxes and multi fields, and size is radio'],
    [cond('tags', 'eq', 'red'), 'eq needs a single-value field, and tags is checkboxes (several values); use contains'],
    [cond('phones', 'in', ['1']), 'in needs a single-value field, and phones is multi'],
    [cond('employees', 'eq', 'ten'), 'needs a number, employees is number (got ten)'],
    [cond('employees', 'gt', '10'), 'needs a number'],
    [cond('founded', 'gt', '2020-02-30'), 'needs a date YYYY-MM-DD, founded is a date (got 2020-02-30)'],
    [cond('founded', 'eq', '1 May 2020'), 'needs a date YYYY-MM-DD'],
    [cond('lastseen', 'gt', 'yesterday'), 'needs a date or an ISO datetime'],
    [cond('vip', 'eq', 'yes'), 'needs true or false'],
    [cond('stage', 'eq', 'won'), '"won" is not an option of stage; options: lead, customer'],
    [cond('stage', 'in', ['lead', 'won']), '"won" is not an option of stage'],
    [cond('tags', 'contains', 'pink'), '"pink" is not an option of tags; options: red, green, blue'],
    [cond('country', 'in', []), 'in needs a non-empty list of values'],
    [cond('country', 'not_in', 'SE'), 'not_in needs a non-empty list of values'],
    [cond('country', 'eq'), 'needs a value (use is_empty / is_not_empty to test for no value)'],
    [cond('country', 'is_empty', 'x'), 'is_empty takes no value'],
  ])('%j: %s', (c, message) => {
    const found = problems(c);
    expect(found).toHaveLength(1);
    expect(found[0]).toMatch(new RegExp(`^sync\\.yaml:30:9: filter on crm\\.${c.field}: `));
    expect(found[0]).toContain(message);
  });
});
