/**
 * Issue 14 point 7: a poisoned cursor. One row with a change time far in the
 * future (`modified_at = 9999-12-31`) must not move the cursor past now, or
 * every later edit is never read; datasync must not write that date into
 * rows itself; `health` warns about the row.
 */
import { describe, expect, it } from 'vitest';
import { OLD, now, useWorkspaces, type Workspace } from './support.js';

const workspace = useWorkspaces();

function setup(w: Workspace) {
  const crm = w.sqlite('crm.db', 'CREATE TABLE people (id INTEGER PRIMARY KEY, email TEXT, first_name TEXT, modified_at TEXT)');
  crm.insert('people', [
    { id: 1, email: 'ann@example.com', first_name: 'Ann', modified_at: OLD },
    { id: 2, email: 'bo@example.com', first_name: 'Bo', modified_at: '9999-12-31T00:00:00.000Z' },
  ]);
  w.writeCsv('contacts.csv', ['id', 'email', 'firstname'], [{ id: 7, email: 'cy@example.com', firstname: 'Cy' }]);
  w.writeConfig({
    connections: {
      crm: { app: 'sqlite', path: './crm.db', objects: { contacts: { table: 'people', id: 'id', updated_at: 'modified_at' } } },
      exp: { app: 'csv', objects: { contacts: { file: 'contacts.csv', id: 'id' } } },
    },
    syncs: [{ name: 'contacts', object: 'contacts', between: ['crm', 'exp'], direction: 'two-way', default_app: 'crm' }],
  });
  return crm;
}

describe('a change time in the future', () => {
  it('does not move the cursor past now: later edits are still read, and datasync writes no future date', async () => {
    const w = workspace();
    const crm = setup(w);
    const first = await w.run('run');
    expect(first.exitCode, first.stderr).toBe(0);
    expect(first.stdout).toMatch(/crm: row 2 .*9999-12-31/);
    expect(w.readCsv('contacts.csv').map((r) => r.email).sort()).toEqual(['ann@example.com', 'bo@example.com', 'cy@example.com']);

    // A person edits Ann now: the edit must flow although a row claims to be from the year 9999.
    crm.run('UPDATE people SET first_name = ?, modified_at = ? WHERE id = 1', 'Anna', now());
    const second = await w.run('run');
    expect(second.exitCode, second.stderr).toBe(0);
    expect(w.readCsv('contacts.csv').find((r) => r.email === 'ann@example.com')?.firstname).toBe('Anna');

    // Rows datasync writes get a time near now, never after the poisoned row's.
    const rows = crm.all<{ email: string; modified_at: string }>('SELECT email, modified_at FROM people WHERE id <> 2');
    for (const r of rows) expect(Date.parse(r.modified_at), `${r.email}: ${r.modified_at}`).toBeLessThan(Date.now() + 60_000);

    const h = await w.run('health', '--json');
    const report = JSON.parse(h.stdout) as { syncs: { warnings?: string[] }[] };
    expect(report.syncs[0]!.warnings?.join('\n')).toMatch(/crm.*row 2.*9999-12-31/);
    const text = await w.run('health');
    expect(text.stdout).toMatch(/9999-12-31/);
  });
});
