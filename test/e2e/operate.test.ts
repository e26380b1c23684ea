/**
 * Operating datasync day to day (issue 6), through the BUILT binary:
 * `watch` picking up changes by itself, `stop` / `start` from another
 * process while it runs, and `health --json` in each status, with
 * `--failed` listing what an app rejected. (A `run` answered by the watcher
 * and SIGTERM are covered in test/robustness/concurrency.test.ts.)
 */
import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { spawnCli, waitFor, exitWithin, show, sleep, type Running } from '../robustness/support.js';
import { datasync, startHub, TOKEN, writeHubConfig, type Hub } from './hubspot-support.js';
import { type CliResult, explain, now, OLD, useWorkspaces, type Workspace } from './support.js';

const workspace = useWorkspaces();

type Status = 'No active syncs' | 'Scanning' | 'In progress' | 'Active and listening' | 'Queued';
interface HealthGroup { reason: string; count: number; records: { connection: string; id: string; detail: string }[] }
interface SyncHealth {
  name: string;
  enabled: boolean;
  status: Status;
  statusText: string;
  counts: { inSync: number; failed: number; excluded: number };
  lastRun: { outcome: string } | null;
  failed?: HealthGroup[];
}
interface HealthJson { version: number; exitCode: number; syncs: SyncHealth[] }


/** `health --json ...args`, parsed; the exit code must match the JSON's. */
async function healthJson(w: Workspace, ...args: string[]): Promise<{ r: CliResult; json: HealthJson; of: (sync: string) => SyncHealth }> {
  // The HubSpot workspaces' sync.yaml reads ${HUBSPOT_TOKEN}: give it (the others ignore it).
  const r = await datasync(w, ['health', '--json', ...args]);
  let json: HealthJson;
  try {
    json = JSON.parse(r.stdout) as HealthJson;
  } catch {
    throw new Error(`health --json printed no JSON\n${explain(r)}`);
  }
  expect(json.version).toBe(1);
  expect(r.exitCode, explain(r)).toBe(json.exitCode);
  const of = (sync: string) => {
    const s = json.syncs.find((x) => x.name === sync);
    if (!s) throw new Error(`no sync ${sync} in health --json: ${r.stdout}`);
    return s;
  };
  return { r, json, of };
}

// --- SQLite ↔ CSV: two syncs, contacts and companies ------------------------------

const SCHEMA = `
  CREATE TABLE people (id INTEGER PRIMARY KEY, email TEXT, first_name TEXT, last_name TEXT, job_title TEXT, modified_at TEXT);
  CREATE TABLE orgs (id INTEGER PRIMARY KEY, name TEXT, domain TEXT, city TEXT, modified_at TEXT);`;

function setup(w: Workspace, n = 20) {
  const crm = w.sqlite('crm.db', SCHEMA);
  crm.insert('people', Array.from({ length: n }, (_, i) => ({ email: `p${i}@example.com`, first_name: `Ann${i}`, last_name: `Lee${i}`, job_title: 'Seeded', modified_at: OLD })));
  crm.insert('orgs', Array.from({ length: 5 }, (_, i) => ({ name: `Org ${i}`, domain: `org${i}.example.com`, city: 'Oslo', modified_at: OLD })));
  w.writeCsv('contacts.csv', ['id', 'email', 'firstname', 'lastname', 'jobtitle'], []);
  w.writeCsv('companies.csv', ['id', 'name', 'domain', 'city'], []);
  w.writeConfig({
    connections: {
      crm: {
        app: 'sqlite', path: './crm.db', objects: {
          contacts: { table: 'people', id: 'id', updated_at: 'modified_at' },
          companies: { table: 'orgs', id: 'id', updated_at: 'modified_at' },
        },
      },
      exp: { app: 'csv', objects: { contacts: { file: 'contacts.csv', id: 'id' }, companies: { file: 'companies.csv', id: 'id' } } },
    },
    syncs: [
      { name: 'contacts', object: 'contacts', between: ['crm', 'exp'], direction: 'two-way', default_app: 'crm' },
      { name: 'companies', object: 'companies', between: ['crm', 'exp'], direction: 'two-way', default_app: 'crm' },
    ],
  });
  const editPerson = (email: string, job: string) => crm.run('UPDATE people SET job_title = ?, modified_at = ? WHERE email = ?', job, now(), email);
  const editOrg = (domain: string, city: string) => crm.run('UPDATE orgs SET city = ?, modified_at = ? WHERE domain = ?', city, now(), domain);
  const csvJob = (email: string) => w.readCsv('contacts.csv').find((r) => r.email === email)?.jobtitle;
  const csvCity = (domain: string) => w.readCsv('companies.csv').find((r) => r.domain === domain)?.city;
  return { crm, editPerson, editOrg, csvJob, csvCity };
}

/** Number of `pass N:` lines the watcher has logged so far. */
const passes = (watch: Running) => (watch.stderr().match(/ pass \d+: /g) ?? []).length;

