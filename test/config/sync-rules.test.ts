import { describe, expect, test } from 'vitest';
import { parseDirection } from '../../src/config/rules.js';
import type { SyncConfig } from '../../src/config/types.js';
import { parse, problemsOf, withSync } from './helpers.js';

/** A contacts sync between hubspot and crm with `extra` lines (4-space indented) added. */
const sync = (extra = '', head = '    direction: two-way\n') =>
  withSync(`  - name: s\n    object: contacts\n    between: [hubspot, crm]\n${head}${extra}`);
const first = (text: string, env = {}): SyncConfig => parse(text, env).syncs[0]!;

describe('direction', () => {
  test.each([
    ['two-way', 'two-way'],
    ['hubspot -> crm', 'a-to-b'],
    ['crm -> hubspot', 'b-to-a'],
    ['hubspot->crm', 'a-to-b'],
    ['"crm  ->  hubspot"', 'b-to-a'],
  ])('%s is %s', (text, expected) => {
    expect(first(sync('', `    direction: ${text}\n`)).direction).toBe(expected);
  });

  test('names with dashes split at the arrow', () => {
    expect(parseDirection('my-crm->hub-spot', ['hub-spot', 'my-crm'])).toBe('b-to-a');
    expect(parseDirection('crm- -> hubspot', ['hubspot', 'crm-'])).toBe('b-to-a');
  });

  test('a connection outside the sync, or another word, is an error at the value', () => {
    expect(problemsOf(sync('', '    direction: hubspot -> sheets\n'))).toEqual([
      "sync.yaml:9:16: direction is 'hubspot -> sheets', expected two-way, 'hubspot -> crm' or 'crm -> hubspot'",
    ]);
    expect(problemsOf(sync('', '    direction: both\n'))).toEqual([
      "sync.yaml:9:16: direction is 'both', expected two-way, 'hubspot -> crm' or 'crm -> hubspot'",
    ]);
  });
});

describe('between and default_app', () => {
  test('default_app defaults to the first of between', () => {
    expect(first(sync()).defaultApp).toBe('hubspot');
    expect(first(sync('    default_app: crm\n')).defaultApp).toBe('crm');
  });

  test('default_app must be one of between', () => {
    expect(problemsOf(sync('    default_app: sheets\n'))).toEqual([
      "sync.yaml:10:18: default_app is 'sheets', expected one of the sync's connections: hubspot or crm",
    ]);
  });

  test('an unknown connection suggests the closest', () => {
    expect(problemsOf(withSync('  - { name: s, object: contacts, between: [hubspot, crn], direction: two-way }\n'))).toEqual([
      "sync.yaml:6:53: connection 'crn' is not defined under connections: did you mean 'crm'? expected one of hubspot, crm",
    ]);
  });

  test('between needs exactly two names', () => {
    expect(problemsOf(withSync('  - { name: s, object: contacts, between: [hubspot], direction: two-way }\n'))).toEqual([
      "sync.yaml:6:43: syncs[0].between is a list, expected two connection names, like [hubspot, crm]",
    ]);
  });
});

describe('match', () => {
  test('default when absent; default and none as words', () => {
    expect(first(sync()).match).toBe('default');
    expect(first(sync('    match: none\n')).match).toBe('none');
  });

  test('a field per connection becomes { a, b } in between order', () => {
    expect(first(sync('    match: { crm: mail, hubspot: email }\n')).match).toEqual({ a: 'email', b: 'mail' });
  });

  test('a missing side is an error at the mapping, a stranger at its key', () => {
    expect(problemsOf(sync('    match: { hubspot: email, crn: mail }\n'))).toEqual([
      "sync.yaml:10:12: syncs[0].match has no field for 'crm': expected { hubspot: FIELD, crm: FIELD }",
      "sync.yaml:10:30: 'crn' in syncs[0].match is not a connection of this sync: did you mean 'crm'? expected hubspot or crm",
    ]);
  });

  test('another word is an error', () => {
    expect(problemsOf(sync('    match: email\n'))).toEqual([
      "sync.yaml:10:12: syncs[0].match is 'email', expected default, none or { <connection A>: field, <connection B>: field }",
    ]);
  });
});

