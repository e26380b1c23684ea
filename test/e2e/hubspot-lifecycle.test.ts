/**
 * HubSpot records that leave other than by an edit (issue 12): merged (a new
 * id for the survivor, both old ids resolving to it), archived and restored
 * from the recycle bin, deleted for good by a GDPR request; and what an idle
 * pass costs when nothing left. The built CLI against the emulator, a SQLite
 * CRM on the other side; both apps and the state file are checked after.
 */
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import type { SyncHealth } from '../../src/health.js';
import { CRM_SCHEMA, crmIndex, datasync, failures, nowIso, runJson, startHub, writeHubConfig, type Hub, type SyncOptions } from './hubspot-support.js';
import { requireBuild, total, useWorkspaces, type SqliteFile, type Workspace } from './support.js';

const workspace = useWorkspaces();
let hub: Hub | undefined;
afterEach(async () => {
  await hub?.close();
  hub = undefined;
});

const PEOPLE = [
  { email: 'ann@example.com', first_name: 'Ann', last_name: 'Lee', job_title: 'CTO' },
  { email: 'ann.b@example.com', first_name: 'Annie', last_name: 'Lee', job_title: null },
  { email: 'solo@example.com', first_name: 'Solo', last_name: 'One', job_title: 'Chef' },
];

/** A contacts-only two-way sync, the CRM seeded with PEOPLE, after a first run that created them in HubSpot. */
async function synced(opts: SyncOptions = {}, people: Record<string, unknown>[] = PEOPLE): Promise<{ w: Workspace; crm: SqliteFile; hub: Hub; hubId: (email: string) => string }> {
  requireBuild();
  hub = await startHub();
  const w = workspace();
  const crm = w.sqlite('crm.db', CRM_SCHEMA);
  crm.insert('people', people.map((p) => ({ ...p, modified_at: nowIso() })));
  writeHubConfig(w, hub.url, { objects: ['contacts'], ...opts });
  const first = await runJson(w);
  expect(first.exitCode, `${failures(first.json)}\n${first.stderr.slice(-2000)}`).toBe(0);
  expect(hub.list('contacts')).toHaveLength(people.length);
  const h = hub;
  return { w, crm, hub: h, hubId: (email) => h.list('contacts').find((r) => r.properties.email === email)!.id };
}

async function health(w: Workspace): Promise<SyncHealth> {
  const r = await datasync(w, ['health', '--json']);
  const json = JSON.parse(r.stdout) as { syncs: SyncHealth[] };
  return json.syncs.find((s) => s.name === 'contacts')!;
}

function stateDb<T>(w: Workspace, fn: (db: Database.Database) => T): T {
  const db = new Database(w.path('.datasync', 'state.db'), { readonly: true });
  try {
    return fn(db);
  } finally {
    db.close();
  }
}

