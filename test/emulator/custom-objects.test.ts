/**
 * The emulator's custom objects (issue 19): the schemas API, and records of a
 * schema through the objects, batch, search and v4 associations endpoints,
 * named by type id, fully qualified name or p_{name}.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { SchemaSeed } from '../../fixtures/hubspot-emulator/server.js';
import { type Api, start } from './helpers.js';

let api: Api;
afterEach(async () => api?.emu.close());

const PROJECTS: SchemaSeed = {
  name: 'projects', labels: { singular: 'Project', plural: 'Projects' },
  primaryDisplayProperty: 'project_name', requiredProperties: ['project_name'],
  properties: [
    { name: 'project_name', label: 'Project name' },
    { name: 'budget', label: 'Budget', type: 'number', fieldType: 'number' },
    { name: 'status', label: 'Status', type: 'enumeration', fieldType: 'select', options: [['planned', 'Planned'], ['active', 'Active'], ['done', 'Done']] },
  ],
  associatedObjects: ['companies'],
  records: [{ properties: { project_name: 'Bridge', budget: '1000', status: 'active' }, associations: { companies: ['5'] } }],
};

describe('custom objects', () => {
  it('lists schemas with their type id, names, properties and associations', async () => {
    api = await start({ schemas: [PROJECTS], seed: { companies: [{ id: '5', properties: { name: 'Acme', domain: 'acme.example' } }] } });
    const list = await api.call('GET', '/crm-object-schemas/v3/schemas');
    expect(list.status).toBe(200);
    const [schema] = list.body.results;
    expect(schema).toMatchObject({
      name: 'projects', fullyQualifiedName: 'p123456_projects', labels: { singular: 'Project', plural: 'Projects' },
      primaryDisplayProperty: 'project_name', requiredProperties: ['project_name'],
      associations: [{ fromObjectTypeId: schema.objectTypeId, toObjectTypeId: '0-2', name: 'projects_to_company' }],
    });
    expect(schema.objectTypeId).toMatch(/^2-\d+$/);
    expect(schema.properties.map((p: { name: string }) => p.name)).toEqual(expect.arrayContaining(['hs_createdate', 'hs_lastmodifieddate', 'hs_object_id', 'project_name', 'budget', 'status']));
    for (const name of [schema.objectTypeId, 'p_projects', 'p123456_projects']) {
      expect((await api.call('GET', `/crm-object-schemas/v3/schemas/${name}`)).body.objectTypeId).toBe(schema.objectTypeId);
    }
    expect((await api.call('GET', '/crm-object-schemas/v3/schemas/nope')).status).toBe(404);
  });

  it('serves records by type id and by p_{name}: create, read, search, batch, required properties', async () => {
    api = await start({ schemas: [PROJECTS], seed: { companies: [{ id: '5', properties: { name: 'Acme', domain: 'acme.example' } }] } });
    const typeId = (await api.call('GET', '/crm-object-schemas/v3/schemas/p_projects')).body.objectTypeId;
    const listed = await api.call('GET', `/crm/v3/objects/${typeId}?properties=project_name,budget`);
    expect(listed.body.results).toMatchObject([{ id: '1', properties: { project_name: 'Bridge', budget: '1000', hs_createdate: expect.any(String), hs_lastmodifieddate: expect.any(String), hs_object_id: '1' } }]);
    expect(listed.body.results[0].properties).not.toHaveProperty('createdate');
    // The bare name is not a path name HubSpot takes.
    expect((await api.call('GET', '/crm/v3/objects/projects')).status).toBe(404);
    const created = await api.call('POST', '/crm/v3/objects/p_projects', { properties: { project_name: 'Tunnel', status: 'planned' } });
    expect(created.status).toBe(201);
    const missing = await api.call('POST', `/crm/v3/objects/${typeId}/batch/create`, { inputs: [{ properties: { budget: '5' }, objectWriteTraceId: '0' }] });
    expect(missing.status).toBe(207);
    expect(missing.body.errors[0].message).toMatch(/REQUIRED_PROPERTY.*project_name/);
    const bad = await api.call('PATCH', `/crm/v3/objects/${typeId}/${created.body.id}`, { properties: { status: 'cancelled' } });
    expect(bad.status).toBe(400);
    const found = await api.call('POST', '/crm/v3/objects/p123456_projects/search', {
      filterGroups: [{ filters: [{ propertyName: 'hs_lastmodifieddate', operator: 'GTE', value: '0' }] }],
      sorts: [{ propertyName: 'hs_lastmodifieddate', direction: 'ASCENDING' }], properties: ['project_name'], limit: 10,
    });
    expect(found.body.results.map((r: { properties: { project_name: string } }) => r.properties.project_name)).toEqual(['Bridge', 'Tunnel']);
    const read = await api.call('POST', `/crm/v3/objects/${typeId}/batch/read`, { inputs: [{ id: '1' }, { id: '99' }], properties: ['status'] });
    expect(read.status).toBe(207);
    expect(read.body.results[0].properties.status).toBe('active');
    const props = await api.call('GET', `/crm/v3/properties/${typeId}`);
    expect(props.body.results.find((p: { name: string }) => p.name === 'status').options).toHaveLength(3);
  });

  it('associates records with companies through v4 with the schema\'s USER_DEFINED type', async () => {
    api = await start({ schemas: [PROJECTS], seed: { companies: [{ id: '5', properties: { name: 'Acme', domain: 'acme.example' } }, { id: '6', properties: { name: 'Globex' } }] } });
    const schema = (await api.call('GET', '/crm-object-schemas/v3/schemas/p_projects')).body;
    const typeId = Number(schema.associations[0].id);
    const labels = await api.call('GET', `/crm/v4/associations/${schema.objectTypeId}/companies/labels`);
    expect(labels.body.results).toEqual([{ category: 'USER_DEFINED', typeId, label: null }]);
    const read = await api.call('POST', `/crm/v4/associations/p_projects/companies/batch/read`, { inputs: [{ id: '1' }] });
    expect(read.body.results[0].to).toEqual([{ toObjectId: 5, associationTypes: [{ category: 'USER_DEFINED', typeId, label: null }] }]);
    const add = await api.call('POST', `/crm/v4/associations/${schema.objectTypeId}/companies/batch/create`, {
      inputs: [{ from: { id: '1' }, to: { id: '6' }, types: [{ associationCategory: 'USER_DEFINED', associationTypeId: typeId }] }],
    });
    expect(add.status).toBe(201);
    const back = await api.call('POST', `/crm/v4/associations/companies/${schema.objectTypeId}/batch/read`, { inputs: [{ id: '6' }] });
    expect(back.body.results[0].to.map((t: { toObjectId: number }) => t.toObjectId)).toEqual([1]);
    const wrong = await api.call('POST', `/crm/v4/associations/${schema.objectTypeId}/companies/batch/create`, {
      inputs: [{ from: { id: '1' }, to: { id: '6' }, types: [{ associationCategory: 'HUBSPOT_DEFINED', associationTypeId: 5 }] }],
    });
    expect(wrong.status).toBe(207);
  });
});
