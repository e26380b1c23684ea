/**
 * Every answer carries a Date (RFC 9110 §6.6.1) from the emulator's clock, the
 * clock its modified dates come from; the HubSpot connector moves its change
 * cursor to it after a search (issue 15).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { type Api, start } from './helpers.js';

let api: Api | undefined;
afterEach(async () => { await api?.emu.close(); api = undefined; });

describe('Date header', () => {
  it('follows the emulator clock, in whole seconds, on API and error answers', async () => {
    api = await start();
    api.emu.clock.advance(3 * 86_400_000);
    const created = await api.call('POST', '/crm/v3/objects/contacts', { properties: { email: 'd@example.com' } });
    expect(created.status).toBe(201);
    const date = Date.parse(created.headers.get('date') ?? '');
    const modified = Date.parse(created.body.properties.lastmodifieddate);
    expect(modified - date).toBeGreaterThanOrEqual(0);
    expect(modified - date).toBeLessThan(2_000);
    const search = await api.call('POST', '/crm/v3/objects/contacts/search', { limit: 1 });
    expect(Date.parse(search.headers.get('date') ?? '')).toBeGreaterThan(Date.now() + 2 * 86_400_000);
    const refused = await api.call('GET', '/crm/v3/objects/contacts', undefined, 'pat-na1-wrong');
    expect(refused.status).toBe(401);
    expect(Date.parse(refused.headers.get('date') ?? '')).toBeGreaterThan(Date.now() + 2 * 86_400_000);
  });
});
