import { MockAgent } from 'undici';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createHubSpotConnector } from '../../connectors/hubspot/index.js';
import { readableReason } from '../../connectors/hubspot/write.js';
import { formatCursor, parseCursor, Progress } from '../../connectors/hubspot/cursor.js';

const ORIGIN = 'http://hs.test';
const JSON_HEADERS = { 'content-type': 'application/json' };
let agent: MockAgent;

beforeEach(() => {
  agent = new MockAgent();
  agent.disableNetConnect();
  const props = [
    { name: 'email', label: 'Email', type: 'string', fieldType: 'text' },
    { name: 'annual_income', label: 'Income', type: 'number', fieldType: 'number' },
    { name: 'newsletter', label: 'News', type: 'bool', fieldType: 'booleancheckbox' },
  ];
  for (const o of ['contacts', 'companies', 'deals']) {
    agent.get(ORIGIN).intercept({ path: `/crm/v3/properties/${o}`, method: 'GET' }).reply(200, { results: props }, { headers: JSON_HEADERS });
  }
});
afterEach(async () => { await agent.close(); });

const connector = () => createHubSpotConnector({ name: 'hs', app: 'hubspot', baseDir: '.', token: 'pat-na1-unit-000000', base_url: ORIGIN }, {}, { dispatcher: agent });
type Sent = { inputs: Array<{ properties: Record<string, string>; objectWriteTraceId?: string }> };

describe('write', () => {
  it('serialises values and matches unordered results without trace ids by the values sent', async () => {
    let sent: Sent | undefined;
    agent.get(ORIGIN).intercept({ path: '/crm/v3/objects/contacts/batch/create', method: 'POST' }).reply((req) => {
      sent = JSON.parse(String(req.body)) as Sent;
      const results = sent.inputs.map((x, i) => ({ id: String(100 + i), properties: { ...x.properties } })).reverse();
      return { statusCode: 201, data: { status: 'COMPLETE', results }, responseOptions: { headers: JSON_HEADERS } };
    });
    const results = await connector().write('contacts', [
      { kind: 'create', ref: 'a', fields: { email: 'a@x.com', annual_income: 12.5, newsletter: true } },
      { kind: 'create', ref: 'b', fields: { email: 'b@x.com', annual_income: null, newsletter: false } },
    ]);
    expect(sent!.inputs.map((x) => x.properties)).toEqual([
      { email: 'a@x.com', annual_income: '12.5', newsletter: 'true' },
      { email: 'b@x.com', newsletter: 'false' },
    ]);
    expect(sent!.inputs.map((x) => x.objectWriteTraceId)).toEqual(['0', '1']);
    expect(results).toEqual([{ ref: 'a', ok: true, id: '100' }, { ref: 'b', ok: true, id: '101' }]);
  });

  it('splits a batch refused as a whole until only the bad input fails', async () => {
    const calls: number[] = [];
    agent.get(ORIGIN).intercept({ path: '/crm/v3/objects/contacts/batch/update', method: 'POST' }).reply<object>((req) => {
      const body = JSON.parse(String(req.body)) as { inputs: Array<{ id: string }> };
      calls.push(body.inputs.length);
      if (body.inputs.some((x) => x.id === '3')) {
        return { statusCode: 400, data: { status: 'error', category: 'VALIDATION_ERROR', message: 'Property values were not valid: [{"isValid":false,"message":"bad number","error":"INVALID_INTEGER","name":"annual_income"}]' }, responseOptions: { headers: JSON_HEADERS } };
      }
      return { statusCode: 200, data: { status: 'COMPLETE', results: body.inputs.map((x) => ({ id: x.id, properties: {} })) }, responseOptions: { headers: JSON_HEADERS } };
    }).persist();
    const ops = ['1', '2', '3', '4'].map((id) => ({ kind: 'update' as const, ref: `r${id}`, id, fields: { annual_income: Number(id) } }));
    const results = await connector().write('contacts', ops);
    expect(results.filter((r) => r.ok).map((r) => r.ref)).toEqual(['r1', 'r2', 'r4']);
    expect(results.find((r) => r.ref === 'r3')).toEqual({ ref: 'r3', ok: false, reason: 'Property values were not valid: bad number' });
    expect(calls).toEqual([4, 2, 2, 1, 1]);
  });

  it('turns a 409 on a single create into existingId', async () => {
    agent.get(ORIGIN).intercept({ path: '/crm/v3/objects/contacts/batch/create', method: 'POST' })
      .reply(409, { status: 'error', category: 'CONFLICT', message: 'Contact already exists. Existing ID: 5101' }, { headers: JSON_HEADERS });
    const [r] = await connector().write('contacts', [{ kind: 'create', ref: 'x', fields: { email: 'a@x.com' } }]);
    expect(r).toEqual({ ref: 'x', ok: false, reason: 'Contact already exists. Existing ID: 5101', existingId: '5101' });
  });

  it('makes no call for an update without fields', async () => {
    const c = connector();
    const [r] = await c.write('contacts', [{ kind: 'update', ref: 'x', id: '9', fields: {} }]);
    expect(r).toEqual({ ref: 'x', ok: true, id: '9' });
    expect(c.stats().requests.write).toBe(0);
  });

  it('unpacks HubSpot\'s embedded validation list', () => {
    expect(readableReason({ message: 'plain' })).toBe('plain');
    expect(readableReason({ message: 'Property values were not valid: [{"localizedErrorMessage":"Property \\"x\\" does not exist"}]' }))
      .toBe('Property values were not valid: Property "x" does not exist');
  });
});

describe('cursor', () => {
  it('is a bare timestamp when nothing needs remembering, JSON otherwise', () => {
    expect(formatCursor({ t: Date.parse('2025-03-05T16:01:02.870Z'), seen: new Map() }, 1000)).toBe('2025-03-05T16:01:02.870Z');
    const t = Date.parse('2025-03-05T16:01:02.870Z');
    const text = formatCursor({ t, seen: new Map([['51', t], ['7', t - 500], ['old', t - 5000]]) }, 1000);
    expect(JSON.parse(text)).toEqual({ t: '2025-03-05T16:01:02.870Z', seen: { 51: t, 7: t - 500 } });
    expect(parseCursor(text)).toEqual({ t, seen: new Map([['51', t], ['7', t - 500]]) });
    expect(parseCursor('1741190462870').t).toBe(1741190462870);
    expect(() => parseCursor('yesterday')).toThrow(/cursor/);
  });
  it('skips a record only when it was delivered at the same modified time', () => {
    const p = new Progress({ t: 1000, seen: new Map([['a', 1000]]) }, 500);
    expect(p.delivered('a', 1000)).toBe(true);
    expect(p.delivered('a', 1200)).toBe(false);
    p.note('b', 1300);
    expect(p.newest).toBe(1300);
    expect(JSON.parse(p.cursor()).seen).toEqual({ a: 1000, b: 1300 });
  });
});
