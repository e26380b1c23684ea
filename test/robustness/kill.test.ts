/**
 * SPEC §4 "a run that is interrupted at any point is safe to run again, and
 * running it again creates no duplicates": the built binary is killed with
 * SIGKILL at random moments of a large sync, re-run (and killed again), then
 * run to the end. The apps must then hold exactly what one uninterrupted run
 * of the same input gives: no duplicate, nothing lost.
 *
 * Each setup has two phases: the initial sync, then edits, creates and
 * conflicting edits on both sides followed by an incremental sync. Both are
 * killed: once right after an app received a write (the moment the state
 * does not know of it yet: seen from outside as the SQLite file's commit, or
 * the emulator's batch request), then at moments spread over the measured
 * duration of the uninterrupted run. Everything random comes from a seeded PRNG:
 *
 *   DATASYNC_KILL_SEED=123 npx vitest run test/robustness/kill.test.ts   # replay a failure
 *   DATASYNC_KILL_RUNS=40  npx vitest run test/robustness/kill.test.ts   # long variant: 40 random kills per phase
 *   DATASYNC_KILL_DEBUG=1  …                                              # log each kill and run time
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { stringify as toYaml } from 'yaml';
import { installSql } from '../../connectors/postgres/changelog.js';
import { startDynamicsEmulator } from '../../fixtures/dynamics-emulator/server.js';
import { postgresBinDir } from '../../fixtures/postgres/cluster.js';
import { freshDatabase, pgUrl } from '../support/postgres.js';
import type { Emulator } from '../../fixtures/hubspot-emulator/server.js';
import {
  cli, csvRows, duplicateEmails, emulator, EMU_TOKEN, expectSameContents, expectSettled, hubspotContacts, normalise, prng, show, sleep,
  spawnCli, sqliteCommits, tableRows, useTempDirs, withDb, writeCsv, writePeople, type Contents, type Person,
} from './support.js';

const SEED = Number(process.env.DATASYNC_KILL_SEED ?? Date.now() % 1_000_000);
const LONG = Number(process.env.DATASYNC_KILL_RUNS ?? 0);
/** Runs killed at a random moment per phase (each phase adds one killed right after an app write): 5 per setup in CI. */
const KILLS = LONG > 0 ? [LONG, LONG] : [2, 1];
const REPLAY = `replay with DATASYNC_KILL_SEED=${SEED}`;

const tempDir = useTempDirs();

/** One setup: how to seed a folder, edit it between phases, and read both apps back. */
interface Setup {
  seed(dir: string): Promise<void>;
  edit(dir: string): Promise<void>;
  /** Each app's records as comparable lines, and per app the contacts (for duplicates / losses). */
  contents(dir: string): Contents;
  expectedEmails(phase: 1 | 2): Set<string>;
  /** A counter of writes the apps received since the call (polled while a run goes on). */
  writeProbe(dir: string): () => number;
  dispose?(): Promise<void>;
}

interface KillLog { at: string; killed: boolean; exit: number | null }

/**
 * Runs `run --json` in `dir`: first killed right after the n-th write an
 * app received (n random in 1..3), the moment an app holds a write the state
 * does not know of yet; then `random` times killed after a random delay in
 * [2%, 95%] of `fullMs` (unless it ended first). After each, no app may hold
 * a duplicate.
 */
