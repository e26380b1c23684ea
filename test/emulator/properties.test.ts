import { afterEach, describe, expect, it } from 'vitest';
import { type Api, start } from './helpers.js';

let api: Api;
afterEach(async () => api?.emu.close());

describe('properties API', () => {
  it('lists contact properties in HubSpot\'s Property shape', async () => {
    api = await start();
    const res = await api.call('GET', '/crm/v3/properties/contacts');
    expect(res.status).toBe(200);
    expect(res.body.paging).toBeUndefined();
    const byName = new Map(res.body.results.map((p: { name: string }) => [p.name, p]));
    expect(byName.get('email')).toMatchObject({ type: 'string', fieldType: 'text', hasUniqueValue: true, groupName: 'contactinformation', modificationMetadata: { readOnlyValue: false } });
    expect(byName.get('lastmodifieddate')).toMatchObject({ type: 'datetime', fieldType: 'date', modificationMetadata: { readOnlyValue: true } });
    expect(byName.get('hs_object_id')).toMatchObject({ type: 'number', modificationMetadata: { readOnlyValue: true } });
    expect(byName.get('hubspotscore')).toMatchObject({ calculated: true });
    expect(byName.get('hubspot_owner_id')).toMatchObject({ type: 'enumeration', referencedObjectType: 'OWNER' });
    expect(byName.get('lifecyclestage')).toMatchObject({ type: 'enumeration', options: expect.arrayContaining([{ label: 'Lead', value: 'lead', displayOrder: 1, hidden: false }]) });
    expect(byName.get('hs_buying_role')).toMatchObject({ type: 'enumeration', fieldType: 'checkbox' });
    expect(byName.get('newsletter_opt_in')).toMatchObject({ type: 'bool', fieldType: 'booleancheckbox', hubspotDefined: false });
    expect(byName.get('hs_full_name_or_email')).toMatchObject({ fieldType: 'calculation_equation', calculated: true });
    expect(byName.get('date_of_birth')).toMatchObject({ type: 'date', fieldType: 'date' });
  });

  it('covers every type/fieldType pair across the three objects', async () => {
    api = await start();
    const pairs = new Set<string>();
    for (const object of ['contacts', 'companies', 'deals']) {
      const res = await api.call('GET', `/crm/v3/properties/${object}`);
      for (const p of res.body.results) pairs.add(`${p.type}/${p.fieldType}`);
    }
    for (const pair of ['string/text', 'string/textarea', 'string/phonenumber', 'number/number', 'date/date', 'datetime/date', 'bool/booleancheckbox',
      'enumeration/select', 'enumeration/radio', 'enumeration/checkbox', 'enumeration/booleancheckbox', 'number/calculation_equation']) {
      expect(pairs).toContain(pair);
    }
  });

  it('has the default deal pipeline stages, company domain not unique, a unique creation key, and a single-property read', async () => {
    api = await start();
    const stage = await api.call('GET', '/crm/v3/properties/deals/dealstage');
    expect(stage.body.options.map((o: { value: string }) => o.value)).toEqual(
      ['appointmentscheduled', 'qualifiedtobuy', 'presentationscheduled', 'decisionmakerboughtin', 'contractsent', 'closedwon', 'closedlost']);
    const domain = await api.call('GET', '/crm/v3/properties/companies/domain');
    expect(domain.body).toMatchObject({ name: 'domain', hasUniqueValue: false });
    for (const object of ['contacts', 'companies', 'deals']) {
      const key = await api.call('GET', `/crm/v3/properties/${object}/hs_unique_creation_key`);
      expect(key.body).toMatchObject({ name: 'hs_unique_creation_key', type: 'string', hasUniqueValue: true });
    }
    const industry = await api.call('GET', '/crm/v3/properties/companies/industry');
    expect(industry.body.options.length).toBeGreaterThan(5);
    const missing = await api.call('GET', '/crm/v3/properties/companies/nope');
    expect(missing.status).toBe(404);
    expect(missing.body.category).toBe('OBJECT_NOT_FOUND');
  });
});
