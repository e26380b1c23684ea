import { afterEach, describe, expect, it } from 'vitest';
import { type Api, contacts, start, UUID } from './helpers.js';

let api: Api;
afterEach(async () => api?.emu.close());

describe('objects v3: list and read', () => {
  it('pages with limit and after until paging disappears', async () => {
    api = await start({ seed: { contacts: contacts(25) } });
    const first = await api.call('GET', '/crm/v3/objects/contacts?limit=10');
    expect(first.status).toBe(200);
    expect(first.body.results).toHaveLength(10);
    expect(first.body.paging.next.after).toBe('11');
    expect(first.body.paging.next.link).toBe(`${api.emu.url}/crm/v3/objects/contacts?limit=10&after=11`);
    const ids: string[] = [];
    let after: string | undefined;
    do {
      const page = await api.call('GET', `/crm/v3/objects/contacts?limit=10${after ? `&after=${after}` : ''}`);
      ids.push(...page.body.results.map((r: { id: string }) => r.id));
      after = page.body.paging?.next?.after;
    } while (after);
    expect(ids).toEqual(Array.from({ length: 25 }, (_, i) => String(i + 1)));
  });

  it('defaults to 10 per page and refuses more than 100', async () => {
    api = await start({ seed: { contacts: contacts(12) } });
    expect((await api.call('GET', '/crm/v3/objects/contacts')).body.results).toHaveLength(10);
    const tooMany = await api.call('GET', '/crm/v3/objects/contacts?limit=101');
    expect(tooMany.status).toBe(400);
    expect(tooMany.body.category).toBe('VALIDATION_ERROR');
  });

  it('returns default properties, or the requested ones plus the always-present three', async () => {
    api = await start({ seed: { contacts: [{ properties: { email: 'ada@example.com', firstname: 'Ada', phone: '+1 555' } }] } });
    const plain = await api.call('GET', '/crm/v3/objects/contacts/1');
    expect(Object.keys(plain.body.properties).sort()).toEqual(['createdate', 'email', 'firstname', 'hs_object_id', 'lastmodifieddate', 'lastname']);
    expect(plain.body.properties.lastname).toBeNull();
    expect(plain.body.properties.hs_object_id).toBe('1');
    expect(plain.body.createdAt).toBe(plain.body.properties.createdate);
    expect(plain.body.updatedAt).toBe(plain.body.properties.lastmodifieddate);
    const picked = await api.call('GET', '/crm/v3/objects/contacts/1?properties=phone,no_such_prop&properties=city');
    expect(picked.body.properties).toEqual({
      city: null, createdate: plain.body.createdAt, hs_object_id: '1', lastmodifieddate: plain.body.updatedAt, phone: '+1 555',
    });
  });

  it('reads by idProperty=email ignoring case, and answers 404 OBJECT_NOT_FOUND otherwise', async () => {
    api = await start({ seed: { contacts: [{ properties: { email: 'Ada@Example.com' } }] } });
    const byEmail = await api.call('GET', '/crm/v3/objects/contacts/ada%40example.com?idProperty=email');
    expect(byEmail.status).toBe(200);
    expect(byEmail.body.id).toBe('1');
    const missing = await api.call('GET', '/crm/v3/objects/contacts/999');
    expect(missing.status).toBe(404);
    expect(missing.body).toMatchObject({ status: 'error', category: 'OBJECT_NOT_FOUND' });
    expect(missing.body.correlationId).toMatch(UUID);
    const unknownType = await api.call('GET', '/crm/v3/objects/widgets');
    expect(unknownType.status).toBe(404);
    expect(unknownType.body.category).toBe('OBJECT_NOT_FOUND');
  });

  it('accepts object type IDs in paths', async () => {
    api = await start({ seed: { deals: [{ properties: { dealname: 'D', dealstage: 'closedwon', pipeline: 'default' } }] } });
    const res = await api.call('GET', '/crm/v3/objects/0-3/1');
    expect(res.body.properties).toMatchObject({ dealname: 'D', dealstage: 'closedwon', pipeline: 'default', hs_lastmodifieddate: expect.any(String) });
  });
});