async function killedRuns(dir: string, setup: Setup, random: number, fullMs: number, rand: () => number, phase: number): Promise<KillLog[]> {
  const log: KillLog[] = [];
  for (let k = 0; k <= random; k++) {
    const targeted = k === 0;
    const running = spawnCli(dir, ['run', '--json']);
    let ended = false;
    void running.done.then(() => { ended = true; });
    let at: string;
    if (!targeted) {
      const delayMs = Math.round(fullMs * (0.02 + rand() * 0.93));
      at = `${delayMs} ms`;
      await Promise.race([running.done, sleep(delayMs)]);
    } else {
      // In the initial sync the first write is the one most likely to be followed by another app's write in flight.
      const nth = phase === 1 ? 1 : 1 + Math.floor(rand() * 3);
      at = `write ${nth}`;
      const writes = setup.writeProbe(dir);
      while (!ended && writes() < nth) await sleep(1);
    }
    const killed = !ended;
    if (killed) running.child.kill('SIGKILL');
    const r = await running.done;
    log.push({ at, killed, exit: r.exitCode });
    if (process.env.DATASYNC_KILL_DEBUG) console.log('kill', phase, at, killed, r.ms);
    const where = `phase ${phase}, after the kill at ${at} (${REPLAY})`;
    if (!killed) expect(r.exitCode, `${where}: a run that was not killed ended badly\n${show(r)}`).toBe(0);
    const now = setup.contents(dir);
    for (const [app, rows] of Object.entries({ ...now.contacts, ...now.others })) {
      expect(duplicateEmails(rows), `${where}: duplicate records in ${app}`).toEqual([]);
    }
  }
  return log;
}

async function cleanRun(dir: string, what: string): Promise<number> {
  const r = await cli(dir, ['run', '--json'], { timeoutMs: 120_000 });
  expect(r.exitCode, `${what} (${REPLAY})\n${show(r)}`).toBe(0);
  if (process.env.DATASYNC_KILL_DEBUG) console.log(what, r.ms, new Date().toISOString());
  return r.ms;
}

/** The whole scenario for one setup: uninterrupted baseline, then the killed twin. */
async function scenario(makeSetup: () => Promise<Setup>): Promise<void> {
  const baseline = await makeSetup();
  const twin = await makeSetup();
  const rand = prng(SEED);
  try {
    const base = tempDir();
    const dir = tempDir();
    await baseline.seed(base);
    await twin.seed(dir);

    // Phase 1: the initial sync.
    const full1 = await cleanRun(base, 'the uninterrupted initial run failed');
    const expected1 = baseline.contents(base);
    const log1 = await killedRuns(dir, twin, KILLS[0]!, full1, rand, 1);
    await cleanRun(dir, 'the clean run after kills failed');
    compare(twin.contents(dir), expected1, twin.expectedEmails(1), 1, log1);

    // Phase 2: changes on both sides, an incremental sync.
    await baseline.edit(base);
    await twin.edit(dir);
    const full2 = await cleanRun(base, 'the uninterrupted incremental run failed');
    const expected2 = baseline.contents(base);
    const log2 = await killedRuns(dir, twin, KILLS[1]!, full2, rand, 2);
    await cleanRun(dir, 'the clean incremental run after kills failed');
    compare(twin.contents(dir), expected2, twin.expectedEmails(2), 2, log2);

    await expectSettled(dir, REPLAY);
    // At least one kill hit a running sync (else the test proved nothing).
    expect([...log1, ...log2].some((l) => l.killed), `no kill landed inside a run: ${JSON.stringify([...log1, ...log2])}`).toBe(true);
    expect(log1[0]!.killed, `the kill after an app write never fired: ${JSON.stringify(log1)}`).toBe(true);
  } finally {
    await baseline.dispose?.();
    await twin.dispose?.();
  }
}

function compare(got: Contents, want: Contents, expectedEmails: Set<string>, phase: number, log: KillLog[]): void {
  expectSameContents(got, want, expectedEmails, `phase ${phase}, kills ${JSON.stringify(log)} (${REPLAY})`);
}

// --- data ---------------------------------------------------------------------

/** Values that make CSV quoting and SQLite binding work: commas, quotes, emoji, RTL. */
const TITLES = ['CEO', 'Head, "R&D"', 'Dev 🚀', 'مدير', ' padded ', 'line\nbreak'];

const N_CONTACTS = 1200;
const N_COMPANIES = 900;

