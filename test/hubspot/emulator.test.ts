import { afterEach, describe, expect, it } from 'vitest';
import type { WriteOp } from '../../src/connector.js';
import { DatasyncError } from '../../src/errors.js';
import { parseCursor } from '../../connectors/hubspot/cursor.js';
import { admin, readAll, setup, TOKEN, type Setup } from './emulator-helpers.js';

let s: Setup | undefined;
afterEach(async () => { await s?.close(); s = undefined; });

const contact = (i: number) => ({ properties: { email: `p${i}@example.com`, firstname: `P${i}`, annual_income: String(1000 + i) } });

describe('hubspot connector against the emulator', () => {
  it('describes contacts, companies and deals with SPEC §5 types, once per instance', async () => {
    s = await setup();
    const specs = await s.conn.describe();
    expect(specs.map((o) => o.name)).toEqual(['contacts', 'companies', 'deals', 'tickets', 'products']);
    const field = (object: string, name: string) => specs.find((o) => o.name === object)!.fields.find((f) => f.name === name);
    expect(field('contacts', 'email')).toMatchObject({ type: 'text', role: 'email', unique: true, readOnly: false });
    expect(field('contacts', 'lifecyclestage')).toMatchObject({ type: 'radio', role: 'lifecyclestage' });
    expect(field('contacts', 'lifecyclestage')!.options!.length).toBeGreaterThan(3);
    expect(field('contacts', 'hs_lead_status')?.type).toBe('select');
    expect(field('contacts', 'hs_buying_role')?.type).toBe('checkboxes');
    expect(field('contacts', 'hs_email_optout')?.type).toBe('boolean');
    expect(field('contacts', 'newsletter_opt_in')?.type).toBe('boolean');
    expect(field('contacts', 'date_of_birth')?.type).toBe('date');
    expect(field('contacts', 'annual_income')?.type).toBe('number');
    expect(field('contacts', 'hubspotscore')).toMatchObject({ type: 'score', readOnly: true });
    expect(field('contacts', 'hs_full_name_or_email')).toMatchObject({ type: 'calculation', readOnly: true });
    expect(field('contacts', 'lastmodifieddate')).toMatchObject({ type: 'datetime', readOnly: true });
    expect(field('contacts', 'customer_number')?.unique).toBe(true);
    expect(field('companies', 'domain')).toMatchObject({ role: 'domain', unique: true });
    expect(field('deals', 'closedate')).toMatchObject({ type: 'datetime', role: 'closedate' });
    expect(field('deals', 'dealstage')).toMatchObject({ type: 'radio', role: 'dealstage' });
    const owner = specs.flatMap((o) => o.fields).find((f) => f.type === 'owner');
    expect(owner?.name).toBe('hubspot_owner_id');
    expect(specs.find((o) => o.name === 'deals')!.associations).toEqual([
      { name: 'company', object: 'companies', single: true }, { name: 'contacts', object: 'contacts', single: false },
    ]);
    expect(specs[0]!.capabilities).toEqual({ create: true, update: true, changeCursor: true, conditionalUpdate: true });
    const calls = s.conn.stats().total;
    await s.conn.describe();
    expect(s.conn.stats().total).toBe(calls);
  });

  it('reads every record in pages of 100 with canonical values; only the last batch has the cursor', async () => {
    s = await setup({ seed: { contacts: Array.from({ length: 250 }, (_, i) => contact(i)) } });
    const { batches, cursor } = await readAll(s.conn, 'contacts', { since: null, fields: ['email', 'firstname', 'annual_income', 'date_of_birth'] });
    expect(batches.map((b) => b.records.length)).toEqual([100, 100, 50]);
    expect(batches.slice(0, -1).every((b) => b.cursor === null)).toBe(true);
    expect(cursor).not.toBeNull();
    const all = batches.flatMap((b) => b.records);
    expect(new Set(all.map((r) => r.id)).size).toBe(250);
    expect(all.find((r) => r.fields.email === 'p7@example.com')!.fields).toEqual({ email: 'p7@example.com', firstname: 'P7', annual_income: 1007, date_of_birth: null });
  });

  it('reads only what changed since the cursor, and nothing when nothing changed', async () => {
    s = await setup({ seed: { contacts: Array.from({ length: 20 }, (_, i) => contact(i)) } });
    const fields = ['email', 'firstname'];
    const first = await readAll(s.conn, 'contacts', { since: null, fields });
    const ids = first.batches.flatMap((b) => b.records.map((r) => r.id));
    s.emu.clock.advance(5);
    s.emu.store.update('contacts', ids[3]!, { firstname: 'Edited' });
    s.emu.store.update('contacts', ids[11]!, { firstname: 'Also' });
    const next = await readAll(s.conn, 'contacts', { since: first.cursor, fields });
    const changed = next.batches.flatMap((b) => b.records);
    expect(changed.map((r) => r.fields.firstname).sort()).toEqual(['Also', 'Edited']);
    expect(next.cursor).not.toBe(first.cursor);
    expect((await readAll(s.conn, 'contacts', { since: next.cursor, fields })).batches.flatMap((b) => b.records)).toEqual([]);
  });

  it('reads more than 10,000 changes since an old cursor, every one once, without paging into the cap', async () => {
    s = await setup({ searchPerSecond: 1000 }, { limits: { limits: { burst: { max: 1000, windowMs: 10_000 }, search: { max: 1000, windowMs: 1000 }, associations: { max: 1000, windowMs: 10_000 } }, routes: { read: ['burst'], write: ['burst'], associations: ['burst', 'associations'], search: ['search'], auth: [] } } });
    const base = Date.parse('2025-01-01T00:00:00.000Z');
    // Three records per millisecond, so pages end inside a group now and then.
    for (let i = 0; i < 10_500; i++) {
      s.emu.store.create('contacts', { email: `bulk${i}@example.com`, lastmodifieddate: new Date(base + Math.floor(i / 3)).toISOString() });
    }
    const { batches, cursor } = await readAll(s.conn, 'contacts', { since: '2024-12-31T00:00:00.000Z', fields: ['email'] });
    const ids = batches.flatMap((b) => b.records.map((r) => r.id));
    expect(ids.length).toBe(10_500);
    expect(new Set(ids).size).toBe(10_500);
    // Pages come in id order: only the last batch carries the cursor.
    expect(batches.slice(0, -1).every((b) => b.cursor === null)).toBe(true);
    // The newest record read, or HubSpot's clock (its Date) when search answered, less 2 s: here the latter.
    expect(parseCursor(cursor!).t).toBeGreaterThan(base + 3499);
    expect(parseCursor(cursor!).t).toBeLessThanOrEqual(s.emu.clock.now());
    expect(s.emu.stats().byStatus['400'] ?? 0).toBe(0);
  });

  it('reads more records than a page holds at one millisecond, each once, a page a call (keyset on hs_object_id)', async () => {
    s = await setup({ searchPerSecond: 1000 }, { tuning: { searchPageSize: 50 } });
    const at = '2025-02-01T00:00:00.000Z';
    for (let i = 0; i < 200; i++) s.emu.store.create('contacts', { email: `same${i}@example.com`, lastmodifieddate: at });
    const { batches, cursor } = await readAll(s.conn, 'contacts', { since: '2025-01-01T00:00:00.000Z', fields: ['email'] });
    const ids = new Set(batches.flatMap((b) => b.records.map((r) => r.id)));
    expect(ids.size).toBe(200);
    expect(parseCursor(cursor!).t).toBeGreaterThan(Date.parse(at));
    // 200 records, 50 a page: four searches, nothing read twice (paging by offset within the millisecond took the same, a
    // watermark alone could not move, and past the cap it fell back to listing everything).
    expect(s.emu.stats().requests['POST /crm/v3/objects/{objectType}/search']).toBe(4);
  });

  it('pages a bulk write (100 records a millisecond) 200 new records a search', async () => {
    s = await setup({ searchPerSecond: 1000 });
    const base = Date.parse('2025-03-01T00:00:00.000Z');
    // As batch creates leave them: 100 records at each of 10 milliseconds.
    for (let i = 0; i < 1000; i++) s.emu.store.create('contacts', { email: `batch${i}@example.com`, lastmodifieddate: new Date(base + Math.floor(i / 100)).toISOString() });
    const { batches, cursor } = await readAll(s.conn, 'contacts', { since: '2025-02-28T00:00:00.000Z', fields: ['email'] });
    const ids = batches.flatMap((b) => b.records.map((r) => r.id));
    expect(ids.length).toBe(1000);
    expect(new Set(ids).size).toBe(1000);
    expect(parseCursor(cursor!).t).toBeGreaterThan(base + 9);
    // A watermark on the modified time alone re-read the last millisecond of every page: ~100 new records a search.
    expect(s.emu.stats().requests['POST /crm/v3/objects/{objectType}/search']).toBe(5);
  });

  it('creates and updates in batches; a 207 marks only the bad records', async () => {
    s = await setup();
    const [existing] = [s.emu.store.create('contacts', { email: 'keep@example.com' })];
    const ops: WriteOp[] = [
      ...Array.from({ length: 120 }, (_, i) => ({ kind: 'create' as const, ref: `c${i}`, fields: { email: `new${i}@example.com`, annual_income: i } })),
      { kind: 'create' as const, ref: 'bad', fields: { email: 'bad@example.com', annual_income: 'lots' } },
      { kind: 'update' as const, ref: 'u1', id: existing!.id, fields: { firstname: 'Kept', date_of_birth: '1990-04-05' } },
      { kind: 'update' as const, ref: 'gone', id: '99999999', fields: { firstname: 'Nobody' } },
    ];
    const results = new Map((await s.conn.write('contacts', ops)).map((r) => [r.ref, r]));
    expect(results.size).toBe(123);
    for (let i = 0; i < 120; i++) expect(results.get(`c${i}`)).toMatchObject({ ok: true });
    expect(results.get('bad')).toMatchObject({ ok: false, reason: expect.stringMatching(/annual_income|valid/i) });
    expect(results.get('u1')).toEqual({ ref: 'u1', ok: true, id: existing!.id });
    expect(results.get('gone')).toMatchObject({ ok: false, reason: expect.stringMatching(/not found|does not exist/i) });
    const r5 = results.get('c5');
    expect(r5?.ok && s.emu.store.get('contacts', r5.id)!.properties.email).toBe('new5@example.com');
    expect(s.emu.store.get('contacts', existing!.id)!.properties).toMatchObject({ firstname: 'Kept', date_of_birth: '1990-04-05' });
    expect(s.conn.stats().requests.write).toBe(3); // two create batches, one update batch
  });

  it('answers a duplicate email with the existing record id', async () => {
    s = await setup({ seed: { contacts: [{ properties: { email: 'ada@example.com' } }] } });
    const ada = s.emu.store.list('contacts')[0]!;
    const results = await s.conn.write('contacts', [
      { kind: 'create', ref: 'dup', fields: { email: 'ADA@example.com', firstname: 'Ada' } },
      { kind: 'create', ref: 'ok', fields: { email: 'grace@example.com' } },
    ]);
    expect(results.find((r) => r.ref === 'dup')).toMatchObject({ ok: false, existingId: ada.id, reason: expect.stringContaining('already exists') });
    expect(results.find((r) => r.ref === 'ok')).toMatchObject({ ok: true });
  });

  it('a refused token is an app error (exit 3) that never shows the token', async () => {
    s = await setup();
    const bad = s.connect({ token: 'pat-na1-wrong-token-abcdef123456' });
    const err = await bad.check().then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(DatasyncError);
    expect(err).toMatchObject({ kind: 'app', code: 'AUTH_FAILED' });
    expect((err as Error).message).not.toContain('pat-na1-wrong-token-abcdef123456');
    expect((err as Error).message).not.toContain(TOKEN);
    await expect(s.conn.check()).resolves.toBeUndefined();
  });

  it('reports an unreachable base_url as APP_UNREACHABLE', async () => {
    s = await setup();
    const url = s.emu.url;
    await s.emu.close();
    const err = await s.connect().check().then(() => undefined, (e: unknown) => e);
    expect(err).toMatchObject({ kind: 'app', code: 'APP_UNREACHABLE' });
    expect((err as Error).message).toContain(url);
    s.emu.close = async () => {};
  });

  it('absorbs 5xx bursts, 423, 477 and dropped connections', async () => {
    s = await setup({ seed: { contacts: Array.from({ length: 150 }, (_, i) => contact(i)) } });
    await admin(s.emu, 'POST', '/_emulator/faults', { status: 503, count: 2 });
    await admin(s.emu, 'POST', '/_emulator/faults', { drop: true, count: 2 });
    await admin(s.emu, 'POST', '/_emulator/faults', { status: 502, count: 1 });
    await admin(s.emu, 'POST', '/_emulator/faults', { status: 423, count: 1 });
    await admin(s.emu, 'POST', '/_emulator/faults', { status: 477, count: 1, retryAfter: 0.05 });
    const { batches } = await readAll(s.conn, 'contacts', { since: null, fields: ['email'] });
    expect(batches.flatMap((b) => b.records).length).toBe(150);
    expect(s.emu.stats().dropped).toBe(2);
    expect(s.conn.stats().retries).toBe(7);
    expect(s.waits.map((w) => w[0])).toEqual(expect.arrayContaining(['server error 503', 'connection lost', 'records locked', 'account migration']));
  });

  it('absorbs 429s: no failed op, the 429s counted and reported as waits', async () => {
    s = await setup({ rateLimit: { max: 10, windowMs: 1000 } });
    await s.conn.describe();
    await admin(s.emu, 'POST', '/_emulator/faults', { status: 429, count: 3, path: 'batch/create' });
    const ops = Array.from({ length: 250 }, (_, i) => ({ kind: 'create' as const, ref: `r${i}`, fields: { email: `rl${i}@example.com` } }));
    const results = await s.conn.write('contacts', ops);
    expect(results.filter((r) => !r.ok)).toEqual([]);
    expect(s.conn.stats().rateLimited).toBe(3);
    expect(s.waits.some(([reason]) => reason === 'rate limit')).toBe(true);
    expect(s.emu.store.list('contacts').length).toBe(250);
  });

  it('two apps sharing a tight burst limit both finish, 429s and all', async () => {
    s = await setup({ rateLimit: { max: 8, windowMs: 1000 }, seed: { contacts: Array.from({ length: 120 }, (_, i) => contact(i)) } }, { tuning: { listPageSize: 10 } });
    const other = s.connect({}, { tuning: { listPageSize: 10 } });
    const [a, b] = await Promise.all([
      readAll(s.conn, 'contacts', { since: null, fields: ['email'] }),
      readAll(other, 'contacts', { since: null, fields: ['email'] }),
    ]);
    expect(a.batches.flatMap((x) => x.records).length).toBe(120);
    expect(b.batches.flatMap((x) => x.records).length).toBe(120);
  });

  it('stops with a transient error on the daily limit (reserve off)', async () => {
    s = await setup({ dailyLimit: 2 });
    const conn = s.connect({ daily_reserve: 0 });
    await conn.check();
    await conn.check();
    const err = await conn.check().then(() => undefined, (e: unknown) => e);
    expect(err).toMatchObject({ kind: 'app', code: 'RATE_LIMIT_DAILY', transient: true });
  });

  it('keeps the daily reserve: no request once the remaining calls are within it', async () => {
    s = await setup({ dailyLimit: 20 });
    const conn = s.connect({ daily_reserve: '50%' });
    for (let i = 0; i < 10; i++) await conn.check();
    const err = await conn.check().then(() => undefined, (e: unknown) => e);
    expect(err).toMatchObject({ kind: 'app', code: 'DAILY_BUDGET_RESERVE', transient: true });
    expect(s.emu.stats().total).toBe(10);
  });

  it('missing() finds archived and unknown ids; get() leaves them out', async () => {
    s = await setup({ seed: { contacts: [contact(1), contact(2), contact(3)] } });
    const ids = s.emu.store.list('contacts').map((r) => r.id);
    s.emu.store.archive('contacts', ids[1]!);
    expect(await s.conn.missing('contacts', [...ids, '4242'])).toEqual([ids[1], '4242']);
    const got = await s.conn.get('contacts', ids, { fields: ['email'] });
    expect(got.map((r) => r.id).sort()).toEqual([ids[0], ids[2]].sort());
  });

  it('associations round-trip: primary company of contacts, company and contacts of deals', async () => {
    s = await setup({ seed: { companies: [{ properties: { name: 'A', domain: 'a.example' } }, { properties: { name: 'B', domain: 'b.example' } }] } });
    const [ca, cb] = s.emu.store.list('companies').map((c) => c.id);
    const made = await s.conn.write('contacts', [
      { kind: 'create', ref: 'x', fields: { email: 'x@example.com' }, associations: { company: [ca!] } },
      { kind: 'create', ref: 'y', fields: { email: 'y@example.com' } },
    ]);
    const [x, y] = made.map((r) => (r.ok ? r.id : ''));
    const readContacts = async () => new Map((await readAll(s!.conn, 'contacts', { since: null, fields: ['email'], associations: ['company'] }))
      .batches.flatMap((b) => b.records).map((r) => [r.id, r.associations]));
    expect((await readContacts()).get(x!)).toEqual({ company: [ca] });
    expect((await readContacts()).get(y!)).toEqual({ company: [] });
    await s.conn.write('contacts', [{ kind: 'update', ref: 'x', id: x!, fields: {}, associations: { company: [cb!] } }]);
    expect((await readContacts()).get(x!)).toEqual({ company: [cb] });

    const [deal] = await s.conn.write('deals', [{
      kind: 'create', ref: 'd', fields: { dealname: 'Big', pipeline: 'default', dealstage: 'qualifiedtobuy', amount: 1200.5, closedate: '2025-06-30T00:00:00.000Z' },
      associations: { company: [ca!], contacts: [x!, y!] },
    }]);
    expect(deal).toMatchObject({ ok: true });
    const dealId = deal!.ok ? deal!.id : '';
    const readDeal = async () => (await s!.conn.get('deals', [dealId], { fields: ['dealname', 'amount', 'closedate'], associations: ['company', 'contacts'] }))[0]!;
    let d = await readDeal();
    expect(d.fields).toEqual({ dealname: 'Big', amount: 1200.5, closedate: '2025-06-30T00:00:00.000Z' });
    expect(d.associations!.company).toEqual([ca]);
    expect(d.associations!.contacts!.sort()).toEqual([x, y].sort());
    await s.conn.write('deals', [{ kind: 'update', ref: 'd', id: dealId, fields: { amount: 99 }, associations: { contacts: [y!] } }]);
    d = await readDeal();
    expect(d.associations!.contacts).toEqual([y]);
    expect(d.fields.amount).toBe(99);
  });

  it('OAuth: refreshes before the first call, again after expiry, and hands new tokens to the hook', async () => {
    const client = { clientId: 'cid', clientSecret: 'csecret-0123456789' };
    s = await setup({ oauth: client });
    const auth = await fetch(`${s.emu.url}/oauth/authorize?client_id=cid&redirect_uri=http://localhost/cb&scope=oauth`, { redirect: 'manual' });
    const code = new URL(auth.headers.get('location')!).searchParams.get('code')!;
    const tok = await (await fetch(`${s.emu.url}/oauth/v1/token`, {
      method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'authorization_code', client_id: 'cid', client_secret: client.clientSecret, redirect_uri: 'http://localhost/cb', code }),
    })).json() as { refresh_token: string };
    const refreshed: string[] = [];
    const conn = s.connect({ token: undefined, oauth: { client_id: 'cid', client_secret: client.clientSecret, refresh_token: tok.refresh_token } }, {
      onCredentialRefresh: (t) => { refreshed.push(t.accessToken); },
    });
    await conn.check();
    expect(refreshed.length).toBe(1);
    s.emu.clock.advance(1801_000);
    await conn.check();
    expect(refreshed.length).toBe(2);
    expect(refreshed[0]).not.toBe(refreshed[1]);

    const bad = s.connect({ token: undefined, oauth: { client_id: 'cid', client_secret: client.clientSecret, refresh_token: 'not-a-refresh-token' } });
    const err = await bad.check().then(() => undefined, (e: unknown) => e);
    expect(err).toMatchObject({ kind: 'app', code: 'AUTH_FAILED' });
    expect((err as Error).message).not.toContain(client.clientSecret);
    expect((err as Error).message).not.toContain('not-a-refresh-token');
  });
});

describe('hubspot connector with many fields', () => {
  it('keeps search bodies under 3,000 characters by reading properties in batch', async () => {
    s = await setup({ seed: { contacts: [contact(1), contact(2)] } });
    const first = await readAll(s.conn, 'contacts', { since: null, fields: ['email'] });
    const id = s.emu.store.list('contacts')[0]!.id;
    s.emu.clock.advance(5);
    s.emu.store.update('contacts', id, { firstname: 'Changed' });
    const many = ['email', 'firstname', ...Array.from({ length: 150 }, (_, i) => `custom_property_number_${i}`)];
    const next = await readAll(s.conn, 'contacts', { since: first.cursor, fields: many });
    const records = next.batches.flatMap((b) => b.records);
    expect(records.map((r) => r.id)).toEqual([id]);
    expect(records[0]!.fields).toMatchObject({ email: 'p1@example.com', firstname: 'Changed', custom_property_number_0: null });
    expect(s.emu.stats().byStatus['400'] ?? 0).toBe(0);
  });
});
