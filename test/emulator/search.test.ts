import { afterEach, describe, expect, it } from 'vitest';
import type { SeedRecord } from '../../fixtures/hubspot-emulator/server.js';
import { type Api, contacts, start } from './helpers.js';

let api: Api;
afterEach(async () => api?.emu.close());

const search = (body: unknown, object = 'contacts') => api.call('POST', `/crm/v3/objects/${object}/search`, body);
const ids = (res: { body: { results: { id: string }[] } }) => res.body.results.map((r) => r.id);

const people: SeedRecord[] = [
  { properties: { email: 'ada@analytical.example', firstname: 'Ada', lastname: 'Lovelace', lifecyclestage: 'customer', annual_income: '500', date_of_birth: '1815-12-10' } },
  { properties: { email: 'alan@bletchley.example', firstname: 'Alan', lastname: 'Turing', lifecyclestage: 'lead', annual_income: '300' } },
  { properties: { email: 'grace@navy.example', firstname: 'Grace', lastname: 'Hopper', lifecyclestage: 'lead', annual_income: '1000', date_of_birth: '1906-12-09' } },
  { properties: { email: 'edsger@example.com', firstname: 'Edsger', lastname: 'Dijkstra' } },
];

describe('search', () => {
  it('evaluates each operator', async () => {
    api = await start({ seed: { contacts: people } });
    const f = async (filter: Record<string, unknown>) => ids(await search({ filterGroups: [{ filters: [filter] }] }));
    expect(await f({ propertyName: 'firstname', operator: 'EQ', value: 'ada' })).toEqual(['1']);
    expect(await f({ propertyName: 'lifecyclestage', operator: 'EQ', value: 'LEAD' })).toEqual([]); // enumerations are case-sensitive
    expect(await f({ propertyName: 'lifecyclestage', operator: 'NEQ', value: 'lead' })).toEqual(['1', '4']);
    expect(await f({ propertyName: 'annual_income', operator: 'GT', value: '300' })).toEqual(['1', '3']);
    expect(await f({ propertyName: 'annual_income', operator: 'GTE', value: '300' })).toEqual(['1', '2', '3']);
    expect(await f({ propertyName: 'annual_income', operator: 'LT', value: '500' })).toEqual(['2']);
    expect(await f({ propertyName: 'annual_income', operator: 'LTE', value: '500' })).toEqual(['1', '2']);
    expect(await f({ propertyName: 'annual_income', operator: 'BETWEEN', value: '300', highValue: '500' })).toEqual(['1', '2']);
    expect(await f({ propertyName: 'lastname', operator: 'IN', values: ['turing', 'hopper'] })).toEqual(['2', '3']);
    expect(await f({ propertyName: 'lastname', operator: 'NOT_IN', values: ['turing', 'hopper'] })).toEqual(['1', '4']);
    expect(await f({ propertyName: 'date_of_birth', operator: 'HAS_PROPERTY' })).toEqual(['1', '3']);
    expect(await f({ propertyName: 'date_of_birth', operator: 'NOT_HAS_PROPERTY' })).toEqual(['2', '4']);
    expect(await f({ propertyName: 'email', operator: 'CONTAINS_TOKEN', value: '*.example' })).toEqual(['1', '2', '3']);
    expect(await f({ propertyName: 'email', operator: 'NOT_CONTAINS_TOKEN', value: '*@example.com' })).toEqual(['1', '2', '3']);
    expect(await f({ propertyName: 'date_of_birth', operator: 'LT', value: String(Date.UTC(1900, 0, 1)) })).toEqual(['1']);
  });

  it('ANDs filters in a group and ORs groups', async () => {
    api = await start({ seed: { contacts: people } });
    const res = await search({
      filterGroups: [
        { filters: [{ propertyName: 'lifecyclestage', operator: 'EQ', value: 'lead' }, { propertyName: 'annual_income', operator: 'GT', value: '500' }] },
        { filters: [{ propertyName: 'firstname', operator: 'EQ', value: 'Edsger' }] },
      ],
    });
    expect(ids(res)).toEqual(['3', '4']);
    expect(res.body.total).toBe(2);
  });

  it('compares datetimes as epoch milliseconds and sorts on one property', async () => {
    api = await start({ seed: { contacts: contacts(3) } });
    api.emu.clock.advance(60_000);
    const cutoff = api.emu.clock.now();
    api.emu.clock.advance(1_000);
    await api.call('PATCH', '/crm/v3/objects/contacts/3', { properties: { firstname: 'Later' } });
    api.emu.clock.advance(1_000);
    await api.call('PATCH', '/crm/v3/objects/contacts/1', { properties: { firstname: 'Latest' } });
    const res = await search({
      filterGroups: [{ filters: [{ propertyName: 'lastmodifieddate', operator: 'GTE', value: String(cutoff) }] }],
      sorts: [{ propertyName: 'lastmodifieddate', direction: 'ASCENDING' }],
      properties: ['firstname'],
    });
    expect(ids(res)).toEqual(['3', '1']);
    expect(Object.keys(res.body.results[0].properties).sort()).toEqual(['createdate', 'firstname', 'hs_object_id', 'lastmodifieddate']);
    const desc = await search({ sorts: [{ propertyName: 'firstname', direction: 'DESCENDING' }] });
    expect(ids(desc)).toEqual(['1', '3', '2']);
    expect((await search({ sorts: ['firstname', 'lastname'] })).status).toBe(400);
    const missingProp = await search({ filterGroups: [{ filters: [{ propertyName: 'hs_lastmodifieddate', operator: 'GTE', value: '0' }] }] });
    expect(missingProp.status).toBe(400);
  });

  it('pages by offset, hides archived records and carries no rate-limit headers', async () => {
    api = await start({ seed: { contacts: contacts(450) } });
    api.emu.store.archive('contacts', '2');
    const first = await search({ limit: 200 });
    expect(first.body.total).toBe(449);
    expect(first.body.paging.next.after).toBe('200');
    expect(first.headers.get('x-hubspot-ratelimit-max')).toBeNull();
    const last = await search({ limit: 200, after: '400' });
    expect(last.body.results).toHaveLength(49);
    expect(last.body.paging).toBeUndefined();
    expect(ids(first)).not.toContain('2');
    expect((await search({ limit: 201 })).status).toBe(400);
  });

  it('stops at 10,000 results with 400 past the cap', async () => {
    api = await start({ seed: { contacts: contacts(10_050) } });
    const near = await search({ limit: 200, after: '9800' });
    expect(near.status).toBe(200);
    expect(near.body.total).toBe(10_050);
    expect(near.body.paging.next.after).toBe('10000');
    const past = await search({ limit: 200, after: '10000' });
    expect(past.status).toBe(400);
    expect(past.body.category).toBe('VALIDATION_ERROR');
    expect(past.body.message).toMatch(/10000/);
  });

  it('limits filter groups and filters', async () => {
    api = await start();
    const filter = { propertyName: 'email', operator: 'HAS_PROPERTY' };
    expect((await search({ filterGroups: Array.from({ length: 6 }, () => ({ filters: [filter] })) })).status).toBe(400);
    expect((await search({ filterGroups: [{ filters: Array.from({ length: 7 }, () => filter) }] })).status).toBe(400);
    expect((await search({ filterGroups: Array.from({ length: 4 }, () => ({ filters: Array.from({ length: 5 }, () => filter) })) })).status).toBe(400);
    expect((await search({ filterGroups: Array.from({ length: 3 }, () => ({ filters: Array.from({ length: 6 }, () => filter) })) })).status).toBe(200);
  });

  it('allows 5 searches per second and answers the 6th with a secondly 429', async () => {
    api = await start({ searchPerSecond: 5 });
    const statuses = [];
    for (let i = 0; i < 6; i++) statuses.push(await search({}));
    expect(statuses.map((r) => r.status)).toEqual([200, 200, 200, 200, 200, 429]);
    const refused = statuses[5]!;
    expect(refused.body).toMatchObject({ status: 'error', errorType: 'RATE_LIMIT', message: 'You have reached your secondly limit.' });
    expect(refused.headers.get('x-hubspot-ratelimit-remaining')).toBeNull();
    expect((await api.call('GET', '/crm/v3/objects/contacts')).status).toBe(200); // the ten-secondly window is separate
    api.emu.clock.advance(1_000);
    expect((await search({})).status).toBe(200);
  });

  it('matches free-text query and association pseudo-properties', async () => {
    api = await start({ seed: { companies: [{ id: '9', properties: { name: 'Navy' } }], contacts: people.map((p, i) => (i === 2 ? { ...p, associations: { companies: ['9'] } } : p)) } });
    expect(ids(await search({ query: 'grace' }))).toEqual(['3']);
    expect(ids(await search({ filterGroups: [{ filters: [{ propertyName: 'associations.company', operator: 'EQ', value: '9' }] }] }))).toEqual(['3']);
  });
});