describe('objects v3: writes', () => {
  it('creates (201), updates and archives (204); modified dates move with changes only', async () => {
    api = await start();
    const created = await api.call('POST', '/crm/v3/objects/companies', { properties: { name: 'Acme', domain: 'acme.example', numberofemployees: '12' } });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ id: '1', archived: false, properties: { name: 'Acme', hs_object_id: '1', numberofemployees: '12' } });
    expect(created.body.properties.hs_lastmodifieddate).toBe(created.body.updatedAt);
    api.emu.clock.advance(5_000);
    const same = await api.call('PATCH', '/crm/v3/objects/companies/1', { properties: { name: 'Acme' } });
    expect(same.body.updatedAt).toBe(created.body.updatedAt);
    const changed = await api.call('PATCH', '/crm/v3/objects/companies/1', { properties: { name: 'Acme Inc', domain: '' } });
    expect(changed.status).toBe(200);
    expect(Date.parse(changed.body.updatedAt) - Date.parse(created.body.updatedAt)).toBeGreaterThanOrEqual(5_000);
    expect(changed.body.properties.hs_lastmodifieddate).toBe(changed.body.updatedAt);
    expect(changed.body.properties.domain).toBeUndefined();
    expect(changed.body.createdAt).toBe(created.body.createdAt);

    expect((await api.call('DELETE', '/crm/v3/objects/companies/1')).status).toBe(204);
    expect((await api.call('GET', '/crm/v3/objects/companies/1')).status).toBe(404);
    const archived = await api.call('GET', '/crm/v3/objects/companies?archived=true');
    expect(archived.body.results).toHaveLength(1);
    expect(archived.body.results[0]).toMatchObject({ id: '1', archived: true, archivedAt: expect.any(String), updatedAt: changed.body.updatedAt });
    expect((await api.call('GET', '/crm/v3/objects/companies')).body.results).toHaveLength(0);
  });

  it('normalises values: dates, datetimes, booleans and the multiple-checkbox append rule', async () => {
    api = await start();
    const c = await api.call('POST', '/crm/v3/objects/contacts', {
      properties: { email: 'a@b.example', date_of_birth: '1430438400000', newsletter_opt_in: 'TRUE', hs_buying_role: 'CHAMPION', annual_income: 1250.5 },
    });
    expect(c.status).toBe(201);
    expect(c.body.properties).toMatchObject({ date_of_birth: '2015-05-01', newsletter_opt_in: 'true', annual_income: '1250.5' });
    const appended = await api.call('PATCH', `/crm/v3/objects/contacts/${c.body.id}`, { properties: { hs_buying_role: ';END_USER;CHAMPION' } });
    expect(appended.body.properties.hs_buying_role).toBe('CHAMPION;END_USER');
    const d = await api.call('POST', '/crm/v3/objects/deals', { properties: { dealname: 'X', dealstage: 'qualifiedtobuy', pipeline: 'default', closedate: '1735689600000' } });
    expect(d.body.properties.closedate).toBe('2025-01-01T00:00:00.000Z');
  });

  it('rejects unknown, read-only and badly formatted properties with VALIDATION_ERROR', async () => {
    api = await start();
    const res = await api.call('POST', '/crm/v3/objects/contacts', { properties: { shoe_size: '9', createdate: '2020-01-01', lifecyclestage: 'Lead', annual_income: '1,000' } });
    expect(res.status).toBe(400);
    expect(res.body.category).toBe('VALIDATION_ERROR');
    expect(res.body.message).toMatch(/^Property values were not valid: \[/);
    const listed = JSON.parse(res.body.message.slice('Property values were not valid: '.length));
    expect(listed[0]).toMatchObject({ isValid: false, error: 'PROPERTY_DOESNT_EXIST', name: 'shoe_size', message: 'Property "shoe_size" does not exist', portalId: expect.any(Number) });
    expect(res.body.errors.map((e: { code: string }) => e.code)).toEqual(['PROPERTY_DOESNT_EXIST', 'READ_ONLY_VALUE', 'INVALID_OPTION', 'INVALID_INTEGER']);
    expect(res.body.errors[0].context).toEqual({ propertyName: ['shoe_size'] });
    const deal = await api.call('POST', '/crm/v3/objects/deals', { properties: { dealname: 'No stage' } });
    expect(deal.status).toBe(400);
    expect(deal.body.errors.map((e: { code: string }) => e.code)).toEqual(['REQUIRED_PROPERTY', 'REQUIRED_PROPERTY']);
  });

  it('answers a duplicate contact email with 409 CONFLICT naming the existing ID', async () => {
    api = await start({ seed: { contacts: [{ id: '5101', properties: { email: 'ada@example.com' } }] } });
    const res = await api.call('POST', '/crm/v3/objects/contacts', { properties: { email: 'ADA@example.com' } });
    expect(res.status).toBe(409);
    expect(res.body).toEqual({ status: 'error', message: 'Contact already exists. Existing ID: 5101', correlationId: expect.stringMatching(UUID), category: 'CONFLICT' });
    const second = await api.call('POST', '/crm/v3/objects/contacts', { properties: { email: 'bob@example.com' } });
    expect(second.body.id).toBe('5102');
    const steal = await api.call('PATCH', '/crm/v3/objects/contacts/5102', { properties: { email: 'ada@example.com' } });
    expect(steal.status).toBe(400);
    expect(steal.body.message).toMatch(/on 5102\. 5101 already has that value\.$/);
  });

  it('treats hs_additional_emails as taken and frees an archived contact\'s email', async () => {
    api = await start({ seed: { contacts: [{ properties: { email: 'a@x.example', hs_additional_emails: 'old@x.example' } }] } });
    expect((await api.call('POST', '/crm/v3/objects/contacts', { properties: { email: 'old@x.example' } })).status).toBe(409);
    await api.call('DELETE', '/crm/v3/objects/contacts/1');
    expect((await api.call('POST', '/crm/v3/objects/contacts', { properties: { email: 'a@x.example' } })).status).toBe(201);
  });

  it('lets seeds and direct writes place records in time', async () => {
    api = await start({ seed: { companies: [{ properties: { name: 'Old', createdate: '2020-01-01T00:00:00Z', hs_lastmodifieddate: '1600000000000' } }] } });
    const seeded = api.emu.store.get('companies', '1')!;
    expect(seeded).toMatchObject({ createdAt: '2020-01-01T00:00:00.000Z', updatedAt: '2020-09-13T12:26:40.000Z' });
    const moved = api.emu.store.update('companies', '1', { name: 'Older', hs_lastmodifieddate: '2021-01-01T00:00:00.000Z' });
    expect(moved.updatedAt).toBe('2021-01-01T00:00:00.000Z');
    expect(moved.properties['hs_lastmodifieddate']).toBe('2021-01-01T00:00:00.000Z');
    const created = api.emu.store.create('contacts', { email: 'x@y.example', favourite_colour: 'blue' });
    const read = await api.call('GET', `/crm/v3/objects/contacts/${created.id}?properties=favourite_colour`);
    expect(read.body.properties.favourite_colour).toBe('blue');
  });
});
