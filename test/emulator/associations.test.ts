import { afterEach, describe, expect, it } from 'vitest';
import { type Api, start } from './helpers.js';

let api: Api;
afterEach(async () => api?.emu.close());

const seed = {
  companies: [{ id: '100', properties: { name: 'Acme', domain: 'acme.example' } }, { id: '200', properties: { name: 'Globex', domain: 'globex.example' } }],
  contacts: [
    { id: '1', properties: { email: 'ada@example.com' }, associations: { companies: ['100'] } },
    { id: '2', properties: { email: 'bob@example.com' } },
  ],
  deals: [{ id: '7', properties: { dealname: 'Renewal', dealstage: 'qualifiedtobuy', pipeline: 'default' }, associations: { contacts: ['1'], companies: ['200'] } }],
};

describe('associations v4', () => {
  it('lists one record\'s associations with primary and unlabeled types', async () => {
    api = await start({ seed });
    const res = await api.call('GET', '/crm/v4/objects/contacts/1/associations/companies');
    expect(res.status).toBe(200);
    expect(res.body.results).toEqual([{
      toObjectId: 100,
      associationTypes: [{ category: 'HUBSPOT_DEFINED', typeId: 1, label: 'Primary' }, { category: 'HUBSPOT_DEFINED', typeId: 279, label: null }],
    }]);
    const deal = await api.call('GET', '/crm/v4/objects/deals/7/associations/companies');
    expect(deal.body.results[0].associationTypes.map((t: { typeId: number }) => t.typeId)).toEqual([5, 341]);
    const dealContacts = await api.call('GET', '/crm/v4/objects/deal/7/associations/contact');
    expect(dealContacts.body.results[0]).toMatchObject({ toObjectId: 1, associationTypes: [{ typeId: 3 }] });
    const reverse = await api.call('GET', '/crm/v4/objects/companies/100/associations/contacts');
    expect(reverse.body.results[0].associationTypes.map((t: { typeId: number }) => t.typeId)).toEqual([2, 280]);
  });

  it('moves the primary company and keeps the old one unlabeled', async () => {
    api = await start({ seed });
    const before = api.emu.store.get('contacts', '1')!;
    api.emu.clock.advance(1_000);
    const res = await api.call('POST', '/crm/v4/associations/contacts/companies/batch/create', {
      inputs: [{ from: { id: '1' }, to: { id: '200' }, types: [{ associationCategory: 'HUBSPOT_DEFINED', associationTypeId: 1 }] }],
    });
    expect(res.status).toBe(201);
    expect(res.body.results[0]).toEqual({ fromObjectTypeId: '0-1', fromObjectId: 1, toObjectTypeId: '0-2', toObjectId: 200, labels: ['Primary'] });
    const list = await api.call('GET', '/crm/v4/objects/contacts/1/associations/companies');
    expect(list.body.results.map((r: { toObjectId: number; associationTypes: { typeId: number }[] }) => [r.toObjectId, r.associationTypes.map((t) => t.typeId)]))
      .toEqual([[100, [279]], [200, [1, 279]]]);
    const after = api.emu.store.get('contacts', '1')!;
    expect(after.properties['associatedcompanyid']).toBe('200');
    expect(Date.parse(after.updatedAt)).toBeGreaterThan(Date.parse(before.updatedAt));
  });

  it('creates default associations, batch-reads them and archives them', async () => {
    api = await start({ seed });
    const put = await api.call('PUT', '/crm/v4/objects/contacts/2/associations/default/companies/200');
    expect(put.status).toBe(200);
    expect(put.body.results[0]).toMatchObject({ from: { id: '2' }, to: { id: '200' } });
    const read = await api.call('POST', '/crm/v4/associations/contacts/companies/batch/read', { inputs: [{ id: '1' }, { id: '2' }, { id: '999' }] });
    expect(read.status).toBe(207);
    expect(read.body.results.map((r: { from: { id: string }; to: { toObjectId: number }[] }) => [r.from.id, r.to.map((t) => t.toObjectId)])).toEqual([['1', [100]], ['2', [200]]]);
    expect(read.body.numErrors).toBe(1);
    const archive = await api.call('POST', '/crm/v4/associations/contacts/companies/batch/archive', { inputs: [{ from: { id: '2' }, to: [{ id: '200' }] }] });
    expect(archive.status).toBe(204);
    expect((await api.call('GET', '/crm/v4/objects/contacts/2/associations/companies')).body.results).toEqual([]);
    expect(api.emu.store.get('contacts', '2')!.properties['associatedcompanyid']).toBeUndefined();
  });

  it('associates at create time and shows associations= on v3 reads', async () => {
    api = await start({ seed });
    const created = await api.call('POST', '/crm/v3/objects/deals', {
      properties: { dealname: 'New', dealstage: 'closedwon', pipeline: 'default' },
      associations: [{ to: { id: '100' }, types: [{ associationCategory: 'HUBSPOT_DEFINED', associationTypeId: 5 }] }],
    });
    expect(created.status).toBe(201);
    const read = await api.call('GET', `/crm/v3/objects/deals/${created.body.id}?associations=companies,contacts`);
    expect(read.body.associations).toEqual({
      companies: { results: [{ id: '100', type: 'deal_to_company' }, { id: '100', type: 'deal_to_company_unlabeled' }] },
    });
    const company = await api.call('GET', '/crm/v3/objects/companies/100?properties=num_associated_contacts');
    expect(company.body.properties.num_associated_contacts).toBe('1');
    const badType = await api.call('POST', '/crm/v3/objects/deals', {
      properties: { dealname: 'Bad', dealstage: 'closedwon', pipeline: 'default' },
      associations: [{ to: { id: '100' }, types: [{ associationCategory: 'HUBSPOT_DEFINED', associationTypeId: 1 }] }],
    });
    expect(badType.status).toBe(400);
  });

  it('lists the label definitions between two objects', async () => {
    api = await start();
    const res = await api.call('GET', '/crm/v4/associations/contacts/companies/labels');
    expect(res.body.results).toEqual(expect.arrayContaining([{ category: 'HUBSPOT_DEFINED', typeId: 1, label: 'Primary' }, { category: 'HUBSPOT_DEFINED', typeId: 279, label: null }]));
  });
});
