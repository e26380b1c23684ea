/** The mapping rules of SPEC §5 other than the type table. */
import { describe, expect, it } from 'vitest';
import type { FieldSpec } from '../../src/connector.js';
import { convertValue } from '../../src/mapping/convert.js';
import { describeMappings } from '../../src/mapping/describe.js';
import { resolveMappings } from '../../src/mapping/resolve.js';
import { custom, field, object, options, sync, withDefaults } from './mapping-helpers.js';

const PROBLEM = /^sync\.yaml:\d+:\d+: mapping hubspot\.\S+ ↔ crm\.\S+: [^;]+; .+$/;

const hubspot = (...extra: FieldSpec[]) => object([
  field('email', 'text', { role: 'email', unique: true }),
  field('firstname', 'text', { role: 'firstname' }),
  field('jobtitle', 'text', { role: 'jobtitle' }),
  field('notes', 'text'),
  ...extra,
]);
const crm = (...extra: FieldSpec[]) => object([
  field('mail', 'text', { role: 'email' }),
  field('FirstName', 'text'),
  field('title', 'text', { role: 'jobtitle' }),
  field('comments', 'text'),
  ...extra,
]);

describe('read-only fields', () => {
  it('a read-only field is only a source: its mapping flows away from it', () => {
    const a = object([field('score', 'number', { readOnly: true })]);
    const b = object([field('score_copy', 'number')]);
    const { mappings, problems } = resolveMappings(sync([custom('score', 'score_copy')]), a, b);
    expect(problems).toEqual([]);
    expect(mappings[0]).toMatchObject({ flow: 'a-to-b', note: 'hubspot.score is read-only' });
  });

  it('read-only on side b flows b to a', () => {
    const { mappings } = resolveMappings(sync([custom('x', 'y')]), object([field('x', 'text')]), object([field('y', 'text', { readOnly: true })]));
    expect(mappings[0]).toMatchObject({ flow: 'b-to-a', note: 'crm.y is read-only' });
  });

  it('a read-only text field cannot receive a number written as text', () => {
    const { problems } = resolveMappings(sync([custom('x', 'n')]), object([field('x', 'text', { readOnly: true })]), object([field('n', 'number')]));
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(PROBLEM);
    expect(problems[0]).toContain('hubspot.x is read-only and can only be a source');
  });

  it('two read-only fields are an error', () => {
    const a = object([field('total', 'calculation', { readOnly: true })]);
    const b = object([field('total', 'text', { readOnly: true })]);
    const { mappings, problems } = resolveMappings(sync([custom('total', 'total')]), a, b);
    expect(mappings).toEqual([]);
    expect(problems[0]).toMatch(PROBLEM);
    expect(problems[0]).toContain('both fields are read-only');
  });

  it('default pairs of two read-only fields are skipped, not errors', () => {
    const a = object([field('createdate', 'datetime', { readOnly: true })]);
    const b = object([field('createdate', 'datetime', { readOnly: true })]);
    const r = resolveMappings(withDefaults(), a, b);
    expect(r).toMatchObject({ mappings: [], problems: [] });
    expect(r.skipped[0]).toContain('both fields are read-only');
  });
});

describe('multi fields', () => {
  it('cannot be custom-mapped, on either side', () => {
    for (const [a, b] of [['emails', 'mail'], ['email', 'phones']] as const) {
      const { problems } = resolveMappings(sync([custom(a, b)]),
        object([field('emails', 'multi'), field('email', 'text')]), object([field('mail', 'text'), field('phones', 'multi')]));
      expect(problems[0]).toMatch(PROBLEM);
      expect(problems[0]).toContain('cannot be custom-mapped');
    }
  });

  it('a default mapping feeds a text field with the first value, one-way', () => {
    const a = object([field('email', 'text', { role: 'email' })]);
    const b = object([field('emails', 'multi', { role: 'email' })]);
    const { mappings, problems } = resolveMappings(withDefaults(), a, b);
    expect(problems).toEqual([]);
    expect(mappings).toEqual([expect.objectContaining({ flow: 'b-to-a', origin: 'default', note: 'first value of the multi field, never back' })]);
    expect(convertValue(['work@x.se', 'home@x.se'], b.fields[0]!, a.fields[0]!)).toBe('work@x.se');
  });

  it('a default multi ↔ multi pair is two-way', () => {
    const { mappings } = resolveMappings(withDefaults(), object([field('phones', 'multi')]), object([field('Phones', 'multi')]));
    expect(mappings).toEqual([expect.objectContaining({ flow: 'both', origin: 'default' })]);
  });
});