describe('a merge in HubSpot', () => {
  it('re-points the link to the survivor (a new id): no duplicate in the CRM, nothing failed, edits flow both ways after', async () => {
    const { w, crm, hub, hubId } = await synced();
    const ann = hubId('ann@example.com');
    const annB = hubId('ann.b@example.com');
    const survivor = hub.emu.store.merge('contacts', ann, annB);
    expect([ann, annB]).not.toContain(survivor.id);

    const second = await runJson(w);
    expect(second.exitCode, `${failures(second.json)}\n${second.stderr.slice(-2000)}`).toBe(0);
    expect(total(second.json, 'failed')).toBe(0);
    expect(total(second.json, 'created')).toBe(0);
    expect(crm.count('people')).toBe(3);
    expect(hub.list('contacts').map((r) => r.id).sort()).toEqual([survivor.id, hubId('solo@example.com')].sort());
    const links = stateDb(w, (db) => db.prepare(`SELECT a_id, b_id, deleted, gone FROM links WHERE sync = 'contacts' ORDER BY b_id`).all()) as
      { a_id: string; b_id: string; deleted: string | null; gone: string | null }[];
    const annRow = crmIndex(crm).personByEmail.get('ann@example.com')!;
    const annBRow = crmIndex(crm).personByEmail.get('ann.b@example.com')!;
    expect(links).toContainEqual({ a_id: survivor.id, b_id: String(annRow.id), deleted: null, gone: null });
    expect(links).toContainEqual({ a_id: annB, b_id: String(annBRow.id), deleted: 'a', gone: `merged:${survivor.id}` });
    expect(stateDb(w, (db) => db.prepare(`SELECT count(*) AS n FROM record_status WHERE sync = 'contacts'`).get()) as { n: number }).toEqual({ n: 0 });
    const h = await health(w);
    expect(h.counts.failed).toBe(0);
    expect(h.deleted).toContainEqual(expect.objectContaining({ a: annB, how: `merged in hubspot into #${survivor.id}` }));

    // The survivor is the linked record now: its edits reach the CRM row, the CRM row's edits reach it.
    hub.emu.store.update('contacts', survivor.id, { jobtitle: 'CEO' });
    const third = await runJson(w);
    expect(third.exitCode, failures(third.json)).toBe(0);
    expect(crmIndex(crm).personByEmail.get('ann@example.com')!.job_title).toBe('CEO');
    crm.run(`UPDATE people SET last_name = 'Lee-Smith', modified_at = ? WHERE email = 'ann@example.com'`, nowIso());
    const fourth = await runJson(w);
    expect(fourth.exitCode, failures(fourth.json)).toBe(0);
    expect(total(fourth.json, 'created')).toBe(0);
    expect(hub.emu.store.get('contacts', survivor.id)!.properties.lastname).toBe('Lee-Smith');
    expect(hub.list('contacts')).toHaveLength(2);
    expect(crm.count('people')).toBe(3);
  }, 60_000);
});

