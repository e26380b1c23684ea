/**
 * Support for the robustness tests: the BUILT `datasync` binary run in a
 * temp folder (as a user runs it), killed or raced when a test needs it, the
 * two seeded setups (SQLite ↔ CSV, HubSpot emulator ↔ SQLite) and their
 * contents normalised so runs can be compared regardless of ids.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import Database from 'better-sqlite3';
import { parse as parseCsv } from 'csv-parse/sync';
import { afterAll, beforeAll, expect } from 'vitest';
import { startEmulator, type Emulator, type EmulatorOptions } from '../../fixtures/hubspot-emulator/server.js';
import { BIN, requireBuild } from '../e2e/support.js';
import { prng as seededPrng } from '../../scripts/prng.js';

export { BIN, requireBuild };

export interface CliResult {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
}

export interface Running {
  child: ChildProcess;
  done: Promise<CliResult>;
  /** What it has written to stderr so far. */
  stderr(): string;
}

/** The user's environment without anything that would change what datasync reads. */
export function cleanEnv(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
  delete env.DATASYNC_CONFIG;
  delete env.FORCE_COLOR;
  delete env.HUBSPOT_TOKEN;
  for (const [k, v] of Object.entries(extra)) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  return env;
}

/** Starts `node bin/datasync.js ...args` in `cwd`; `done` resolves when it exits (never rejects). */
export function spawnCli(cwd: string, args: string[], env: Record<string, string | undefined> = {}): Running {
  const started = Date.now();
  const child = spawn(process.execPath, [BIN, ...args], { cwd, env: cleanEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => { stdout += d; });
  child.stderr!.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
  const done = new Promise<CliResult>((resolve) => {
    child.on('close', (code, signal) => resolve({ exitCode: code, signal, stdout, stderr, ms: Date.now() - started }));
  });
  return { child, done, stderr: () => stderr };
}

/** Runs the CLI to the end (killed after `timeoutMs`). */
export async function cli(cwd: string, args: string[], opts: { env?: Record<string, string | undefined>; timeoutMs?: number } = {}): Promise<CliResult> {
  const r = spawnCli(cwd, args, opts.env);
  const timer = setTimeout(() => r.child.kill('SIGKILL'), opts.timeoutMs ?? 60_000);
  try {
    return await r.done;
  } finally {
    clearTimeout(timer);
  }
}

/** Explains a CLI result in an assertion message. */
export const show = (r: CliResult) => `exit ${r.exitCode}${r.signal ? ` (${r.signal})` : ''}\n--- stdout:\n${r.stdout.slice(0, 3000)}\n--- stderr:\n${r.stderr.slice(0, 3000)}`;

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** A small seeded PRNG (mulberry32, scripts/prng.ts): the same seed gives the same kill moments. */
export const prng = (seed: number): (() => number) => seededPrng(seed).next;

/**
 * Temp folders, removed after the file's tests (which may run concurrently);
 * kept when KEEP_TEST_DIRS is set, for a post-mortem.
 */
export function useTempDirs(): () => string {
  const made: string[] = [];
  beforeAll(requireBuild);
  afterAll(() => {
    for (const d of made.splice(0)) if (!process.env.KEEP_TEST_DIRS) rmSync(d, { recursive: true, force: true });
  });
  return () => {
    const d = mkdtempSync(join(tmpdir(), 'datasync-robust-'));
    made.push(d);
    return d;
  };
}

/**
 * sha256 of every file under `dir` (relative path → hash), to prove a command
 * changed nothing. SQLite's `-shm` index and an empty `-wal` hold no data
 * (any reader of a WAL database makes them) and are left out.
 */
export function hashTree(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      const st = statSync(p);
      if (st.isDirectory()) walk(p);
      else if (name.endsWith('-shm') || (name.endsWith('-wal') && st.size === 0)) continue;
      else out[relative(dir, p)] = createHash('sha256').update(readFileSync(p)).digest('hex');
    }
  };
  walk(dir);
  return out;
}

