/**
 * HubSpot's official Node client (`@hubspot/api-client`, a dev dependency)
 * against the emulator (issue 19): its owners, pipelines and schemas calls,
 * and custom-object records, with the paths, queries and shapes it sends and
 * the models it reads the answers into.
 */
import { Client } from '@hubspot/api-client';
import { afterEach, describe, expect, it } from 'vitest';
import { type Api, start, TOKEN } from './helpers.js';

let api: Api;
afterEach(async () => api?.emu.close());

const client = () => new Client({ accessToken: TOKEN, basePath: api.emu.url, numberOfApiCallRetries: 0 });

describe('@hubspot/api-client against the emulator', () => {
  it('owners: a page, paging on, one by id, the archived ones', async () => {
    api = await start({ owners: Array.from({ length: 5 }, (_, i) => ({ id: String(500 + i), email: `o${i}@example.com`, firstName: `O${i}`, archived: i === 4 })) });
    const hub = client();
    const first = await hub.crm.owners.ownersApi.getPage(undefined, undefined, 3, false);
    expect(first.results.map((o) => o.id)).toEqual(['500', '501', '502']);
    expect(first.results[0]).toMatchObject({ email: 'o0@example.com', firstName: 'O0', archived: false, type: 'PERSON' });
    expect(first.results[0]!.createdAt).toBeInstanceOf(Date);
    const next = await hub.crm.owners.ownersApi.getPage(undefined, first.paging!.next!.after, 3, false);
    expect(next.results.map((o) => o.id)).toEqual(['503']);
    expect(next.paging).toBeUndefined();
    expect((await hub.crm.owners.ownersApi.getById(502)).email).toBe('o2@example.com');
    expect((await hub.crm.owners.ownersApi.getPage(undefined, undefined, 100, true)).results.map((o) => o.id)).toEqual(['504']);
    expect((await hub.crm.owners.ownersApi.getPage('o1@example.com')).results.map((o) => o.id)).toEqual(['501']);
  });

  it('pipelines: every deal pipeline, one pipeline, its stages; a deal in a stage of another pipeline is refused', async () => {
    api = await start({ pipelines: [{ id: '7001', label: 'Renewals', stages: [{ id: '9001', label: 'Renewal Due', probability: 0.4 }, { id: '9002', label: 'Renewed', probability: 1 }] }] });
    const hub = client();
    const all = await hub.crm.pipelines.pipelinesApi.getAll('deals');
    expect(all.results.map((p) => [p.id, p.label])).toEqual([['default', 'Sales Pipeline'], ['7001', 'Renewals']]);
    expect((await hub.crm.pipelines.pipelinesApi.getById('deals', '7001')).stages.map((s) => s.label)).toEqual(['Renewal Due', 'Renewed']);
    const stages = await hub.crm.pipelines.pipelineStagesApi.getAll('deals', '7001');
    expect(stages.results[0]).toMatchObject({ id: '9001', displayOrder: 0, metadata: { probability: '0.4', isClosed: 'false' } });
    await expect(hub.crm.deals.basicApi.create({ properties: { dealname: 'X', pipeline: '7001', dealstage: 'closedwon' }, associations: [] }))
      .rejects.toMatchObject({ code: 400, body: { category: 'VALIDATION_ERROR', message: expect.stringContaining('closedwon was not one of the allowed options for pipeline 7001') } });
    const ok = await hub.crm.deals.basicApi.create({ properties: { dealname: 'Y', pipeline: '7001', dealstage: '9002' }, associations: [] });
    expect(ok.properties.dealstage).toBe('9002');
  });

  it('schemas: every custom object and one by name; its records by type id', async () => {
    api = await start({ schemas: [{ name: 'projects', properties: [{ name: 'project_name', label: 'Project name' }], associatedObjects: ['companies'], records: [{ properties: { project_name: 'Bridge' } }] }] });
    const hub = client();
    const all = await hub.crm.schemas.coreApi.getAll();
    expect(all.results).toHaveLength(1);
    const schema = all.results[0]!;
    expect(schema).toMatchObject({ name: 'projects', fullyQualifiedName: 'p123456_projects', primaryDisplayProperty: 'project_name', requiredProperties: ['project_name'] });
    expect(schema.associations[0]).toMatchObject({ fromObjectTypeId: schema.objectTypeId, toObjectTypeId: '0-2' });
    expect(schema.properties.some((p) => p.name === 'project_name')).toBe(true);
    expect((await hub.crm.schemas.coreApi.getById('p_projects')).objectTypeId).toBe(schema.objectTypeId);
    const page = await hub.crm.objects.basicApi.getPage(schema.objectTypeId!, 10, undefined, ['project_name']);
    expect(page.results.map((r) => r.properties.project_name)).toEqual(['Bridge']);
    const made = await hub.crm.objects.basicApi.create(schema.objectTypeId!, { properties: { project_name: 'Tunnel' }, associations: [] });
    expect(made.properties.project_name).toBe('Tunnel');
  });
});
