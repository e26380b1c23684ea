/**
 * HubSpot at the floor (issue 15): associations read 1,000 records a call and
 * written inside the creates that make the records; the cursor after a pass
 * passes over the connector's own writes, never over anyone else's change.
 * Calls are counted by the emulator.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { WriteOp } from '../../src/connector.js';
import { readAll, setup, type Setup } from './emulator-helpers.js';

let s: Setup | undefined;
afterEach(async () => { await s?.close(); s = undefined; });

const OLD = '2024-01-01T00:00:00.000Z';
const ASSOC_READ = 'POST /crm/v4/associations/{fromObjectType}/{toObjectType}/batch/read';
const ASSOC_CREATE = 'POST /crm/v4/associations/{fromObjectType}/{toObjectType}/batch/create';
const SEARCH = 'POST /crm/v3/objects/{objectType}/search';
const BATCH_READ = 'POST /crm/v3/objects/{objectType}/batch/read';
const FAST_SEARCH = { searchPerSecond: 1000 };

function seedCompanies(s: Setup, n: number): string[] {
  return Array.from({ length: n }, (_, i) => s.emu.store.create('companies', { name: `Co ${i}`, domain: `co${i}.example.com`, hs_lastmodifieddate: OLD }).id);
}

describe('hubspot at the floor', () => {
  it('reads the associations of 2,500 contacts in 3 calls, not one per page of 100', async () => {
    s = await setup(FAST_SEARCH);
    const companies = seedCompanies(s, 10);
    for (let i = 0; i < 2500; i++) {
      s.emu.store.create('contacts', { email: `c${i}@example.com`, lastmodifieddate: OLD }, { companies: [companies[i % 10]!] });
    }
    const { batches } = await readAll(s.conn, 'contacts', { since: null, fields: ['email'], associations: ['company'] });
    const records = batches.flatMap((b) => b.records);
    expect(records).toHaveLength(2500);
    records.forEach((r) => expect(r.associations?.company).toEqual([companies[Number(r.fields.email!.toString().slice(1).split('@')[0]) % 10]]));
    const calls = s.emu.stats().requests;
    expect(calls['GET /crm/v3/objects/{objectType}']).toBe(25);
    expect(calls[ASSOC_READ]).toBe(3);
    expect(Math.max(...batches.map((b) => b.records.length))).toBe(1000);
  });

  it('creates carry their associations: no association call, each contact with its primary company', async () => {
    s = await setup();
    const companies = seedCompanies(s, 3);
    const ops: WriteOp[] = Array.from({ length: 150 }, (_, i) => ({
      kind: 'create', ref: `c${i}`, fields: { email: `new${i}@example.com` }, associations: { company: [companies[i % 3]!] },
    }));
    const results = await s.conn.write('contacts', ops);
    expect(results.every((r) => r.ok)).toBe(true);
    const calls = s.emu.stats().requests;
    expect(calls['POST /crm/v3/objects/{objectType}/batch/create']).toBe(2);
    expect(calls[ASSOC_CREATE]).toBeUndefined();
    const { batches } = await readAll(s.conn, 'contacts', { since: null, fields: ['email'], associations: ['company'] });
    const byEmail = new Map(batches.flatMap((b) => b.records).map((r) => [r.fields.email, r.associations?.company]));
    for (let i = 0; i < 150; i++) expect(byEmail.get(`new${i}@example.com`)).toEqual([companies[i % 3]]);
  });

  it('a create refused for its association is made without it and answered as before (the record exists, the association failed)', async () => {
    s = await setup();
    const [company] = seedCompanies(s, 1);
    const results = await s.conn.write('contacts', [
      { kind: 'create', ref: 'good', fields: { email: 'good@example.com' }, associations: { company: [company!] } },
      { kind: 'create', ref: 'bad', fields: { email: 'bad@example.com' }, associations: { company: ['99999999'] } },
    ]);
    const good = results.find((r) => r.ref === 'good')!;
    const bad = results.find((r) => r.ref === 'bad')!;
    expect(good.ok).toBe(true);
    expect(bad).toMatchObject({ ok: false, reason: expect.stringMatching(/^association: /), existingId: expect.any(String) });
    const made = s.emu.store.list('contacts').filter((r) => r.properties.email === 'bad@example.com');
    expect(made).toHaveLength(1);
    expect(made[0]!.id).toBe((bad as { existingId: string }).existingId);
  });

  it('the read after our writes passes over them, yet sees an edit of a record we wrote and one made in the same millisecond as our write', async () => {
    s = await setup(FAST_SEARCH);
    for (let i = 0; i < 50; i++) s.emu.store.create('contacts', { email: `old${i}@example.com`, lastmodifieddate: OLD });
    const first = await readAll(s.conn, 'contacts', { since: null, fields: ['email', 'jobtitle'] });
    expect(first.batches.flatMap((b) => b.records)).toHaveLength(50);
    // 300 creates and an update, as a pass writes them after its read.
    const old0 = s.emu.store.list('contacts').find((r) => r.properties.email === 'old0@example.com')!;
    const results = await s.conn.write('contacts', [
      ...Array.from({ length: 300 }, (_, i): WriteOp => ({ kind: 'create', ref: `n${i}`, fields: { email: `new${i}@example.com`, jobtitle: 'Ours' } })),
      { kind: 'update', ref: 'u', id: old0.id, fields: { jobtitle: 'Ours too' } },
    ]);
    expect(results.every((r) => r.ok)).toBe(true);
    const cursor = await s.conn.cursorAfterWrites('contacts', first.cursor);

    // Nothing else changed: the read yields nothing (search pages only: no batch read, no association read).
    await fetch(`${s.emu.url}/_emulator/stats/reset`, { method: 'POST' });
    const idle = await readAll(s.conn, 'contacts', { since: cursor, fields: ['email', 'jobtitle'] });
    expect(idle.batches.flatMap((b) => b.records)).toEqual([]);
    expect(s.emu.stats().requests[BATCH_READ]).toBeUndefined();
    expect(s.emu.stats().requests[SEARCH]).toBe(2); // 351 records in the window (the 50 at the cursor too), 200 a page

    // A person edits a record we created, and another record in the very millisecond of one of our writes.
    const ours = s.emu.store.list('contacts').find((r) => r.properties.email === 'new7@example.com')!;
    s.emu.clock.advance(5);
    s.emu.store.update('contacts', ours.id, { jobtitle: 'Edited by a person' });
    const old1 = s.emu.store.list('contacts').find((r) => r.properties.email === 'old1@example.com')!;
    const ourMs = s.emu.store.get('contacts', s.emu.store.list('contacts').find((r) => r.properties.email === 'new250@example.com')!.id)!.updatedAt;
    s.emu.store.update('contacts', old1.id, { jobtitle: 'Same millisecond', lastmodifieddate: ourMs });
    const after = await readAll(s.conn, 'contacts', { since: cursor, fields: ['email', 'jobtitle'] });
    const read = after.batches.flatMap((b) => b.records);
    expect(read.map((r) => [r.fields.email, r.fields.jobtitle]).sort()).toEqual([
      ['new7@example.com', 'Edited by a person'],
      ['old1@example.com', 'Same millisecond'],
    ]);
  });

  it('a lagging search answering the version before our write is passed over, not read as a change carrying the old values back', async () => {
    // Search shows each record as it was a minute ago (fixed lag): after our update, the old version.
    s = await setup({ ...FAST_SEARCH, searchLag: { ms: 60_000 } });
    const rec = s.emu.store.create('contacts', { email: 'ann@example.com', jobtitle: 'Before', lastmodifieddate: OLD });
    s.emu.clock.advance(120_000);
    const first = await readAll(s.conn, 'contacts', { since: null, fields: ['email', 'jobtitle'] });
    expect(first.batches.flatMap((b) => b.records).map((r) => r.fields.jobtitle)).toEqual(['Before']);
    s.emu.clock.advance(1_000);
    const results = await s.conn.write('contacts', [{ kind: 'update', ref: 'u', id: rec.id, fields: { jobtitle: 'Ours' } }]);
    expect(results.every((r) => r.ok)).toBe(true);
    const cursor = await s.conn.cursorAfterWrites('contacts', first.cursor);
    // Still within the lag: search answers 'Before' with its old modified time. It is no change of anyone's.
    s.emu.clock.advance(1_000);
    const stale = await readAll(s.conn, 'contacts', { since: cursor, fields: ['email', 'jobtitle'] });
    expect(stale.batches.flatMap((b) => b.records).map((r) => r.fields.jobtitle)).toEqual([]);
  });

  it('once the look-back has passed our bulk write, an idle read is one search, and a later edit is still read', async () => {
    s = await setup(FAST_SEARCH);
    const first = await readAll(s.conn, 'contacts', { since: null, fields: ['email', 'jobtitle'] });
    const results = await s.conn.write('contacts', Array.from({ length: 300 }, (_, i): WriteOp => ({ kind: 'create', ref: `n${i}`, fields: { email: `new${i}@example.com` } })));
    expect(results.every((r) => r.ok)).toBe(true);
    let cursor = await s.conn.cursorAfterWrites('contacts', first.cursor);
    const searches = async () => {
      await fetch(`${s!.emu.url}/_emulator/stats/reset`, { method: 'POST' });
      const read = await readAll(s!.conn, 'contacts', { since: cursor, fields: ['email', 'jobtitle'] });
      cursor = read.cursor;
      return { records: read.batches.flatMap((b) => b.records), searches: s!.emu.stats().requests[SEARCH] };
    };
    // Within the look-back (5 minutes) the write is paged through, 200 a search, and nothing read.
    expect(await searches()).toEqual({ records: [], searches: 2 });
    s.emu.clock.advance(5 * 60_000 + 5_000);
    // The read after that still starts 5 minutes before the last one, so it pages through once more, and moves the
    // cursor to HubSpot's clock (its Date header) when search answered: from then on the window is empty.
    expect(await searches()).toEqual({ records: [], searches: 2 });
    expect(await searches()).toEqual({ records: [], searches: 1 });
    expect(await searches()).toEqual({ records: [], searches: 1 });
    const one = s.emu.store.list('contacts').find((r) => r.properties.email === 'new9@example.com')!;
    s.emu.store.update('contacts', one.id, { jobtitle: 'Edited later' });
    const later = await searches();
    expect(later.records.map((r) => r.fields.jobtitle)).toEqual(['Edited later']);
  });

  it('a Date far ahead of this machine\'s clock moves the cursor no further than 10 minutes ahead: a change stamped before it is read', async () => {
    s = await setup(FAST_SEARCH);
    s.emu.store.create('contacts', { email: 'old@example.com', lastmodifieddate: OLD });
    const first = await readAll(s.conn, 'contacts', { since: null, fields: ['email'] });
    s.emu.clock.advance(86_400_000);
    const idle = await readAll(s.conn, 'contacts', { since: first.cursor, fields: ['email'] });
    // A record HubSpot stamps an hour from now (by this machine's clock), a day before the Date search sent.
    s.emu.store.create('contacts', { email: 'later@example.com', lastmodifieddate: new Date(Date.now() + 3_600_000).toISOString() });
    const next = await readAll(s.conn, 'contacts', { since: idle.cursor, fields: ['email'] });
    expect(next.batches.flatMap((b) => b.records).map((r) => r.fields.email)).toEqual(['later@example.com']);
  });
});