// --- SQLite files -----------------------------------------------------------

export function withDb<T>(file: string, fn: (db: Database.Database) => T): T {
  const db = new Database(file);
  try {
    return fn(db);
  } finally {
    db.close();
  }
}

export const PEOPLE_DDL = `CREATE TABLE people (id INTEGER PRIMARY KEY, email TEXT, first_name TEXT, last_name TEXT,
  job_title TEXT, modified_at TEXT)`;

export interface Person { email: string | null; first_name: string | null; last_name: string | null; job_title: string | null }

export function writePeople(file: string, people: Person[]): void {
  withDb(file, (db) => {
    db.exec(PEOPLE_DDL);
    const ins = db.prepare('INSERT INTO people (email, first_name, last_name, job_title, modified_at) VALUES (?, ?, ?, ?, ?)');
    db.transaction(() => {
      for (const p of people) ins.run(p.email, p.first_name, p.last_name, p.job_title, '2024-01-01T00:00:00.000Z');
    })();
  });
}

/** Rows of a table without the columns that legitimately differ between runs (ids, change times). */
export function tableRows(file: string, table: string, ignore: string[] = ['id', 'modified_at']): Record<string, unknown>[] {
  return withDb(file, (db) => (db.prepare(`SELECT * FROM "${table}"`).all() as Record<string, unknown>[])
    .map((r) => Object.fromEntries(Object.entries(r).filter(([k]) => !ignore.includes(k)))));
}

// --- CSV files --------------------------------------------------------------