function crmPerson(i: number): Person {
  return {
    email: i % 211 === 0 ? `  P${i}@Example.COM` : `p${i}@example.com`,
    first_name: `Ann${i}`,
    last_name: i % 5 === 0 ? null : `Lee${i}`,
    job_title: i % 4 === 0 ? null : TITLES[i % TITLES.length]!,
  };
}

function csvContact(i: number): Record<string, string | null> {
  return {
    id: String(i + 1), email: `p${i}@example.com`, firstname: i % 2 ? `Annie${i}` : `Ann${i}`,
    lastname: i % 3 === 0 ? '' : `Lee${i}`, jobtitle: i % 4 === 0 ? `Csv ${i}` : '',
  };
}

const noEmail = (side: string, i: number) => ({ email: null, first_name: `${side}NoMail${i}`, last_name: null, job_title: null });

// --- setup A: SQLite ↔ CSV ------------------------------------------------------

function sqliteCsv(): Setup {
  const emailsOf = (phase: 1 | 2) => {
    const s = new Set<string>();
    for (let i = 0; i < N_CONTACTS + N_CONTACTS / 2; i++) s.add(`p${i}@example.com`);
    if (phase === 2) for (let i = 0; i < 150; i++) { s.add(`new-crm${i}@example.com`); s.add(`new-csv${i}@example.com`); }
    return s;
  };
  return {
    async seed(dir) {
      const db = join(dir, 'crm.db');
      writePeople(db, [...Array.from({ length: N_CONTACTS }, (_, i) => crmPerson(i)), ...Array.from({ length: 10 }, (_, i) => noEmail('crm', i))]);
      withDb(db, (d) => {
        d.exec('CREATE TABLE orgs (id INTEGER PRIMARY KEY, name TEXT, domain TEXT, modified_at TEXT)');
        const ins = d.prepare('INSERT INTO orgs (name, domain, modified_at) VALUES (?, ?, ?)');
        for (let i = 0; i < N_COMPANIES; i++) ins.run(`Crm Org ${i}`, `crm${i}.example`, '2024-01-01T00:00:00.000Z');
      });
      const csv = [...Array.from({ length: N_CONTACTS }, (_, i) => csvContact(i + N_CONTACTS / 2)),
        ...Array.from({ length: 10 }, (_, i) => ({ id: String(90_000 + i), email: '', firstname: `CsvNoMail${i}`, lastname: '', jobtitle: '' }))];
      writeCsv(join(dir, 'contacts.csv'), ['id', 'email', 'firstname', 'lastname', 'jobtitle'], csv);
      // Long unmapped notes make each rewrite of the file take a while: a kill then often lands between
      // the SQLite side's commit and the state's.
      writeCsv(join(dir, 'companies.csv'), ['id', 'name', 'domain', 'notes'],
        Array.from({ length: N_COMPANIES }, (_, i) => ({ id: String(i + 1), name: `Csv Org ${i}`, domain: `csv${i}.example`, notes: `note ${i} `.repeat(120) })));
      writeFileSync(join(dir, 'sync.yaml'), toYaml({
        version: 1,
        connections: {
          crm: { app: 'sqlite', path: './crm.db', objects: {
            contacts: { table: 'people', id: 'id', updated_at: 'modified_at' },
            companies: { table: 'orgs', id: 'id', updated_at: 'modified_at' },
          } },
          exp: { app: 'csv', objects: { contacts: { file: 'contacts.csv', id: 'id' }, companies: { file: 'companies.csv', id: 'id' } } },
        },
        syncs: [
          { name: 'contacts', object: 'contacts', between: ['crm', 'exp'], direction: 'two-way', default_app: 'crm' },
          // match: none makes every record a create: only the create journal keeps a re-run from duplicating them.
          { name: 'companies', object: 'companies', between: ['crm', 'exp'], direction: 'two-way', default_app: 'exp', match: 'none' },
        ],
      }));
    },
    async edit(dir) {
      const db = join(dir, 'crm.db');
      const now = new Date().toISOString();
      withDb(db, (d) => {
        d.prepare(`UPDATE people SET job_title = 'crm edit ' || id, modified_at = ? WHERE id % 7 = 1`).run(now);
        const ins = d.prepare('INSERT INTO people (email, first_name, last_name, job_title, modified_at) VALUES (?, ?, ?, ?, ?)');
        for (let i = 0; i < 150; i++) ins.run(`new-crm${i}@example.com`, `New${i}`, 'Crm', null, now);
        d.prepare(`UPDATE orgs SET name = name || ' (renamed)', modified_at = ? WHERE id % 9 = 0`).run(now);
        d.prepare('INSERT INTO orgs (name, domain, modified_at) VALUES (?, ?, ?)').run('Late Crm Org', 'late-crm.example', now);
      });
      const file = join(dir, 'contacts.csv');
      const rows = csvRows(file, []);
      rows.forEach((r, i) => {
        if (i % 5 === 0) r.jobtitle = `csv edit ${r.email!.trim().toLowerCase()}`; // some collide with crm edits: crm wins
        if (i % 11 === 0) r.firstname = `${r.firstname} Jr`;
      });
      for (let i = 0; i < 150; i++) rows.push({ id: `n${i}`, email: `new-csv${i}@example.com`, firstname: `New${i}`, lastname: 'Csv', jobtitle: 'x' });
      writeCsv(file, Object.keys(rows[0]!), rows);
    },
    contents(dir) {
      const people = tableRows(join(dir, 'crm.db'), 'people');
      const csv = csvRows(join(dir, 'contacts.csv'));
      return {
        apps: {
          'crm people': normalise(people),
          'exp contacts.csv': normalise(csv),
          'crm orgs': normalise(tableRows(join(dir, 'crm.db'), 'orgs'), 'name'),
          'exp companies.csv': normalise(csvRows(join(dir, 'companies.csv')), 'name'),
        },
        contacts: { crm: people, exp: csv },
        others: {
          // match: none: a duplicate company is one with the same name (all names are distinct).
          'crm orgs': tableRows(join(dir, 'crm.db'), 'orgs').map((r) => ({ email: r.name })),
          'exp companies.csv': csvRows(join(dir, 'companies.csv')).map((r) => ({ email: r.name })),
        },
      };
    },
    expectedEmails: emailsOf,
    writeProbe(dir) {
      // A write committed by the SQLite side (which datasync writes before the CSV side and the state).
      return sqliteCommits(join(dir, 'crm.db'));
    },
  };
}

