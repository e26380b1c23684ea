/**
 * The emulator sends webhooks as HubSpot does: signed v3 (checked here with
 * the reference §10 algorithm written out independently), batched up to 100
 * events, retried on non-2xx, with delivery faults on request.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { type Api, contacts, start } from './helpers.js';

const SECRET = 'emulator-app-client-secret';

interface Received { method: string; url: string; headers: Record<string, string | string[] | undefined>; body: string }

/** The reference's validator (hubspot-api.md §10), not the emulator's signer. */
function validV3(uri: string, r: Received, nowMs = Date.now()): boolean {
  const ts = String(r.headers['x-hubspot-request-timestamp']);
  if (nowMs - Number(ts) > 300_000) return false;
  const DECODE: Record<string, string> = { '%3A': ':', '%2F': '/', '%3F': '?', '%40': '@', '%21': '!', '%24': '$', '%27': "'", '%28': '(', '%29': ')', '%2A': '*', '%2C': ',', '%3B': ';' };
  const decoded = uri.replace(/%(3A|2F|3F|40|21|24|27|28|29|2A|2C|3B)/g, (m) => DECODE[m] ?? m);
  const expected = createHmac('sha256', SECRET).update(r.method + decoded + r.body + ts, 'utf8').digest();
  const given = Buffer.from(String(r.headers['x-hubspot-signature-v3']), 'base64');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

let api: Api | undefined;
let target: Server | undefined;
afterEach(async () => {
  await api?.emu.close();
  await new Promise((r) => (target ? target.close(r) : r(undefined)));
  api = undefined;
  target = undefined;
});

/** A receiver that answers each request with the next status of `statuses` (then 204). */
async function receiver(statuses: number[] = []): Promise<{ url: string; got: Received[] }> {
  const got: Received[] = [];
  target = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => { body += c; });
    req.on('end', () => {
      got.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      res.writeHead(statuses.shift() ?? 204);
      res.end();
    });
  });
  await new Promise<void>((r) => target!.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(target.address() as AddressInfo).port}/hooks/hubspot?portal=1&x=a%3Ab`, got };
}

async function subscribe(url: string, extra: Record<string, unknown> = {}): Promise<void> {
  const res = await fetch(`${api!.emu.url}/_emulator/webhooks`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ targetUrl: url, clientSecret: SECRET, retryMs: 20, ...extra }),
  });
  expect(res.status).toBe(200);
}

const events = (got: Received[]) => got.flatMap((r) => JSON.parse(r.body) as Array<Record<string, unknown>>);

describe('emulator webhooks', () => {
  it('sends creation, propertyChange, deletion, merge, restore and privacyDeletion events, signed v3', async () => {
    api = await start();
    const { url, got } = await receiver();
    await subscribe(url);
    const a = await api.call('POST', '/crm/v3/objects/contacts', { properties: { email: 'a@example.com', firstname: 'A' } });
    const b = await api.call('POST', '/crm/v3/objects/contacts', { properties: { email: 'b@example.com' } });
    await api.call('PATCH', `/crm/v3/objects/contacts/${a.body.id}`, { properties: { jobtitle: 'CTO' } });
    const merged = await api.call('POST', '/crm/v3/objects/contacts/merge', { primaryObjectId: a.body.id, objectIdToMerge: b.body.id });
    await api.call('DELETE', `/crm/v3/objects/contacts/${merged.body.id}`);
    await fetch(`${api.emu.url}/_emulator/records/contacts/${merged.body.id}/restore`, { method: 'POST' });
    await api.call('POST', '/crm/v3/objects/contacts/gdpr-delete', { objectId: merged.body.id });
    await api.emu.webhooks.idle();
    expect(got.length).toBeGreaterThan(0);
    for (const r of got) {
      expect(r.method).toBe('POST');
      expect(validV3(url, r)).toBe(true);
      expect(r.headers['x-hubspot-signature-version']).toBe('v1');
    }
    const all = events(got);
    expect(all.map((e) => e.subscriptionType)).toEqual([
      'contact.creation', 'contact.creation', 'contact.propertyChange', 'contact.merge', 'contact.deletion', 'contact.restore', 'contact.privacyDeletion',
    ]);
    expect(all[2]).toMatchObject({ objectId: Number(a.body.id), propertyName: 'jobtitle', propertyValue: 'CTO', attemptNumber: 0, portalId: 123456 });
    expect(all[3]).toMatchObject({ primaryObjectId: Number(a.body.id), mergedObjectIds: [Number(b.body.id)], newObjectId: Number(merged.body.id) });
    expect(new Set(all.map((e) => e.eventId)).size).toBe(all.length);
  });

  it('batches up to 100 events per request', async () => {
    api = await start();
    const { url, got } = await receiver();
    await subscribe(url);
    for (let i = 0; i < 3; i++) await api.call('POST', '/crm/v3/objects/contacts/batch/create', { inputs: contacts(100, i * 100) });
    await api.emu.webhooks.idle();
    expect(events(got)).toHaveLength(300);
    expect(Math.max(...got.map((r) => JSON.parse(r.body).length))).toBe(100);
  });

  it('retries a delivery answered non-2xx, counting attemptNumber, and gives up after maxAttempts', async () => {
    api = await start();
    const { url, got } = await receiver([500, 401]);
    await subscribe(url, { maxAttempts: 3 });
    await api.call('POST', '/crm/v3/objects/contacts', { properties: { email: 'r@example.com' } });
    await api.emu.webhooks.idle();
    expect(got.map((r) => JSON.parse(r.body)[0].attemptNumber)).toEqual([0, 1, 2]);
    expect(api.emu.webhooks.describe().stats).toMatchObject({ attempts: 3, delivered: 1, failedAttempts: 2, gaveUp: 0 });
  });

  it('drops, duplicates, reorders and back-dates deliveries on request', async () => {
    api = await start();
    const { url, got } = await receiver();
    await subscribe(url, { maxBatch: 1, faults: { duplicate: 1, timestampOffsetMs: -600_000 } });
    await api.call('POST', '/crm/v3/objects/contacts', { properties: { email: 'd@example.com' } });
    await api.emu.webhooks.idle();
    expect(got).toHaveLength(2);
    expect(got[0]!.body).toBe(got[1]!.body);
    expect(validV3(url, got[0]!)).toBe(false); // five minutes old: a replay
    expect(validV3(url, got[0]!, Number(got[0]!.headers['x-hubspot-request-timestamp']))).toBe(true);

    got.length = 0;
    await fetch(`${api.emu.url}/_emulator/webhooks/faults`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ reorder: true }) });
    await api.call('POST', '/crm/v3/objects/contacts/batch/create', { inputs: contacts(6, 10) });
    await api.emu.webhooks.idle();
    const ids = events(got).map((e) => e.eventId as number);
    expect(ids).toHaveLength(6);
    expect(ids).not.toEqual([...ids].sort((x, y) => x - y));

    got.length = 0;
    await fetch(`${api.emu.url}/_emulator/webhooks/faults`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ drop: 1 }) });
    await api.call('POST', '/crm/v3/objects/contacts', { properties: { email: 'gone@example.com' } });
    await api.emu.webhooks.idle();
    expect(got).toHaveLength(0);
    expect(api.emu.webhooks.describe().stats.dropped).toBe(1);
  });

  it('refuses a subscription without a target URL or secret', async () => {
    api = await start();
    const res = await fetch(`${api.emu.url}/_emulator/webhooks`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ targetUrl: 'nope' }) });
    expect(res.status).toBe(400);
  });
});