describe('select and radio options', () => {
  const stage = (...o: string[]) => field('stage', 'select', { options: options(...o) });
  const status = (...o: string[]) => field('status', 'select', { options: options(...o) });

  it('equal option lists map two-way without a values map', () => {
    const { mappings, problems } = resolveMappings(sync([custom('stage', 'status')]), object([stage('a', 'b')]), object([status('b', 'a')]));
    expect(problems).toEqual([]);
    expect(mappings[0]).toMatchObject({ flow: 'both' });
    expect(mappings[0]!.valuesAtoB).toBeUndefined();
  });

  it('a complete values map makes different options two-way, with the map both ways', () => {
    const m = custom('stage', 'status', { values: { lead: 'Lead', customer: 'Won' } });
    const { mappings, problems } = resolveMappings(sync([m]), object([stage('lead', 'customer', 'other')]), object([status('Lead', 'Won', 'other')]));
    expect(problems).toEqual([]);
    expect(mappings[0]).toMatchObject({
      flow: 'both', valuesAtoB: { lead: 'Lead', customer: 'Won' }, valuesBtoA: { Lead: 'lead', Won: 'customer' },
    });
  });

  it('an incomplete map names the options without a counterpart on each side', () => {
    const m = custom('stage', 'status', { values: { lead: 'Lead' } });
    const { problems } = resolveMappings(sync([m]), object([stage('lead', 'customer')]), object([status('Lead', 'Won')]));
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(PROBLEM);
    expect(problems[0]).toContain('options without a counterpart: hubspot.stage "customer"; crm.status "Won"');
    expect(problems[0]).toContain('pair them in values:');
  });

  it('keys must be options of side a and values options of side b', () => {
    const m = custom('stage', 'status', { values: { leed: 'Lead', customer: 'Wonn' } });
    const { problems } = resolveMappings(sync([m]), object([stage('lead', 'customer')]), object([status('Lead', 'Won')]));
    expect(problems[0]).toContain('values: "leed" not an option of hubspot.stage');
    expect(problems[0]).toContain('values: "Wonn" not an option of crm.status');
    expect(problems[0]).toContain('keys must be options of hubspot.stage ("lead", "customer")');
  });

  it('in a one-way sync only the source side needs counterparts', () => {
    const oneWay = sync([custom('stage', 'status')], { direction: 'a-to-b' });
    const { mappings, problems } = resolveMappings(oneWay, object([stage('a')]), object([status('a', 'b')]));
    expect(problems).toEqual([]);
    expect(mappings[0]).toMatchObject({ flow: 'a-to-b' });
  });

  it('a default select pair keeps only the direction whose options all have counterparts', () => {
    const a = object([field('lifecyclestage', 'select', { options: options('lead', 'customer', 'evangelist') })]);
    const b = object([field('lifecyclestage', 'select', { options: options('lead', 'customer') })]);
    const { mappings } = resolveMappings(withDefaults(), a, b);
    expect(mappings[0]).toMatchObject({ flow: 'b-to-a', note: 'some options have no counterpart on the other side' });
  });

  it('a values map on text fields is refused', () => {
    const { problems } = resolveMappings(sync([custom('x', 'y', { values: { a: 'b' } })]), object([field('x', 'text')]), object([field('y', 'text')]));
    expect(problems[0]).toContain('values: only applies to select or radio fields');
  });
});