// --- setup B: HubSpot emulator ↔ SQLite --------------------------------------------

const N_HUBSPOT = 800;
const HS_PROPS = ['email', 'firstname', 'lastname', 'jobtitle'];

async function hubspotSqlite(): Promise<Setup> {
  const contacts = Array.from({ length: N_HUBSPOT }, (_, k) => {
    const i = k + N_HUBSPOT / 2;
    return { properties: { email: `p${i}@example.com`, firstname: `H${i}`, lastname: i % 3 === 0 ? null : `Hub${i}`, jobtitle: i % 4 === 0 ? `Hub title ${i}` : null } };
  });
  const emu: Emulator = await emulator({ seed: { contacts } });
  const byEmail = (email: string) => emu.store.list('contacts').find((r) => r.properties.email === email)!;
  return {
    async seed(dir) {
      writePeople(join(dir, 'crm.db'), Array.from({ length: N_HUBSPOT }, (_, i) => crmPerson(i)));
      writeFileSync(join(dir, 'sync.yaml'), toYaml({
        version: 1,
        connections: {
          hubspot: { app: 'hubspot', token: EMU_TOKEN, base_url: emu.url },
          crm: { app: 'sqlite', path: './crm.db', objects: { contacts: { table: 'people', id: 'id', updated_at: 'modified_at' } } },
        },
        syncs: [{ name: 'contacts', object: 'contacts', between: ['hubspot', 'crm'], direction: 'two-way', default_app: 'hubspot' }],
      }));
    },
    async edit(dir) {
      const now = new Date().toISOString();
      withDb(join(dir, 'crm.db'), (d) => {
        d.prepare(`UPDATE people SET job_title = 'crm edit ' || id, modified_at = ? WHERE id % 6 = 1`).run(now);
        const ins = d.prepare('INSERT INTO people (email, first_name, last_name, job_title, modified_at) VALUES (?, ?, ?, ?, ?)');
        for (let i = 0; i < 100; i++) ins.run(`new-crm${i}@example.com`, `New${i}`, 'Crm', null, now);
      });
      for (let i = N_HUBSPOT / 2; i < N_HUBSPOT * 1.5; i += 5) emu.store.update('contacts', byEmail(`p${i}@example.com`).id, { jobtitle: `hub edit ${i}` });
      for (let i = 0; i < 100; i++) emu.store.create('contacts', { email: `new-hub${i}@example.com`, firstname: `New${i}`, lastname: 'Hub' });
    },
    contents(dir) {
      const people = tableRows(join(dir, 'crm.db'), 'people');
      const hub = hubspotContacts(emu, HS_PROPS);
      return { apps: { 'crm people': normalise(people), 'hubspot contacts': normalise(hub) }, contacts: { crm: people, hubspot: hub } };
    },
    expectedEmails(phase) {
      const s = new Set<string>();
      for (let i = 0; i < N_HUBSPOT * 1.5; i++) s.add(`p${i}@example.com`);
      if (phase === 2) for (let i = 0; i < 100; i++) { s.add(`new-crm${i}@example.com`); s.add(`new-hub${i}@example.com`); }
      return s;
    },
    writeProbe() {
      const writes = () => {
        const r = emu.stats().requests;
        return (r['POST /crm/v3/objects/{objectType}/batch/create'] ?? 0) + (r['POST /crm/v3/objects/{objectType}/batch/update'] ?? 0);
      };
      const start = writes();
      return () => writes() - start;
    },
    dispose: () => emu.close(),
  };
}

