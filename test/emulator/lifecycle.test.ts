/**
 * How records leave HubSpot other than by archiving, and come back: merges
 * (a new id that both old ids resolve to), GDPR deletes, recycle-bin
 * restores; and the smaller live behaviours that go with reading them
 * (207 NO_ASSOCIATIONS_FOUND, property groups, 414 on long URLs).
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { SeedData } from '../../fixtures/hubspot-emulator/server.js';
import { type Api, start, TOKEN } from './helpers.js';

let api: Api;
afterEach(async () => api?.emu.close());

const seed: SeedData = {
  companies: [{ id: '50', properties: { name: 'Acme', domain: 'acme.example' } }, { id: '51', properties: { name: 'Other', domain: 'other.example' } }],
  contacts: [
    { id: '1', properties: { email: 'ann@example.com', firstname: 'Ann', jobtitle: 'CTO' }, associations: { companies: ['50'] } },
    { id: '2', properties: { email: 'ann.b@example.com', firstname: 'Annie', lastname: 'Smith' }, associations: { companies: ['51'] } },
    { id: '3', properties: { email: 'solo@example.com' } },
  ],
};

describe('merge', () => {
  it('makes a new record that both old ids resolve to, listing them in hs_merged_object_ids', async () => {
    api = await start({ seed });
    const merged = await api.call('POST', '/crm/v3/objects/contacts/merge', { primaryObjectId: '1', objectIdToMerge: '2' });
    expect(merged.status).toBe(200);
    const id = merged.body.id as string;
    expect(['1', '2']).not.toContain(id);
    expect(merged.body.properties).toMatchObject({
      email: 'ann@example.com', firstname: 'Ann', lastname: 'Smith', jobtitle: 'CTO',
      hs_additional_emails: 'ann.b@example.com', hs_merged_object_ids: '1;2', hs_object_id: id,
    });
    for (const old of ['1', '2']) {
      const read = await api.call('GET', `/crm/v3/objects/contacts/${old}?properties=email,hs_merged_object_ids`);
      expect(read.status).toBe(200);
      expect(read.body.id).toBe(id);
    }
    const batch = await api.call('POST', '/crm/v3/objects/contacts/batch/read', { inputs: [{ id: '1' }, { id: '3' }], properties: ['email'] });
    expect(batch.status).toBe(200);
    expect(batch.body.results.map((r: { id: string }) => r.id).sort()).toEqual([id, '3'].sort());
    // Gone as records of their own: list, search and the archived listing.
    const list = await api.call('GET', '/crm/v3/objects/contacts?limit=100');
    expect(list.body.results.map((r: { id: string }) => r.id).sort()).toEqual(['3', id].sort());
    const search = await api.call('POST', '/crm/v3/objects/contacts/search', { filterGroups: [] });
    expect(search.body.results.map((r: { id: string }) => r.id)).not.toContain('1');
    expect((await api.call('GET', '/crm/v3/objects/contacts?archived=true')).body.results).toEqual([]);
    // Batch update does not take a merged-away id (reference §2.7); the single PATCH does.
    const update = await api.call('POST', '/crm/v3/objects/contacts/batch/update', { inputs: [{ id: '2', properties: { jobtitle: 'CEO' } }] });
    expect(update.status).toBe(207);
    expect((await api.call('PATCH', '/crm/v3/objects/contacts/2', { properties: { jobtitle: 'CEO' } })).body.id).toBe(id);
    // Associations move to the survivor; the primary's primary company stays primary.
    const assoc = await api.call('GET', `/crm/v4/objects/contacts/${id}/associations/companies`);
    expect(assoc.body.results.map((r: { toObjectId: number }) => String(r.toObjectId)).sort()).toEqual(['50', '51']);
    expect(api.emu.store.get('contacts', id)?.properties['associatedcompanyid']).toBe('50');
    // Emails keep resolving: the old one is the survivor's additional email.
    expect((await api.call('GET', '/crm/v3/objects/contacts/ann.b@example.com?idProperty=email')).body.id).toBe(id);
  });

  it('refuses a merge with itself, an unknown record, and past 250 identities (414)', async () => {
    api = await start({ seed });
    expect((await api.call('POST', '/crm/v3/objects/contacts/merge', { primaryObjectId: '1', objectIdToMerge: '1' })).status).toBe(400);
    expect((await api.call('POST', '/crm/v3/objects/contacts/merge', { primaryObjectId: '1', objectIdToMerge: '999' })).status).toBe(404);
    // Each merge adds the two ids it joined (the earlier survivor's too): 125 merges hold 250 identities, the most allowed.
    let survivor = '1';
    for (let i = 0; i < 125; i++) {
      const c = api.emu.store.create('contacts', { email: `m${i}@example.com` });
      survivor = api.emu.store.merge('contacts', survivor, c.id).id;
    }
    expect(api.emu.store.get('contacts', survivor)?.properties['hs_merged_object_ids']?.split(';')).toHaveLength(250);
    const last = api.emu.store.create('contacts', { email: 'last@example.com' });
    const refused = await api.call('POST', '/crm/v3/objects/contacts/merge', { primaryObjectId: survivor, objectIdToMerge: last.id });
    expect(refused.status).toBe(414);
    expect(refused.body.message).toBe('Cannot have more than 250 identities on a profile');
  });

  it('merges companies through the admin endpoint too, without a token', async () => {
    api = await start({ seed });
    const res = await fetch(`${api.emu.url}/_emulator/records/companies/merge`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ primaryObjectId: '50', objectIdToMerge: '51' }),
    });
    expect(res.status).toBe(200);
    const body = await res.json() as { id: string; properties: Record<string, string> };
    expect(body.properties).toMatchObject({ name: 'Acme', domain: 'acme.example', hs_merged_object_ids: '50;51' });
    expect((await api.call('GET', '/crm/v3/objects/companies/51')).body.id).toBe(body.id);
  });
});

describe('gdpr-delete and restore', () => {
  it('deletes a contact for good: no read, no archived listing, no alias', async () => {
    api = await start({ seed });
    expect((await api.call('POST', '/crm/v3/objects/contacts/gdpr-delete', { objectId: 'solo@example.com', idProperty: 'email' })).status).toBe(204);
    expect((await api.call('GET', '/crm/v3/objects/contacts/3')).status).toBe(404);
    expect((await api.call('GET', '/crm/v3/objects/contacts/3?archived=true')).status).toBe(404);
    expect((await api.call('GET', '/crm/v3/objects/contacts?archived=true')).body.results).toEqual([]);
    expect((await api.call('POST', '/crm/v3/objects/contacts/gdpr-delete', { objectId: '3' })).status).toBe(404);
    // The email is free again.
    expect((await api.call('POST', '/crm/v3/objects/contacts', { properties: { email: 'solo@example.com' } })).status).toBe(201);
  });

  it('restores an archived record with its id, leaving its modified date alone', async () => {
    api = await start({ seed });
    const before = api.emu.store.get('contacts', '3')!;
    expect((await api.call('DELETE', '/crm/v3/objects/contacts/3')).status).toBe(204);
    api.emu.clock.advance(60_000);
    const res = await fetch(`${api.emu.url}/_emulator/records/contacts/3/restore`, { method: 'POST' });
    expect(res.status).toBe(200);
    const read = await api.call('GET', '/crm/v3/objects/contacts/3');
    expect(read.body).toMatchObject({ id: '3', archived: false });
    expect(read.body.updatedAt).toBe(before.updatedAt);
    expect((await fetch(`${api.emu.url}/_emulator/records/contacts/3/restore`, { method: 'POST' })).status).toBe(404);
  });
});

describe('smaller live behaviours', () => {
  it('answers a v4 batch read of a record without associations with a 207 NO_ASSOCIATIONS_FOUND', async () => {
    api = await start({ seed });
    const res = await api.call('POST', '/crm/v4/associations/contacts/companies/batch/read', { inputs: [{ id: '1' }, { id: '3' }] });
    expect(res.status).toBe(207);
    expect(res.body.results.map((r: { from: { id: string } }) => r.from.id)).toEqual(['1']);
    expect(res.body.errors).toEqual([expect.objectContaining({
      category: 'OBJECT_NOT_FOUND', subCategory: 'crm.associations.NO_ASSOCIATIONS_FOUND',
      message: 'No company is associated with contact 3.', context: expect.objectContaining({ fromObjectId: ['3'] }),
    })]);
  });

  it('routes GET /crm/v3/properties/{object}/groups as the property groups', async () => {
    api = await start();
    const res = await api.call('GET', '/crm/v3/properties/contacts/groups');
    expect(res.status).toBe(200);
    expect(res.body.results).toEqual(expect.arrayContaining([expect.objectContaining({ name: 'contactinformation', archived: false })]));
  });

  it('refuses a URL over 8 KB with 414 and an HTML page', async () => {
    api = await start();
    const props = Array.from({ length: 700 }, (_, i) => `property_${i}`).join(',');
    const res = await fetch(`${api.emu.url}/crm/v3/objects/contacts?properties=${props}`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(res.status).toBe(414);
    expect(res.headers.get('content-type')).toContain('text/html');
    expect(api.emu.stats().byStatus['414']).toBe(1);
  });
});