/** Polls an async check until it holds, with a generous deadline. */
async function eventually(what: string, check: () => boolean | Promise<boolean>, ms = 30_000): Promise<void> {
  const until = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(100);
  }
}

describe('watch, stop and start, from other processes', () => {
  it('watch picks up an edit made while it runs; `stop SYNC` keeps the watcher off that sync (health: No active syncs); `start SYNC` lets it sync again without a re-scan', async () => {
    const w = workspace();
    const s = setup(w);

    // Before any run: nothing is active, and nothing is wrong.
    const before = await healthJson(w);
    expect(before.r.exitCode, explain(before.r)).toBe(0);
    for (const name of ['contacts', 'companies']) {
      expect(before.of(name).status).toBe('No active syncs');
      expect(before.of(name).lastRun).toBeNull();
    }

    // After a run: Active and listening.
    const first = await w.run('run');
    expect(first.exitCode, explain(first)).toBe(0);
    const after = await healthJson(w);
    expect(after.r.exitCode, explain(after.r)).toBe(0);
    expect(after.of('contacts')).toMatchObject({ status: 'Active and listening', enabled: true, counts: { inSync: 20, failed: 0 } });
    expect(after.of('companies')).toMatchObject({ status: 'Active and listening', counts: { inSync: 5 } });
    expect(after.of('contacts').lastRun?.outcome).toBe('ok');

    const watch = spawnCli(w.dir, ['watch', '--interval', '1s']);
    try {
      await waitFor("watch's first pass", () => passes(watch) >= 1, 60_000);

      // 1. An edit made while watch runs arrives by itself: no `run` asked for it.
      s.editPerson('p3@example.com', 'Edited while watching');
      await eventually('the edit to reach the CSV', () => s.csvJob('p3@example.com') === 'Edited while watching');
      expect(watch.stderr()).not.toMatch(/failed: /);

      // 2. `stop contacts` from another process.
      const stop = await w.run('stop', 'contacts');
      expect(stop.exitCode, explain(stop)).toBe(0);
      expect(stop.stdout).toContain('contacts: stopped');
      s.editPerson('p5@example.com', 'Edited after stop');
      s.editOrg('org2.example.com', 'Bergen');
      // The watcher goes on with the other sync…
      await eventually('the companies edit to reach the CSV', () => s.csvCity('org2.example.com') === 'Bergen');
      // …and two more whole passes later the stopped sync's change has still not moved.
      const seen = passes(watch);
      await waitFor('two more passes', () => passes(watch) >= seen + 2, 30_000);
      expect(s.csvJob('p5@example.com'), watch.stderr()).toBe('Seeded');
      const stopped = await healthJson(w);
      expect(stopped.of('contacts')).toMatchObject({ status: 'No active syncs', enabled: false });
      expect(stopped.of('contacts').statusText).toMatch(/stopped/);
      expect(['Active and listening', 'Scanning', 'In progress']).toContain(stopped.of('companies').status);

      // 3. `start contacts`: the watcher syncs it again, from its cursor.
      const passesBeforeStart = passes(watch);
      const start = await w.run('start', 'contacts');
      expect(start.exitCode, explain(start)).toBe(0);
      await eventually('the edit made while stopped to reach the CSV', () => s.csvJob('p5@example.com') === 'Edited after stop');
      await eventually('health to show contacts active again', async () => (await healthJson(w)).of('contacts').enabled);
      // No initial re-scan: no pass after `start` read the 20 SQLite contacts again.
      const linesAfterStart = watch.stderr().split('\n').filter((l) => / pass \d+: /.test(l)).slice(passesBeforeStart);
      const crmReads = linesAfterStart.map((l) => /contacts \S+ \(read (\d+)\//.exec(l)).filter((m) => m !== null).map((m) => Number(m![1]));
      expect(crmReads.length, watch.stderr()).toBeGreaterThan(0);
      expect(Math.max(...crmReads), watch.stderr()).toBeLessThanOrEqual(1);

      watch.child.kill('SIGTERM');
      const done = await exitWithin(watch, 15_000, 'watch after SIGTERM');
      expect(done.exitCode, show(done)).toBe(0);
      // No `run` was ever sent to the watcher.
      expect(w.exists('.datasync/state.db.run-request')).toBe(false);
    } finally {
      watch.child.kill('SIGKILL');
    }
  }, 90_000);
});

describe('health --failed', () => {
  it('lists the records the app rejected, grouped by reason with its count, and exits 1', async () => {
    const w = workspace();
    // The CRM refuses a person without a last name.
    const crm = w.sqlite('crm.db', `CREATE TABLE people (id INTEGER PRIMARY KEY, email TEXT, first_name TEXT,
      last_name TEXT NOT NULL, job_title TEXT, modified_at TEXT)`);
    crm.insert('people', [{ email: 'ok@example.com', first_name: 'Ok', last_name: 'Fine', modified_at: OLD }]);
    w.writeCsv('contacts.csv', ['id', 'email', 'firstname', 'lastname', 'jobtitle'], [
      { id: 1, email: 'good@example.com', firstname: 'Good', lastname: 'Row', jobtitle: 'Dev' },
      { id: 2, email: 'nolast1@example.com', firstname: 'No', lastname: '', jobtitle: 'Dev' },
      { id: 3, email: 'nolast2@example.com', firstname: 'None', lastname: '', jobtitle: 'Ops' },
    ]);
    w.writeConfig({
      connections: {
        crm: { app: 'sqlite', path: './crm.db', objects: { contacts: { table: 'people', id: 'id', updated_at: 'modified_at' } } },
        exp: { app: 'csv', objects: { contacts: { file: 'contacts.csv', id: 'id' } } },
      },
      syncs: [{ name: 'contacts', object: 'contacts', between: ['crm', 'exp'], direction: 'two-way', default_app: 'crm' }],
    });
    const run = await w.run('run');
    expect(run.exitCode, explain(run)).toBe(1);
    expect(crm.count('people')).toBe(2);

    const h = await healthJson(w, '--failed');
    expect(h.r.exitCode, explain(h.r)).toBe(1);
    const contacts = h.of('contacts');
    expect(contacts.status).toBe('Active and listening');
    expect(contacts.counts.failed).toBe(2);
    expect(contacts.failed, h.r.stdout).toHaveLength(1);
    const group = contacts.failed![0]!;
    expect(group.count).toBe(2);
    expect(group.records).toHaveLength(2);
    expect(`${group.reason} ${group.records.map((r) => r.detail).join(' ')}`).toMatch(/NOT NULL/i);
    expect(group.records.map((r) => r.connection)).toEqual(['exp', 'exp']);
    expect(group.records.map((r) => r.id).sort()).toEqual(['2', '3']);

    // The table for people says the same, and so does the exit code.
    const text = await w.run('health', 'contacts', '--failed');
    expect(text.exitCode, explain(text)).toBe(1);
    expect(text.stdout).toContain(`${group.reason} (2)`);
    expect(text.stdout).toMatch(/exp#2/);
    expect(text.stdout).toMatch(/exp#3/);
  });
});

// --- HubSpot emulator ↔ SQLite: busy and queued statuses --------------------------

/** A loopback port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

describe('health while a run runs, and after an app was unreachable', () => {
  it('shows Scanning or In progress during a slow run, Active and listening after it, and Queued once HubSpot could not be reached', async () => {
    const SEEDED = '2024-01-01T00:00:00.000Z';
    const hub: Hub = await startHub({
      seed: { contacts: Array.from({ length: 250 }, (_, i) => ({ properties: { email: `h${i}@example.com`, firstname: `H${i}`, lastmodifieddate: SEEDED, createdate: SEEDED } })) },
    });
    try {
      const w = workspace();
      w.sqlite('crm.db', `CREATE TABLE people (id INTEGER PRIMARY KEY, email TEXT, first_name TEXT, last_name TEXT, job_title TEXT,
        lead_status TEXT, company_id INTEGER, modified_at TEXT)`);
      writeHubConfig(w, hub.url, { objects: ['contacts'] });
      const never = await healthJson(w);
      expect(never.of('contacts').status).toBe('No active syncs');

      // Every HubSpot contacts request answers slowly: the run takes seconds.
      await hub.faults({ delayMs: 600, share: 1, path: '/crm/v3/objects/contacts' });
      const run = spawnCli(w.dir, ['run', '--json'], { HUBSPOT_TOKEN: TOKEN });
      let ended = false;
      void run.done.then(() => { ended = true; });
      const seen = new Set<Status>();
      try {
        while (!ended) {
          const h = await healthJson(w);
          if (!ended) seen.add(h.of('contacts').status);
          await sleep(50);
        }
      } finally {
        run.child.kill('SIGKILL');
      }
      const r = await run.done;
      expect(r.exitCode, show(r)).toBe(0);
      expect([...seen].filter((x) => x === 'Scanning' || x === 'In progress'), `statuses seen during the run: ${[...seen].join(', ')}`).not.toEqual([]);
      await hub.clearFaults();

      const listening = await healthJson(w);
      expect(listening.of('contacts')).toMatchObject({ status: 'Active and listening', counts: { inSync: 250 } });

      // HubSpot unreachable on the next run: the run fails as an app error, and health says Queued.
      const yaml = w.readText('sync.yaml');
      w.writeText('sync.yaml', yaml.replace(hub.url, `http://127.0.0.1:${await closedPort()}`));
      const down = await datasync(w, ['run']);
      expect(down.exitCode, explain(down)).toBe(3);
      const queued = await healthJson(w);
      expect(queued.of('contacts').status, queued.r.stdout).toBe('Queued');
      expect(queued.of('contacts').statusText).toMatch(/^Queued \(/);

      // Reachable again: the next run brings it back to Active and listening.
      w.writeText('sync.yaml', yaml);
      const back = await datasync(w, ['run']);
      expect(back.exitCode, explain(back)).toBe(0);
      expect((await healthJson(w)).of('contacts').status).toBe('Active and listening');
    } finally {
      await hub.close();
    }
  }, 90_000);
});