describe('mappings', () => {
  test('defaults to defaults and custom on, no fields', () => {
    expect(first(sync()).mappings).toEqual({ defaults: true, custom: true, fields: [] });
  });

  test('fields keep values, a canonical direction and where they are', () => {
    const s = first(sync(`    mappings:
      custom: false
      fields:
        - { hubspot: lifecyclestage, crm: stage, values: { lead: Lead, 1: one, true: yes }, direction: "hubspot->crm" }
`));
    expect(s.mappings).toEqual({
      defaults: true,
      custom: false,
      fields: [{
        fields: { hubspot: 'lifecyclestage', crm: 'stage' },
        values: { lead: 'Lead', 1: 'one', true: 'yes' },
        direction: 'hubspot -> crm',
        where: 'sync.yaml:13:11',
      }],
    });
  });

  test('a field mapped twice on one side is an error at the second', () => {
    expect(problemsOf(sync(`    mappings:
      fields:
        - { hubspot: jobtitle, crm: title }
        - { hubspot: role, crm: title }
`))).toEqual([
      "sync.yaml:13:33: crm field 'title' is mapped twice (first at sync.yaml:12:37): expected each field in one mapping at most",
    ]);
  });

  test('a mapping direction against the sync direction is an error', () => {
    expect(problemsOf(sync(`    mappings:
      fields:
        - { hubspot: jobtitle, crm: title, direction: crm -> hubspot }
`, '    direction: hubspot -> crm\n'))).toEqual([
      "sync.yaml:12:55: direction crm -> hubspot goes against the sync's direction hubspot -> crm: expected hubspot -> crm or no direction",
    ]);
  });

  test('a mapping with one side, or a stranger key, is an error', () => {
    expect(problemsOf(sync(`    mappings:
      fields:
        - { hubspot: jobtitle, crm_field: title }
`))).toEqual([
      "sync.yaml:12:11: syncs[0].mappings.fields[0] has no field for 'crm': expected { hubspot: FIELD, crm: FIELD }",
      "sync.yaml:12:32: 'crm_field' in syncs[0].mappings.fields[0] is not a connection of this sync: expected hubspot, crm, values or direction",
    ]);
  });
});

describe('filters', () => {
  const filter = (cond: string) => sync(`    filters:\n      crm:\n        - ${cond}\n`);

  test('scalar, list and no-value conditions', () => {
    const s = first(sync(`    filters:
      crm:
        - { field: country, op: in, value: [SE, NO] }
        - { field: employees, op: gte, value: 10 }
        - { field: email, op: is_not_empty }
`));
    expect(s.filters).toEqual({
      crm: [
        { field: 'country', op: 'in', value: ['SE', 'NO'], where: 'sync.yaml:12:11' },
        { field: 'employees', op: 'gte', value: 10, where: 'sync.yaml:13:11' },
        { field: 'email', op: 'is_not_empty', where: 'sync.yaml:14:11' },
      ],
    });
  });

  test('in needs a list', () => {
    expect(problemsOf(filter('{ field: country, op: in, value: SE }'))).toEqual([
      'sync.yaml:12:44: syncs[0].filters.crm[0].value: op in needs a list value, like [SE, NO]',
    ]);
  });

  test('is_empty takes no value', () => {
    expect(problemsOf(filter('{ field: country, op: is_empty, value: SE }'))).toEqual([
      "sync.yaml:12:50: syncs[0].filters.crm[0].value: op is_empty takes no value; remove 'value'",
    ]);
  });

  test('eq needs one value: missing or a list is an error', () => {
    expect(problemsOf(filter('{ field: country, op: eq }'))).toEqual([
      'sync.yaml:12:11: syncs[0].filters.crm[0]: op eq needs one value (text, number or true/false)',
    ]);
    expect(problemsOf(filter('{ field: country, op: eq, value: [SE] }'))).toEqual([
      'sync.yaml:12:44: syncs[0].filters.crm[0].value: op eq needs one value (text, number or true/false)',
    ]);
  });

  test('an unknown op lists the ops', () => {
    expect(problemsOf(filter('{ field: country, op: equals, value: SE }'))).toEqual([
      'sync.yaml:12:33: syncs[0].filters.crm[0].op is \'equals\', expected one of eq, neq, in, not_in, contains, gt, gte, lt, lte, is_empty, is_not_empty',
    ]);
  });

  test('filters are keyed by the sync\'s connections', () => {
    expect(problemsOf(sync('    filters:\n      hubspots: []\n'))).toEqual([
      "sync.yaml:11:7: 'hubspots' in syncs[0].filters is not a connection of this sync: did you mean 'hubspot'? expected hubspot or crm",
    ]);
  });
});

describe('rules, associations, clears, enabled', () => {
  test('defaults', () => {
    expect(first(sync())).toMatchObject({ rules: { onlyWithEmail: true }, associations: true, clears: 'keep', enabled: true });
  });

  test('only_with_email can be turned off, and is off for other objects', () => {
    expect(first(sync('    rules: { only_with_email: false }\n')).rules.onlyWithEmail).toBe(false);
    const companies = withSync('  - { name: c, object: companies, between: [hubspot, crm], direction: two-way, rules: { only_with_email: true } }\n');
    expect(first(companies).rules.onlyWithEmail).toBe(false);
  });

  test('explicit values', () => {
    expect(first(sync('    associations: false\n    clears: propagate\n    enabled: false\n')))
      .toMatchObject({ associations: false, clears: 'propagate', enabled: false });
  });
});
