/**
 * Issue 13 points 10 and 11, through the BUILT binary: `health` tells the
 * truth per sync (its own last run, Scanning/In progress while an initial
 * sync runs without calling it stale, Active and listening only when
 * something listens), and `stop SYNC --delete --yes` really turns it off.
 */
import { describe, expect, it } from 'vitest';
import { spawnCli, show, sleep } from '../robustness/support.js';
import { datasync, startHub, TOKEN, writeHubConfig } from './hubspot-support.js';
import { type CliResult, explain, now, OLD, useWorkspaces, type Workspace } from './support.js';

const workspace = useWorkspaces();

interface SyncHealth {
  name: string; enabled: boolean; status: string; statusText: string; stale: boolean;
  counts: { inSync: number; failed: number; excluded: number };
  lastRun: { at: string; outcome: string } | null;
}
interface HealthJson { version: number; exitCode: number; syncs: SyncHealth[] }


async function health(w: Workspace, ...args: string[]): Promise<{ r: CliResult; json: HealthJson; of: (name: string) => SyncHealth }> {
  const r = await datasync(w, ['health', '--json', ...args]);
  let json: HealthJson;
  try {
    json = JSON.parse(r.stdout) as HealthJson;
  } catch {
    throw new Error(`health --json printed no JSON\n${explain(r)}`);
  }
  return { r, json, of: (name) => json.syncs.find((s) => s.name === name)! };
}

/** SQLite people/orgs ↔ CSV contacts/companies, two syncs. */
function setup(w: Workspace, extra: Record<string, unknown> = {}) {
  const crm = w.sqlite('crm.db', `
    CREATE TABLE people (id INTEGER PRIMARY KEY, email TEXT, first_name TEXT, job_title TEXT, modified_at TEXT);
    CREATE TABLE orgs (id INTEGER PRIMARY KEY, name TEXT, domain TEXT, modified_at TEXT);`);
  crm.insert('people', Array.from({ length: 6 }, (_, i) => ({ email: `p${i}@example.com`, first_name: `P${i}`, job_title: 'Seeded', modified_at: OLD })));
  crm.insert('orgs', [{ name: 'Org', domain: 'org.example.com', modified_at: OLD }]);
  w.writeCsv('contacts.csv', ['id', 'email', 'firstname', 'jobtitle']);
  w.writeCsv('companies.csv', ['id', 'name', 'domain']);
  w.writeConfig({
    ...extra,
    connections: {
      crm: { app: 'sqlite', path: './crm.db', objects: {
        contacts: { table: 'people', id: 'id', updated_at: 'modified_at' },
        companies: { table: 'orgs', id: 'id', updated_at: 'modified_at' } } },
      exp: { app: 'csv', objects: { contacts: { file: 'contacts.csv', id: 'id' }, companies: { file: 'companies.csv', id: 'id' } } },
    },
    syncs: [
      { name: 'contacts', object: 'contacts', between: ['crm', 'exp'], direction: 'two-way', default_app: 'crm' },
      { name: 'companies', object: 'companies', between: ['crm', 'exp'], direction: 'two-way', default_app: 'crm' },
    ],
  });
  return crm;
}

