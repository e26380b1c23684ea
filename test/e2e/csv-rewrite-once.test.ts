/**
 * Files stream (issue 15): a pass rewrites a CSV file once for all its write
 * batches, not once per batch (an initial sync of a million contacts wrote
 * 11.7 GB that way). Every rewrite goes through a temp file of its own name
 * beside the file; the folder is watched (inotify: the kernel queues every
 * event, none is missed), and the distinct temp names are the rewrites.
 * The rows a pass creates wait for the rewrite in a temp file of their own
 * (`.spill`), never in memory.
 */
import { readdirSync, watch } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { crmCsv, insertPeople, now, person } from './crm-csv.js';
import { useWorkspaces, type Workspace } from './support.js';

const workspace = useWorkspaces();
const range = (from: number, to: number) => Array.from({ length: to - from }, (_, k) => person(from + k));

/** Runs `datasync run` and answers how many temp files of `file` were made meanwhile (`spills`: of rows created). */
async function rewritesDuringRun(w: Workspace, file: string, spills = new Set<string>()): Promise<number> {
  const temps = new Set<string>();
  const watcher = watch(w.dir, (_event, name) => {
    if (name && name.startsWith(`.${file}.`) && name.endsWith('.tmp')) temps.add(name);
    if (name && name.startsWith(`.${file}.`) && name.endsWith('.spill')) spills.add(name);
  });
  try {
    const r = await w.run('run');
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    // Let the watcher take the last events.
    await new Promise((done) => setTimeout(done, 200));
  } finally {
    watcher.close();
  }
  return temps.size;
}

describe('a CSV file is rewritten once per pass', () => {
  it('an initial sync of 12,000 contacts in ten write batches, then a pass with edits on both sides: one rewrite each', async () => {
    const w = workspace();
    const s = crmCsv(w, { people: range(0, 12_000) });
    const spills = new Set<string>();
    expect(await rewritesDuringRun(w, s.csvFile, spills)).toBe(1);
    expect(s.csv()).toHaveLength(12_000);
    expect(spills.size, 'the 12,000 rows created waited in one temp file').toBe(1);
    expect(readdirSync(w.dir).filter((f) => f.startsWith(`.${s.csvFile}.`)), 'no temp file left').toEqual([]);

    // 1% edited on each side, and new contacts in the CRM.
    s.crm.run(`UPDATE people SET job_title = 'Edited in CRM', modified_at = ? WHERE id % 100 = 0`, now());
    insertPeople(w.path('crm.db'), range(12_000, 14_000), now());
    const rows = s.csv().map((r) => (Number(r.id) % 100 === 1 ? { ...r, jobtitle: 'Edited in CSV' } : r));
    w.writeCsv(s.csvFile, Object.keys(rows[0]!), rows);
    expect(await rewritesDuringRun(w, s.csvFile)).toBe(1);

    const after = s.csv();
    expect(after).toHaveLength(14_000);
    expect(after.filter((r) => r.jobtitle === 'Edited in CRM')).toHaveLength(120);
    expect(s.crm.count('people')).toBe(14_000);
    expect(s.crm.all(`SELECT id FROM people WHERE job_title = 'Edited in CSV'`)).toHaveLength(120);
    // Nothing left to do: a pass after it rewrites nothing.
    expect(await rewritesDuringRun(w, s.csvFile)).toBe(0);
  });
});