const csvCell = (v: string | null | undefined) => {
  const s = v ?? '';
  return /[",\r\n]|^\s|\s$/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
};

export function writeCsv(file: string, header: string[], rows: Record<string, string | null>[]): void {
  const lines = [header.map(csvCell).join(','), ...rows.map((r) => header.map((h) => csvCell(r[h])).join(','))];
  writeFileSync(file, `${lines.join('\n')}\n`);
}

export function csvRows(file: string, ignore: string[] = ['id']): Record<string, string>[] {
  const rows = parseCsv(readFileSync(file, 'utf8'), { columns: true, skip_empty_lines: true, bom: true }) as Record<string, string>[];
  return rows.map((r) => Object.fromEntries(Object.entries(r).filter(([k]) => !ignore.includes(k))));
}

// --- comparing app contents ---------------------------------------------------

/** Empty string and null are the same "no value" (a CSV cannot tell them apart). */
const norm = (v: unknown) => (v === null || v === undefined ? '' : String(v));

/** Records as sorted, comparable lines: `email | field=value | …`, fields in name order. */
export function normalise(rows: Record<string, unknown>[], emailField = 'email'): string[] {
  return rows.map((r) => {
    const keys = Object.keys(r).filter((k) => k !== emailField).sort();
    return [norm(r[emailField]).trim().toLowerCase(), ...keys.map((k) => `${k}=${norm(r[k])}`)].join(' | ');
  }).sort();
}

/** Emails held by more than one record (trimmed, any case); records without one are not counted. */
export function duplicateEmails(rows: Record<string, unknown>[], emailField = 'email'): string[] {
  const seen = new Map<string, number>();
  for (const r of rows) {
    const e = norm(r[emailField]).trim().toLowerCase();
    if (e) seen.set(e, (seen.get(e) ?? 0) + 1);
  }
  return [...seen].filter(([, n]) => n > 1).map(([e]) => e);
}

export function emails(rows: Record<string, unknown>[], emailField = 'email'): Set<string> {
  return new Set(rows.map((r) => norm(r[emailField]).trim().toLowerCase()).filter((e) => e !== ''));
}

// --- after kills: the apps and the state as an uninterrupted run leaves them ---------

/** Both apps' contents, as the kill tests compare them. */
export interface Contents {
  /** Every app's records as comparable lines. */
  apps: Record<string, string[]>;
  /** Contacts per app: no duplicate email, none missing. */
  contacts: Record<string, Record<string, unknown>[]>;
  /** Other records per app with a unique `email` key: no duplicate. */
  others?: Record<string, Record<string, unknown>[]>;
}

/**
 * The apps after kills and a clean run against those of an uninterrupted
 * run: no duplicate, every expected contact on every side, and each app's
 * records line for line the same (`where` says which run, for the message).
 * `expectedEmails`: the contacts every app must hold, or per app (an app
 * where records were deleted keeps fewer: deletions are not synced).
 */
export function expectSameContents(got: Contents, want: Contents, expected: Set<string> | Record<string, Set<string>>, where: string): void {
  for (const [app, rows] of Object.entries(got.others ?? {})) {
    expect(duplicateEmails(rows), `${where}: duplicate records in ${app}`).toEqual([]);
  }
  for (const [app, rows] of Object.entries(got.contacts)) {
    expect(duplicateEmails(rows), `${where}: duplicate contacts in ${app}`).toEqual([]);
    // Nothing lost: every contact with an email is on every side.
    const expectedEmails = expected instanceof Set ? expected : expected[app]!;
    const have = emails(rows);
    const missing = [...expectedEmails].filter((e) => !have.has(e));
    expect(missing.slice(0, 10), `${where}: ${missing.length} contacts missing in ${app}`).toEqual([]);
    expect(have.size, `${where}: ${app}`).toBe(expectedEmails.size);
  }
  for (const [app, lines] of Object.entries(want.apps)) {
    const gotLines = got.apps[app]!;
    const wanted = new Set(lines);
    const have = new Set(gotLines);
    const extra = gotLines.filter((l) => !wanted.has(l));
    const lost = lines.filter((l) => !have.has(l));
    expect({ extra: extra.slice(0, 5), lost: lost.slice(0, 5), counts: [gotLines.length, lines.length] }, `${where}: ${app} differs from the uninterrupted run`)
      .toEqual({ extra: [], lost: [], counts: [lines.length, lines.length] });
  }
}

/**
 * What a clean run after kills must leave besides the apps' contents: no
 * temp file of a killed write in the folder, a sound state with the create
 * journal drained, and a run right after it that writes nothing.
 */
export async function expectSettled(dir: string, replay: string, state = join(dir, '.datasync', 'state.db')): Promise<void> {
  expect(readdirSync(dir).filter((n) => /\.(tmp|spill)$/.test(n)), `temp files left (${replay})`).toEqual([]);
  expect(stateIntegrity(state)).toBe('ok');
  expect(stateCount(state, 'pending_creates'), `creates still journalled after a clean run (${replay})`).toBe(0);
  const again = await cli(dir, ['run', '--json'], { timeoutMs: 600_000 });
  expect(again.exitCode, show(again)).toBe(0);
  const json = JSON.parse(again.stdout) as { syncs: { sides: { created: number; updated: number }[] }[] };
  expect(json.syncs.flatMap((s) => s.sides.map((x) => x.created + x.updated)), `${replay}\n${show(again)}`).toEqual(json.syncs.flatMap((s) => s.sides.map(() => 0)));
}

/**
 * Commits another process made to a SQLite file in rollback-journal mode
 * since the call, polled: the file's mtime moved and its journal is gone
 * (a commit, not a write half done).
 */
export function sqliteCommits(file: string): () => number {
  let last = statSync(file).mtimeMs;
  let n = 0;
  return () => {
    const m = statSync(file).mtimeMs;
    if (m !== last && !existsSync(`${file}-journal`)) { last = m; n++; }
    return n;
  };
}

// --- the HubSpot emulator -----------------------------------------------------

export const EMU_TOKEN = 'pat-na1-emulator-robust-0000';

export async function emulator(opts: EmulatorOptions = {}): Promise<Emulator> {
  return startEmulator({ port: 0, token: EMU_TOKEN, rateLimit: { max: 190, windowMs: 10_000 }, ...opts });
}

export async function admin(emu: Emulator, method: string, path: string, body?: unknown): Promise<unknown> {
  const res = await fetch(`${emu.url}${path}`, {
    method, headers: body === undefined ? {} : { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (res.status >= 400) throw new Error(`admin ${method} ${path}: ${res.status} ${text}`);
  return text ? JSON.parse(text) : undefined;
}

/** HubSpot contacts (not archived) with the given properties only. */
export function hubspotContacts(emu: Emulator, properties: string[]): Record<string, unknown>[] {
  return emu.store.list('contacts').map((r) => Object.fromEntries(properties.map((p) => [p, r.properties[p] ?? null])));
}

/** The state file's own view of itself. */
export function stateIntegrity(file: string): string {
  const db = new Database(file, { readonly: true });
  try {
    return String(db.pragma('integrity_check', { simple: true }));
  } finally {
    db.close();
  }
}

export function stateCount(file: string, table: string): number {
  const db = new Database(file, { readonly: true });
  try {
    return (db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;
  } finally {
    db.close();
  }
}

export const exists = existsSync;

// --- a plain SQLite ↔ CSV contacts sync ----------------------------------------

/**
 * `crm.db` (table people) with contacts p0…p(n-1), `contacts.csv` with
 * p(n/2)…p(n+n/2-1), and `sync.yaml` keeping them in step two-way.
 */
export function seedContacts(dir: string, n: number, sync: Record<string, unknown> = {}): void {
  writePeople(join(dir, 'crm.db'), Array.from({ length: n }, (_, i) => ({
    email: `p${i}@example.com`, first_name: `Ann${i}`, last_name: `Lee${i}`, job_title: i % 3 ? `Job ${i}` : null,
  })));
  writeCsv(join(dir, 'contacts.csv'), ['id', 'email', 'firstname', 'lastname', 'jobtitle'],
    Array.from({ length: n }, (_, k) => {
      const i = k + Math.floor(n / 2);
      return { id: String(k + 1), email: `p${i}@example.com`, firstname: `Annie${i}`, lastname: '', jobtitle: `Csv ${i}` };
    }));
  writeFileSync(join(dir, 'sync.yaml'), [
    'version: 1',
    'connections:',
    '  crm: { app: sqlite, path: ./crm.db, objects: { contacts: { table: people, id: id, updated_at: modified_at } } }',
    '  exp: { app: csv, objects: { contacts: { file: contacts.csv, id: id } } }',
    'syncs:',
    `  - ${JSON.stringify({ name: 'contacts', object: 'contacts', between: ['crm', 'exp'], direction: 'two-way', default_app: 'crm', ...sync })}`,
    '',
  ].join('\n'));
}

/** The contacts of both apps of `seedContacts`. */
export function contactsOf(dir: string): { crm: Record<string, unknown>[]; exp: Record<string, unknown>[] } {
  return { crm: tableRows(join(dir, 'crm.db'), 'people'), exp: csvRows(join(dir, 'contacts.csv')) };
}

/** The process's result, or a failure if it has not exited within `ms` (it is then killed). */
export async function exitWithin(running: Running, ms: number, what: string): Promise<CliResult> {
  const timer = sleep(ms).then(() => null);
  const r = await Promise.race([running.done, timer]);
  if (r) return r;
  running.child.kill('SIGKILL');
  const late = await running.done;
  throw new Error(`${what}: still running ${ms} ms later (killed)\n${show(late)}`);
}

/** Resolves once `check()` is true; rejects after `ms`. */
export async function waitFor(what: string, check: () => boolean, ms = 30_000): Promise<void> {
  const until = Date.now() + ms;
  while (!check()) {
    if (Date.now() > until) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(20);
  }
}
