import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { setSyncEnabled, upsertSync } from '../../src/config/edit.js';
import { parse } from './helpers.js';

const SPEC_EXAMPLE = readFileSync(new URL('./spec-example.yaml', import.meta.url), 'utf8');
const ENV = { HUBSPOT_TOKEN: 'x' };

const deals = {
  name: 'deals',
  object: 'deals',
  between: ['hubspot', 'crm'],
  direction: 'hubspot -> crm',
  match: { hubspot: 'dealname', crm: 'title' },
  mappings: { fields: [{ hubspot: 'amount', crm: 'value' }] },
  filters: { hubspot: [{ field: 'dealstage', op: 'in', value: ['won', 'lost'] }] },
};

describe('upsertSync', () => {
  test('appends a new sync after the others, leaving every other line as it was', () => {
    const out = upsertSync(SPEC_EXAMPLE, deals);
    expect(out.startsWith(SPEC_EXAMPLE)).toBe(true);
    expect(out.slice(SPEC_EXAMPLE.length)).toBe(`  - name: deals
    object: deals
    between: [ hubspot, crm ]
    direction: hubspot -> crm
    match: { hubspot: dealname, crm: title }
    mappings:
      fields:
        - { hubspot: amount, crm: value }
    filters:
      hubspot:
        - { field: dealstage, op: in, value: [ won, lost ] }
`);
    const config = parse(out, ENV);
    expect(config.syncs.map((s) => s.name)).toEqual(['companies', 'contacts', 'deals']);
    expect(config.syncs[2]).toMatchObject({ direction: 'a-to-b', match: { a: 'dealname', b: 'title' } });
  });

  test('replaces a sync of the same name in place: comments above, inside and in other syncs stay', () => {
    const source = `version: 1
connections:
  hubspot: { app: hubspot }
  crm: { app: sqlite, path: ./crm.db }
syncs:
  # Companies first: contacts link to them.
  - name: companies
    object: companies
    between: [hubspot, crm]
    direction: two-way    # agreed with sales
    default_app: hubspot
  # The people.
  - name: contacts        # keep in step
    object: contacts
    between: [hubspot, crm]
    direction: two-way
`;
    const out = upsertSync(source, {
      name: 'companies', object: 'companies', between: ['hubspot', 'crm'], direction: 'two-way', default_app: 'crm',
    });
    expect(out).toBe(source
      .replace('    direction: two-way    # agreed with sales\n', '    direction: two-way # agreed with sales\n')
      .replace('default_app: hubspot', 'default_app: crm')
      .replace('between: [hubspot, crm]', 'between: [ hubspot, crm ]'));
    expect(parse(out).syncs[0]?.defaultApp).toBe('crm');
  });

  test('the same sync written again changes nothing', () => {
    const contacts = {
      name: 'contacts', object: 'contacts', between: ['hubspot', 'crm'], direction: 'two-way', default_app: 'hubspot',
      match: 'default',
      mappings: {
        defaults: true, custom: true,
        fields: [{ hubspot: 'jobtitle', crm: 'title' }, { hubspot: 'hs_lead_status', crm: 'status_text' }],
      },
      rules: { only_with_email: true },
      filters: { crm: [{ field: 'country', op: 'eq', value: 'SE' }] },
      associations: true,
    };
    expect(upsertSync(SPEC_EXAMPLE, contacts)).toBe(SPEC_EXAMPLE);
  });

  test('a removed mapping goes, the unchanged ones keep their comments', () => {
    const source = `syncs:
  - name: contacts
    mappings:
      fields:
        - { hubspot: a, crm: a }   # first
        - { hubspot: b, crm: b }   # second
        - { hubspot: c, crm: c }   # third
`;
    const out = upsertSync(source, { name: 'contacts', mappings: { fields: [{ hubspot: 'a', crm: 'a' }, { hubspot: 'c', crm: 'c' }] } });
    expect(out).toContain('# first');
    expect(out).not.toContain('# second');
    expect(out).toContain('{ hubspot: c, crm: c } # third');
  });

  test('a file without syncs gets a syncs list at its end', () => {
    const source = 'version: 1\nconnections:\n  hubspot: { app: hubspot }   # main portal\n  crm: { app: sqlite, path: ./crm.db }\n';
    const out = upsertSync(source, { name: 's', object: 'contacts', between: ['hubspot', 'crm'], direction: 'two-way' });
    expect(out).toBe(`${source}syncs:\n  - name: s\n    object: contacts\n    between: [ hubspot, crm ]\n    direction: two-way\n`);
    expect(parse(out).syncs).toHaveLength(1);
  });

  test('an empty syncs list, and an empty file', () => {
    expect(upsertSync('', { name: 's', object: 'contacts' })).toBe('version: 1\nsyncs:\n  - name: s\n    object: contacts\n');
    expect(upsertSync('version: 1\nsyncs: []\n', { name: 's', object: 'contacts' })).toBe('version: 1\nsyncs:\n  - name: s\n    object: contacts\n');
  });

  test('follows the file\'s own list indentation', () => {
    const source = 'syncs:\n- name: a\n  object: x\n';
    expect(upsertSync(source, { name: 'b', object: 'y' })).toBe(`${source}- name: b\n  object: y\n`);
  });
});

describe('setSyncEnabled', () => {
  test('stop writes enabled: false into that sync only; start removes it again', () => {
    const stopped = setSyncEnabled(SPEC_EXAMPLE, 'companies', false);
    expect(parse(stopped, ENV).syncs.map((s) => s.enabled)).toEqual([false, true]);
    const contactsPart = SPEC_EXAMPLE.slice(SPEC_EXAMPLE.indexOf('  - name: contacts'));
    expect(stopped.endsWith(contactsPart)).toBe(true);
    expect(stopped.startsWith(SPEC_EXAMPLE.slice(0, SPEC_EXAMPLE.indexOf('  - name: companies')))).toBe(true);

    const started = setSyncEnabled(stopped, 'companies', true);
    expect(parse(started, ENV).syncs.map((s) => s.enabled)).toEqual([true, true]);
    expect(started).not.toContain('enabled');
  });

  test('already in that state: the text is returned unchanged', () => {
    expect(setSyncEnabled(SPEC_EXAMPLE, 'contacts', true)).toBe(SPEC_EXAMPLE);
  });

  test('an unknown sync is an error', () => {
    expect(() => setSyncEnabled(SPEC_EXAMPLE, 'deals', false)).toThrow(expect.objectContaining({ code: 'SYNC_NOT_FOUND' }));
  });

  test('a file that is not valid YAML is not edited', () => {
    expect(() => setSyncEnabled('syncs: [\n', 'x', false)).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
  });
});
