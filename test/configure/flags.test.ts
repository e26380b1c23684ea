/** `configure --yes`: flags → draft, checked like `run` checks a sync; filter operators per type. */
import { describe, expect, it } from 'vitest';
import { draftFromFlags } from '../../src/configure/build.js';
import { makeFilter, opsFor } from '../../src/configure/filters.js';
import { presetFromFlags } from '../../src/configure/flags.js';
import { context, CRM_CONTACTS, HUB_CONTACTS } from './specs.js';

const field = (spec: typeof HUB_CONTACTS, name: string) => spec.fields.find((f) => f.name === name)!;

describe('configure flags', () => {
  it('parse into the answers they give, either connection first in --map', () => {
    const preset = presetFromFlags({
      between: 'hubspot,crm', object: 'contacts', direction: 'crm -> hubspot', defaultApp: 'crm',
      map: ['crm:title=hubspot:jobtitle', 'hubspot:hs_lead_status=crm:status|values=CONNECTED:CLOSED'],
      filter: ['crm:country:in:SE|NO', 'hubspot:email:is_not_empty'], defaults: false,
    });
    expect(preset).toMatchObject({
      between: ['hubspot', 'crm'], object: 'contacts', direction: 'b-to-a', defaultApp: 'crm', defaults: false,
      fields: [{ a: 'jobtitle', b: 'title' }, { a: 'hs_lead_status', b: 'status', values: { CONNECTED: 'CLOSED' } }],
      filters: { crm: [{ field: 'country', op: 'in', value: ['SE', 'NO'] }], hubspot: [{ field: 'email', op: 'is_not_empty' }] },
    });
    expect(presetFromFlags({ between: 'hubspot,crm', direction: 'to-b' }).direction).toBe('a-to-b');
  });

  it.each([
    [{ between: 'hubspot' }, /--between hubspot: expected two different connection names/],
    [{ between: 'a,b', direction: 'sideways' }, /--direction sideways: expected two-way, to-a, to-b/],
    [{ between: 'a,b', defaultApp: 'c' }, /--default-app c: expected one of the sync's connections: a or b/],
    [{ between: 'a,b', map: ['a.x=b.y'] }, /--map a.x=b.y: expected a:FIELD=b:FIELD/],
    [{ between: 'a,b', filter: ['a:x:like:1'] }, /--filter a:x:like:1: expected CONNECTION:FIELD:OP/],
  ])('refuse a malformed flag, naming it: %o', (flags, message) => {
    expect(() => presetFromFlags(flags)).toThrow(message);
  });

  it('build a checked draft; values are typed by their field', async () => {
    const r = await draftFromFlags({ between: 'hubspot,crm', object: 'contacts', map: ['hubspot:numemployees=crm:size'], filter: ['crm:size:gt:10', 'crm:country:eq:0123'], yes: true }, context());
    expect(r.draft).toMatchObject({ name: 'contacts', direction: 'two-way', defaultApp: 'hubspot', defaults: true });
    expect(r.draft.filters.crm).toEqual([{ field: 'size', op: 'gt', value: 10 }, { field: 'country', op: 'eq', value: '0123' }]);
    expect(r.action).toBe('save');
  });

  it('refuse what run would refuse: incompatible types, a field mapped twice, an unknown object', async () => {
    await expect(draftFromFlags({ between: 'hubspot,crm', object: 'contacts', map: ['hubspot:birthday=crm:vip'], yes: true }, context()))
      .rejects.toMatchObject({ problems: [expect.stringMatching(/date cannot be mapped to boolean/)] });
    await expect(draftFromFlags({ between: 'hubspot,crm', object: 'contacts', map: ['hubspot:jobtitle=crm:email'], yes: true }, context()))
      .rejects.toMatchObject({ problems: [expect.stringMatching(/crm.email is already mapped/)] });
    await expect(draftFromFlags({ between: 'hubspot,crm', object: 'deals', yes: true }, context())).rejects.toThrow(/has no object "deals"/);
    await expect(draftFromFlags({ object: 'contacts', yes: true }, context())).rejects.toThrow(/needs --between A,B/);
  });
});

describe('filter operators offered per field type', () => {
  it('orders only for numbers and dates, contains for text, no eq for several values', () => {
    expect(opsFor(field(CRM_CONTACTS, 'size'))).toEqual(['eq', 'neq', 'in', 'not_in', 'gt', 'gte', 'lt', 'lte', 'is_empty', 'is_not_empty']);
    expect(opsFor(field(CRM_CONTACTS, 'country'))).toEqual(['eq', 'neq', 'in', 'not_in', 'contains', 'is_empty', 'is_not_empty']);
    expect(opsFor(field(HUB_CONTACTS, 'hs_additional_emails'))).toEqual(['contains', 'is_empty', 'is_not_empty']);
    expect(makeFilter(field(CRM_CONTACTS, 'vip'), 'eq', 'TRUE')).toEqual({ field: 'vip', op: 'eq', value: true });
  });
});
