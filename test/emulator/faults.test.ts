import { afterEach, describe, expect, it } from 'vitest';
import { type Api, start } from './helpers.js';

let api: Api;
afterEach(async () => api?.emu.close());

const fault = (spec: unknown) => api.call('POST', '/_emulator/faults', spec, null);

describe('fault injection', () => {
  it('answers the next N matching requests with the injected status, then recovers', async () => {
    api = await start();
    expect((await fault({ status: 503, count: 2, path: '/objects/contacts' })).status).toBe(201);
    expect((await api.call('GET', '/crm/v3/objects/companies')).status).toBe(200);
    const first = await api.call('GET', '/crm/v3/objects/contacts');
    expect(first.status).toBe(503);
    expect(first.body).toMatchObject({ status: 'error', category: 'SERVICE_UNAVAILABLE', correlationId: expect.any(String) });
    expect((await api.call('GET', '/crm/v3/objects/contacts')).status).toBe(503);
    expect((await api.call('GET', '/crm/v3/objects/contacts')).status).toBe(200);
  });

  it('injects 429, 423 and 477 with Retry-After', async () => {
    api = await start();
    await fault([{ status: 429, retryAfter: 2 }, { status: 477, retryAfter: 3600 }, { status: 423 }]);
    const limited = await api.call('GET', '/crm/v3/objects/contacts');
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('2');
    expect(limited.body).toMatchObject({ errorType: 'RATE_LIMIT', policyName: 'TEN_SECONDLY_ROLLING' });
    const migrating = await api.call('GET', '/crm/v3/objects/contacts');
    expect(migrating.status).toBe(477);
    expect(migrating.headers.get('retry-after')).toBe('3600');
    expect((await api.call('GET', '/crm/v3/objects/contacts')).status).toBe(423);
    expect(api.emu.stats().rateLimited).toBe(1);
  });

  it('drops the connection without answering', async () => {
    api = await start();
    await fault({ drop: true });
    await expect(fetch(`${api.emu.url}/crm/v3/objects/contacts`)).rejects.toThrow();
    expect(api.emu.stats().dropped).toBe(1);
    expect((await api.call('GET', '/crm/v3/objects/contacts')).status).toBe(200);
  });

  it('delays answers', async () => {
    api = await start();
    await fault({ delayMs: 300 });
    const t0 = Date.now();
    expect((await api.call('GET', '/crm/v3/objects/contacts')).status).toBe(200);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(280);
  });

  it('fails a deterministic share of requests until cleared', async () => {
    api = await start();
    await fault({ status: 500, share: 0.25 });
    const statuses = [];
    for (let i = 0; i < 8; i++) statuses.push((await api.call('GET', '/crm/v3/objects/contacts')).status);
    expect(statuses).toEqual([200, 200, 200, 500, 200, 200, 200, 500]);
    expect((await api.call('DELETE', '/_emulator/faults', undefined, null)).status).toBe(204);
    for (let i = 0; i < 4; i++) expect((await api.call('GET', '/crm/v3/objects/contacts')).status).toBe(200);
  });

  it('rejects a fault it cannot inject', async () => {
    api = await start();
    expect((await fault({ status: 418 })).status).toBe(400);
    expect((await fault({ share: 2, status: 500 })).status).toBe(400);
  });
});
