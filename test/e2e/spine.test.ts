/**
 * The spine end to end (issue 2): `datasync run` keeping a SQLite "CRM"
 * (connection crm) and a CSV export (connection exp) in step.
 */
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { OLD, now, side, total, useWorkspaces, type Workspace } from './support.js';

const workspace = useWorkspaces();

const PEOPLE = `CREATE TABLE people (id INTEGER PRIMARY KEY, email TEXT, first_name TEXT, last_name TEXT,
  job_title TEXT, modified_at TEXT)`;
const CSV_HEADER = ['id', 'email', 'firstname', 'lastname', 'jobtitle'];

interface Person { email: string | null; first_name?: string | null; last_name?: string | null; job_title?: string | null }
type CsvRow = Record<string, string | number | null>;

/** crm.db (table people), contacts.csv and a two-way contacts sync with crm as the default app. */
function setup(w: Workspace, opts: { people?: Person[]; csv?: CsvRow[]; sync?: Record<string, unknown>; schema?: string } = {}) {
  const crm = w.sqlite('crm.db', opts.schema ?? PEOPLE);
  crm.insert('people', (opts.people ?? []).map((p) => ({ modified_at: OLD, ...p })));
  w.writeCsv('contacts.csv', CSV_HEADER, opts.csv ?? []);
  w.writeConfig({
    connections: {
      crm: { app: 'sqlite', path: './crm.db', objects: { contacts: { table: 'people', id: 'id', updated_at: 'modified_at' } } },
      exp: { app: 'csv', objects: { contacts: { file: 'contacts.csv', id: 'id' } } },
    },
    syncs: [{ name: 'contacts', object: 'contacts', between: ['crm', 'exp'], direction: 'two-way', default_app: 'crm', ...opts.sync }],
  });
  const person = (email: string) => crm.one<Record<string, unknown>>('SELECT * FROM people WHERE lower(email) = lower(?)', email);
  /** Changes a crm row the way an app does: the fields and its change time. */
  const editCrm = (email: string, fields: Record<string, unknown>) => {
    const cols = Object.keys(fields);
    crm.run(`UPDATE people SET ${cols.map((c) => `${c} = ?`).join(', ')}, modified_at = ? WHERE lower(email) = lower(?)`,
      ...Object.values(fields), now(), email);
  };
  const contact = (email: string) => w.readCsv('contacts.csv').find((r) => (r.email ?? '').trim().toLowerCase() === email.toLowerCase());
  const editCsv = (email: string, fields: Record<string, string>) => {
    const rows = w.readCsv('contacts.csv');
    const row = rows.find((r) => (r.email ?? '').trim().toLowerCase() === email.toLowerCase());
    if (!row) throw new Error(`no CSV contact ${email}`);
    Object.assign(row, fields);
    w.writeCsv('contacts.csv', Object.keys(rows[0]!), rows);
  };
  return { crm, person, editCrm, contact, editCsv };
}

const ANN = { email: 'ann@example.com', first_name: 'Ann', last_name: 'Lee', job_title: 'CEO' };
const BOB = { email: 'bob@example.com', first_name: 'Bob', last_name: 'Berg', job_title: 'CTO' };
const CY = { id: 9, email: 'cy@example.com', firstname: 'Cy', lastname: 'Young', jobtitle: 'Dev' };

