import { MockAgent } from 'undici';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DatasyncError } from '../../src/errors.js';
import { HttpClient, type HttpClientOptions } from '../../src/http/client.js';
import { AnswerLostError, HttpError } from '../../src/http/errors.js';
import { fakeClock } from './helpers.js';

const ORIGIN = 'http://hs.test';
const TOKEN = 'pat-na1-11111111-2222-3333-4444-555555555555';
const JSON_HEADERS = { 'content-type': 'application/json' };

let agent: MockAgent;
beforeEach(() => { agent = new MockAgent(); agent.disableNetConnect(); });
afterEach(async () => { await agent.close(); });

function client(extra: Partial<HttpClientOptions> = {}) {
  const waits: Array<[string, number]> = [];
  const c = new HttpClient({
    app: 'HubSpot', baseUrl: ORIGIN, dispatcher: agent, clock: fakeClock(), random: () => 0.5,
    auth: { token: async () => TOKEN, secrets: () => [TOKEN] },
    onWait: (reason, ms) => waits.push([reason, ms]),
    ...extra,
  });
  return { c, waits };
}
const pool = () => agent.get(ORIGIN);

async function caught(p: Promise<unknown>): Promise<DatasyncError> {
  try { await p; } catch (e) { return e as DatasyncError; }
  throw new Error('expected a rejection');
}

