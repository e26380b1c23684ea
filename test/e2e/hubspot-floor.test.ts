/**
 * HubSpot at the floor (issue 15), through the built CLI: an initial sync
 * costs one call per 100 records read or written (associations read 1,000
 * records a call and written inside the creates), the pass after it reads
 * none of its own writes back yet every person's edit, and a lost answer to
 * a create carrying its company makes no duplicate. Calls are counted by the
 * emulator's stats.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { bulkInsert, crmIndex, CRM_SCHEMA, failures, runJson, startHub, writeHubConfig, type Hub } from './hubspot-support.js';
import { OLD, requireBuild, side, total, Workspace, type SqliteFile } from './support.js';

const LIST = 'GET /crm/v3/objects/{objectType}';
const CREATE = 'POST /crm/v3/objects/{objectType}/batch/create';
const ASSOC_READ = 'POST /crm/v4/associations/{fromObjectType}/{toObjectType}/batch/read';
const ASSOC_CREATE = 'POST /crm/v4/associations/{fromObjectType}/{toObjectType}/batch/create';
const BATCH_READ = 'POST /crm/v3/objects/{objectType}/batch/read';

const hubs: Hub[] = [];
const dirs: Workspace[] = [];
afterEach(async () => {
  await Promise.all(hubs.splice(0).map((h) => h.close()));
  for (const w of dirs.splice(0)) w.dispose();
});

/** HubSpot: 30 companies, 250 contacts each with a primary company. The CRM: 20 orgs, 150 people each with an org. No record on both. */
async function setup(): Promise<{ hub: Hub; w: Workspace; crm: SqliteFile }> {
  requireBuild();
  const hub = await startHub({ searchPerSecond: 1000 });
  hubs.push(hub);
  const companies = Array.from({ length: 30 }, (_, i) => hub.emu.store.create('companies', { name: `Hub Co ${i}`, domain: `hub${i}.example.com`, hs_lastmodifieddate: OLD }).id);
  for (let i = 0; i < 250; i++) {
    hub.emu.store.create('contacts', { email: `hub${i}@example.com`, firstname: `H${i}`, lastmodifieddate: OLD }, { companies: [companies[i % 30]!] });
  }
  const w = Workspace.create();
  dirs.push(w);
  const crm = w.sqlite('crm.db', CRM_SCHEMA);
  bulkInsert(crm, 'orgs', Array.from({ length: 20 }, (_, i) => ({ name: `Crm Org ${i}`, domain: `crm${i}.example.com`, modified_at: OLD })));
  bulkInsert(crm, 'people', Array.from({ length: 150 }, (_, i) => ({ email: `crm${i}@example.com`, first_name: `C${i}`, company_id: (i % 20) + 1, modified_at: OLD })));
  writeHubConfig(w, hub.url);
  return { hub, w, crm };
}

/** Every contact on both sides, each with the primary company of the same domain. */
async function expectPrimaries(hub: Hub, crm: SqliteFile): Promise<void> {
  const primary = await hub.primaryCompanies();
  const domainOf = new Map(hub.list('companies').map((c) => [c.id, c.properties.domain]));
  const hubByEmail = new Map(hub.list('contacts').map((c) => [c.properties.email!, domainOf.get(primary.get(c.id) ?? '') ?? null]));
  const local = crmIndex(crm);
  expect(hubByEmail.size).toBe(400);
  expect(local.people).toHaveLength(400);
  for (const p of local.people) {
    const crmDomain = p.company_id === null ? null : local.orgById.get(p.company_id)?.domain ?? null;
    expect(hubByEmail.get(p.email!), p.email!).toBe(crmDomain);
    expect(crmDomain).not.toBeNull();
  }
}

describe('HubSpot at the floor', () => {
  it('the initial sync: one list call per 100 read, one create per 100 written, one association read per 1,000, no association write', async () => {
    const { hub, w, crm } = await setup();
    const run = await runJson(w);
    expect(run.exitCode, failures(run.json)).toBe(0);
    const calls = hub.emu.stats().requests;
    // 3 pages of contacts, 1 of companies, and the credential check.
    expect(calls[LIST]).toBe(5);
    // 150 contacts and 20 companies created: 2 + 1 batches, each contact carrying its company.
    expect(calls[CREATE]).toBe(3);
    expect(calls[ASSOC_READ]).toBe(1);
    expect(calls[ASSOC_CREATE]).toBeUndefined();
    await expectPrimaries(hub, crm);
  });

  it('the pass after reads none of its own writes back, but a person\'s edit right after them and one in the same millisecond as one of them', async () => {
    const { hub, w, crm } = await setup();
    const first = await runJson(w);
    expect(first.exitCode, failures(first.json)).toBe(0);
    await fetch(`${hub.url}/_emulator/stats/reset`, { method: 'POST' });

    const idle = await runJson(w);
    expect(idle.exitCode, failures(idle.json)).toBe(0);
    expect(side(idle.json, 'contacts', 'hubspot').read).toBe(0);
    expect(side(idle.json, 'companies', 'hubspot').read).toBe(0);
    const calls = hub.emu.stats().requests;
    expect(calls[BATCH_READ]).toBeUndefined();
    expect(calls[ASSOC_READ]).toBeUndefined();

    // A person edits a contact the sync created, and another contact in the very millisecond of one of the sync's creates.
    const contacts = hub.list('contacts');
    const ours = contacts.find((c) => c.properties.email === 'crm3@example.com')!;
    const theirs = contacts.find((c) => c.properties.email === 'hub5@example.com')!;
    const ourMs = contacts.find((c) => c.properties.email === 'crm140@example.com')!.updatedAt;
    hub.emu.store.update('contacts', ours.id, { jobtitle: 'Edited in HubSpot' });
    hub.emu.store.update('contacts', theirs.id, { jobtitle: 'Same millisecond', lastmodifieddate: ourMs });
    const next = await runJson(w);
    expect(next.exitCode, failures(next.json)).toBe(0);
    expect(side(next.json, 'contacts', 'hubspot').read).toBe(2);
    const people = crmIndex(crm).personByEmail;
    expect(people.get('crm3@example.com')?.job_title).toBe('Edited in HubSpot');
    expect(people.get('hub5@example.com')?.job_title).toBe('Same millisecond');
  });

  it('a lost answer to a batch create carrying associations: each contact once, with its company, and the next run creates nothing', async () => {
    const { hub, w, crm } = await setup();
    await hub.faults([{ lose: 504, path: '/contacts/batch/create' }, { lose: 'reset', path: '/contacts/batch/create' }]);
    const run = await runJson(w);
    expect(run.exitCode, failures(run.json)).toBe(0);
    expect(hub.emu.stats().lost).toBe(2);
    const emails = hub.list('contacts').map((c) => c.properties.email);
    expect(new Set(emails).size).toBe(emails.length);
    await expectPrimaries(hub, crm);
    const again = await runJson(w);
    expect(again.exitCode, failures(again.json)).toBe(0);
    expect(total(again.json, 'created')).toBe(0);
    expect(hub.list('contacts')).toHaveLength(400);
  });
});
