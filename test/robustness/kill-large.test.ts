/**
 * Issue 15's kill test: the streamed pass at scale, killed (SIGKILL, the
 * built binary) once in each of its phases, then run to the end. The apps
 * must then hold exactly what an uninterrupted run of a copy of the same
 * input gives (no duplicate, nothing lost), and the state must be sound.
 *
 * The input is the bench's W1 shape (bench/workspace.ts): a SQLite table and
 * a CSV file of N contacts, half on both sides (emails in another case), a
 * quarter on one side only, some without an email, ~300 conflicts. Phase 1
 * is the initial sync; phase 2 edits ~1% of the contacts on each side (some
 * on both: conflicts), adds 0.1% on each side and deletes 0.1% of the CSV's
 * rows, then syncs again, reading each side from its cursor (the CSV's
 * change listing reports the rows deleted). Each phase kills five runs in turn, each at one
 * moment seen from outside:
 *
 *   scan                  the state's sync status is `scanning` and a side's
 *                         progress line (stderr) has passed a seeded share of its rows
 *   match                 the status turned `in-progress` (scan done), nothing of
 *                         the apply yet (seeded delay within the baseline's window)
 *   apply: sqlite commit  the SQLite file took the k-th write batch (the CSV's
 *                         writes wait for one rewrite at the end)
 *   apply: csv temp file  the CSV's rewrite is being streamed to its temp file
 *   apply: csv renamed    the rewrite replaced the file; the state has recorded
 *                         none of the pass's writes yet
 *
 * After each kill the test checks where it landed from what the dead run
 * left (the state's status and create journal, the apps' files against their
 * bytes before the run): a run that missed its phase is run again (at most
 * three times), and the test fails if it never landed. Each kill is logged.
 *
 *   npx vitest run test/robustness/kill-large.test.ts                          # 10,000 contacts (CI)
 *   DATASYNC_KILL_LARGE=1 npx vitest run test/robustness/kill-large.test.ts    # 200,000 contacts (minutes)
 *   DATASYNC_KILL_LARGE=50000 …                                                # any other size
 *   DATASYNC_KILL_SEED=123 …                                                   # replay: same input, same kill moments
 */
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { contactRows } from '../../bench/contacts.js';
import { writeContactsWorkspace } from '../../bench/workspace.js';
import {
  cli, csvRows, duplicateEmails, emails, expectSameContents, expectSettled, normalise, prng, show, sleep, spawnCli,
  sqliteCommits, tableRows, useTempDirs, withDb, writeCsv, type Contents,
} from './support.js';

const LARGE = process.env.DATASYNC_KILL_LARGE;
const N = !LARGE ? 10_000 : LARGE === '1' ? 200_000 : Number(LARGE);
const SEED = Number(process.env.DATASYNC_KILL_SEED ?? Date.now() % 1_000_000);
const REPLAY = `replay with DATASYNC_KILL_SEED=${SEED}${LARGE ? ` DATASYNC_KILL_LARGE=${LARGE}` : ''}`;
const SYNC = 'contacts';
const ATTEMPTS = 3;

const tempDir = useTempDirs();

type Phase = 'scan' | 'match' | 'apply';
type Target = 'scan' | 'match' | 'apply: sqlite commit' | 'apply: csv temp file' | 'apply: csv renamed';
const TARGETS: Target[] = ['scan', 'match', 'apply: sqlite commit', 'apply: csv temp file', 'apply: csv renamed'];
const phaseOf = (t: Target): Phase => (t.startsWith('apply') ? 'apply' : t as Phase);

// --- the run seen from outside ---------------------------------------------------

interface SyncRow { status: string; updatedAt: number; scanned: number }

/** The sync's row in the state file, read-only, polled while a run goes on (null: no state, or not yet readable). */
class StateView {
  private db: Database.Database | null = null;
  constructor(private readonly file: string) {}
  sync(): SyncRow | null {
    try {
      if (!this.db) {
        if (!existsSync(this.file)) return null;
        this.db = new Database(this.file, { readonly: true, fileMustExist: true });
      }
      const r = this.db.prepare('SELECT status, updated_at, scanned FROM syncs WHERE name = ?').get(SYNC) as
        { status: string; updated_at: string; scanned: number } | undefined;
      return r ? { status: r.status, updatedAt: Date.parse(r.updated_at), scanned: r.scanned } : null;
    } catch {
      // Being created or migrated by the run: look again at the next poll.
      this.close();
      return null;
    }
  }
  /** The create journal's entries (`side:source id`). */
  journal(): Set<string> {
    if (!this.db && !this.sync()) return new Set();
    const rows = this.db!.prepare('SELECT side, source_id FROM pending_creates WHERE sync = ?').raw().all(SYNC) as [string, string][];
    return new Set(rows.map(([side, id]) => `${side}:${id}`));
  }
  journalled(): number {
    return this.db ? (this.db.prepare('SELECT count(*) AS n FROM pending_creates').get() as { n: number }).n : 0;
  }
  close(): void {
    this.db?.close();
    this.db = null;
  }
}

