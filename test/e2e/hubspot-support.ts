/**
 * End-to-end support for the HubSpot scenarios: the HubSpot emulator started
 * in this process on a free loopback port, and the BUILT `datasync` binary run
 * against it (with `HUBSPOT_TOKEN` in its environment) in a temp folder that
 * also holds a SQLite "CRM". Folders, SQLite files and the `--json` types come
 * from ./support.ts; nothing of the CLI is imported or mocked.
 *
 * The SQLite app: `orgs` (companies) and `people` (contacts, with the primary
 * company in `company_id`), both with a `modified_at` change column.
 */
import Database from 'better-sqlite3';
import { execa } from 'execa';
import { startEmulator, type Emulator, type EmulatorOptions, type FaultSpec, type StoredRecord } from '../../fixtures/hubspot-emulator/server.js';
import { BIN, type CliResult, type RunJson, type SqliteFile, type Workspace } from './support.js';

export const TOKEN = 'pat-na1-e2e-0000-1111-secret-token';

export const CRM_SCHEMA = `
  CREATE TABLE orgs (id INTEGER PRIMARY KEY, name TEXT, domain TEXT, city TEXT, modified_at TEXT);
  CREATE TABLE people (id INTEGER PRIMARY KEY, email TEXT, first_name TEXT, last_name TEXT, job_title TEXT,
    lead_status TEXT, company_id INTEGER, modified_at TEXT);
  CREATE INDEX people_modified ON people (modified_at);
  CREATE INDEX orgs_modified ON orgs (modified_at);`;

export interface Hub {
  emu: Emulator;
  url: string;
  /** Queues faults through the admin endpoint, as a test harness outside the process would. */
  faults(specs: FaultSpec | FaultSpec[]): Promise<void>;
  clearFaults(): Promise<void>;
  /** Active (not archived) records of an object. */
  list(object: 'contacts' | 'companies'): StoredRecord[];
  /** contact id → its primary company's id (null: none), read through the admin records dump. */
  primaryCompanies(): Promise<Map<string, string | null>>;
  close(): Promise<void>;
}