describe('the deletion check', () => {
  it('is not run on every pass: an idle pass at 250 linked contacts reads no record by id', async () => {
    const people = Array.from({ length: 250 }, (_, i) => ({ email: `p${i}@example.com`, first_name: `P${i}`, last_name: 'X', job_title: null }));
    const { w, hub } = await synced({}, people);
    // The second pass reads the records the first one wrote back through search (they are changes
    // since its cursor); from the third on, a pass reads only what changed.
    expect((await runJson(w)).exitCode).toBe(0);
    hub.emu.clock.advance(60_000);
    await fetch(`${hub.url}/_emulator/stats/reset`, { method: 'POST' });
    const idle = await runJson(w);
    expect(idle.exitCode, failures(idle.json)).toBe(0);
    const stats = hub.emu.stats();
    expect(stats.requests['POST /crm/v3/objects/{objectType}/batch/read'] ?? 0).toBe(0);
    expect(stats.total).toBeLessThanOrEqual(6);
  }, 60_000);

  it('finds an archived record (deletion_check: 0), revives its link when restored, and purges a GDPR-deleted contact from the state', async () => {
    const { w, crm, hub, hubId } = await synced({ hubspot: { deletion_check: 0 } });
    const solo = hubId('solo@example.com');
    hub.emu.store.archive('contacts', solo);
    const second = await runJson(w);
    expect(second.exitCode, failures(second.json)).toBe(0);
    expect((await health(w)).deleted).toEqual([expect.objectContaining({ a: solo, how: 'deleted in hubspot (archived)' })]);
    expect(crm.count('people')).toBe(3);

    hub.emu.store.restore('contacts', solo);
    const third = await runJson(w);
    expect(third.exitCode, failures(third.json)).toBe(0);
    expect((await health(w)).deleted ?? []).toEqual([]);
    hub.emu.store.update('contacts', solo, { jobtitle: 'Head chef' });
    const fourth = await runJson(w);
    expect(fourth.exitCode, failures(fourth.json)).toBe(0);
    expect(crmIndex(crm).personByEmail.get('solo@example.com')!.job_title).toBe('Head chef');

    const ann = hubId('ann@example.com');
    const annRow = String(crmIndex(crm).personByEmail.get('ann@example.com')!.id);
    // A change to the CRM row waiting while HubSpot deletes the person: it must not bring her back.
    crm.run(`UPDATE people SET job_title = 'VP', modified_at = ? WHERE email = 'ann@example.com'`, nowIso());
    const res = await fetch(`${hub.url}/crm/v3/objects/contacts/gdpr-delete`, {
      method: 'POST', headers: { authorization: `Bearer pat-na1-e2e-0000-1111-secret-token`, 'content-type': 'application/json' },
      body: JSON.stringify({ objectId: ann }),
    });
    expect(res.status).toBe(204);
    const fifth = await runJson(w);
    expect(fifth.exitCode, failures(fifth.json)).toBe(0);
    expect(hub.list('contacts').map((r) => r.properties.email)).not.toContain('ann@example.com');
    const h = await health(w);
    expect(h.deleted).toContainEqual(expect.objectContaining({ a: ann, b: annRow, how: 'deleted in hubspot (privacy): its data is purged from the state' }));
    const left = stateDb(w, (db) => ({
      keys: db.prepare(`SELECT count(*) AS n FROM match_keys WHERE key LIKE '%ann@example.com%' OR record_id IN (?, ?)`).get(ann, annRow),
      base: db.prepare(`SELECT base, assoc, a_hash, b_hash FROM links WHERE sync = 'contacts' AND a_id = ?`).get(ann),
      statuses: db.prepare(`SELECT count(*) AS n FROM record_status WHERE record_id IN (?, ?)`).get(ann, annRow),
      pending: db.prepare(`SELECT count(*) AS n FROM pending_creates WHERE source_id IN (?, ?)`).get(ann, annRow),
    }));
    expect(left).toEqual({ keys: { n: 0 }, base: { base: '{}', assoc: '{}', a_hash: null, b_hash: null }, statuses: { n: 0 }, pending: { n: 0 } });
  }, 90_000);

  it('a CRM change to a contact archived in HubSpot between checks fails at most until the next check, then nothing stays failed', async () => {
    const { w, crm, hub, hubId } = await synced();
    const solo = hubId('solo@example.com');
    hub.emu.store.archive('contacts', solo);
    crm.run(`UPDATE people SET job_title = 'Sous-chef', modified_at = ? WHERE email = 'solo@example.com'`, nowIso());
    // Within the hour of the last check: HubSpot refuses the update of the archived record.
    const between = await runJson(w);
    expect(total(between.json, 'created')).toBe(0);
    writeHubConfig(w, hub.url, { objects: ['contacts'], hubspot: { deletion_check: 0 } });
    const checked = await runJson(w);
    expect(checked.exitCode, failures(checked.json)).toBe(0);
    const h = await health(w);
    expect(h.counts.failed).toBe(0);
    expect(h.deleted).toEqual([expect.objectContaining({ a: solo, how: 'deleted in hubspot (archived)' })]);
    expect(hub.list('contacts')).toHaveLength(2);
    expect(crm.count('people')).toBe(3);
  }, 60_000);
});

describe('a sync of many HubSpot properties', () => {
  it('never builds a URL over 8 KB (HubSpot answers 414): list pages read the properties by batch read', async () => {
    requireBuild();
    const names = Array.from({ length: 250 }, (_, i) => `datasync_custom_property_number_${String(i).padStart(3, '0')}`);
    const props = Object.fromEntries(names.map((n, i) => [n, `value ${i}`]));
    hub = await startHub({ seed: { contacts: [{ properties: { email: 'wide@example.com', firstname: 'Wide', ...props } }] } });
    const w = workspace();
    const crm = w.sqlite('crm.db', `CREATE TABLE people (id INTEGER PRIMARY KEY, email TEXT, first_name TEXT, modified_at TEXT, ${names.map((n) => `${n} TEXT`).join(', ')})`);
    writeHubConfig(w, hub.url, {
      objects: ['contacts'],
      contacts: { mappings: { fields: names.map((n) => ({ hubspot: n, crm: n })) } },
    });
    const run = await runJson(w);
    expect(run.exitCode, `${failures(run.json)}\n${run.stderr.slice(-1500)}`).toBe(0);
    expect(hub.emu.stats().byStatus['414'] ?? 0).toBe(0);
    const row = crm.one<Record<string, string>>(`SELECT * FROM people WHERE email = 'wide@example.com'`)!;
    expect(row[names[249]!]).toBe('value 249');
  }, 60_000);
});
