import { afterEach, describe, expect, it } from 'vitest';
import { type Api, start, TOKEN, UUID } from './helpers.js';

let api: Api;
afterEach(async () => api?.emu.close());

describe('authentication', () => {
  it('answers a missing or wrong token with 401 INVALID_AUTHENTICATION', async () => {
    api = await start();
    for (const token of [null, 'pat-na1-wrong']) {
      const res = await api.call('GET', '/crm/v3/objects/contacts', undefined, token);
      expect(res.status).toBe(401);
      expect(res.body).toEqual({
        status: 'error',
        message: expect.stringContaining('Authentication credentials not found'),
        correlationId: expect.stringMatching(UUID),
        category: 'INVALID_AUTHENTICATION',
      });
    }
  });

  it('uses a fresh correlationId on every error', async () => {
    api = await start();
    const a = await api.call('GET', '/crm/v3/objects/contacts/1');
    const b = await api.call('GET', '/crm/v3/objects/contacts/1');
    expect(a.body.correlationId).not.toBe(b.body.correlationId);
  });
});

describe('rate limits', () => {
  it('sends the rate-limit headers and counts down the rolling window', async () => {
    api = await start({ rateLimit: { max: 3, windowMs: 10_000 }, dailyLimit: 500 });
    const first = await api.call('GET', '/crm/v3/objects/contacts');
    expect(first.headers.get('x-hubspot-ratelimit-max')).toBe('3');
    expect(first.headers.get('x-hubspot-ratelimit-remaining')).toBe('2');
    expect(first.headers.get('x-hubspot-ratelimit-interval-milliseconds')).toBe('10000');
    expect(first.headers.get('x-hubspot-ratelimit-daily')).toBe('500');
    expect(first.headers.get('x-hubspot-ratelimit-daily-remaining')).toBe('499');
    await api.call('GET', '/crm/v3/properties/contacts');
    await api.call('GET', '/crm/v3/objects/contacts/1'); // a 404 still counts
    const refused = await api.call('GET', '/crm/v3/objects/contacts');
    expect(refused.status).toBe(429);
    expect(refused.body).toEqual({
      status: 'error',
      message: 'You have reached your ten_secondly_rolling limit.',
      errorType: 'RATE_LIMIT',
      correlationId: expect.stringMatching(UUID),
      policyName: 'TEN_SECONDLY_ROLLING',
      requestId: expect.stringMatching(UUID),
    });
    expect(refused.headers.get('x-hubspot-ratelimit-remaining')).toBe('0');
    expect(api.emu.stats().rateLimited).toBe(1);
    api.emu.clock.advance(10_000);
    expect((await api.call('GET', '/crm/v3/objects/contacts')).status).toBe(200);
  });

  it('sends the deprecated Secondly pair on every non-search answer, reported but not enforced', async () => {
    api = await start({ rateLimit: { max: 100, windowMs: 10_000 } });
    const first = await api.call('GET', '/crm/v3/objects/contacts');
    expect(first.headers.get('x-hubspot-ratelimit-secondly')).toBe('10');
    expect(first.headers.get('x-hubspot-ratelimit-secondly-remaining')).toBe('9');
    for (let i = 0; i < 11; i++) await api.call('GET', '/crm/v3/properties/contacts');
    const past = await api.call('GET', '/crm/v3/objects/contacts');
    expect(past.status).toBe(200);
    expect(past.headers.get('x-hubspot-ratelimit-secondly-remaining')).toBe('0');
    api.emu.clock.advance(1000);
    expect((await api.call('GET', '/crm/v3/objects/contacts')).headers.get('x-hubspot-ratelimit-secondly-remaining')).toBe('9');
    const search = await api.call('POST', '/crm/v3/objects/contacts/search', {});
    expect(search.headers.get('x-hubspot-ratelimit-secondly')).toBeNull();
    expect(search.headers.get('x-hubspot-ratelimit-daily')).toBeNull();
  });

  it('enforces the DAILY cap with its own policy name', async () => {
    api = await start({ dailyLimit: 2 });
    await api.call('GET', '/crm/v3/objects/contacts');
    await api.call('GET', '/crm/v3/objects/contacts');
    const refused = await api.call('GET', '/crm/v3/objects/contacts');
    expect(refused.status).toBe(429);
    expect(refused.body).toMatchObject({ policyName: 'DAILY', message: 'You have reached your daily limit.' });
    api.emu.clock.advance(24 * 3600_000);
    expect((await api.call('GET', '/crm/v3/objects/contacts')).status).toBe(200);
  });

  it('does not limit or count the admin surface', async () => {
    api = await start({ rateLimit: { max: 1, windowMs: 10_000 } });
    await api.call('GET', '/crm/v3/objects/contacts');
    for (let i = 0; i < 3; i++) expect((await api.call('GET', '/_emulator/stats', undefined, null)).status).toBe(200);
    const stats = (await api.call('GET', '/_emulator/stats', undefined, null)).body;
    expect(stats).toMatchObject({ total: 1, rateLimited: 0, requests: { 'GET /crm/v3/objects/{objectType}': 1 }, byStatus: { 200: 1 } });
    await api.call('POST', '/_emulator/stats/reset', undefined, null);
    expect(api.emu.stats().total).toBe(0);
  });

  it('tolerates the token in lower-case bearer form', async () => {
    api = await start();
    const res = await fetch(`${api.emu.url}/crm/v3/objects/contacts`, { headers: { authorization: `bearer ${TOKEN}` } });
    expect(res.status).toBe(200);
  });
});