export async function startHub(opts: EmulatorOptions = {}): Promise<Hub> {
  const emu = await startEmulator({ port: 0, host: '127.0.0.1', token: TOKEN, ...opts });
  const admin = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${emu.url}${path}`, {
      method, headers: { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
  };
  return {
    emu,
    url: emu.url,
    faults: (specs) => admin('POST', '/_emulator/faults', specs),
    clearFaults: () => admin('DELETE', '/_emulator/faults'),
    list: (object) => emu.store.list(object),
    async primaryCompanies() {
      const res = await fetch(`${emu.url}/_emulator/records/contacts?archived=false`);
      const body = await res.json() as { results: Array<{ id: string; associations?: { companies?: { results: Array<{ id: string; type: string }> } } }> };
      return new Map(body.results.map((r) => [r.id, r.associations?.companies?.results.find((a) => a.type === 'contact_to_company')?.id ?? null]));
    },
    close: () => emu.close(),
  };
}

export interface SyncOptions {
  /** Syncs to define: companies and contacts (default both). */
  objects?: Array<'companies' | 'contacts'>;
  /** Extra keys of the contacts sync (mappings, rules…). */
  contacts?: Record<string, unknown>;
  /** Extra keys of the people object of the crm connection (fields…). */
  people?: Record<string, unknown>;
  /** Extra keys of the hubspot connection block (e.g. `deletion_check: 0`). */
  hubspot?: Record<string, unknown>;
}

/**
 * sync.yaml: connection `hubspot` (token from ${HUBSPOT_TOKEN}, the emulator's
 * URL) and connection `crm` (crm.db), two-way syncs with HubSpot as the
 * default app, companies first, contacts keeping their primary company.
 */
export function writeHubConfig(w: Workspace, baseUrl: string, opts: SyncOptions = {}): void {
  const objects = opts.objects ?? ['companies', 'contacts'];
  const withCompanies = objects.includes('companies');
  const crmObjects: Record<string, unknown> = {};
  if (withCompanies) crmObjects.companies = { table: 'orgs', id: 'id', updated_at: 'modified_at' };
  crmObjects.contacts = {
    table: 'people', id: 'id', updated_at: 'modified_at',
    ...(withCompanies ? { associations: { company: { field: 'company_id', object: 'companies' } } } : {}),
    ...opts.people,
  };
  const syncs: Record<string, unknown>[] = [];
  if (withCompanies) syncs.push({ name: 'companies', object: 'companies', between: ['hubspot', 'crm'], direction: 'two-way', default_app: 'hubspot' });
  syncs.push({
    name: 'contacts', object: 'contacts', between: ['hubspot', 'crm'], direction: 'two-way', default_app: 'hubspot',
    associations: withCompanies, ...opts.contacts,
  });
  w.writeText('sync.yaml', [
    'version: 1',
    'connections:',
    '  hubspot:',
    '    app: hubspot',
    '    token: ${HUBSPOT_TOKEN}',
    `    base_url: ${baseUrl}`,
    ...Object.entries(opts.hubspot ?? {}).map(([k, v]) => `    ${k}: ${JSON.stringify(v)}`),
    '  crm:',
    '    app: sqlite',
    '    path: ./crm.db',
    `    objects: ${JSON.stringify(crmObjects)}`,
    `syncs: ${JSON.stringify(syncs)}`,
    '',
  ].join('\n'));
}

/** `node bin/datasync.js ...args` in the folder, with HUBSPOT_TOKEN set; never throws on a non-zero exit. */
export async function datasync(w: Workspace, args: string[], token = TOKEN): Promise<CliResult> {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1', HUBSPOT_TOKEN: token };
  delete env.DATASYNC_CONFIG;
  delete env.FORCE_COLOR;
  const r = await execa('node', [BIN, ...args], {
    cwd: w.dir, reject: false, env, extendEnv: false, stdin: 'ignore', timeout: 110_000,
  });
  return { exitCode: r.exitCode ?? -1, stdout: String(r.stdout), stderr: String(r.stderr) };
}

/** `run --json`: the parsed JSON with the exit code and stderr. */
export async function runJson(w: Workspace, token = TOKEN): Promise<CliResult & { json: RunJson }> {
  const r = await datasync(w, ['run', '--json'], token);
  try {
    return { ...r, json: JSON.parse(r.stdout) as RunJson };
  } catch {
    throw new Error(`datasync run --json printed no JSON (exit ${r.exitCode})\nstdout:\n${r.stdout}\nstderr:\n${r.stderr.slice(-4000)}`);
  }
}

/** Failed records of every side of every sync in a `run --json`, with the sync errors, for assertion messages. */
export function failures(json: RunJson): string {
  return JSON.stringify(json.syncs.map((s) => ({ name: s.name, outcome: s.outcome, error: s.error, sides: s.sides })), null, 1);
}

/** email (lower-case) → how many records hold it. */
export function emailCounts(emails: Array<string | null | undefined>): Map<string, number> {
  const out = new Map<string, number>();
  for (const e of emails) {
    if (!e) continue;
    const k = e.trim().toLowerCase();
    out.set(k, (out.get(k) ?? 0) + 1);
  }
  return out;
}

/** The SQLite side, by email / domain (lower-case). */
export function crmIndex(crm: SqliteFile) {
  const people = crm.all<{ id: number; email: string | null; first_name: string | null; last_name: string | null; job_title: string | null; company_id: number | null; lead_status: string | null }>('SELECT * FROM people');
  const orgs = crm.all<{ id: number; name: string | null; domain: string | null; city: string | null }>('SELECT * FROM orgs');
  return {
    people,
    orgs,
    personByEmail: new Map(people.map((p) => [String(p.email).toLowerCase(), p])),
    orgById: new Map(orgs.map((o) => [o.id, o])),
  };
}

/** Inserts many rows in one transaction (SqliteFile.insert commits row by row, too slow for thousands). */
export function bulkInsert(crm: SqliteFile, table: string, rows: Record<string, unknown>[]): void {
  if (rows.length === 0) return;
  const db = new Database(crm.file);
  try {
    const cols = Object.keys(rows[0]!);
    const stmt = db.prepare(`INSERT INTO "${table}" (${cols.map((c) => `"${c}"`).join(', ')}) VALUES (${cols.map(() => '?').join(', ')})`);
    db.transaction(() => { for (const row of rows) stmt.run(...cols.map((c) => row[c] ?? null)); })();
  } finally {
    db.close();
  }
}

/**
 * Another integration on the same portal: it spends the shared rate limit
 * (HubSpot counts every app's calls against one window) with small reads at
 * a steady pace until stopped. Returns how many it sent and how many got 429.
 */
export function noisyNeighbour(hub: Hub, perSecond: number): { stop(): Promise<{ sent: number; limited: number }> } {
  let sent = 0;
  let limited = 0;
  const inFlight = new Set<Promise<void>>();
  const timer = setInterval(() => {
    sent++;
    const p = fetch(`${hub.url}/crm/v3/objects/companies?limit=1`, { headers: { authorization: `Bearer ${TOKEN}` } })
      .then(async (res) => { if (res.status === 429) limited++; await res.arrayBuffer(); })
      .catch(() => undefined)
      .finally(() => inFlight.delete(p));
    inFlight.add(p);
  }, 1000 / perSecond);
  return {
    async stop() {
      clearInterval(timer);
      await Promise.all(inFlight);
      return { sent, limited };
    },
  };
}

/** A change time later than any earlier one, the way an app stamps an edit. */
export const nowIso = () => new Date().toISOString();