describe('initial sync', () => {
  it.each([
    { defaultApp: 'crm', first: 'Ann', job: 'CEO' },
    { defaultApp: 'exp', first: 'Annie', job: 'Chief' },
  ])('matched records merge field by field and the default app ($defaultApp) wins differing values', async ({ defaultApp, first, job }) => {
    const w = workspace();
    const s = setup(w, {
      people: [ANN],
      csv: [{ id: 7, email: ' ANN@Example.com', firstname: 'Annie', lastname: 'Lee', jobtitle: 'Chief' }],
      sync: { default_app: defaultApp },
    });

    const { exitCode, json } = await w.runJson();

    expect(exitCode).toBe(0);
    const sync = json.syncs[0]!;
    expect(sync).toMatchObject({ outcome: 'ok', linked: 1, conflicts: 1 }); // one record with two differing fields: one conflict (issue 13.12)
    expect(total(json, 'created')).toBe(0); // matched by email (trimmed, any case), not duplicated
    expect(s.person('ann@example.com')).toMatchObject({ first_name: first, last_name: 'Lee', job_title: job });
    expect(s.contact('ann@example.com')).toMatchObject({ id: '7', firstname: first, lastname: 'Lee', jobtitle: job });
    expect(s.crm.count('people')).toBe(1);
    expect(w.readCsv('contacts.csv')).toHaveLength(1);
  });

  it('a value present on one side only fills the empty side, whichever app it is in', async () => {
    const w = workspace();
    const s = setup(w, {
      people: [{ ...ANN, job_title: null }],
      csv: [{ id: 1, email: 'ann@example.com', firstname: 'Ann', lastname: '', jobtitle: 'Designer' }],
    });

    const { exitCode, json } = await w.runJson();

    expect(exitCode).toBe(0);
    expect(json.syncs[0]!.conflicts).toBe(0);
    expect(s.person('ann@example.com')).toMatchObject({ last_name: 'Lee', job_title: 'Designer' });
    expect(s.contact('ann@example.com')).toMatchObject({ lastname: 'Lee', jobtitle: 'Designer' });
  });

  it('an empty value in the default app never clears the other app, at the first match or later', async () => {
    const w = workspace();
    const s = setup(w, {
      people: [{ ...ANN, first_name: null }],
      csv: [{ id: 1, email: 'ann@example.com', firstname: 'Annie', lastname: 'Lee', jobtitle: 'CEO' }],
    });
    expect((await w.runJson()).exitCode).toBe(0);
    expect(s.contact('ann@example.com')).toMatchObject({ firstname: 'Annie' });

    // Later: the default app clears a field, and clears another that the export changed meanwhile.
    s.editCrm('ann@example.com', { job_title: null, last_name: null });
    s.editCsv('ann@example.com', { lastname: 'Lee-Smith' });
    const second = await w.runJson();

    expect(second.exitCode).toBe(0);
    expect(s.contact('ann@example.com')).toMatchObject({ firstname: 'Annie', jobtitle: 'CEO', lastname: 'Lee-Smith' });
    expect(side(second.json, 'contacts', 'exp').updated).toBe(0);
  });
});

describe('direction', () => {
  it.each([
    { direction: 'crm -> exp', source: 'crm.db', target: 'exp' },
    { direction: 'exp -> crm', source: 'contacts.csv', target: 'crm' },
  ])('a one-way sync ($direction) never writes to its source, even when the source is not the default app', async ({ direction, source, target }) => {
    const w = workspace();
    const defaultApp = target; // the default app never overrides the direction
    const s = setup(w, {
      people: [{ ...ANN, last_name: null, job_title: 'CEO' }, BOB],
      csv: [{ id: 1, email: 'ann@example.com', firstname: 'Annie', lastname: 'Lee', jobtitle: '' }, CY],
      sync: { direction, default_app: defaultApp },
    });
    const rowsBefore = s.crm.all('SELECT * FROM people ORDER BY id');
    const before = w.bytes(source);

    const first = await w.runJson();
    expect(first.exitCode).toBe(0);
    expect(w.bytes(source).equals(before)).toBe(true);
    if (source === 'crm.db') {
      expect(s.crm.all('SELECT * FROM people ORDER BY id')).toEqual(rowsBefore);
      expect(s.contact('bob@example.com')).toMatchObject({ firstname: 'Bob' }); // created in the target
      expect(s.contact('ann@example.com')).toMatchObject({ jobtitle: 'CEO' }); // filled in the target
    } else {
      expect(s.person('cy@example.com')).toMatchObject({ first_name: 'Cy', last_name: 'Young' });
      expect(s.person('ann@example.com')).toMatchObject({ last_name: 'Lee' });
    }
    expect(side(first.json, 'contacts', source === 'crm.db' ? 'crm' : 'exp')).toMatchObject({ created: 0, updated: 0 });

    // Changes in the target stay there; the source is still untouched afterwards.
    if (source === 'crm.db') s.editCsv('ann@example.com', { jobtitle: 'Founder', firstname: 'A.' });
    else s.editCrm('ann@example.com', { job_title: 'Founder', first_name: 'A.' });
    const sourceNow = w.bytes(source);
    const second = await w.runJson();
    expect(second.exitCode).toBe(0);
    expect(w.bytes(source).equals(sourceNow)).toBe(true);
    expect(total(second.json, 'created') + total(second.json, 'updated')).toBe(0);
  });
});

