/**
 * Issue 13 point 20: `datasync validate` checks the YAML, the connections
 * and the mappings and touches no record; `datasync doctor` adds the state
 * file, tables without a change cursor, default mappings over reference
 * columns and duplicate syncs, each with what to do.
 */
import { describe, expect, it } from 'vitest';
import { hashTree } from '../robustness/support.js';
import { explain, OLD, useWorkspaces, type Workspace } from './support.js';

const workspace = useWorkspaces();

function setup(w: Workspace, syncs: Record<string, unknown>[], people: Record<string, unknown> = { table: 'people', updated_at: 'modified_at' }) {
  const crm = w.sqlite('crm.db', `CREATE TABLE people (id INTEGER PRIMARY KEY, email TEXT, first_name TEXT, company_id INTEGER, modified_at TEXT)`);
  crm.insert('people', [{ email: 'a@example.com', first_name: 'A', company_id: 7, modified_at: OLD }]);
  w.writeCsv('contacts.csv', ['id', 'email', 'firstname', 'company_id'], [{ id: 1, email: 'b@example.com', firstname: 'B', company_id: 3 }]);
  w.writeConfig({
    connections: {
      crm: { app: 'sqlite', path: './crm.db', objects: { contacts: people } },
      exp: { app: 'csv', objects: { contacts: { file: 'contacts.csv' } } },
    },
    syncs,
  });
}

const CONTACTS = { name: 'contacts', object: 'contacts', between: ['crm', 'exp'], direction: 'two-way' };

interface DoctorJson { version: number; exitCode: number; findings: Array<{ level: string; check: string; message: string; fix?: string }> }

describe('datasync validate (issue 13.20)', () => {
  it('checks config, connections and mappings, and reads or writes nothing else', async () => {
    const w = workspace();
    setup(w, [CONTACTS]);
    const before = hashTree(w.dir);
    const r = await w.run('validate');
    expect(r.exitCode, explain(r)).toBe(0);
    expect(r.stdout).toMatch(/configuration is valid/);
    expect(r.stdout).toMatch(/connection crm \(sqlite\)/);
    expect(r.stdout).toMatch(/sync contacts: .*mapped field/);
    expect(hashTree(w.dir)).toEqual(before);
    expect(w.exists('.datasync')).toBe(false);
    const j = await w.run('validate', '--json');
    expect(j.exitCode).toBe(0);
    expect(JSON.parse(j.stdout)).toMatchObject({ version: 1, valid: true, syncs: [{ name: 'contacts' }] });
  });

  it('a mapping of a field the app does not have is exit 2, as run would say', async () => {
    const w = workspace();
    setup(w, [{ ...CONTACTS, mappings: { fields: [{ crm: 'no_such_column', exp: 'firstname' }] } }]);
    const before = hashTree(w.dir);
    const r = await w.run('validate');
    expect(r.exitCode, explain(r)).toBe(2);
    expect(r.stderr).toMatch(/no_such_column/);
    expect(hashTree(w.dir)).toEqual(before);
  });
});

describe('datasync doctor (issue 13.20)', () => {
  it('shows a duplicate sync as a problem with what to do (exit 2)', async () => {
    const w = workspace();
    setup(w, [CONTACTS, { ...CONTACTS, name: 'contacts-again', between: ['exp', 'crm'] }]);
    const r = await w.run('doctor', '--json');
    expect(r.exitCode, explain(r)).toBe(2);
    const report = JSON.parse(r.stdout) as DoctorJson;
    const dup = report.findings.filter((f) => f.check === 'duplicate-sync');
    expect(dup).toHaveLength(1);
    expect(dup[0]).toMatchObject({ level: 'problem' });
    expect(dup[0]?.message).toMatch(/sync\.yaml:\d+:\d+: sync "contacts-again" .*sync "contacts"/);
    expect(dup[0]?.fix).toMatch(/keep one sync/);
  });

  it('finds a table without a change cursor and a default mapping over a reference column, each with what to do', async () => {
    const w = workspace();
    // A custom mapping of the reference column (the defaults leave reference columns out once they can tell them).
    setup(w, [{ ...CONTACTS, mappings: { fields: [{ crm: 'company_id', exp: 'company_id' }] } }], { table: 'people' });
    const before = hashTree(w.dir);
    const r = await w.run('doctor', '--json');
    const report = JSON.parse(r.stdout) as DoctorJson;
    expect(r.exitCode, explain(r)).toBe(0);
    expect(report.exitCode).toBe(0);
    const by = (check: string) => report.findings.filter((f) => f.check === check);
    expect(by('change-cursor').map((f) => f.message).join('\n')).toMatch(/crm\.contacts has no change cursor/);
    expect(by('change-cursor')[0]?.fix).toMatch(/updated_at/);
    expect(by('reference-mapping')[0]?.message).toMatch(/company_id ↔ .*company_id/);
    expect(by('state')[0]?.message).toMatch(/no state file yet/);
    for (const f of report.findings.filter((x) => x.level !== 'ok')) expect(f.fix, f.message).toBeTruthy();
    expect(hashTree(w.dir)).toEqual(before);

    const text = await w.run('doctor');
    expect(text.exitCode).toBe(0);
    expect(text.stdout).toMatch(/what to do: /);
  });

  it('checks the state file once there is one, and a clean set-up has nothing to fix', async () => {
    const w = workspace();
    setup(w, [{ ...CONTACTS, mappings: { defaults: false, fields: [{ crm: 'email', exp: 'email' }, { crm: 'first_name', exp: 'firstname' }] } }]);
    expect((await w.run('run')).exitCode).toBe(0);
    const r = await w.run('doctor', '--json');
    expect(r.exitCode, explain(r)).toBe(0);
    const report = JSON.parse(r.stdout) as DoctorJson;
    expect(report.findings.find((f) => f.check === 'state')?.message).toMatch(/readable and intact/);
    expect(report.findings.filter((f) => f.level === 'problem')).toEqual([]);
    w.writeText('.datasync/state.db', 'not a database at all');
    const broken = await w.run('doctor', '--json');
    expect(broken.exitCode).toBe(2);
    expect((JSON.parse(broken.stdout) as DoctorJson).findings.find((f) => f.check === 'state')).toMatchObject({ level: 'problem' });
  });
});