const sha = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');
const csvTemps = (dir: string) => readdirSync(dir).filter((n) => n.startsWith('.contacts.csv.') && n.endsWith('.tmp'));

/** The apps' files as bytes: what a run wrote to them, whatever the state knows of it. */
interface AppFiles { crm: string; csv: string; crmJournal: boolean; temps: string[] }
const appFiles = (dir: string): AppFiles => ({
  crm: sha(join(dir, 'crm.db')), csv: sha(join(dir, 'contacts.csv')), crmJournal: existsSync(join(dir, 'crm.db-journal')), temps: csvTemps(dir),
});

/**
 * Where a killed run was, from what it left: the state's status (set by
 * this run), the create journal (entries this run added: the apply had
 * begun) and the apps' files.
 */
interface Landing { phase: Phase | 'before' | 'ended'; status: string | null; scanned: number; journalled: number; crm: boolean; csv: boolean; temp: boolean }

function landing(dir: string, startedAt: number, before: AppFiles, journalBefore: Set<string>): Landing {
  const view = new StateView(join(dir, '.datasync', 'state.db'));
  try {
    const row = view.sync();
    const journalled = [...view.journal()].filter((k) => !journalBefore.has(k)).length;
    const now = appFiles(dir);
    const crm = now.crm !== before.crm || now.crmJournal;
    const csv = now.csv !== before.csv;
    // A temp file an earlier killed run left stays until the next rewrite: only this run's count.
    const temp = now.temps.some((t) => !before.temps.includes(t));
    const touched = crm || csv || temp;
    const mine = row !== null && row.updatedAt >= startedAt;
    const phase: Landing['phase'] = !mine ? 'before'
      : row.status === 'scanning' && !touched ? 'scan'
      : row.status === 'in-progress' && !touched && journalled === 0 ? 'match'
      : row.status === 'in-progress' ? 'apply'
      : 'ended';
    return { phase, status: row?.status ?? null, scanned: row?.scanned ?? 0, journalled, crm, csv, temp };
  } finally {
    view.close();
  }
}

/** Whether a killed run landed where the target aims, beyond its phase. */
function hit(target: Target, l: Landing): boolean {
  if (l.phase !== phaseOf(target)) return false;
  if (target === 'apply: sqlite commit') return l.crm;
  if (target === 'apply: csv temp file') return l.temp && !l.csv;
  if (target === 'apply: csv renamed') return l.csv;
  return true;
}

// --- the workspace -----------------------------------------------------------------

interface Input { sqliteRows: number; csvRows: number; emails: Set<string> }

function seed(base: string, twin: string): Input {
  const counts = writeContactsWorkspace(base, N, SEED);
  for (const f of ['crm.db', 'contacts.csv', 'sync.yaml']) copyFileSync(join(base, f), join(twin, f));
  const all = new Set<string>();
  for (const r of contactRows(N, SEED)) {
    const email = r.sqlite?.[1] ?? r.csv?.[1];
    if (email) all.add(String(email).toLowerCase());
  }
  return { sqliteRows: counts.sqliteRows, csvRows: counts.csvRows, emails: all };
}

/** A stable choice by email (FNV-1a): row ids and row order differ between the baseline and the killed twin, emails do not. */
function bucket(email: string, of: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < email.length; i++) h = Math.imul(h ^ email.charCodeAt(i), 0x01000193);
  return (h >>> 0) % of;
}

interface Edits { added: string[]; deletedInCsv: Set<string> }

/**
 * Phase 2's edits, the same in both folders, as other programs make them:
 * ~1% of the SQLite rows get a new job title and updated_at, ~1% of the CSV
 * rows a new job title in place (a tenth of those also edited in SQLite: crm
 * wins), 0.1% new contacts on each side, 0.1% of the CSV rows deleted.
 */