describe('incremental sync', () => {
  it('a change on each side flows to the other side', async () => {
    const w = workspace();
    const s = setup(w, { people: [ANN], csv: [CY] });
    expect((await w.runJson()).exitCode).toBe(0);

    s.editCrm('ann@example.com', { job_title: 'Chair' });
    s.editCsv('cy@example.com', { lastname: 'Yang' });
    const { exitCode, json } = await w.runJson();

    expect(exitCode).toBe(0);
    expect(s.contact('ann@example.com')).toMatchObject({ jobtitle: 'Chair' });
    expect(s.person('cy@example.com')).toMatchObject({ last_name: 'Yang' });
    expect(side(json, 'contacts', 'crm')).toMatchObject({ created: 0, updated: 1 });
    expect(side(json, 'contacts', 'exp')).toMatchObject({ created: 0, updated: 1 });
    expect(json.syncs[0]!.conflicts).toBe(0);
  });

  it('a field changed on both sides to different values is a conflict the default app wins', async () => {
    const w = workspace();
    const s = setup(w, { people: [ANN], csv: [] });
    expect((await w.runJson()).exitCode).toBe(0);

    s.editCrm('ann@example.com', { job_title: 'Chair' });
    s.editCsv('ann@example.com', { jobtitle: 'Owner', lastname: 'Lee-Smith' });
    const { exitCode, json } = await w.runJson();

    expect(exitCode).toBe(0);
    expect(json.syncs[0]!.conflicts).toBe(1);
    expect(s.person('ann@example.com')).toMatchObject({ job_title: 'Chair', last_name: 'Lee-Smith' });
    expect(s.contact('ann@example.com')).toMatchObject({ jobtitle: 'Chair', lastname: 'Lee-Smith' });
  });

  it('re-running after changes makes no duplicates, also for a new contact added to both apps between runs', async () => {
    const w = workspace();
    const s = setup(w, { people: [ANN, BOB], csv: [CY] });
    expect((await w.runJson()).exitCode).toBe(0);

    s.crm.insert('people', [{ email: 'dan@example.com', first_name: 'Dan', modified_at: now() }]);
    const rows = w.readCsv('contacts.csv');
    w.writeCsv('contacts.csv', CSV_HEADER, [...rows,
      { id: 90, email: 'DAN@example.com', firstname: 'Dan', lastname: 'Dahl' },
      { id: 91, email: 'eve@example.com', firstname: 'Eve' }]);
    s.editCrm('bob@example.com', { job_title: 'CIO' });
    const second = await w.runJson();
    const third = await w.runJson();

    expect([second.exitCode, third.exitCode]).toEqual([0, 0]);
    expect(total(third.json, 'created')).toBe(0);
    const emails = ['ann@example.com', 'bob@example.com', 'cy@example.com', 'dan@example.com', 'eve@example.com'];
    expect(s.crm.all<{ e: string }>('SELECT lower(email) AS e FROM people ORDER BY 1').map((r) => r.e)).toEqual(emails);
    expect(w.readCsv('contacts.csv').map((r) => (r.email ?? '').toLowerCase()).sort()).toEqual(emails);
    expect(s.person('dan@example.com')).toMatchObject({ last_name: 'Dahl' });
    expect(s.contact('bob@example.com')).toMatchObject({ jobtitle: 'CIO' });
  });

  it('a second run of an unchanged setup reports no changes', async () => {
    const w = workspace();
    setup(w, { people: [ANN, BOB], csv: [CY, { id: 2, email: 'ann@example.com', firstname: 'Annie' }] });
    expect((await w.runJson()).exitCode).toBe(0);

    const second = await w.runJson();
    const dry = await w.runJson('--dry-run');

    expect(second.exitCode).toBe(0);
    for (const key of ['created', 'updated', 'failed', 'excluded', 'deleted'] as const) expect(total(second.json, key)).toBe(0);
    expect(second.json.syncs[0]).toMatchObject({ outcome: 'ok', linked: 0, conflicts: 0 });
    expect(dry.json.syncs[0]!.plan).toEqual([]);
  });
});