describe('health tells the truth per sync (issue 13.10)', () => {
  it("shows each sync's own last run: a sync that never ran is `never`, not the other sync's run", async () => {
    const w = workspace();
    setup(w);
    const run = await w.run('run', '--sync', 'companies');
    expect(run.exitCode, explain(run)).toBe(0);
    const h = await health(w);
    expect(h.of('companies').lastRun?.outcome).toBe('ok');
    expect(h.of('contacts').lastRun, h.r.stdout).toBeNull();
    expect(h.of('contacts').statusText).toMatch(/never run/);
    const text = await w.run('health');
    const contactsLine = text.stdout.split('\n').find((l) => l.includes('contacts'))!;
    expect(contactsLine).toMatch(/never/);
    expect(contactsLine).not.toMatch(/ok,/);
  });

  it('is Active and listening only while something listens: a watcher, or a pass within the interval', async () => {
    const w = workspace();
    setup(w, { interval: '1s' });
    const run = await w.run('run');
    expect(run.exitCode, explain(run)).toBe(0);
    // Three intervals later with no watcher and no new pass: nothing listens.
    await sleep(2500);
    const idle = await health(w);
    expect(idle.of('contacts').status, idle.r.stdout).not.toBe('Active and listening');
    expect(idle.of('contacts').statusText).toMatch(/nothing listens/);
    const watch = spawnCli(w.dir, ['watch', '--interval', '1h']);
    try {
      // The watcher has taken the lock and finished its first pass: now it listens, even an hour from its next poll.
      const until = Date.now() + 30_000;
      while (!/pass 1: /.test(watch.stderr()) && Date.now() < until) await sleep(100);
      expect(watch.stderr()).toMatch(/pass 1: /);
      await sleep(2500);
      const listening = await health(w);
      expect(listening.of('contacts').status, listening.r.stdout).toBe('Active and listening');
    } finally {
      watch.child.kill('SIGTERM');
      await watch.done;
    }
  }, 60_000);

  it('a running initial sync is Scanning then In progress, never stale, and health exits 0 meanwhile', async () => {
    const SEEDED = '2024-01-01T00:00:00.000Z';
    const hub = await startHub({
      seed: { contacts: Array.from({ length: 120 }, (_, i) => ({ properties: { email: `h${i}@example.com`, firstname: `H${i}`, lastmodifieddate: SEEDED, createdate: SEEDED } })) },
    });
    try {
      const w = workspace();
      w.sqlite('crm.db', `CREATE TABLE people (id INTEGER PRIMARY KEY, email TEXT, first_name TEXT, last_name TEXT, job_title TEXT,
        lead_status TEXT, company_id INTEGER, modified_at TEXT)`);
      writeHubConfig(w, hub.url, { objects: ['contacts'] });
      // Every contacts call answers late: the run lasts seconds, longer than a health process takes to start on a loaded machine.
      await hub.faults({ delayMs: 1500, share: 1, path: '/crm/v3/objects/contacts' });
      const run = spawnCli(w.dir, ['run'], { HUBSPOT_TOKEN: TOKEN });
      let ended = false;
      void run.done.then(() => { ended = true; });
      const seen: Array<{ status: string; text: string; stale: boolean; exit: number }> = [];
      try {
        while (!ended) {
          const h = await health(w);
          const c = h.of('contacts');
          if (!ended && c.status !== 'No active syncs') seen.push({ status: c.status, text: c.statusText, stale: c.stale, exit: h.r.exitCode });
          await sleep(50);
        }
      } finally {
        run.child.kill('SIGKILL');
      }
      const r = await run.done;
      expect(r.exitCode, show(r)).toBe(0);
      const busy = seen.filter((s) => s.status === 'Scanning' || s.status === 'In progress');
      expect(busy.length, JSON.stringify(seen)).toBeGreaterThan(0);
      expect(seen.filter((s) => s.stale || s.exit !== 0), JSON.stringify(seen)).toEqual([]);
      expect(busy.filter((s) => s.status === 'Scanning').every((s) => /^Scanning \(\d+/.test(s.text))).toBe(true);
    } finally {
      await hub.close();
    }
  }, 90_000);
});

describe('stop SYNC --delete --yes (issue 13.11)', () => {
  it('turns the sync off: the next run neither re-scans nor writes, until `start`', async () => {
    const w = workspace();
    const crm = setup(w);
    expect((await w.run('run')).exitCode).toBe(0);
    expect(w.readCsv('contacts.csv')).toHaveLength(6);
    const stop = await w.run('stop', 'contacts', '--delete', '--yes');
    expect(stop.exitCode, explain(stop)).toBe(0);
    crm.insert('people', [{ email: 'new@example.com', first_name: 'New', job_title: 'After stop', modified_at: now() }]);
    const before = w.readText('contacts.csv');
    const next = await w.runJson();
    expect(next.exitCode, explain(next)).toBe(0);
    const contacts = next.json.syncs.find((s) => s.name === 'contacts');
    expect(contacts?.outcome ?? 'stopped').toBe('stopped');
    expect(contacts?.sides[0].read ?? 0).toBe(0);
    expect(w.readText('contacts.csv')).toBe(before);
    const h = await health(w);
    expect(h.of('contacts')).toMatchObject({ status: 'No active syncs', enabled: false });
    expect(h.of('contacts').counts.inSync).toBe(0);

    const start = await w.run('start', 'contacts');
    expect(start.exitCode, explain(start)).toBe(0);
    const again = await w.runJson();
    expect(again.exitCode, explain(again)).toBe(0);
    // Its links were forgotten: a full scan pairs the 7 people with the 6 rows and creates the new one.
    expect(w.readCsv('contacts.csv')).toHaveLength(7);
  });
});
