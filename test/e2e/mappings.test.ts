/**
 * Field mappings and type rules end to end (issue 3), between a SQLite "CRM"
 * (connection crm, table people) and a CSV export (connection exp).
 */
import { describe, expect, it } from 'vitest';
import { OLD, now, side, total, useWorkspaces, type Workspace } from './support.js';

const workspace = useWorkspaces();

const PEOPLE = `CREATE TABLE people (id INTEGER PRIMARY KEY, email TEXT, first_name TEXT, job_title TEXT,
  created TEXT, score INTEGER, birthday DATE, status TEXT, modified_at TEXT)`;
const CSV_HEADER = ['id', 'email', 'firstname', 'jobtitle', 'signed_up', 'score_text', 'birthday_at', 'stage'];

type Row = Record<string, string | number | null>;

interface Setup {
  people?: Row[];
  csv?: Row[];
  /** `fields:` blocks of each connection's contacts object. */
  crmFields?: Record<string, unknown>;
  expFields?: Record<string, unknown>;
  mappings?: Record<string, unknown>;
}

function setup(w: Workspace, o: Setup) {
  const crm = w.sqlite('crm.db', PEOPLE);
  crm.insert('people', (o.people ?? []).map((p) => ({ modified_at: OLD, ...p })));
  w.writeCsv('contacts.csv', CSV_HEADER, o.csv ?? []);
  w.writeConfig({
    connections: {
      crm: {
        app: 'sqlite', path: './crm.db',
        objects: { contacts: { table: 'people', id: 'id', updated_at: 'modified_at', ...(o.crmFields ? { fields: o.crmFields } : {}) } },
      },
      exp: { app: 'csv', objects: { contacts: { file: 'contacts.csv', id: 'id', ...(o.expFields ? { fields: o.expFields } : {}) } } },
    },
    syncs: [{
      name: 'contacts', object: 'contacts', between: ['crm', 'exp'], direction: 'two-way', default_app: 'crm',
      ...(o.mappings ? { mappings: o.mappings } : {}),
    }],
  });
  const person = (email: string) => crm.one<Record<string, unknown>>('SELECT * FROM people WHERE email = ?', email);
  const editCrm = (email: string, fields: Record<string, unknown>) => {
    const cols = Object.keys(fields);
    crm.run(`UPDATE people SET ${cols.map((c) => `${c} = ?`).join(', ')}, modified_at = ? WHERE email = ?`, ...Object.values(fields), now(), email);
  };
  const contact = (email: string) => w.readCsv('contacts.csv').find((r) => r.email === email);
  const editCsv = (email: string, fields: Record<string, string>) => {
    const rows = w.readCsv('contacts.csv');
    Object.assign(rows.find((r) => r.email === email)!, fields);
    w.writeCsv('contacts.csv', Object.keys(rows[0]!), rows);
  };
  return { crm, person, editCrm, contact, editCsv };
}

const ann = (extra: Row = {}) => ({ email: 'ann@example.com', first_name: 'Ann', ...extra });
const bob = (extra: Row = {}) => ({ email: 'bob@example.com', first_name: 'Bob', ...extra });
const cy = (extra: Row = {}) => ({ id: 9, email: 'cy@example.com', firstname: 'Cy', ...extra });