describe('failures', () => {
  it('a record the app rejects is reported as failed (exit 1) while the other records sync', async () => {
    const w = workspace();
    const s = setup(w, {
      schema: `CREATE TABLE people (id INTEGER PRIMARY KEY, email TEXT, first_name TEXT, last_name TEXT NOT NULL,
        job_title TEXT CHECK (job_title IS NULL OR length(job_title) <= 12), modified_at TEXT)`,
      people: [ANN],
      csv: [
        CY,
        { id: 2, email: 'dan@example.com', firstname: 'Dan', lastname: '' }, // NOT NULL last_name
        { id: 3, email: 'eve@example.com', firstname: 'Eve', lastname: 'Ek', jobtitle: 'Head of Everything' }, // CHECK
      ],
    });

    const { exitCode, json, stderr } = await w.runJson();

    expect(stderr).toBe('');
    expect(exitCode).toBe(1);
    expect(json.exitCode).toBe(1);
    expect(json.syncs[0]!.outcome).toBe('failed-records');
    expect(total(json, 'failed')).toBe(2);
    expect(side(json, 'contacts', 'crm').created).toBe(1);
    expect(side(json, 'contacts', 'exp').created).toBe(1);
    expect(s.person('cy@example.com')).toMatchObject({ last_name: 'Young' });
    expect(s.person('dan@example.com')).toBeUndefined();
    expect(s.person('eve@example.com')).toBeUndefined();
    expect(s.contact('ann@example.com')).toMatchObject({ firstname: 'Ann' });

    // The summary for people says what to do; a re-run creates nothing twice.
    const text = await w.run('run');
    expect(text.exitCode).toBe(1);
    expect(text.stdout).toContain('2 records still failed from earlier passes; see `datasync health contacts --failed`');
    expect(s.crm.count('people')).toBe(2);
    expect(w.readCsv('contacts.csv')).toHaveLength(4);
  });

  it.each([
    {
      situation: 'a YAML syntax error',
      yaml: 'version: 1\nconnections:\n  crm:\n    app: sqlite\n    path: ./crm.db\n   objects: {}\nsyncs: []\n',
      where: 'sync.yaml:6:1: ',
    },
    {
      situation: 'a direction that names no connection',
      yaml: 'version: 1\nconnections:\n  crm: { app: sqlite, path: ./crm.db, objects: { contacts: { table: people } } }\n'
        + '  exp: { app: csv, objects: { contacts: { file: contacts.csv } } }\nsyncs:\n  - name: contacts\n    object: contacts\n'
        + '    between: [crm, exp]\n    direction: sideways\n',
      where: "sync.yaml:9:16: direction is 'sideways'",
    },
  ])('a broken sync file ($situation) is reported as FILE:LINE:COLUMN with exit 2 and nothing written', async ({ yaml, where }) => {
    const w = workspace();
    const s = setup(w, { people: [ANN], csv: [CY] });
    w.writeText('sync.yaml', yaml);
    const csv = w.bytes('contacts.csv');
    const db = w.bytes('crm.db');

    const r = await w.run('run');

    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain(where);
    expect(r.stderr).not.toContain('    at '); // no stack trace
    expect(w.exists('.datasync')).toBe(false);
    expect(w.bytes('contacts.csv').equals(csv)).toBe(true);
    expect(w.bytes('crm.db').equals(db)).toBe(true);
    expect(s.crm.count('people')).toBe(1);
  });
});