describe('HttpClient', () => {
  it('sends the bearer token and JSON, and counts requests per class', async () => {
    pool().intercept({ path: '/crm/v3/objects/contacts/search', method: 'POST', headers: { authorization: `Bearer ${TOKEN}` } })
      .reply(200, { results: [] }, { headers: JSON_HEADERS });
    const { c } = client();
    const res = await c.post('/crm/v3/objects/contacts/search', { class: 'search', json: { limit: 1 } });
    expect(res.body).toEqual({ results: [] });
    expect(c.stats()).toMatchObject({ total: 1, requests: { search: 1, read: 0 }, rateLimited: 0, retries: 0 });
  });

  it('retries 5xx with backoff and reports each wait', async () => {
    pool().intercept({ path: '/x', method: 'GET' }).reply(503, 'busy').times(2);
    pool().intercept({ path: '/x', method: 'GET' }).reply(200, { ok: true }, { headers: JSON_HEADERS });
    const { c, waits } = client();
    expect((await c.get('/x', { class: 'read' })).body).toEqual({ ok: true });
    expect(c.stats()).toMatchObject({ total: 3, retries: 2 });
    expect(waits.map((w) => w[0])).toEqual(['server error 503', 'server error 503']);
  });

  it('absorbs dropped connections', async () => {
    pool().intercept({ path: '/x', method: 'GET' }).replyWithError(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }));
    pool().intercept({ path: '/x', method: 'GET' }).reply(200, { ok: 1 }, { headers: JSON_HEADERS });
    const { c } = client();
    expect((await c.get('/x', { class: 'read' })).body).toEqual({ ok: 1 });
  });

  it('never sends a non-idempotent request again after a lost answer (5xx or reset), but does after a 429', async () => {
    pool().intercept({ path: '/c', method: 'POST' }).reply(502, 'bad gateway');
    pool().intercept({ path: '/c', method: 'POST' }).replyWithError(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }));
    const { c } = client();
    const first = await caught(c.post('/c', { class: 'write', json: {}, idempotent: false }));
    expect(first).toBeInstanceOf(AnswerLostError);
    expect(first.message).toMatch(/answered 502 to POST \/c; .*not sent again/);
    const second = await caught(c.post('/c', { class: 'write', json: {}, idempotent: false }));
    expect(second).toBeInstanceOf(AnswerLostError);
    expect(c.stats()).toMatchObject({ total: 2, retries: 0 });
    pool().intercept({ path: '/c', method: 'POST' }).reply(429, { status: 'error', errorType: 'RATE_LIMIT', policyName: 'TEN_SECONDLY_ROLLING' }, { headers: JSON_HEADERS });
    pool().intercept({ path: '/c', method: 'POST' }).reply(201, { ok: true }, { headers: JSON_HEADERS });
    expect((await c.post('/c', { class: 'write', json: {}, idempotent: false })).body).toEqual({ ok: true });
  });

  it('waits out a ten-secondly 429 and counts it', async () => {
    const body = { status: 'error', message: 'You have reached your ten_secondly_rolling limit.', errorType: 'RATE_LIMIT', policyName: 'TEN_SECONDLY_ROLLING' };
    pool().intercept({ path: '/x', method: 'GET' }).reply(429, body, { headers: { ...JSON_HEADERS, 'retry-after': '1' } }).times(2);
    pool().intercept({ path: '/x', method: 'GET' }).reply(200, {}, { headers: JSON_HEADERS });
    const { c, waits } = client();
    await c.get('/x', { class: 'read' });
    expect(c.stats().rateLimited).toBe(2);
    expect(waits.filter((w) => w[0] === 'rate limit').length).toBeGreaterThanOrEqual(2);
  });

  it('stops on the daily limit with a transient app error', async () => {
    pool().intercept({ path: '/x', method: 'GET' }).reply(429, { status: 'error', message: 'You have reached your daily limit.', errorType: 'RATE_LIMIT', policyName: 'DAILY' }, { headers: JSON_HEADERS });
    const err = await caught(client().c.get('/x', { class: 'read' }));
    expect(err).toBeInstanceOf(DatasyncError);
    expect(err).toMatchObject({ kind: 'app', code: 'RATE_LIMIT_DAILY', transient: true });
    expect(err.message).toMatch(/daily.*resumes/);
  });

  it('waits at least 2 s on 423 and Retry-After on 477', async () => {
    pool().intercept({ path: '/x', method: 'GET' }).reply(423, {});
    pool().intercept({ path: '/x', method: 'GET' }).reply(477, {}, { headers: { 'retry-after': '30' } });
    pool().intercept({ path: '/x', method: 'GET' }).reply(200, {}, { headers: JSON_HEADERS });
    const { c, waits } = client();
    await c.get('/x', { class: 'write' });
    expect(waits).toEqual([['records locked', 2000], ['account migration', 30_000]]);
  });

  it('fails a 401 with AUTH_FAILED and never shows the token', async () => {
    pool().intercept({ path: '/x?secret=1', method: 'GET' }).reply(401, {
      status: 'error', message: `Authentication credentials not found for Bearer ${TOKEN}`, category: 'INVALID_AUTHENTICATION', correlationId: 'corr-1',
    }, { headers: JSON_HEADERS });
    const err = await caught(client().c.get('/x', { class: 'read', query: { secret: 1 } }));
    expect(err).toMatchObject({ kind: 'app', code: 'AUTH_FAILED' });
    expect(err.message).toContain('corr-1');
    expect(err.message).toContain('GET /x');
    expect(err.message).not.toContain('secret=1');
    expect(JSON.stringify({ m: err.message, s: err.stack, h: err.hint })).not.toContain(TOKEN);
  });

  it('names the missing scopes on 403', async () => {
    pool().intercept({ path: '/x', method: 'GET' }).reply(403, {
      status: 'error', message: 'This app hasn\'t been granted all required scopes to make this call.', category: 'MISSING_SCOPES',
      errors: [{ message: 'missing', context: { requiredGranularScopes: ['crm.objects.deals.read'] } }],
    }, { headers: JSON_HEADERS });
    const err = await caught(client().c.get('/x', { class: 'read' }));
    expect(err).toMatchObject({ kind: 'app', code: 'MISSING_SCOPES' });
    expect(err.message).toContain('crm.objects.deals.read');
  });

  it('hands a 400 back as HttpError with HubSpot\'s message and category', async () => {
    pool().intercept({ path: '/crm/v3/objects/deals/batch/create', method: 'POST' }).reply(400, {
      status: 'error', message: 'Property values were not valid', category: 'VALIDATION_ERROR', correlationId: 'c-9',
    }, { headers: JSON_HEADERS });
    const err = await caught(client().c.post('/crm/v3/objects/deals/batch/create', { class: 'write', json: {} }));
    expect(err).toBeInstanceOf(HttpError);
    expect(err).toMatchObject({ status: 400, category: 'VALIDATION_ERROR', correlationId: 'c-9', appMessage: 'Property values were not valid', method: 'POST' });
  });

  it('reports an unreachable base URL as APP_UNREACHABLE naming it', async () => {
    const c = new HttpClient({ app: 'HubSpot', baseUrl: 'http://127.0.0.1:9', retry: { baseDelayMs: 1 }, auth: { token: async () => TOKEN, secrets: () => [TOKEN] } });
    const err = await caught(c.get('/crm/v3/objects/contacts', { class: 'read' }));
    await c.close();
    expect(err).toMatchObject({ kind: 'app', code: 'APP_UNREACHABLE', transient: true });
    expect(err.message).toContain('http://127.0.0.1:9');
  });

  it('refreshes once on 401 when the provider can, then gives up', async () => {
    let token = 'old-token-123456';
    let refreshes = 0;
    const auth = { token: async () => token, refresh: async () => { refreshes++; token = 'new-token-654321'; return token; }, secrets: () => [token] };
    pool().intercept({ path: '/x', method: 'GET', headers: { authorization: 'Bearer old-token-123456' } }).reply(401, {});
    pool().intercept({ path: '/x', method: 'GET', headers: { authorization: 'Bearer new-token-654321' } }).reply(200, {}, { headers: JSON_HEADERS });
    const { c } = client({ auth });
    await c.get('/x', { class: 'read' });
    expect(refreshes).toBe(1);
    pool().intercept({ path: '/y', method: 'GET' }).reply(401, {}).times(2);
    await expect(c.get('/y', { class: 'read' })).rejects.toMatchObject({ code: 'AUTH_FAILED' });
    expect(refreshes).toBe(2);
  });

  it('stops between attempts when the signal aborts', async () => {
    const ac = new AbortController();
    pool().intercept({ path: '/x', method: 'GET' }).reply(() => { ac.abort(new Error('stop')); return { statusCode: 503, data: '' }; });
    const { c } = client({ signal: ac.signal });
    await expect(c.get('/x', { class: 'read' })).rejects.toThrow('stop');
    expect(c.stats().total).toBe(1);
  });

  it('paces by the rate-limit headers it is sent', async () => {
    const clock = fakeClock();
    const headers = { ...JSON_HEADERS, 'x-hubspot-ratelimit-max': '2', 'x-hubspot-ratelimit-remaining': '0', 'x-hubspot-ratelimit-interval-milliseconds': '1000' };
    pool().intercept({ path: '/x', method: 'GET' }).reply(200, {}, { headers }).times(2);
    const { c, waits } = client({ clock });
    await c.get('/x', { class: 'read' });
    const t = clock.now();
    await c.get('/x', { class: 'read' });
    expect(clock.now() - t).toBeGreaterThanOrEqual(1000);
    expect(waits[0]?.[0]).toBe('rate limit');
  });
});