describe('one-way mappings', () => {
  it('a read-only field flows one way only and is never written', async () => {
    const w = workspace();
    const s = setup(w, {
      people: [ann({ created: '2023-05-01 10:00:00' }), bob({ created: '2022-02-02T08:00:00Z' })],
      csv: [{ id: 1, email: 'ann@example.com', firstname: 'Ann', signed_up: '' }, cy({ signed_up: '2020-01-01T00:00:00Z' })],
      crmFields: { created: { type: 'datetime', read_only: true } },
      expFields: { signed_up: { type: 'datetime' } },
      mappings: { fields: [{ crm: 'created', exp: 'signed_up' }] },
    });

    const first = await w.runJson();

    expect(first.exitCode).toBe(0);
    expect(first.json.syncs[0]!.mappings).toContainEqual(expect.objectContaining({
      a: 'created', b: 'signed_up', direction: 'crm → exp', note: expect.stringContaining('read-only'),
    }));
    expect(s.contact('ann@example.com')!.signed_up).toBe('2023-05-01T10:00:00.000Z');
    expect(s.contact('bob@example.com')!.signed_up).toBe('2022-02-02T08:00:00.000Z');
    expect(s.person('cy@example.com')).toMatchObject({ first_name: 'Cy', created: null }); // created without it
    expect(s.person('ann@example.com')!.created).toBe('2023-05-01 10:00:00');

    // Edited in the export: never written back. Changed in the CRM: flows.
    s.editCsv('cy@example.com', { signed_up: '2021-01-01T00:00:00Z' });
    s.editCsv('ann@example.com', { signed_up: '2030-01-01T00:00:00Z', firstname: 'Annie' });
    s.editCrm('bob@example.com', { created: '2022-03-03T09:00:00Z' });
    const second = await w.runJson();

    expect(second.exitCode).toBe(0);
    expect(total(second.json, 'failed')).toBe(0);
    expect(s.person('cy@example.com')!.created).toBeNull();
    expect(s.person('ann@example.com')).toMatchObject({ created: '2023-05-01 10:00:00', first_name: 'Annie' });
    expect(s.contact('bob@example.com')!.signed_up).toBe('2022-03-03T09:00:00.000Z');
  });

  it('a number mapped to a text field is written as text and never read back', async () => {
    const w = workspace();
    const s = setup(w, {
      people: [ann({ score: 42 }), bob({ score: 7 })],
      csv: [{ id: 1, email: 'ann@example.com', firstname: 'Ann', score_text: '' }, cy({ score_text: '99' })],
      mappings: { fields: [{ crm: 'score', exp: 'score_text' }] },
    });

    const first = await w.runJson();

    expect(first.exitCode).toBe(0);
    expect(first.json.syncs[0]!.mappings).toContainEqual(expect.objectContaining({
      a: 'score', b: 'score_text', types: 'number / text', direction: 'crm → exp',
    }));
    expect(s.contact('ann@example.com')!.score_text).toBe('42');
    expect(s.contact('bob@example.com')!.score_text).toBe('7');
    expect(s.person('cy@example.com')).toMatchObject({ first_name: 'Cy', score: null });

    s.editCrm('ann@example.com', { score: 43.5 });
    s.editCsv('bob@example.com', { score_text: 'lots' });
    s.editCsv('cy@example.com', { score_text: '100' });
    const second = await w.runJson();

    expect(second.exitCode).toBe(0);
    expect(s.contact('ann@example.com')!.score_text).toBe('43.5');
    expect(s.person('bob@example.com')!.score).toBe(7);
    expect(s.person('cy@example.com')!.score).toBeNull();
    expect(side(second.json, 'contacts', 'crm').updated).toBe(0);
  });
});

