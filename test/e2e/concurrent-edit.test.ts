/**
 * A person (or another program) changes an app while a pass runs (issue
 * 14.6): a write is applied only while the record is as the pass read it, and
 * a row appended to the CSV during a pass is never lost. The built CLI runs in
 * the background; the test acts as soon as the state says the pass has read
 * both sides (status in-progress), while its writes are under way.
 */
import Database from 'better-sqlite3';
import { appendFileSync, existsSync } from 'node:fs';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { crmCsv, CSV_HEADER, duplicates, now, person } from './crm-csv.js';
import { BIN, useWorkspaces, type Workspace } from './support.js';

const workspace = useWorkspaces();
const range = (from: number, to: number) => Array.from({ length: to - from }, (_, k) => person(from + k));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Starts `datasync run` in the background and resolves once its pass has read both sides. */
async function startRun(w: Workspace) {
  const child = execa('node', [BIN, 'run'], { cwd: w.dir, reject: false, env: { NO_COLOR: '1' } });
  const state = w.path('.datasync', 'state.db');
  let done = false;
  void child.then(() => { done = true; });
  while (!done) {
    if (existsSync(state)) {
      const db = new Database(state, { readonly: true });
      try {
        const row = db.prepare(`SELECT status FROM syncs WHERE name = 'contacts'`).get() as { status: string } | undefined;
        if (row?.status === 'in-progress') break;
      } catch {
        // the state is being created
      } finally {
        db.close();
      }
    }
    await sleep(1);
  }
  return { child }; // not the child itself: an async function would wait for it (it is a promise)
}

describe('a change made during a pass', () => {
  it('a person editing SQLite rows while the pass writes the CSV change into them: no edit is overwritten, every edit reaches the CSV', async () => {
    const w = workspace();
    const N = 6000;
    const s = crmCsv(w, { people: range(0, N) });
    expect((await w.run('run')).exitCode).toBe(0);
    w.writeCsv(s.csvFile, CSV_HEADER, s.csv().map((r) => ({ ...r, jobtitle: 'From CSV' })));

    const { child } = await startRun(w);
    // The person's edit, in one transaction, while the pass writes batch after batch.
    const db = new Database(w.path('crm.db'), { timeout: 20_000 });
    db.prepare(`UPDATE people SET job_title = 'By hand', modified_at = ?`).run(now());
    db.close();
    const pass = await child;
    expect(pass.exitCode, String(pass.stderr)).toBe(0);

    for (let i = 0; i < 2; i++) expect((await w.run('run')).exitCode).toBe(0);
    const lost = s.crm.all<{ email: string }>(`SELECT email FROM people WHERE job_title IS NOT 'By hand'`);
    expect(lost.length, `person edits overwritten, e.g. ${lost.slice(0, 3).map((r) => r.email).join(', ')}`).toBe(0);
    expect(s.csv().filter((r) => r.jobtitle !== 'By hand')).toHaveLength(0);
  });

  it('rows another program appends to the CSV while the pass rewrites it are all kept and synced', async () => {
    const w = workspace();
    const s = crmCsv(w, { people: range(0, 20_000) });
    expect((await w.run('run')).exitCode).toBe(0);
    // A change to every row in the CRM: the pass rewrites the CSV batch after batch.
    s.crm.run(`UPDATE people SET job_title = 'Changed', modified_at = ?`, now());

    const { child } = await startRun(w);
    const appended: string[] = [];
    let running = true;
    void child.then(() => { running = false; });
    for (let i = 0; running && i < 400; i++) {
      const email = `appended${i}@example.com`;
      appendFileSync(w.path(s.csvFile), `${900_000 + i},${email},App,Ended,Writer\n`);
      appended.push(email);
      await sleep(2);
    }
    const pass = await child;
    expect(pass.exitCode, String(pass.stderr)).toBe(0);
    expect(appended.length).toBeGreaterThan(0);

    expect((await w.run('run')).exitCode).toBe(0);
    const csvEmails = new Set(s.csv().map((r) => r.email));
    const missing = appended.filter((e) => !csvEmails.has(e));
    expect(missing.length, `appended rows lost from the CSV, e.g. ${missing.slice(0, 3).join(', ')}`).toBe(0);
    const crmEmails = new Set(s.emails());
    expect(appended.filter((e) => !crmEmails.has(e))).toEqual([]);
    expect(duplicates(s.emails())).toEqual([]);
    expect(s.csv().filter((r) => r.email!.startsWith('p') && r.jobtitle !== 'Changed')).toHaveLength(0);
  });
});
