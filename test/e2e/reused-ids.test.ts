/**
 * Reused ids and records that vanish and come back (issue 14.3, 14.4): SQLite
 * hands a deleted row's id to the next row (no AUTOINCREMENT), the CSV
 * connector continues after the largest id, ETL jobs reload tables with the
 * same ids, and exports are read half-written.
 */
import { describe, expect, it } from 'vitest';
import { crmCsv, CSV_HEADER, duplicates, insertPeople, now, person, stateRows } from './crm-csv.js';
import { side, total, useWorkspaces, type Workspace } from './support.js';

const workspace = useWorkspaces();
const range = (from: number, to: number) => Array.from({ length: to - from }, (_, k) => person(from + k));
const liveLinks = (w: Workspace) => stateRows<{ n: number }>(w.path('.datasync', 'state.db'), 'SELECT count(*) AS n FROM links WHERE deleted IS NULL')[0]!.n;

describe('reused ids', () => {
  it('a CSV id handed out again after its row was deleted: the new record is created and linked once, no crash', async () => {
    const w = workspace();
    const s = crmCsv(w, { people: range(0, 5) });
    expect((await w.runJson()).exitCode).toBe(0);
    const rows = s.csv();
    w.writeCsv(s.csvFile, CSV_HEADER, rows.filter((r) => r.id !== '5'));
    const second = await w.runJson();
    expect(side(second.json, 'contacts', 'exp')).toMatchObject({ deleted: 1 });

    insertPeople(w.path('crm.db'), [{ email: 'new@example.com', first_name: 'New' }], now());
    const third = await w.runJson();
    expect(third.exitCode, third.stderr).toBe(0);
    expect(side(third.json, 'contacts', 'exp').created).toBe(1);
    expect(s.csv().find((r) => r.email === 'new@example.com')?.id).toBe('5'); // the reused id

    const fourth = await w.runJson();
    expect(fourth.exitCode, fourth.stderr).toBe(0);
    expect(total(fourth.json, 'created')).toBe(0);
    expect(s.csv()).toHaveLength(5);
    expect(duplicates(s.csv().map((r) => r.email!))).toEqual([]);
    expect(s.crm.count('people')).toBe(6);
  });

  it('a SQLite row given the id of a deleted one is a new record, and is synced', async () => {
    const w = workspace();
    const s = crmCsv(w, { people: range(0, 5) });
    expect((await w.runJson()).exitCode).toBe(0);
    s.crm.run('DELETE FROM people WHERE id = 5');
    expect(side((await w.runJson()).json, 'contacts', 'crm').deleted).toBe(1);

    insertPeople(w.path('crm.db'), [{ email: 'reused@example.com', first_name: 'Reused' }], now());
    expect(s.crm.one<{ id: number }>(`SELECT id FROM people WHERE email = 'reused@example.com'`)!.id).toBe(5);
    const third = await w.runJson();
    expect(third.exitCode, third.stderr).toBe(0);
    expect(side(third.json, 'contacts', 'exp').created).toBe(1);
    expect(s.csv().find((r) => r.email === 'reused@example.com')).toMatchObject({ firstname: 'Reused' });
    // The deleted record's partner is still not re-created, nor linked to the newcomer.
    expect(s.csv().find((r) => r.email === 'p4@example.com')).toBeDefined();
    expect(s.crm.one(`SELECT 1 FROM people WHERE email = 'p4@example.com'`)).toBeUndefined();
    const fourth = await w.runJson();
    expect(total(fourth.json, 'created')).toBe(0);
    expect(fourth.exitCode).toBe(0);
  });

  it('a CSV row a person adds with the id of a deleted row is synced', async () => {
    const w = workspace();
    const s = crmCsv(w, { people: range(0, 5) });
    expect((await w.runJson()).exitCode).toBe(0);
    const rows = s.csv();
    w.writeCsv(s.csvFile, CSV_HEADER, rows.filter((r) => r.id !== '3'));
    expect(side((await w.runJson()).json, 'contacts', 'exp').deleted).toBe(1);

    w.writeCsv(s.csvFile, CSV_HEADER, [...rows.filter((r) => r.id !== '3'), { id: 3, email: 'typed@example.com', firstname: 'Typed' }]);
    const third = await w.runJson();
    expect(third.exitCode, third.stderr).toBe(0);
    expect(side(third.json, 'contacts', 'crm').created).toBe(1);
    expect(s.crm.one(`SELECT first_name FROM people WHERE email = 'typed@example.com'`)).toEqual({ first_name: 'Typed' });
  });
});

