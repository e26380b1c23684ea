/**
 * The emulator as HubSpot really behaves (issue 12): answers lost after the
 * work was done, company domains that are not unique.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { type Api, start } from './helpers.js';

let api: Api;
afterEach(async () => {
  await api?.emu.close();
  api = undefined as unknown as Api;
});

const fault = (spec: unknown) => api.call('POST', '/_emulator/faults', spec, null);
const deal = (name: string) => ({ inputs: [{ properties: { dealname: name, pipeline: 'default', dealstage: 'qualifiedtobuy' } }] });

describe('lost answers', () => {
  it('502 and 504: the create is applied, the client gets a gateway error', async () => {
    api = await start();
    await fault([{ lose: 502, path: '/batch/create' }, { lose: 504, path: '/batch/create' }]);
    expect((await api.call('POST', '/crm/v3/objects/deals/batch/create', deal('A'))).status).toBe(502);
    expect((await api.call('POST', '/crm/v3/objects/deals/batch/create', deal('B'))).status).toBe(504);
    expect(api.emu.store.list('deals').map((d) => d.properties.dealname)).toEqual(['A', 'B']);
    expect(api.emu.stats().lost).toBe(2);
  });

  it('reset: the create is applied, the connection is destroyed', async () => {
    api = await start();
    await fault({ lose: 'reset', path: '/batch/create' });
    await expect(api.call('POST', '/crm/v3/objects/deals/batch/create', deal('A'))).rejects.toThrow();
    expect(api.emu.store.list('deals')).toHaveLength(1);
  });

  it('timeout: the create is applied and no answer comes', async () => {
    api = await start();
    await fault({ lose: 'timeout', path: '/batch/create' });
    await expect(fetch(`${api.emu.url}/crm/v3/objects/deals/batch/create`, {
      method: 'POST', headers: { authorization: 'Bearer pat-na1-test-token', 'content-type': 'application/json' },
      body: JSON.stringify(deal('A')), signal: AbortSignal.timeout(300),
    })).rejects.toThrow();
    expect(api.emu.store.list('deals')).toHaveLength(1);
  });

  it('chance fires at random but repeatably for a seed', async () => {
    const run = async () => {
      const local = await start();
      await local.call('POST', '/_emulator/faults', { status: 503, chance: 0.3, seed: 7 }, null);
      const out: number[] = [];
      for (let i = 0; i < 20; i++) out.push((await local.call('GET', '/crm/v3/objects/contacts')).status);
      await local.emu.close();
      return out;
    };
    const a = await run();
    expect(a.filter((s) => s === 503).length).toBeGreaterThan(0);
    expect(a.filter((s) => s === 200).length).toBeGreaterThan(0);
    expect(await run()).toEqual(a);
  });

  it('refuses a fault with both a status and a lost answer', async () => {
    api = await start();
    expect((await fault({ status: 500, lose: 502 })).status).toBe(400);
  });
});

describe('company domains', () => {
  it('an API create with a domain another company has succeeds', async () => {
    api = await start();
    const one = await api.call('POST', '/crm/v3/objects/companies', { properties: { name: 'Acme', domain: 'acme.example' } });
    const two = await api.call('POST', '/crm/v3/objects/companies', { properties: { name: 'Acme Ltd', domain: 'ACME.example' } });
    expect([one.status, two.status]).toEqual([201, 201]);
    expect(two.body.id).not.toBe(one.body.id);
  });

  it('the unique creation key refuses a second record with the same key', async () => {
    api = await start();
    const body = { inputs: [{ properties: { name: 'Acme', hs_unique_creation_key: 'k-1' } }] };
    expect((await api.call('POST', '/crm/v3/objects/companies/batch/create', body)).status).toBe(201);
    const again = await api.call('POST', '/crm/v3/objects/companies/batch/create', body);
    expect(again.status).toBe(400);
    expect(again.body.message).toMatch(/already has that value/);
    const read = await api.call('POST', '/crm/v3/objects/companies/batch/read', { idProperty: 'hs_unique_creation_key', inputs: [{ id: 'k-1' }], properties: ['name'] });
    expect(read.body.results).toHaveLength(1);
  });
});

describe('search lag', () => {
  const search = (object: string, after = 0) => api.call('POST', `/crm/v3/objects/${object}/search`, {
    filterGroups: [{ filters: [{ propertyName: 'lastmodifieddate', operator: 'GTE', value: String(after) }] }],
    properties: ['email', 'jobtitle'], limit: 100,
  });

  it('search shows each record as it was before the lag; reads by id see the write at once', async () => {
    api = await start({ searchLag: { ms: 60_000 }, seed: { contacts: [{ properties: { email: 'old@example.com', jobtitle: 'old' } }] } });
    expect((await search('contacts')).body.total).toBe(1); // seeded: indexed already
    const created = await api.call('POST', '/crm/v3/objects/contacts', { properties: { email: 'new@example.com' } });
    const oldId = api.emu.store.list('contacts').find((r) => r.properties.email === 'old@example.com')!.id;
    await api.call('PATCH', `/crm/v3/objects/contacts/${oldId}`, { properties: { jobtitle: 'edited' } });
    const lagging = await search('contacts');
    expect(lagging.body.results.map((r: { properties: { email: string; jobtitle: string } }) => [r.properties.email, r.properties.jobtitle])).toEqual([['old@example.com', 'old']]);
    expect((await api.call('GET', `/crm/v3/objects/contacts/${created.body.id}`)).status).toBe(200);
    expect((await api.call('GET', `/crm/v3/objects/contacts/${oldId}?properties=jobtitle`)).body.properties.jobtitle).toBe('edited');
    api.emu.clock.advance(60_000);
    const caught = await search('contacts');
    expect(caught.body.results.map((r: { properties: { jobtitle: string | null } }) => r.properties.jobtitle).sort()).toEqual(['edited', null]);
  });

  it('an archived record is still found until the index catches up; random mode is seeded', async () => {
    api = await start({ searchLag: { ms: 10_000 }, seed: { contacts: [{ properties: { email: 'a@example.com' } }] } });
    const id = api.emu.store.list('contacts')[0]!.id;
    await api.call('DELETE', `/crm/v3/objects/contacts/${id}`);
    expect((await search('contacts')).body.total).toBe(1);
    api.emu.clock.advance(10_000);
    expect((await search('contacts')).body.total).toBe(0);
    expect((await api.call('POST', '/_emulator/search-lag', { ms: 5_000, random: true, seed: 3 }, null)).body).toEqual({ ms: 5_000, random: true, seed: 3 });
    for (let i = 0; i < 20; i++) await api.call('POST', '/crm/v3/objects/contacts', { properties: { email: `r${i}@example.com` } });
    api.emu.clock.advance(2_500);
    const some = (await search('contacts')).body.total;
    expect(some).toBeGreaterThan(0);
    expect(some).toBeLessThan(20);
    api.emu.clock.advance(2_500);
    expect((await search('contacts')).body.total).toBe(20);
  });
});

describe('scopes', () => {
  it('a token with contact scopes only gets 403 MISSING_SCOPES, as HubSpot words it, outside them', async () => {
    api = await start({ scopes: ['crm.objects.contacts.read', 'crm.objects.contacts.write'] });
    expect((await api.call('GET', '/crm/v3/objects/contacts')).status).toBe(200);
    expect((await api.call('GET', '/crm/v3/properties/contacts')).status).toBe(200);
    const refused = await api.call('GET', '/crm/v3/properties/companies');
    expect(refused.status).toBe(403);
    expect(refused.body).toMatchObject({
      status: 'error', category: 'MISSING_SCOPES', correlationId: expect.any(String),
      message: expect.stringMatching(/hasn't been granted all required scopes/),
      errors: [{ message: 'One or more of the following scopes are required.', context: { requiredGranularScopes: ['crm.objects.companies.read', 'crm.schemas.companies.read'] } }],
      links: { scopes: 'https://developers.hubspot.com/scopes' },
    });
    const write = await api.call('POST', '/crm/v3/objects/deals/batch/create', { inputs: [] });
    expect(write.body.errors[0].context.requiredGranularScopes).toEqual(['crm.objects.deals.write']);
    expect((await api.call('POST', '/crm/v4/associations/contacts/companies/batch/read', { inputs: [] })).status).toBe(403);
  });
});
