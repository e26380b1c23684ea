/**
 * Issue 13 point 12: counts that add up and say what they count. A record
 * with conflicting edits in two fields is one conflict, "in sync" leaves
 * excluded records out, `connect` says its numbers are fields, and an
 * interrupted run reports what it wrote before it stopped.
 */
import { describe, expect, it } from 'vitest';
import { spawnCli, show, sleep } from '../robustness/support.js';
import { bulkInsert, CRM_SCHEMA, startHub, TOKEN, writeHubConfig } from './hubspot-support.js';
import { explain, now, OLD, useWorkspaces, type Workspace } from './support.js';

const workspace = useWorkspaces();

function setup(w: Workspace, n = 4) {
  const crm = w.sqlite('crm.db', 'CREATE TABLE people (id INTEGER PRIMARY KEY, email TEXT, first_name TEXT, job_title TEXT, country TEXT, modified_at TEXT)');
  crm.insert('people', Array.from({ length: n }, (_, i) => ({ email: `p${i}@example.com`, first_name: `P${i}`, job_title: 'Seeded', country: i < 2 ? 'SE' : 'NO', modified_at: OLD })));
  w.writeCsv('contacts.csv', ['id', 'email', 'firstname', 'jobtitle', 'country']);
  const config = (filters?: unknown) => w.writeConfig({
    connections: {
      crm: { app: 'sqlite', path: './crm.db', objects: { contacts: { table: 'people', updated_at: 'modified_at' } } },
      exp: { app: 'csv', objects: { contacts: { file: 'contacts.csv' } } },
    },
    syncs: [{ name: 'contacts', object: 'contacts', between: ['crm', 'exp'], direction: 'two-way', default_app: 'crm', ...(filters ? { filters } : {}) }],
  });
  config();
  return { crm, config };
}

describe('counts that add up (issue 13.12)', () => {
  it('a record edited on both sides in two fields is one conflict, and the line says so', async () => {
    const w = workspace();
    const { crm } = setup(w);
    expect((await w.run('run')).exitCode).toBe(0);
    crm.run('UPDATE people SET first_name = ?, job_title = ?, modified_at = ? WHERE email = ?', 'CrmName', 'CrmJob', now(), 'p1@example.com');
    const rows = w.readCsv('contacts.csv').map((r) => (r.email === 'p1@example.com' ? { ...r, firstname: 'CsvName', jobtitle: 'CsvJob' } : r));
    w.writeCsv('contacts.csv', ['id', 'email', 'firstname', 'jobtitle', 'country'], rows);
    const r = await w.runJson();
    expect(r.exitCode, explain(r)).toBe(0);
    expect(r.json.syncs[0]!.conflicts).toBe(1);
    crm.run('UPDATE people SET first_name = ?, job_title = ?, modified_at = ? WHERE email = ?', 'CrmName2', 'CrmJob2', now(), 'p2@example.com');
    const rows2 = w.readCsv('contacts.csv').map((x) => (x.email === 'p2@example.com' ? { ...x, firstname: 'CsvName2', jobtitle: 'CsvJob2' } : x));
    w.writeCsv('contacts.csv', ['id', 'email', 'firstname', 'jobtitle', 'country'], rows2);
    const text = await w.run('run');
    expect(text.stdout).toMatch(/1 record with edits on both sides \(crm's values kept\)/);
  });

  it('"in sync" leaves out the records a filter excludes', async () => {
    const w = workspace();
    const { config } = setup(w);
    expect((await w.run('run')).exitCode).toBe(0);
    config({ crm: [{ field: 'country', op: 'eq', value: 'SE' }] });
    const r = await w.run('run');
    expect(r.exitCode, explain(r)).toBe(0);
    const h = JSON.parse((await w.run('health', '--json')).stdout) as { syncs: Array<{ counts: { inSync: number; excluded: number } }> };
    expect(h.syncs[0]!.counts).toMatchObject({ inSync: 2, excluded: 2 });
  });

  it('connect says that its numbers count fields', async () => {
    const w = workspace();
    w.sqlite('crm.db', 'CREATE TABLE people (id INTEGER PRIMARY KEY, email TEXT, first_name TEXT)');
    const r = await w.run('connect', 'sqlite', '--name', 'crm', '--path', './crm.db', '--object', 'contacts=people');
    expect(r.exitCode, explain(r)).toBe(0);
    expect(r.stdout).toMatch(/contacts \(2 fields\)/);
  });

  it('an interrupted run reports what it wrote before it stopped', async () => {
    const hub = await startHub();
    try {
      const w = workspace();
      const crm = w.sqlite('crm.db', CRM_SCHEMA);
      bulkInsert(crm, 'people', Array.from({ length: 3000 }, (_, i) => ({ email: `c${i}@example.com`, first_name: `C${i}`, modified_at: OLD })));
      writeHubConfig(w, hub.url, { objects: ['contacts'] });
      // Each HubSpot batch create answers slowly: the first batch of 1,000 takes seconds, the run more.
      await hub.faults({ delayMs: 400, share: 1, path: '/crm/v3/objects/contacts/batch/create' });
      const run = spawnCli(w.dir, ['run', '--json'], { HUBSPOT_TOKEN: TOKEN });
      try {
        const until = Date.now() + 60_000;
        while (hub.list('contacts').length < 1000 && Date.now() < until) await sleep(50);
        run.child.kill('SIGINT');
      } finally {
        setTimeout(() => run.child.kill('SIGKILL'), 60_000).unref();
      }
      const r = await run.done;
      expect(r.exitCode, show(r)).toBe(130);
      const json = JSON.parse(r.stdout) as { syncs: Array<{ outcome: string; sides: Array<{ connection: string; read: number; created: number }> }> };
      const created = hub.list('contacts').length;
      expect(created).toBeGreaterThan(0);
      expect(created).toBeLessThan(3000);
      const s = json.syncs[0]!;
      expect(s.outcome).toBe('interrupted');
      expect(s.sides.find((x) => x.connection === 'hubspot')!.created, r.stdout).toBe(created);
      expect(s.sides.find((x) => x.connection === 'crm')!.read).toBe(3000);
    } finally {
      await hub.close();
    }
  }, 120_000);
});