describe('a field is mapped at most once on each side', () => {
  it('a second custom mapping of one field is an error naming the first', () => {
    const m1 = custom('notes', 'comments', {}, 20), m2 = custom('notes', 'title', {}, 21);
    const { mappings, problems } = resolveMappings(sync([m1, m2]), hubspot(), crm());
    expect(mappings).toHaveLength(1);
    expect(problems).toEqual([
      'sync.yaml:21:11: mapping hubspot.notes ↔ crm.title: hubspot.notes is already mapped to crm.comments by the mapping at sync.yaml:20:11; a field is mapped at most once on each side; remove one of the two mappings',
    ]);
  });

  it('default mappings count: a field a default mapping uses cannot be custom-mapped again', () => {
    const { problems } = resolveMappings(withDefaults([custom('notes', 'title')]), hubspot(), crm());
    expect(problems[0]).toContain('crm.title is already mapped to hubspot.jobtitle by a default mapping');
  });

  it('a custom mapping that repeats a default pair exactly is accepted, not duplicated', () => {
    const plain = resolveMappings(withDefaults(), hubspot(), crm());
    const repeated = resolveMappings(withDefaults([custom('jobtitle', 'title')]), hubspot(), crm());
    expect(repeated.problems).toEqual([]);
    expect(repeated.mappings).toEqual(plain.mappings);
  });

  it('repeating a default pair with direction: narrows it in place', () => {
    const r = resolveMappings(withDefaults([custom('jobtitle', 'title', { direction: 'crm -> hubspot' })]), hubspot(), crm());
    expect(r.problems).toEqual([]);
    const jobtitle = r.mappings.filter((m) => m.a.name === 'jobtitle');
    expect(jobtitle).toEqual([expect.objectContaining({ flow: 'b-to-a', origin: 'custom' })]);
  });
});

describe('default mappings', () => {
  it('pair fields by role first, then by name ignoring case', () => {
    const { mappings } = resolveMappings(withDefaults(), hubspot(), crm());
    expect(mappings.map((m) => `${m.a.name}=${m.b.name}`)).toEqual(['email=mail', 'jobtitle=title', 'firstname=FirstName']);
  });

  it('are off when mappings.defaults is false, and customs are off when mappings.custom is false', () => {
    expect(resolveMappings(sync(), hubspot(), crm()).mappings).toEqual([]);
    const off = sync([custom('nope', 'nada')], { mappings: { defaults: false, custom: false, fields: [custom('nope', 'nada')] } });
    expect(resolveMappings(off, hubspot(), crm())).toMatchObject({ mappings: [], problems: [] });
  });
});