function edit(dir: string): Edits {
  const at = new Date().toISOString();
  const added: string[] = [];
  const extra = Math.max(10, Math.round(N / 1000));
  withDb(join(dir, 'crm.db'), (db) => {
    const rows = db.prepare('SELECT id, email FROM people WHERE email IS NOT NULL').all() as { id: number; email: string }[];
    const update = db.prepare('UPDATE people SET job_title = ?, updated_at = ? WHERE id = ?');
    const insert = db.prepare('INSERT INTO people (email, first_name, last_name, job_title, updated_at) VALUES (?, ?, ?, ?, ?)');
    db.transaction(() => {
      for (const r of rows) {
        const email = r.email.toLowerCase();
        if (bucket(email, 100) === 0) update.run(`Edited in CRM ${email}`, at, r.id);
      }
      for (let i = 0; i < extra; i++) {
        insert.run(`new-crm${i}@example.com`, `New${i}`, 'Crm', null, at);
        added.push(`new-crm${i}@example.com`);
      }
    })();
  });
  const file = join(dir, 'contacts.csv');
  const rows = csvRows(file, []);
  const header = Object.keys(rows[0]!);
  const deletedInCsv = new Set<string>();
  const kept = rows.filter((r) => {
    const email = r.email!.toLowerCase();
    if (email && bucket(email, 1000) === 500) { deletedInCsv.add(email); return false; }
    if (email && (bucket(email, 100) === 1 || bucket(email, 1000) === 0)) r.jobtitle = `Edited in CSV ${email}`;
    return true;
  });
  for (let i = 0; i < extra; i++) {
    kept.push({ ...Object.fromEntries(header.map((h) => [h, ''])), id: `n${i}`, email: `new-csv${i}@example.com`, firstname: `New${i}`, lastname: 'Csv' });
    added.push(`new-csv${i}@example.com`);
  }
  writeCsv(file, header, kept);
  return { added, deletedInCsv };
}

function contents(dir: string): Contents {
  const people = tableRows(join(dir, 'crm.db'), 'people', ['id', 'updated_at']);
  const csv = csvRows(join(dir, 'contacts.csv'));
  return { apps: { 'crm people': normalise(people), 'exp contacts.csv': normalise(csv) }, contacts: { crm: people, exp: csv } };
}

/**
 * The state after a clean run, against the apps: every link joins a record
 * of each app that exists (no link left to a record a killed run made and
 * the re-run made again), and as many links as the uninterrupted run made.
 */
function expectLinksSound(dir: string, baseDir: string, where: string): void {
  const links = (d: string) => withDb(join(d, '.datasync', 'state.db'), (db) =>
    db.prepare('SELECT a_id, b_id FROM links WHERE sync = ? AND deleted IS NULL').raw().all(SYNC) as [string, string][]);
  const mine = links(dir);
  expect(mine.length, `${where}: live links, against the uninterrupted run's`).toBe(links(baseDir).length);
  const crmIds = new Set(withDb(join(dir, 'crm.db'), (db) => (db.prepare('SELECT id FROM people').raw().all() as [number][]).map(([id]) => String(id))));
  const csvIds = new Set(csvRows(join(dir, 'contacts.csv'), []).map((r) => r.id!));
  const dangling = mine.filter(([a, b]) => !crmIds.has(a) || !csvIds.has(b));
  expect(dangling.slice(0, 5), `${where}: ${dangling.length} links to records that are not there`).toEqual([]);
}

// --- the kills -----------------------------------------------------------------------

interface Timing { scanEnd: number | null; firstWrite: number | null; total: number }

/**
 * Runs `run` in `dir` to the end, noting when the scan ended (the status
 * turned in-progress) and when the apply began (the first create journalled,
 * or an app's first write): the window of the match phase, in ms from the start.
 */
