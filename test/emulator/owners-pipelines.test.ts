/**
 * The emulator's Owners and Pipelines APIs (issue 19): owner paging and
 * archived owners, owner ids checked on writes, several deal pipelines with
 * a stage refused outside its pipeline on single and batch writes.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { type Api, start } from './helpers.js';

let api: Api;
afterEach(async () => api?.emu.close());

const OWNERS = Array.from({ length: 7 }, (_, i) => ({ id: String(100 + i), email: `owner${i}@example.com`, firstName: `O${i}`, lastName: 'Wner', archived: i === 6 }));
const RENEWALS = { id: '7001', label: 'Renewals', stages: [
  { id: '9001', label: 'Renewal Due', probability: 0.3 }, { id: '9002', label: 'Renewed', probability: 1 }, { id: '9003', label: 'Churned', probability: 0 },
] };

describe('owners API', () => {
  it('pages active owners with after, and lists deactivated ones only with archived=true', async () => {
    api = await start({ owners: OWNERS });
    const seen: string[] = [];
    let after: string | undefined;
    do {
      const page = await api.call('GET', `/crm/v3/owners?limit=4${after ? `&after=${after}` : ''}`);
      expect(page.status).toBe(200);
      seen.push(...page.body.results.map((o: { id: string }) => o.id));
      after = page.body.paging?.next?.after;
    } while (after);
    expect(seen).toEqual(['100', '101', '102', '103', '104', '105']);
    const archived = await api.call('GET', '/crm/v3/owners/?archived=true');
    expect(archived.body.results).toMatchObject([{ id: '106', email: 'owner6@example.com', archived: true, type: 'PERSON', userId: expect.any(Number) }]);
    const byEmail = await api.call('GET', '/crm/v3/owners?email=OWNER2@example.com');
    expect(byEmail.body.results.map((o: { id: string }) => o.id)).toEqual(['102']);
    expect((await api.call('GET', '/crm/v3/owners/103')).body).toMatchObject({ id: '103', firstName: 'O3', lastName: 'Wner' });
    expect((await api.call('GET', '/crm/v3/owners/106')).status).toBe(404);
    expect((await api.call('GET', '/crm/v3/owners?limit=501')).status).toBe(400);
  });

  it('takes an active owner id on writes and refuses unknown and deactivated ones', async () => {
    api = await start({ owners: OWNERS });
    const ok = await api.call('POST', '/crm/v3/objects/contacts', { properties: { email: 'a@example.com', hubspot_owner_id: '101' } });
    expect(ok.status).toBe(201);
    const unknown = await api.call('PATCH', `/crm/v3/objects/contacts/${ok.body.id}`, { properties: { hubspot_owner_id: '999' } });
    expect(unknown.status).toBe(400);
    expect(unknown.body.category).toBe('VALIDATION_ERROR');
    expect(unknown.body.message).toMatch(/^Property values were not valid: .*INVALID_OPTION.*hubspot_owner_id/);
    const gone = await api.call('POST', '/crm/v3/objects/contacts/batch/update', { inputs: [{ id: ok.body.id, properties: { hubspot_owner_id: '106' } }] });
    expect(gone.status).toBe(207);
    expect(gone.body.errors[0].message).toMatch(/deactivated/);
  });
});

describe('pipelines API', () => {
  it('lists the default pipeline and the portal\'s others, with stage metadata as strings', async () => {
    api = await start({ pipelines: [RENEWALS] });
    const res = await api.call('GET', '/crm/v3/pipelines/deals');
    expect(res.status).toBe(200);
    expect(res.body.results.map((p: { id: string }) => p.id)).toEqual(['default', '7001']);
    expect(res.body.results[1].stages[0]).toMatchObject({ id: '9001', label: 'Renewal Due', displayOrder: 0, metadata: { probability: '0.3', isClosed: 'false' }, archived: false });
    expect(res.body.results[0].stages.find((s: { id: string }) => s.id === 'closedwon').metadata).toEqual({ probability: '1', isClosed: 'true' });
    expect((await api.call('GET', '/crm/v3/pipelines/0-3/7001/stages')).body.results).toHaveLength(3);
    expect((await api.call('GET', '/crm/v3/pipelines/deals/nope')).status).toBe(404);
    const stageProp = await api.call('GET', '/crm/v3/properties/deals/dealstage');
    expect(stageProp.body.options.map((o: { value: string }) => o.value)).toContain('9002');
  });

  it('refuses a stage outside the deal\'s pipeline on create, update and batch writes', async () => {
    api = await start({ pipelines: [RENEWALS] });
    const wrong = await api.call('POST', '/crm/v3/objects/deals', { properties: { dealname: 'X', pipeline: '7001', dealstage: 'closedwon' } });
    expect(wrong.status).toBe(400);
    expect(wrong.body.message).toMatch(/closedwon was not one of the allowed options for pipeline 7001/);
    expect(wrong.body.errors[0]).toMatchObject({ code: 'INVALID_OPTION', context: { propertyName: ['dealstage'] } });
    const deal = await api.call('POST', '/crm/v3/objects/deals', { properties: { dealname: 'Y', pipeline: '7001', dealstage: '9001' } });
    expect(deal.status).toBe(201);
    // A stage alone is checked against the deal's current pipeline; the two together against each other.
    expect((await api.call('PATCH', `/crm/v3/objects/deals/${deal.body.id}`, { properties: { dealstage: 'qualifiedtobuy' } })).status).toBe(400);
    expect((await api.call('PATCH', `/crm/v3/objects/deals/${deal.body.id}`, { properties: { pipeline: 'default', dealstage: 'qualifiedtobuy' } })).status).toBe(200);
    const batch = await api.call('POST', '/crm/v3/objects/deals/batch/create', { inputs: [
      { properties: { dealname: 'A', pipeline: 'default', dealstage: '9002' }, objectWriteTraceId: '0' },
      { properties: { dealname: 'B', pipeline: '7001', dealstage: '9002' }, objectWriteTraceId: '1' },
    ] });
    expect(batch.status).toBe(207);
    expect(batch.body.results.map((r: { properties: { dealname: string } }) => r.properties.dealname)).toEqual(['B']);
    expect(batch.body.errors[0].context.objectWriteTraceId).toEqual(['0']);
    const update = await api.call('POST', '/crm/v3/objects/deals/batch/update', { inputs: [{ id: deal.body.id, properties: { dealstage: '9003' } }] });
    expect(update.status).toBe(207);
    expect(update.body.errors[0].message).toMatch(/9003 was not one of the allowed options for pipeline default/);
  });
});
