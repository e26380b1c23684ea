/**
 * Issue 14 point 8: integers above 2^53 arrive digit for digit (a double
 * rounds 12345678901234567 to …568), rows with such ids are read, and an
 * INTEGER id column that holds text does not hand every new row id 1.
 */
import { describe, expect, it } from 'vitest';
import { OLD, now, useWorkspaces, type Workspace } from './support.js';

const workspace = useWorkspaces();

function config(w: Workspace, direction = 'two-way') {
  w.writeConfig({
    connections: {
      crm: { app: 'sqlite', path: './crm.db', objects: { contacts: { table: 'people', id: 'id', updated_at: 'modified_at' } } },
      exp: { app: 'csv', objects: { contacts: { file: 'contacts.csv', id: 'id' } } },
    },
    syncs: [{
      name: 'contacts', object: 'contacts', between: ['crm', 'exp'], direction, default_app: 'crm',
      mappings: { fields: [{ crm: 'score', exp: 'score' }] },
    }],
  });
}

describe('integers above 2^53', () => {
  it('a row with such an id is read, and such a value reaches the other app digit for digit', async () => {
    const w = workspace();
    const crm = w.sqlite('crm.db', 'CREATE TABLE people (id INTEGER PRIMARY KEY, email TEXT, first_name TEXT, score INTEGER, modified_at TEXT)');
    crm.exec(`INSERT INTO people VALUES (12345678901234567, 'big@example.com', 'Big', 98765432109876543, '${OLD}')`);
    crm.exec(`INSERT INTO people VALUES (5, 'small@example.com', 'Small', 7, '${OLD}')`);
    w.writeCsv('contacts.csv', ['id', 'email', 'firstname', 'score']);
    config(w, 'crm -> exp');
    const r = await w.runJson();
    expect(r.exitCode, r.stderr).toBe(0);
    const rows = w.readCsv('contacts.csv');
    expect(rows.map((x) => [x.email, x.score]).sort()).toEqual([['big@example.com', '98765432109876543'], ['small@example.com', '7']]);
    const state = w.sqlite('.datasync/state.db');
    expect(state.all<{ a_id: string }>('SELECT a_id FROM links ORDER BY a_id').map((l) => l.a_id)).toEqual(['12345678901234567', '5']);

    // An edit of the big row is read from the cursor too, and a second run is quiet.
    crm.run('UPDATE people SET first_name = ?, modified_at = ? WHERE id = 12345678901234567', 'Bigger', now());
    const again = await w.runJson();
    expect(again.exitCode, again.stderr).toBe(0);
    expect(w.readCsv('contacts.csv').find((x) => x.email === 'big@example.com')?.firstname).toBe('Bigger');
    const quiet = await w.runJson();
    expect(quiet.json.syncs[0]!.sides.map((s) => s.updated + s.created)).toEqual([0, 0]);
  });

  it('a value above 2^53 from the CSV is written into an INTEGER column exactly', async () => {
    const w = workspace();
    const crm = w.sqlite('crm.db', 'CREATE TABLE people (id INTEGER PRIMARY KEY, email TEXT, first_name TEXT, score INTEGER, modified_at TEXT)');
    w.writeCsv('contacts.csv', ['id', 'email', 'firstname', 'score'], [{ id: 1, email: 'cy@example.com', firstname: 'Cy', score: '12345678901234567' }]);
    w.writeConfig({
      connections: {
        crm: { app: 'sqlite', path: './crm.db', objects: { contacts: { table: 'people', id: 'id', updated_at: 'modified_at' } } },
        exp: { app: 'csv', objects: { contacts: { file: 'contacts.csv', id: 'id', fields: { score: { type: 'number' } } } } },
      },
      syncs: [{
        name: 'contacts', object: 'contacts', between: ['crm', 'exp'], direction: 'exp -> crm', default_app: 'exp',
        mappings: { fields: [{ crm: 'score', exp: 'score' }] },
      }],
    });
    const r = await w.runJson();
    expect(r.exitCode, r.stderr + r.stdout).toBe(0);
    expect(crm.one<{ s: string }>("SELECT CAST(score AS TEXT) AS s FROM people WHERE email = 'cy@example.com'")?.s).toBe('12345678901234567');
  });
});

describe('an INTEGER id column holding text', () => {
  it('new rows get distinct integer ids, not id 1 each (and no crash)', async () => {
    const w = workspace();
    // `INT PRIMARY KEY` is no rowid alias: the column can hold text.
    const crm = w.sqlite('crm.db', 'CREATE TABLE people (id INT PRIMARY KEY, email TEXT, first_name TEXT, score INTEGER, modified_at TEXT)');
    crm.exec(`INSERT INTO people VALUES ('abc', 'text@example.com', 'Text', NULL, '${OLD}')`);
    w.writeCsv('contacts.csv', ['id', 'email', 'firstname', 'score'], [
      { id: 1, email: 'one@example.com', firstname: 'One' }, { id: 2, email: 'two@example.com', firstname: 'Two' },
      { id: 3, email: 'three@example.com', firstname: 'Three' },
    ]);
    config(w);
    const r = await w.runJson();
    expect(r.exitCode, r.stderr + r.stdout).toBe(0);
    const ids = crm.all<{ id: unknown }>("SELECT id FROM people WHERE id <> 'abc'").map((x) => x.id);
    expect(new Set(ids).size).toBe(3);
    for (const id of ids) expect(typeof id).toBe('number');
    expect(crm.count('people')).toBe(4);
  });
});