describe('one run at a time', () => {
  it('a second run while a live process holds the lock exits 4 and names the holder', async () => {
    const w = workspace();
    setup(w, { people: [ANN], csv: [CY] });
    w.writeLock('.datasync/state.db', process.pid, 'datasync watch');
    const csv = w.bytes('contacts.csv');

    const r = await w.run('run');

    expect(r.exitCode).toBe(4);
    expect(r.stderr).toContain(`process ${process.pid}`);
    expect(r.stderr).toContain('datasync watch');
    expect(w.bytes('contacts.csv').equals(csv)).toBe(true);
    expect(w.exists('.datasync/state.db.lock')).toBe(true); // not ours to remove
  });

  it('a lock left by a dead process is taken over', async () => {
    const w = workspace();
    const s = setup(w, { people: [ANN], csv: [CY] });
    const gone = execa('node', ['-e', '0']);
    await gone;
    w.writeLock('.datasync/state.db', gone.pid!);

    const r = await w.runJson();

    expect(r.exitCode).toBe(0);
    expect(s.person('cy@example.com')).toBeDefined();
    expect(w.exists('.datasync/state.db.lock')).toBe(false); // released after the run
  });
});

describe('dry run', () => {
  it('lists what would change record by record and field by field, and writes nothing anywhere', async () => {
    const w = workspace();
    const s = setup(w, {
      people: [ANN, BOB],
      csv: [{ id: 5, email: 'ann@example.com', firstname: 'Annie', lastname: 'Lee', jobtitle: '' }, CY],
    });
    const csv = w.bytes('contacts.csv');
    const db = w.bytes('crm.db');

    const r = await w.run('run', '--dry-run');

    expect(r.exitCode).toBe(0);
    expect(r.stdout).toContain('link crm#1 ↔ exp#5');
    expect(r.stdout).toContain('update exp#5:');
    expect(r.stdout).toContain('firstname: "Annie" → "Ann"');
    expect(r.stdout).toContain('jobtitle: (empty) → "CEO"');
    expect(r.stdout).toMatch(/create in exp from crm#2: email="bob@example.com"/);
    expect(r.stdout).toMatch(/create in crm from exp#9: email="cy@example.com"/);
    expect(w.bytes('contacts.csv').equals(csv)).toBe(true);
    expect(w.bytes('crm.db').equals(db)).toBe(true);
    expect(w.exists('.datasync')).toBe(false);

    // After a real run, a dry run of a later change still writes nothing: the next real run applies it.
    expect((await w.runJson()).exitCode).toBe(0);
    s.editCrm('bob@example.com', { job_title: 'CIO' });
    const csvNow = w.bytes('contacts.csv');
    const stateNow = w.bytes('.datasync/state.db');
    const dry = await w.runJson('--dry-run');
    expect(dry.json.dryRun).toBe(true);
    expect(dry.json.syncs[0]!.plan).toEqual([
      expect.objectContaining({ kind: 'update', in: 'b', changes: [expect.objectContaining({ field: 'jobtitle', from: 'CTO', to: 'CIO' })] }),
    ]);
    expect(w.bytes('contacts.csv').equals(csvNow)).toBe(true);
    expect(w.bytes('.datasync/state.db').equals(stateNow)).toBe(true);
    const real = await w.runJson();
    expect(side(real.json, 'contacts', 'exp').updated).toBe(1);
    expect(s.contact('bob@example.com')).toMatchObject({ jobtitle: 'CIO' });
  });
});

describe('state file', () => {
  it('is created with mode 0600 in a folder of mode 0700', async () => {
    const w = workspace();
    setup(w, { people: [ANN], csv: [CY] });

    expect((await w.runJson()).exitCode).toBe(0);

    expect(w.mode('.datasync')).toBe(0o700);
    expect(w.mode('.datasync/state.db')).toBe(0o600);
    for (const extra of ['.datasync/state.db-wal', '.datasync/state.db-shm']) {
      if (w.exists(extra)) expect(w.mode(extra)).toBe(0o600);
    }
  });
});