// --- setup C: HubSpot emulator ↔ Dataverse (Dynamics 365) emulator -------------------

const N_DYNAMICS = 300;

async function hubspotDynamics(): Promise<Setup> {
  const contacts = Array.from({ length: N_DYNAMICS }, (_, k) => {
    const i = k + N_DYNAMICS / 2;
    return { properties: { email: `p${i}@example.com`, firstname: `H${i}`, lastname: `Hub${i}`, jobtitle: i % 4 === 0 ? `Hub title ${i}` : null } };
  });
  const emu: Emulator = await emulator({ seed: { contacts } });
  const org = await startDynamicsEmulator({ port: 0, seed: {
    contacts: Array.from({ length: N_DYNAMICS }, (_, i) => ({ emailaddress1: `p${i}@example.com`, firstname: `D${i}`, lastname: i % 3 === 0 ? null : `Dyn${i}`, jobtitle: null })),
  } });
  const hubByEmail = (email: string) => emu.store.list('contacts').find((r) => r.properties.email === email)!;
  const orgContacts = () => org.store.list('contacts').map((r) => ({ email: r.attrs.emailaddress1 ?? null, firstname: r.attrs.firstname ?? null, lastname: r.attrs.lastname ?? null, jobtitle: r.attrs.jobtitle ?? null }));
  return {
    async seed(dir) {
      writeFileSync(join(dir, 'sync.yaml'), toYaml({
        version: 1,
        connections: {
          hubspot: { app: 'hubspot', token: EMU_TOKEN, base_url: emu.url },
          org: { app: 'dynamics', url: org.url, tenant: org.tenant, client_id: org.clientId, client_secret: org.clientSecret, token_url: org.tokenUrl, batch_size: 50 },
        },
        syncs: [{ name: 'contacts', object: 'contacts', between: ['hubspot', 'org'], direction: 'two-way', default_app: 'hubspot' }],
      }));
    },
    async edit() {
      // Chosen by email: row ids are random, so the baseline and the killed twin must pick the same people by something else.
      for (const r of org.store.list('contacts')) {
        const n = /^p(\d+)@/.exec(String(r.attrs.emailaddress1))?.[1];
        if (n !== undefined && Number(n) % 6 === 1) org.store.update('contacts', r.id, { jobtitle: `org edit ${n}` });
      }
      for (let i = 0; i < 60; i++) org.store.create('contacts', { emailaddress1: `new-org${i}@example.com`, firstname: `New${i}`, lastname: 'Org' });
      for (let i = N_DYNAMICS / 2; i < N_DYNAMICS * 1.5; i += 5) emu.store.update('contacts', hubByEmail(`p${i}@example.com`).id, { jobtitle: `hub edit ${i}` });
      for (let i = 0; i < 60; i++) emu.store.create('contacts', { email: `new-hub${i}@example.com`, firstname: `New${i}`, lastname: 'Hub' });
    },
    contents() {
      const mine = orgContacts();
      const hub = hubspotContacts(emu, HS_PROPS);
      return { apps: { 'dynamics contacts': normalise(mine), 'hubspot contacts': normalise(hub) }, contacts: { dynamics: mine, hubspot: hub } };
    },
    expectedEmails(phase) {
      const s = new Set<string>();
      for (let i = 0; i < N_DYNAMICS * 1.5; i++) s.add(`p${i}@example.com`);
      if (phase === 2) for (let i = 0; i < 60; i++) { s.add(`new-org${i}@example.com`); s.add(`new-hub${i}@example.com`); }
      return s;
    },
    writeProbe() {
      const writes = () => {
        const r = emu.stats().requests;
        return org.stats().batches + (r['POST /crm/v3/objects/{objectType}/batch/create'] ?? 0) + (r['POST /crm/v3/objects/{objectType}/batch/update'] ?? 0);
      };
      const start = writes();
      return () => writes() - start;
    },
    dispose: async () => { await emu.close(); await org.close(); },
  };
}

