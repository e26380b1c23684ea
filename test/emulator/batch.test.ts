import { afterEach, describe, expect, it } from 'vitest';
import { type Api, contacts, start } from './helpers.js';

let api: Api;
afterEach(async () => api?.emu.close());

describe('objects v3: batch endpoints', () => {
  it('refuses more than 100 inputs with 400', async () => {
    api = await start();
    const res = await api.call('POST', '/crm/v3/objects/contacts/batch/create', { inputs: contacts(101) });
    expect(res.status).toBe(400);
    expect(res.body.category).toBe('VALIDATION_ERROR');
    expect(api.emu.store.list('contacts')).toHaveLength(0);
  });

  it('creates up to 100 with 201 and the batch envelope', async () => {
    api = await start();
    const res = await api.call('POST', '/crm/v3/objects/contacts/batch/create', { inputs: contacts(100) });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ status: 'COMPLETE', startedAt: expect.any(String), completedAt: expect.any(String) });
    expect(res.body.results).toHaveLength(100);
    expect(res.body.errors).toBeUndefined();
  });

  it('answers 207 per input when failing inputs carry objectWriteTraceId', async () => {
    api = await start({ seed: { contacts: [{ id: '7', properties: { email: 'taken@example.com' } }] } });
    const res = await api.call('POST', '/crm/v3/objects/contacts/batch/create', {
      inputs: [
        { properties: { email: 'new@example.com' }, objectWriteTraceId: 'link-1' },
        { properties: { email: 'x@example.com', shoe_size: '9' }, objectWriteTraceId: 'link-2' },
        { properties: { email: 'taken@example.com' }, objectWriteTraceId: 'link-3' },
      ],
    });
    expect(res.status).toBe(207);
    expect(res.body.status).toBe('COMPLETE');
    expect(res.body.numErrors).toBe(2);
    expect(res.body.results).toHaveLength(1);
    expect(res.body.results[0]).toMatchObject({ objectWriteTraceId: 'link-1', properties: { email: 'new@example.com' } });
    expect(res.body.errors[0]).toMatchObject({ status: 'error', category: 'VALIDATION_ERROR', context: { objectWriteTraceId: ['link-2'] } });
    expect(res.body.errors[0].message).toMatch(/PROPERTY_DOESNT_EXIST/);
    expect(res.body.errors[1]).toMatchObject({ category: 'CONFLICT', message: 'Contact already exists. Existing ID: 7', context: { objectWriteTraceId: ['link-3'] } });
  });

  it('fails the whole batch create without trace IDs, writing nothing', async () => {
    api = await start({ seed: { contacts: [{ id: '7', properties: { email: 'taken@example.com' } }] } });
    const res = await api.call('POST', '/crm/v3/objects/contacts/batch/create', {
      inputs: [{ properties: { email: 'new@example.com' } }, { properties: { email: 'taken@example.com' } }],
    });
    expect(res.status).toBe(409);
    expect(res.body.message).toBe('Contact already exists. Existing ID: 7');
    expect(api.emu.store.list('contacts')).toHaveLength(1);
  });

  it('reads by ID with 207 listing missing IDs in context.ids', async () => {
    api = await start({ seed: { contacts: contacts(3) } });
    const res = await api.call('POST', '/crm/v3/objects/contacts/batch/read', { inputs: [{ id: '1' }, { id: '99' }, { id: '3' }], properties: ['email'] });
    expect(res.status).toBe(207);
    expect(res.body.results.map((r: { id: string }) => r.id)).toEqual(['1', '3']);
    expect(Object.keys(res.body.results[0].properties).sort()).toEqual(['createdate', 'email', 'hs_object_id', 'lastmodifieddate']);
    expect(res.body.errors[0]).toMatchObject({ category: 'OBJECT_NOT_FOUND', context: { ids: ['99'] } });
    const byEmail = await api.call('POST', '/crm/v3/objects/contacts/batch/read', { idProperty: 'email', inputs: [{ id: 'user1@example.com' }], properties: [] });
    expect(byEmail.status).toBe(200);
    expect(byEmail.body.results[0].id).toBe('2');
  });

  it('updates with 207 for unknown IDs and rejects duplicate IDs', async () => {
    api = await start({ seed: { contacts: contacts(2) } });
    const res = await api.call('POST', '/crm/v3/objects/contacts/batch/update', {
      inputs: [{ id: '1', properties: { firstname: 'Changed' } }, { id: '42', properties: { firstname: 'Ghost' } }],
    });
    expect(res.status).toBe(207);
    expect(res.body.results[0].properties.firstname).toBe('Changed');
    expect(res.body.errors[0]).toMatchObject({ category: 'OBJECT_NOT_FOUND', context: { ids: ['42'] } });
    const dupes = await api.call('POST', '/crm/v3/objects/contacts/batch/update', { inputs: [{ id: '1', properties: {} }, { id: '1', properties: {} }] });
    expect(dupes.status).toBe(400);
  });

  it('upserts by email, marking new records', async () => {
    api = await start({ seed: { contacts: [{ properties: { email: 'old@example.com', firstname: 'Old' } }] } });
    const res = await api.call('POST', '/crm/v3/objects/contacts/batch/upsert', {
      inputs: [
        { id: 'OLD@example.com', idProperty: 'email', properties: { firstname: 'Updated' } },
        { id: 'fresh@example.com', idProperty: 'email', properties: { firstname: 'Fresh' } },
      ],
    });
    expect(res.status).toBe(200);
    expect(res.body.results.map((r: { id: string; new: boolean }) => [r.id, r.new])).toEqual([['1', false], ['2', true]]);
    expect(api.emu.store.get('contacts', '2')?.properties['email']).toBe('fresh@example.com');
    const bad = await api.call('POST', '/crm/v3/objects/contacts/batch/upsert', {
      inputs: [{ id: 'a@example.com', idProperty: 'email', properties: { firstname: 'A' } }, { id: 'b@example.com', idProperty: 'email', properties: { nope: '1' } }],
    });
    expect(bad.status).toBe(400);
    expect(api.emu.store.list('contacts')).toHaveLength(2);
  });

  it('archives in batch with 204', async () => {
    api = await start({ seed: { contacts: contacts(3) } });
    const res = await api.call('POST', '/crm/v3/objects/contacts/batch/archive', { inputs: [{ id: '1' }, { id: '2' }, { id: '404' }] });
    expect(res.status).toBe(204);
    expect(api.emu.store.list('contacts').map((r) => r.id)).toEqual(['3']);
    expect(api.emu.store.list('contacts', { archived: true }).map((r) => r.id)).toEqual(['1', '2']);
  });
});