async function timedRun(dir: string, what: string): Promise<Timing> {
  const view = new StateView(join(dir, '.datasync', 'state.db'));
  const before = { crm: statSync(join(dir, 'crm.db')).mtimeMs, csv: statSync(join(dir, 'contacts.csv')).mtimeMs };
  const started = Date.now();
  const running = spawnCli(dir, ['run', '--json']);
  let ended = false;
  void running.done.then(() => { ended = true; });
  const t: Timing = { scanEnd: null, firstWrite: null, total: 0 };
  try {
    while (!ended) {
      const row = view.sync();
      if (t.scanEnd === null && row && row.updatedAt >= started && row.status === 'in-progress') t.scanEnd = Date.now() - started;
      if (t.firstWrite === null && (view.journalled() > 0 || statSync(join(dir, 'crm.db')).mtimeMs !== before.crm
        || statSync(join(dir, 'contacts.csv')).mtimeMs !== before.csv)) {
        t.firstWrite = Date.now() - started;
      }
      await sleep(5);
    }
  } finally {
    view.close();
  }
  const r = await running.done;
  expect(r.exitCode, `${what} (${REPLAY})\n${show(r)}`).toBe(0);
  t.total = r.ms;
  console.log(`[kill-large N=${N} seed ${SEED}] ${what}: ${r.ms} ms (scan done at ${t.scanEnd} ms, apply began at ${t.firstWrite} ms)`);
  return t;
}

interface Aim { target: Target; scanSide: { name: string; rows: number }; scanShare: number; nthCommit: number; matchDelayMs: number }

/** Starts `run` in `dir` and kills it at the moment `aim` names (or lets it end, when that moment never comes). */
async function killAt(dir: string, aim: Aim): Promise<{ killed: boolean; landed: Landing; at: string; exit: number | null; ms: number }> {
  const before = appFiles(dir);
  const inode = statSync(join(dir, 'contacts.csv')).ino;
  const commits = sqliteCommits(join(dir, 'crm.db'));
  const view = new StateView(join(dir, '.datasync', 'state.db'));
  const journalBefore = view.journal();
  const started = Date.now();
  // Progress on a pipe: a plain line per scanned page (DATASYNC_PROGRESS_EVERY=0).
  const running = spawnCli(dir, ['run'], { DATASYNC_PROGRESS_EVERY: '0' });
  let ended = false;
  void running.done.then(() => { ended = true; });
  const scanned = (side: string) => {
    const all = [...running.stderr().matchAll(new RegExp(`scanning ${side}… (\\d+) records`, 'g'))];
    return all.length > 0 ? Number(all[all.length - 1]![1]) : 0;
  };
  const threshold = Math.max(1, Math.floor(aim.scanShare * aim.scanSide.rows));
  const ready: Record<Target, () => boolean> = {
    scan: () => { const r = view.sync(); return r !== null && r.updatedAt >= started && r.status === 'scanning' && scanned(aim.scanSide.name) >= threshold; },
    match: () => { const r = view.sync(); return r !== null && r.updatedAt >= started && r.status === 'in-progress'; },
    'apply: sqlite commit': () => commits() >= aim.nthCommit,
    'apply: csv temp file': () => csvTemps(dir).some((t) => !before.temps.includes(t)),
    'apply: csv renamed': () => statSync(join(dir, 'contacts.csv')).ino !== inode,
  };
  try {
    while (!ended && !ready[aim.target]()) await sleep(1);
    if (!ended && aim.target === 'match' && aim.matchDelayMs > 0) await Promise.race([running.done, sleep(aim.matchDelayMs)]);
  } finally {
    view.close();
  }
  const at = aim.target === 'scan' ? `${aim.scanSide.name} read ≥ ${threshold} of ${aim.scanSide.rows}`
    : aim.target === 'match' ? `in-progress + ${aim.matchDelayMs} ms`
    : aim.target === 'apply: sqlite commit' ? `sqlite commit ${aim.nthCommit}` : aim.target.slice('apply: '.length);
  const killed = !ended;
  if (killed) running.child.kill('SIGKILL');
  const r = await running.done;
  return { killed, landed: landing(dir, started, before, journalBefore), at: `${at} (+${Date.now() - started} ms)`, exit: r.exitCode, ms: r.ms };
}

interface KillLog { target: Target; attempt: number; at: string; killed: boolean; landed: Landing['phase']; hit: boolean }