describe('conversions', () => {
  it('a date maps to a datetime both ways: midnight UTC one way, the UTC date the other', async () => {
    const w = workspace();
    const s = setup(w, {
      people: [ann({ birthday: '1990-03-05' })],
      // 23:30 at UTC-2 is already the next day in UTC.
      csv: [cy({ birthday_at: '1985-12-31T23:30:00-02:00' })],
      expFields: { birthday_at: { type: 'datetime' } },
      mappings: { fields: [{ crm: 'birthday', exp: 'birthday_at' }] },
    });

    const first = await w.runJson();

    expect(first.exitCode).toBe(0);
    expect(first.json.syncs[0]!.mappings).toContainEqual(expect.objectContaining({ a: 'birthday', b: 'birthday_at', types: 'date / datetime', direction: '↔' }));
    expect(s.contact('ann@example.com')!.birthday_at).toBe('1990-03-05T00:00:00.000Z');
    expect(s.person('cy@example.com')!.birthday).toBe('1986-01-01');

    s.editCsv('ann@example.com', { birthday_at: '1991-07-04T15:00:00Z' });
    s.editCrm('cy@example.com', { birthday: '1986-02-02' });
    const second = await w.runJson();
    const third = await w.runJson();

    expect(second.exitCode).toBe(0);
    expect(s.person('ann@example.com')!.birthday).toBe('1991-07-04');
    expect(s.contact('cy@example.com')!.birthday_at).toBe('1986-02-02T00:00:00.000Z');
    expect(total(third.json, 'updated')).toBe(0); // converted values are not seen as changes again
  });

  it('a select maps to a select through a values: map, both ways', async () => {
    const w = workspace();
    const s = setup(w, {
      people: [ann({ status: 'open' })],
      csv: [cy({ stage: 'Closed' })],
      crmFields: { status: { type: 'select', options: ['new', 'open', 'won'] } },
      expFields: { stage: { type: 'select', options: ['New', 'Working', 'Closed'] } },
      mappings: { fields: [{ crm: 'status', exp: 'stage', values: { new: 'New', open: 'Working', won: 'Closed' } }] },
    });

    const first = await w.runJson();

    expect(first.exitCode).toBe(0);
    expect(first.json.syncs[0]!.mappings).toContainEqual(expect.objectContaining({ a: 'status', b: 'stage', types: 'select / select', direction: '↔' }));
    expect(s.contact('ann@example.com')!.stage).toBe('Working');
    expect(s.person('cy@example.com')!.status).toBe('won');

    s.editCsv('ann@example.com', { stage: 'Closed' });
    s.editCrm('cy@example.com', { status: 'new' });
    const second = await w.runJson();
    const third = await w.runJson();

    expect(second.exitCode).toBe(0);
    expect(total(second.json, 'failed')).toBe(0);
    expect(s.person('ann@example.com')!.status).toBe('won');
    expect(s.contact('cy@example.com')!.stage).toBe('New');
    expect(total(third.json, 'updated')).toBe(0);
  });
});

describe('rules', () => {
  it('a mapping that breaks a rule is refused with exit 2, naming the mapping, before anything is written', async () => {
    const w = workspace();
    setup(w, {
      people: [ann({ score: 1 })],
      csv: [cy({ birthday_at: '2020-01-01T00:00:00Z' })],
      expFields: { birthday_at: { type: 'datetime' } },
      mappings: {
        fields: [
          { crm: 'score', exp: 'birthday_at' }, // number ↔ datetime: no such pair
          { crm: 'job_title', exp: 'stage' }, // job_title is already mapped to jobtitle by default
        ],
      },
    });
    const csv = w.bytes('contacts.csv');
    const db = w.bytes('crm.db');

    const r = await w.run('run');

    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/sync\.yaml:\d+:\d+: mapping crm\.score ↔ exp\.birthday_at: number cannot be mapped to datetime/);
    expect(r.stderr).toMatch(/sync\.yaml:\d+:\d+: mapping crm\.job_title ↔ exp\.stage: crm\.job_title is already mapped to exp\.jobtitle/);
    expect(w.exists('.datasync')).toBe(false);
    expect(w.bytes('contacts.csv').equals(csv)).toBe(true);
    expect(w.bytes('crm.db').equals(db)).toBe(true);
  });

  it('mappings.custom: false stops the custom mappings while the default ones still sync', async () => {
    const w = workspace();
    const s = setup(w, {
      people: [ann({ score: 42, job_title: 'CEO' }), bob({ score: 7 })],
      csv: [{ id: 1, email: 'ann@example.com', firstname: 'Annie', score_text: '' }, cy({ score_text: '99', jobtitle: 'Dev' })],
      mappings: { custom: false, fields: [{ crm: 'score', exp: 'score_text' }] },
    });

    const { exitCode, json } = await w.runJson();

    expect(exitCode).toBe(0);
    expect(json.syncs[0]!.mappings.map((m) => `${m.a}:${m.b}:${m.origin}`)).toEqual(expect.arrayContaining(['email:email:default', 'first_name:firstname:default', 'job_title:jobtitle:default']));
    expect(json.syncs[0]!.mappings.some((m) => m.origin === 'custom' || m.a === 'score')).toBe(false);
    expect(s.contact('ann@example.com')).toMatchObject({ firstname: 'Ann', jobtitle: 'CEO', score_text: '' });
    expect(s.contact('bob@example.com')).toMatchObject({ firstname: 'Bob', score_text: '' });
    expect(s.person('cy@example.com')).toMatchObject({ first_name: 'Cy', job_title: 'Dev', score: null });
  });
});
