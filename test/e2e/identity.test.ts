/**
 * Links belong to what each side points at (issue 14.2): a reordered
 * `between:` or a connection pointed at another database is refused (exit 2,
 * both apps untouched); `stop --delete` starts the sync over.
 */
import { describe, expect, it } from 'vitest';
import { crmCsv, insertPeople, PEOPLE, person } from './crm-csv.js';
import { useWorkspaces } from './support.js';

const workspace = useWorkspaces();
const range = (from: number, to: number) => Array.from({ length: to - from }, (_, k) => person(from + k));

describe('the identity of each side', () => {
  it('a reordered between: is refused before anything is written', async () => {
    const w = workspace();
    const s = crmCsv(w, { people: range(0, 5) });
    expect((await w.run('run')).exitCode).toBe(0);
    const csvBefore = w.bytes(s.csvFile);
    w.writeText('sync.yaml', w.readText('sync.yaml').replace(/- crm\n(\s+)- exp/, '- exp\n$1- crm'));
    expect(w.readText('sync.yaml')).toMatch(/- exp\n\s+- crm/);

    const r = await w.run('run');
    expect(r.exitCode, r.stdout + r.stderr).toBe(2);
    expect(r.stderr).toMatch(/between: is now \[exp, crm\].*made as \[crm, exp\]/);
    expect(w.bytes(s.csvFile).equals(csvBefore)).toBe(true);
  });

  it('a connection pointed at another database is refused; stop --delete starts over and matches again', async () => {
    const w = workspace();
    const s = crmCsv(w, { people: range(0, 5) });
    expect((await w.run('run')).exitCode).toBe(0);
    // Another database with other people under the same ids.
    w.sqlite('other.db', PEOPLE);
    insertPeople(w.path('other.db'), range(100, 105).map((p, i) => ({ ...p, id: i + 1, job_title: 'Other' })));
    s.config('other.db');
    const csvBefore = w.bytes(s.csvFile);

    const r = await w.run('run');
    expect(r.exitCode, r.stdout + r.stderr).toBe(2);
    expect(r.stderr).toMatch(/connection crm now points at sqlite:.*other\.db, but its links and cursors belong to sqlite:.*crm\.db/);
    expect(w.bytes(s.csvFile).equals(csvBefore)).toBe(true);

    expect((await w.run('stop', 'contacts', '--delete', '--yes')).exitCode).toBe(0);
    await w.run('start', 'contacts');
    const again = await w.run('run');
    expect(again.exitCode, again.stdout + again.stderr).toBe(0);
    // Matched by email afresh: the old rows were not overwritten with the other database's people.
    expect(s.csv().filter((r) => r.email!.startsWith('p') && Number(r.email!.slice(1).split('@')[0]) < 5)).toHaveLength(5);
    expect(s.csv().find((r) => r.email === 'p0@example.com')?.jobtitle).toBe('Engineer');
  });
});
