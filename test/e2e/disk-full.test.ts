/**
 * A full disk (issue 14.1): the CSV lives on a 1 MB tmpfs, and a run that
 * needs more room than is left must leave the old file and the state
 * untouched and exit 3 with the reason; once there is room, the next run
 * finishes the job without a duplicate.
 */
import { describe, expect, it } from 'vitest';
import { crmCsv, duplicates, insertPeople, person, stateRows } from './crm-csv.js';
import { useMounts } from './mounts.js';
import { useWorkspaces } from './support.js';

const workspace = useWorkspaces();
const { mountTmpfs, remount } = useMounts();

const range = (from: number, to: number) => Array.from({ length: to - from }, (_, k) => person(from + k));

describe('a full disk', () => {
  it('a CSV rewrite that does not fit leaves the old file and the state as they were, exit 3; with room again, no row is lost or doubled', async () => {
    const w = workspace();
    await mountTmpfs(w.path('small'), '1m');
    // ~350 KB of CSV on the 1 MB disk, then ~400 KB more: the new file
    // (~750 KB, written once for the whole pass) does not fit beside the old one.
    const s = crmCsv(w, { people: range(0, 7000), csvFile: 'small/contacts.csv' });
    const first = await w.run('run');
    expect(first.exitCode, first.stderr).toBe(0);
    expect(s.csv()).toHaveLength(7000);
    const before = w.bytes('small/contacts.csv');
    const state = w.path('.datasync', 'state.db');
    const linksBefore = stateRows<{ n: number }>(state, 'SELECT count(*) AS n FROM links')[0]!.n;

    insertPeople(w.path('crm.db'), range(7000, 15000), new Date().toISOString());
    const full = await w.run('run');

    expect(full.exitCode, full.stdout + full.stderr).toBe(3);
    const said = full.stdout + full.stderr;
    expect(said).toMatch(/contacts\.csv/);
    expect(said).toMatch(/no space|disk is full|ENOSPC/i);
    // The rewrite that did not fit left the file as it was (write batches saved before it, whole).
    const after = w.bytes('small/contacts.csv');
    expect(after.subarray(0, before.length).equals(before), 'the rows from before the run are intact').toBe(true);
    const rows = s.csv();
    expect(rows.length).toBeLessThan(15000);
    expect(rows.every((r) => /^p\d+@example\.com$/.test(r.email!) && r.jobtitle === 'Engineer'), 'no row cut short').toBe(true);
    // The state links exactly the rows the file holds: none that the failed write did not save.
    const linked = stateRows<{ b_id: string }>(state, 'SELECT b_id FROM links').map((l) => l.b_id).sort();
    expect(linked.length).toBeGreaterThanOrEqual(linksBefore);
    expect(linked).toEqual(rows.map((r) => r.id!).sort());

    await remount(w.path('small'), 'size=8m');
    const again = await w.run('run');
    expect(again.exitCode, again.stderr).toBe(0);
    const final = s.csv();
    expect(final).toHaveLength(15000);
    expect(duplicates(final.map((r) => r.email!))).toEqual([]);
    expect(s.crm.count('people')).toBe(15000);
    expect(duplicates(s.emails())).toEqual([]);
  });
});