// --- setup D: HubSpot emulator ↔ PostgreSQL (change-log trigger) ------------------------

const N_POSTGRES = 600;
const PG_TABLE = `CREATE SCHEMA crm;
  CREATE TABLE crm.people (id integer GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, email text, first_name text, last_name text,
    job_title text, modified_at timestamptz NOT NULL DEFAULT now())`;

/** The database as another program sees it, synchronously (psql): the kill loop polls it between kills. */
function psql(url: string, sql: string): string {
  const r = spawnSync(join(postgresBinDir()!, 'psql'), [url, '-X', '-At', '-v', 'ON_ERROR_STOP=1', '-c', sql], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`psql: ${r.stderr}`);
  return r.stdout.trim();
}

async function hubspotPostgres(): Promise<Setup> {
  const contacts = Array.from({ length: N_POSTGRES }, (_, k) => {
    const i = k + N_POSTGRES / 2;
    return { properties: { email: `p${i}@example.com`, firstname: `H${i}`, lastname: i % 3 === 0 ? null : `Hub${i}`, jobtitle: i % 4 === 0 ? `Hub title ${i}` : null } };
  });
  const emu: Emulator = await emulator({ seed: { contacts } });
  const db = await freshDatabase();
  await db.client.query(PG_TABLE);
  for (const sql of installSql('crm', 'people', 'id')) await db.client.query(sql);
  const byEmail = (email: string) => emu.store.list('contacts').find((r) => r.properties.email === email)!;
  return {
    async seed(dir) {
      const people = Array.from({ length: N_POSTGRES }, (_, i) => crmPerson(i));
      await db.client.query(`INSERT INTO crm.people (email, first_name, last_name, job_title) SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[])`,
        [people.map((p) => p.email), people.map((p) => p.first_name), people.map((p) => p.last_name), people.map((p) => p.job_title)]);
      writeFileSync(join(dir, 'sync.yaml'), toYaml({
        version: 1,
        connections: {
          hubspot: { app: 'hubspot', token: EMU_TOKEN, base_url: emu.url },
          db: { app: 'postgres', url: db.url, batch_size: 200, objects: { contacts: { table: 'crm.people', updated_at: 'modified_at' } } },
        },
        syncs: [{ name: 'contacts', object: 'contacts', between: ['hubspot', 'db'], direction: 'two-way', default_app: 'hubspot' }],
      }));
    },
    async edit() {
      // Chosen by email: ids depend on the order the sync created rows in, which differs between the baseline and the twin.
      await db.client.query(`UPDATE crm.people SET job_title = 'db edit ' || substring(email from '^p([0-9]+)@')
        WHERE substring(email from '^p([0-9]+)@')::int % 6 = 1`);
      await db.client.query(`INSERT INTO crm.people (email, first_name, last_name) SELECT 'new-db' || g || '@example.com', 'New' || g, 'Db' FROM generate_series(0, 79) g`);
      for (let i = N_POSTGRES / 2; i < N_POSTGRES * 1.5; i += 5) emu.store.update('contacts', byEmail(`p${i}@example.com`).id, { jobtitle: `hub edit ${i}` });
      for (let i = 0; i < 80; i++) emu.store.create('contacts', { email: `new-hub${i}@example.com`, firstname: `New${i}`, lastname: 'Hub' });
    },
    contents() {
      const people = JSON.parse(psql(db.url, `SELECT coalesce(json_agg(json_build_object('email', email, 'first_name', first_name, 'last_name', last_name, 'job_title', job_title)), '[]') FROM crm.people`)) as Record<string, unknown>[];
      const hub = hubspotContacts(emu, HS_PROPS);
      return { apps: { 'postgres people': normalise(people), 'hubspot contacts': normalise(hub) }, contacts: { postgres: people, hubspot: hub } };
    },
    expectedEmails(phase) {
      const s = new Set<string>();
      for (let i = 0; i < N_POSTGRES * 1.5; i++) s.add(`p${i}@example.com`);
      if (phase === 2) for (let i = 0; i < 80; i++) { s.add(`new-db${i}@example.com`); s.add(`new-hub${i}@example.com`); }
      return s;
    },
    writeProbe() {
      // A Postgres commit of datasync's (the change log tags it) or a HubSpot batch write.
      const writes = () => {
        const r = emu.stats().requests;
        return Number(psql(db.url, `SELECT count(DISTINCT txid) FROM crm.datasync_changes WHERE origin IS NOT NULL`))
          + (r['POST /crm/v3/objects/{objectType}/batch/create'] ?? 0) + (r['POST /crm/v3/objects/{objectType}/batch/update'] ?? 0);
      };
      const start = writes();
      return () => writes() - start;
    },
    dispose: async () => { await emu.close(); await db.drop(); },
  };
}

describe(`SIGKILL at random moments (seed ${SEED}${LONG ? `, ${LONG} kills per phase` : ''})`, () => {
  const timeout = LONG > 0 ? 24 * 3600_000 : 170_000;

  it('SQLite ↔ CSV, several thousand contacts and companies matched by nothing: no duplicate, nothing lost, same result as an uninterrupted run', async () => {
    await scenario(async () => sqliteCsv());
  }, timeout);

  it('HubSpot emulator ↔ SQLite: no duplicate, nothing lost, same result as an uninterrupted run', async () => {
    await scenario(hubspotSqlite);
  }, timeout);

  it('HubSpot emulator ↔ Dynamics (Dataverse emulator): no duplicate, nothing lost, same result as an uninterrupted run', async () => {
    await scenario(hubspotDynamics);
  }, timeout);

  // Needs PostgreSQL (the run's throwaway cluster); without it, the one test here that says it was skipped.
  (pgUrl() ? it : it.skip)('HubSpot emulator ↔ PostgreSQL (change log): no duplicate, nothing lost, same result as an uninterrupted run', async () => {
    await scenario(hubspotPostgres);
  }, timeout);
});