/** One kill per target, in order, each run again until it lands (ATTEMPTS at most); no app may hold a duplicate after any. */
async function killEachPhase(dir: string, phase: 1 | 2, input: Input, window: Timing, rand: () => number): Promise<KillLog[]> {
  const log: KillLog[] = [];
  for (const target of TARGETS) {
    // Phase 2 reads each side from its cursor: SQLite's rows changed since, the CSV's rows whose bytes differ
    // (a page or two each). Its scan is killed once the first side's first page is in.
    const side = phase === 2 ? { name: 'crm', rows: 1 } : rand() < 0.5 ? { name: 'crm', rows: input.sqliteRows } : { name: 'exp', rows: input.csvRows };
    const aim: Aim = {
      target, scanSide: side, scanShare: 0.1 + rand() * 0.8, nthCommit: phase === 1 ? 1 + Math.floor(rand() * 3) : 1,
      matchDelayMs: Math.floor(rand() * 0.8 * Math.max(0, (window.firstWrite ?? 0) - (window.scanEnd ?? 0))),
    };
    for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
      const k = await killAt(dir, aim);
      const ok = k.killed && hit(target, k.landed);
      const { phase: landed, ...seen } = k.landed;
      log.push({ target, attempt, at: k.at, killed: k.killed, landed, hit: ok });
      console.log(`[kill-large N=${N} seed ${SEED}] phase ${phase}: kill '${target}' at ${k.at}: ${k.killed ? 'killed' : `not killed (exit ${k.exit})`}, `
        + `landed in ${landed} ${JSON.stringify(seen)}${ok ? '' : ' — missed, again'}`);
      const where = `phase ${phase}, after the kill '${target}' at ${k.at} (${REPLAY})`;
      if (!k.killed) expect(k.exit, `${where}: a run that was not killed ended badly`).toBe(0);
      const now = contents(dir);
      for (const [app, rows] of Object.entries(now.contacts)) expect(duplicateEmails(rows), `${where}: duplicate contacts in ${app}`).toEqual([]);
      if (ok) break;
      // A missed match kill waited too long: the next one kills as soon as the scan is done.
      aim.matchDelayMs = 0;
    }
  }
  return log;
}

async function cleanRun(dir: string, what: string): Promise<void> {
  const r = await cli(dir, ['run', '--json'], { timeoutMs: 900_000 });
  expect(r.exitCode, `${what} (${REPLAY})\n${show(r)}`).toBe(0);
  console.log(`[kill-large N=${N} seed ${SEED}] ${what}: ${r.ms} ms`);
}

function expectEveryKillLanded(log: KillLog[], phase: number): void {
  const missed = TARGETS.filter((t) => !log.some((l) => l.target === t && l.hit));
  expect(missed, `phase ${phase}: kills that never landed in their phase (${REPLAY}): ${JSON.stringify(log)}`).toEqual([]);
}

describe(`SIGKILL in each phase of the streamed pass, ${N} contacts (seed ${SEED})`, () => {
  it('SQLite ↔ CSV, killed during scan, match and apply of the initial and of an incremental sync: same as an uninterrupted run, no duplicate, nothing lost', async () => {
    const base = tempDir();
    const dir = tempDir();
    const input = seed(base, dir);
    const rand = prng(SEED);

    // Phase 1: the initial sync.
    const window1 = await timedRun(base, 'phase 1, uninterrupted');
    const expected1 = contents(base);
    const log1 = await killEachPhase(dir, 1, input, window1, rand);
    await cleanRun(dir, 'phase 1, the clean run after the kills');
    expectSameContents(contents(dir), expected1, input.emails, `phase 1, kills ${JSON.stringify(log1)} (${REPLAY})`);
    expectLinksSound(dir, base, `phase 1 (${REPLAY})`);
    expectEveryKillLanded(log1, 1);

    // Phase 2: ~1% edited on each side, some added and deleted, an incremental sync.
    const edits = edit(base);
    edit(dir);
    const window2 = await timedRun(base, 'phase 2, uninterrupted');
    const expected2 = contents(base);
    const after = new Set([...input.emails, ...edits.added]);
    // A deletion is not synced (README): the CSV lacks its deleted rows, SQLite keeps them.
    const expectedEmails2 = { crm: after, exp: new Set([...after].filter((e) => !edits.deletedInCsv.has(e))) };
    expect(emails(expected2.contacts.exp!).size, 'the uninterrupted run: CSV contacts after the deletions').toBe(expectedEmails2.exp.size);
    const log2 = await killEachPhase(dir, 2, { ...input, csvRows: input.csvRows + edits.added.length / 2 - edits.deletedInCsv.size }, window2, rand);
    await cleanRun(dir, 'phase 2, the clean run after the kills');
    expectSameContents(contents(dir), expected2, expectedEmails2, `phase 2, kills ${JSON.stringify(log2)} (${REPLAY})`);
    expectLinksSound(dir, base, `phase 2 (${REPLAY})`);
    expectEveryKillLanded(log2, 2);

    await expectSettled(dir, REPLAY);
  }, N >= 100_000 ? 6 * 3600_000 : 1_200_000);
});
