/**
 * The connector's view of a portal's owners, pipelines and custom objects
 * (issue 19), against the emulator in this process.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { admin, setup, type Setup } from './emulator-helpers.js';

let s: Setup | undefined;
afterEach(async () => { await s?.close(); s = undefined; });

const PROJECTS = {
  name: 'projects', labels: { singular: 'Project', plural: 'Projects' }, primaryDisplayProperty: 'project_name',
  properties: [{ name: 'project_name', label: 'Project name' }], associatedObjects: ['companies'],
};

describe('hubspot connector: owners, pipelines, custom objects', () => {
  it('lists custom objects after the standard ones, by name, with their company association', async () => {
    s = await setup({ schemas: [PROJECTS] });
    const specs = await s.conn.describe();
    expect(specs.map((o) => o.name)).toEqual(['contacts', 'companies', 'deals', 'tickets', 'products', 'projects']);
    const projects = specs.find((o) => o.name === 'projects')!;
    expect(projects).toMatchObject({ label: 'Projects', associations: [{ name: 'company', object: 'companies', single: true }] });
    expect(projects.fields.find((f) => f.name === 'project_name')).toMatchObject({ type: 'text', readOnly: false });
    expect(projects.fields.find((f) => f.name === 'hs_lastmodifieddate')).toMatchObject({ type: 'datetime', readOnly: true });
    // Named as HubSpot names it, the spec carries the name asked for.
    const [byFqn] = await s.connect().describe(['p123456_projects']);
    expect(byFqn!.name).toBe('p123456_projects');
    await expect(s.connect().describe(['nothing'])).rejects.toMatchObject({ code: 'UNKNOWN_OBJECT', hint: expect.stringContaining('projects') });
  });

  it('a portal that answers 404 for schemas and pipelines has no custom objects and keeps the catalogue\'s stages', async () => {
    s = await setup({ schemas: [PROJECTS] });
    await admin(s.emu, 'POST', '/_emulator/faults', [{ status: 404, path: '/crm-object-schemas/' }, { status: 404, path: '/crm/v3/pipelines/' }]);
    const specs = await s.conn.describe();
    expect(specs.map((o) => o.name)).toEqual(['contacts', 'companies', 'deals', 'tickets', 'products']);
    expect(specs.find((o) => o.name === 'deals')!.fields.find((f) => f.name === 'dealstage')!.options).toContainEqual({ value: 'qualifiedtobuy', label: 'Qualified To Buy' });
  });

  it('gives pipeline and dealstage the Pipelines API\'s options', async () => {
    s = await setup({ pipelines: [{ id: '7001', label: 'Renewals', stages: [{ id: '9001', label: 'Renewal Due', probability: 0.5 }] }] });
    const [deals] = await s.conn.describe(['deals']);
    expect(deals!.fields.find((f) => f.name === 'pipeline')!.options).toEqual([{ value: 'default', label: 'Sales Pipeline' }, { value: '7001', label: 'Renewals' }]);
    expect(deals!.fields.find((f) => f.name === 'dealstage')!.options).toContainEqual({ value: '9001', label: 'Renewal Due' });
  });

  it('reads owners once per connector, whatever the number of records', async () => {
    s = await setup({ seed: { contacts: Array.from({ length: 30 }, (_, i) => ({ properties: { email: `c${i}@example.com`, hubspot_owner_id: i % 2 ? '41629779' : '41629780' } })) } });
    const before = s.emu.stats().requests;
    const got: Array<string | null> = [];
    for await (const batch of s.conn.read('contacts', { since: null, fields: ['email', 'hubspot_owner_id'] })) got.push(...batch.records.map((r) => r.fields.hubspot_owner_id as string | null));
    expect(new Set(got)).toEqual(new Set(['ada.owner@example.com', 'bo.seller@example.com']));
    const res = await s.conn.write('contacts', [{ kind: 'create', ref: 'x', fields: { email: 'new@example.com', hubspot_owner_id: 'Ada.Owner@example.com' } }]);
    expect(res).toMatchObject([{ ok: true }]);
    const owners = (s.emu.stats().requests['GET /crm/v3/owners'] ?? 0) - (before['GET /crm/v3/owners'] ?? 0);
    // Active and archived owners, one page each.
    expect(owners).toBe(2);
  });
});