describe('directions', () => {
  it('direction: narrows a two-way pair', () => {
    const { mappings } = resolveMappings(sync([custom('notes', 'comments', { direction: 'hubspot -> crm' })]), hubspot(), crm());
    expect(mappings[0]).toMatchObject({ flow: 'a-to-b', note: 'narrowed by direction: hubspot -> crm' });
  });

  it('direction: two-way cannot widen a one-way pair', () => {
    const m = custom('n', 't', { direction: 'two-way' });
    const { problems } = resolveMappings(sync([m]), object([field('n', 'number')]), object([field('t', 'text')]));
    expect(problems[0]).toMatch(PROBLEM);
    expect(problems[0]).toContain('direction: two-way asks for more than this pair allows (number written as text, never back)');
    expect(problems[0]).toContain('use direction: hubspot -> crm');
  });

  it('direction: against the type rules is refused', () => {
    const m = custom('n', 't', { direction: 'crm -> hubspot' });
    const { problems } = resolveMappings(sync([m]), object([field('n', 'number')]), object([field('t', 'text')]));
    expect(problems[0]).toContain('asks for more than this pair allows');
  });

  it('direction: in words that are not connection names is refused', () => {
    const { problems } = resolveMappings(sync([custom('notes', 'comments', { direction: 'hubspot -> sqlite' })]), hubspot(), crm());
    expect(problems[0]).toContain('direction: hubspot -> sqlite is not understood; use two-way, hubspot -> crm or crm -> hubspot');
  });

  it('the sync direction narrows every mapping', () => {
    const oneWay = withDefaults([custom('notes', 'comments')], { direction: 'b-to-a' });
    const { mappings, problems } = resolveMappings(oneWay, hubspot(), crm());
    expect(problems).toEqual([]);
    expect(new Set(mappings.map((m) => m.flow))).toEqual(new Set(['b-to-a']));
  });

  it('a direction: wider than the sync is refused', () => {
    const oneWay = sync([custom('notes', 'comments', { direction: 'two-way' })], { direction: 'a-to-b' });
    const { problems } = resolveMappings(oneWay, hubspot(), crm());
    expect(problems[0]).toContain('asks for more than this pair allows (the sync runs hubspot -> crm)');
  });

  it('a custom mapping the sync direction leaves no flow to is an error', () => {
    const oneWay = sync([custom('t', 'n')], { direction: 'a-to-b' });
    const { problems } = resolveMappings(oneWay, object([field('t', 'text')]), object([field('n', 'number')]));
    expect(problems[0]).toMatch(PROBLEM);
    expect(problems[0]).toContain('the sync runs hubspot -> crm but this pair can only flow crm -> hubspot (number written as text, never back)');
  });

  it('a default mapping the sync direction leaves no flow to is dropped silently', () => {
    const a = object([field('email', 'text', { role: 'email' })]);
    const b = object([field('emails', 'multi', { role: 'email' })]);
    const r = resolveMappings(withDefaults([], { direction: 'a-to-b' }), a, b);
    expect(r).toMatchObject({ mappings: [], problems: [] });
    expect(r.skipped).toHaveLength(1);
  });
});

describe('fields that cannot be mapped', () => {
  it('an unreliable field is refused with its reason', () => {
    const b = crm(field('last_seen', 'datetime', { unreliable: 'the API returns it only for some records' }));
    const { problems } = resolveMappings(sync([custom('notes', 'last_seen')]), hubspot(), b);
    expect(problems[0]).toContain('crm.last_seen cannot be read reliably (the API returns it only for some records)');
  });

  it('an unreliable field is left out of the default mappings', () => {
    const a = object([field('email', 'text', { role: 'email', unreliable: 'encrypted at rest' })]);
    const r = resolveMappings(withDefaults(), a, object([field('email', 'text', { role: 'email' })]));
    expect(r.mappings).toEqual([]);
    expect(r.skipped[0]).toContain('encrypted at rest');
  });

  it('an unknown field is reported with close names', () => {
    const { problems } = resolveMappings(sync([custom('jobtitel', 'Titel')]), hubspot(), crm());
    expect(problems).toEqual([
      'sync.yaml:20:11: mapping hubspot.jobtitel ↔ crm.Titel: hubspot has no field "jobtitel" on contacts; did you mean "jobtitle"?',
      'sync.yaml:20:11: mapping hubspot.jobtitel ↔ crm.Titel: crm has no field "Titel" on contacts; did you mean "title"?',
    ]);
  });

  it('an unknown field with nothing close lists the fields there are', () => {
    const { problems } = resolveMappings(sync([custom('zzz', 'title')]), hubspot(), crm());
    expect(problems[0]).toContain('fields there: email, firstname, jobtitle, notes');
  });
});

describe('describeMappings', () => {
  it('gives one row per mapping with arrows in connection names', () => {
    const a = object([field('email', 'text', { role: 'email' }), field('amount', 'number')]);
    const b = object([field('email', 'text', { role: 'email' }), field('amount_text', 'text')]);
    const { mappings } = resolveMappings(withDefaults([custom('amount', 'amount_text')]), a, b);
    expect(describeMappings(mappings, 'hubspot', 'crm')).toEqual([
      { a: 'email', b: 'email', types: 'text / text', direction: '↔', origin: 'default' },
      { a: 'amount', b: 'amount_text', types: 'number / text', direction: 'hubspot → crm', origin: 'custom', note: 'number written as text, never back' },
    ]);
  });
});