describe('records that vanish and come back', () => {
  it('a half-written CSV export marks nothing deleted (the pass says why, health shows it); the whole file later syncs its edits', async () => {
    const w = workspace();
    const s = crmCsv(w, { people: range(0, 50) });
    expect((await w.runJson()).exitCode).toBe(0);
    const full = s.csv();
    w.writeCsv(s.csvFile, CSV_HEADER, full.slice(0, 5));

    const half = await w.run('run');
    expect(half.exitCode, half.stderr).toBe(0);
    expect(half.stdout).toMatch(/45 of 50 linked records .*not listed/);
    expect(half.stdout).toMatch(/nothing was marked deleted/);
    expect(liveLinks(w)).toBe(50);
    const health = await w.run('health');
    expect(health.stdout).toMatch(/45 of 50 linked records/);

    w.writeCsv(s.csvFile, CSV_HEADER, full.map((r) => (r.email === 'p40@example.com' ? { ...r, jobtitle: 'Architect' } : r)));
    const whole = await w.runJson();
    expect(whole.exitCode).toBe(0);
    expect(total(whole.json, 'deleted')).toBe(0);
    expect(s.crm.one(`SELECT job_title FROM people WHERE email = 'p40@example.com'`)).toEqual({ job_title: 'Architect' });
    expect((await w.run('health')).stdout).not.toMatch(/not listed/);
  });

  it('the CSV change listing: a pass reads only the rows edited, finds the rows removed deleted, and a suspect share is reported again until settled', async () => {
    const w = workspace();
    const s = crmCsv(w, { people: range(0, 50) });
    expect((await w.runJson()).exitCode).toBe(0);
    const full = s.csv();
    w.writeCsv(s.csvFile, CSV_HEADER, full.filter((r) => r.email !== 'p7@example.com' && r.email !== 'p8@example.com')
      .map((r) => (r.email === 'p9@example.com' ? { ...r, jobtitle: 'Architect' } : r)));
    const edited = await w.runJson();
    expect(edited.exitCode, edited.stderr).toBe(0);
    expect(side(edited.json, 'contacts', 'exp')).toMatchObject({ read: 1, deleted: 2 });
    expect(s.crm.one(`SELECT job_title FROM people WHERE email = 'p9@example.com'`)).toEqual({ job_title: 'Architect' });

    // Half the rows gone at once: suspect, on every pass while it lasts (the cursor stays), nothing marked deleted.
    w.writeCsv(s.csvFile, CSV_HEADER, s.csv().slice(0, 5));
    for (let pass = 1; pass <= 2; pass++) {
      const half = await w.run('run');
      expect(half.exitCode, half.stderr).toBe(0);
      expect(half.stdout, `pass ${pass}`).toMatch(/43 of 48 linked records .*not listed/);
    }
    expect(liveLinks(w)).toBe(48);
  });

  it('a SQLite table reloaded with the same ids (DELETE, then re-insert) keeps its links, and later edits flow', async () => {
    const w = workspace();
    const s = crmCsv(w, { people: range(0, 50).map((p, i) => ({ ...p, id: i + 1 })) });
    expect((await w.runJson()).exitCode).toBe(0);
    s.crm.run('DELETE FROM people');
    const empty = await w.runJson();
    expect(empty.exitCode).toBe(0);
    expect(total(empty.json, 'deleted')).toBe(0);

    insertPeople(w.path('crm.db'), range(0, 50).map((p, i) => ({ ...p, id: i + 1 })));
    const reloaded = await w.runJson();
    expect(total(reloaded.json, 'deleted') + total(reloaded.json, 'created')).toBe(0);
    s.crm.run(`UPDATE people SET job_title = 'Manager', modified_at = ? WHERE id = 7`, now());
    const edited = await w.runJson();
    expect(edited.exitCode).toBe(0);
    expect(s.csv().find((r) => r.email === 'p6@example.com')).toMatchObject({ jobtitle: 'Manager' });
    expect(liveLinks(w)).toBe(50);
  });

  it('a record deleted, then back with its id and an edit, revives its link: the edit flows, nothing is created', async () => {
    const w = workspace();
    const s = crmCsv(w, { people: range(0, 20) });
    expect((await w.runJson()).exitCode).toBe(0);
    s.crm.run('DELETE FROM people WHERE id = 3');
    expect(side((await w.runJson()).json, 'contacts', 'crm').deleted).toBe(1);

    insertPeople(w.path('crm.db'), [{ ...person(2), id: 3, job_title: 'Returned' }], now());
    const back = await w.runJson();
    expect(back.exitCode, back.stderr).toBe(0);
    expect(total(back.json, 'created')).toBe(0);
    expect(s.csv().find((r) => r.email === 'p2@example.com')).toMatchObject({ jobtitle: 'Returned' });
    expect(liveLinks(w)).toBe(20);
    s.crm.run(`UPDATE people SET job_title = 'Again', modified_at = ? WHERE id = 3`, now());
    await w.runJson();
    expect(s.csv().find((r) => r.email === 'p2@example.com')).toMatchObject({ jobtitle: 'Again' });
  });
});
