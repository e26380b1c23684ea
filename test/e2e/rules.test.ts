/**
 * Rules, filters, matching, associations and deletions end to end (issue 4),
 * between a SQLite "CRM" (connection crm: tables orgs and people) and a CSV
 * export (connection exp: companies.csv and contacts.csv).
 */
import { describe, expect, it } from 'vitest';
import { OLD, now, side, total, useWorkspaces, type Workspace } from './support.js';

const workspace = useWorkspaces();

const SCHEMA = `
  CREATE TABLE orgs (id INTEGER PRIMARY KEY, name TEXT, domain TEXT, modified_at TEXT);
  CREATE TABLE people (id INTEGER PRIMARY KEY, email TEXT, first_name TEXT, job_title TEXT, country TEXT,
    company_id INTEGER, modified_at TEXT);`;
const CONTACTS_HEADER = ['id', 'email', 'firstname', 'jobtitle', 'country', 'company_id'];
const COMPANIES_HEADER = ['id', 'name', 'domain'];

type Row = Record<string, string | number | null>;

interface Setup {
  people?: Row[];
  orgs?: Row[];
  contacts?: Row[];
  companies?: Row[];
  /** Extra keys of the contacts sync (rules, filters, match, …). */
  contactsSync?: Record<string, unknown>;
  companiesSync?: Record<string, unknown> | false;
  /** Without the contacts sync: companies only. */
  noContactsSync?: boolean;
}

function setup(w: Workspace, o: Setup) {
  const crm = w.sqlite('crm.db', SCHEMA);
  crm.insert('orgs', (o.orgs ?? []).map((r) => ({ modified_at: OLD, ...r })));
  crm.insert('people', (o.people ?? []).map((r) => ({ modified_at: OLD, ...r })));
  w.writeCsv('contacts.csv', CONTACTS_HEADER, o.contacts ?? []);
  w.writeCsv('companies.csv', COMPANIES_HEADER, o.companies ?? []);
  const company = { field: 'company_id', object: 'companies' };
  const syncs: Record<string, unknown>[] = [];
  // Contacts first on purpose: companies must still run first.
  if (!o.noContactsSync) {
    syncs.push({ name: 'contacts', object: 'contacts', between: ['crm', 'exp'], direction: 'two-way', default_app: 'crm', ...o.contactsSync });
  }
  if (o.companiesSync !== false) {
    syncs.push({ name: 'companies', object: 'companies', between: ['crm', 'exp'], direction: 'two-way', default_app: 'crm', ...o.companiesSync });
  }
  w.writeConfig({
    connections: {
      crm: {
        app: 'sqlite', path: './crm.db',
        objects: {
          contacts: { table: 'people', id: 'id', updated_at: 'modified_at', associations: { company } },
          companies: { table: 'orgs', id: 'id', updated_at: 'modified_at' },
        },
      },
      exp: {
        app: 'csv',
        objects: {
          contacts: { file: 'contacts.csv', id: 'id', associations: { company } },
          companies: { file: 'companies.csv', id: 'id' },
        },
      },
    },
    syncs,
  });
  const person = (email: string) => crm.one<Record<string, unknown>>('SELECT * FROM people WHERE email = ?', email);
  const editCrm = (email: string, fields: Record<string, unknown>) => {
    const cols = Object.keys(fields);
    crm.run(`UPDATE people SET ${cols.map((c) => `${c} = ?`).join(', ')}, modified_at = ? WHERE email = ?`, ...Object.values(fields), now(), email);
  };
  const contacts = () => w.readCsv('contacts.csv');
  const contact = (email: string) => contacts().find((r) => r.email === email);
  const editCsv = (email: string, fields: Record<string, string>) => {
    const rows = contacts();
    Object.assign(rows.find((r) => r.email === email)!, fields);
    w.writeCsv('contacts.csv', Object.keys(rows[0]!), rows);
  };
  return { crm, person, editCrm, contacts, contact, editCsv };
}

const ann = (extra: Row = {}) => ({ email: 'ann@example.com', first_name: 'Ann', ...extra });
const bob = (extra: Row = {}) => ({ email: 'bob@example.com', first_name: 'Bob', ...extra });
const cy = (extra: Row = {}) => ({ id: 9, email: 'cy@example.com', firstname: 'Cy', ...extra });

describe('the email rule', () => {
  const records = {
    people: [ann(), { first_name: 'Nomail', email: null }, { first_name: 'Bad', email: 'n/a' }],
    contacts: [cy(), { id: 10, firstname: 'Zed', email: '' }],
  };

  it('contacts without a valid email are excluded on both sides and counted', async () => {
    const w = workspace();
    const s = setup(w, { ...records, companiesSync: false });

    const { exitCode, json } = await w.runJson();

    expect(exitCode).toBe(0);
    expect(side(json, 'contacts', 'crm')).toMatchObject({ excluded: 2, created: 1 });
    expect(side(json, 'contacts', 'exp')).toMatchObject({ excluded: 1, created: 1 });
    expect(s.contacts().map((r) => r.firstname).sort()).toEqual(['Ann', 'Cy', 'Zed']);
    expect(s.crm.all<{ first_name: string }>('SELECT first_name FROM people ORDER BY first_name').map((r) => r.first_name))
      .toEqual(['Ann', 'Bad', 'Cy', 'Nomail']);
  });

  it('with only_with_email: false they sync too, and a re-run makes no duplicates', async () => {
    const w = workspace();
    const s = setup(w, { ...records, companiesSync: false, contactsSync: { rules: { only_with_email: false } } });

    const first = await w.runJson();
    const second = await w.runJson();

    expect([first.exitCode, second.exitCode]).toEqual([0, 0]);
    expect(total(first.json, 'excluded')).toBe(0);
    expect(total(second.json, 'created')).toBe(0);
    expect(s.contacts().map((r) => r.firstname).sort()).toEqual(['Ann', 'Bad', 'Cy', 'Nomail', 'Zed']);
    expect(s.crm.count('people')).toBe(5);
  });
});

describe('filters', () => {
  const onlySE = { filters: { crm: [{ field: 'country', op: 'eq', value: 'SE' }] } };

  it("a filter on one side excludes that side's records only", async () => {
    const w = workspace();
    const s = setup(w, {
      people: [ann({ country: 'SE' }), bob({ country: 'DE' })],
      contacts: [cy({ country: 'DE' })],
      companiesSync: false,
      contactsSync: onlySE,
    });

    const { exitCode, json } = await w.runJson();

    expect(exitCode).toBe(0);
    expect(side(json, 'contacts', 'crm')).toMatchObject({ excluded: 1 });
    expect(side(json, 'contacts', 'exp')).toMatchObject({ excluded: 0, created: 1 });
    expect(s.contacts().map((r) => r.email).sort()).toEqual(['ann@example.com', 'cy@example.com']);
    expect(s.person('cy@example.com')).toMatchObject({ country: 'DE' }); // the export has no filter
  });

  it('a linked record that leaves the filter stops syncing, is kept, and resumes when it passes again', async () => {
    const w = workspace();
    const s = setup(w, { people: [ann({ country: 'SE', job_title: 'CEO' })], companiesSync: false, contactsSync: onlySE });
    expect((await w.runJson()).exitCode).toBe(0);
    expect(s.contact('ann@example.com')).toMatchObject({ country: 'SE', jobtitle: 'CEO' });

    // Out of the filter: edits on either side do not flow, and nothing is deleted.
    s.editCrm('ann@example.com', { country: 'DE', first_name: 'Ann-Marie' });
    s.editCsv('ann@example.com', { jobtitle: 'VP' });
    const out = await w.runJson();
    expect(out.exitCode).toBe(0);
    expect(side(out.json, 'contacts', 'crm').excluded).toBe(1);
    expect(total(out.json, 'updated') + total(out.json, 'deleted')).toBe(0);
    expect(s.contact('ann@example.com')).toMatchObject({ country: 'SE', firstname: 'Ann', jobtitle: 'VP' });
    expect(s.person('ann@example.com')).toMatchObject({ job_title: 'CEO' });

    // Back in: what changed meanwhile on both sides flows.
    s.editCrm('ann@example.com', { country: 'SE' });
    const back = await w.runJson();
    expect(back.exitCode).toBe(0);
    expect(total(back.json, 'excluded')).toBe(0);
    expect(s.contact('ann@example.com')).toMatchObject({ country: 'SE', firstname: 'Ann-Marie', jobtitle: 'VP' });
    expect(s.person('ann@example.com')).toMatchObject({ first_name: 'Ann-Marie', job_title: 'VP' });
    expect(s.contacts()).toHaveLength(1);
    expect(s.crm.count('people')).toBe(1);
  });
});

describe('matching', () => {
  it('companies match by domain (scheme, www., case, path ignored) or by name (case and spacing ignored)', async () => {
    const w = workspace();
    setup(w, {
      orgs: [
        { name: 'Example Inc', domain: 'https://www.Example.com/' },
        { name: '  Acme   Corp ', domain: null },
        { name: 'Solo', domain: 'solo.io' },
      ],
      companies: [
        { id: 1, name: 'Example', domain: 'example.com' },
        { id: 2, name: 'acme corp', domain: '' },
        { id: 3, name: 'Other', domain: 'other.org' },
      ],
      noContactsSync: true,
    });

    const { exitCode, json } = await w.runJson();

    expect(exitCode).toBe(0);
    expect(json.syncs[0]!.linked).toBe(2);
    expect(side(json, 'companies', 'crm').created).toBe(1); // Other
    expect(side(json, 'companies', 'exp').created).toBe(1); // Solo
    expect(w.readCsv('companies.csv')).toHaveLength(4);
    expect(w.sqlite('crm.db').count('orgs')).toBe(4);
  });

  it('match: none pairs nothing and creates every record on the other side', async () => {
    const w = workspace();
    const s = setup(w, {
      people: [ann(), bob()],
      contacts: [{ id: 1, email: 'ann@example.com', firstname: 'Ann' }, cy()],
      companiesSync: false,
      contactsSync: { match: 'none' },
    });

    const first = await w.runJson();
    const second = await w.runJson();

    expect([first.exitCode, second.exitCode]).toEqual([0, 0]);
    expect(first.json.syncs[0]!.linked).toBe(0);
    expect(side(first.json, 'contacts', 'crm').created).toBe(2);
    expect(side(first.json, 'contacts', 'exp').created).toBe(2);
    expect(total(second.json, 'created')).toBe(0);
    expect(s.crm.count('people')).toBe(4);
    expect(s.contacts().filter((r) => r.email === 'ann@example.com')).toHaveLength(2);
  });
});

describe('associations', () => {
  const data = {
    orgs: [{ id: 1, name: 'Acme', domain: 'acme.com' }, { id: 2, name: 'Beta', domain: 'beta.com' }],
    people: [ann({ company_id: 1 }), bob({ company_id: 2 })],
    companies: [{ id: 7, name: 'Acme', domain: 'acme.com' }, { id: 8, name: 'Gamma', domain: 'gamma.com' }],
    contacts: [{ id: 1, email: 'ann@example.com', firstname: 'Ann', company_id: '' }, cy({ company_id: 8 })],
  };

  it('a contact arrives on the other side linked to the linked company (companies sync first)', async () => {
    const w = workspace();
    const s = setup(w, data);

    const first = await w.runJson();

    expect(first.exitCode).toBe(0);
    expect(first.json.syncs.map((x) => x.name)).toEqual(['companies', 'contacts']);
    const expCompany = (name: string) => w.readCsv('companies.csv').find((r) => r.name === name)!.id;
    const crmCompany = (name: string) => s.crm.one<{ id: number }>('SELECT id FROM orgs WHERE name = ?', name)!.id;
    expect(s.contact('bob@example.com')!.company_id).toBe(expCompany('Beta'));
    expect(s.contact('ann@example.com')!.company_id).toBe('7');
    expect(s.person('cy@example.com')!.company_id).toBe(crmCompany('Gamma'));
    expect(s.person('ann@example.com')!.company_id).toBe(1);

    // A changed primary company follows; then all is stable.
    s.editCrm('ann@example.com', { company_id: 2 });
    const second = await w.runJson();
    const third = await w.runJson();
    expect(s.contact('ann@example.com')!.company_id).toBe(expCompany('Beta'));
    expect(total(third.json, 'created') + total(third.json, 'updated')).toBe(0);
    expect(second.exitCode + third.exitCode).toBe(0);
  });

  it('without a companies sync, contacts sync with no company links', async () => {
    const w = workspace();
    const s = setup(w, { ...data, companiesSync: false });
    const companies = w.bytes('companies.csv');

    const { exitCode } = await w.runJson();

    expect(exitCode).toBe(0);
    expect(s.contact('bob@example.com')).toMatchObject({ firstname: 'Bob', company_id: '' });
    expect(s.contact('ann@example.com')!.company_id).toBe('');
    expect(s.person('cy@example.com')).toMatchObject({ first_name: 'Cy', company_id: null });
    expect(w.bytes('companies.csv').equals(companies)).toBe(true);
    expect(s.crm.count('orgs')).toBe(2);
  });
});

describe('deletions', () => {
  it('a record deleted in one app is reported, not deleted in the other and never re-created', async () => {
    const w = workspace();
    const s = setup(w, { people: [ann(), bob()], contacts: [cy()], companiesSync: false });
    expect((await w.runJson()).exitCode).toBe(0);

    s.crm.run(`DELETE FROM people WHERE email = 'cy@example.com'`);
    w.writeCsv('contacts.csv', CONTACTS_HEADER, s.contacts().filter((r) => r.email !== 'bob@example.com'));
    const second = await w.runJson();

    expect(second.exitCode).toBe(0);
    expect(side(second.json, 'contacts', 'crm')).toMatchObject({ deleted: 1, created: 0 });
    expect(side(second.json, 'contacts', 'exp')).toMatchObject({ deleted: 1, created: 0 });
    expect(s.person('bob@example.com')).toBeDefined();
    expect(s.contact('cy@example.com')).toBeDefined();

    // Even when the survivors change later.
    s.editCrm('bob@example.com', { job_title: 'CIO' });
    s.editCsv('cy@example.com', { jobtitle: 'Dev' });
    const third = await w.runJson();
    expect(third.exitCode).toBe(0);
    expect(total(third.json, 'created')).toBe(0);
    expect(s.contact('bob@example.com')).toBeUndefined();
    expect(s.person('cy@example.com')).toBeUndefined();
  });

  it('a CSV file that cannot be read (a folder, then broken content) marks nothing deleted', async () => {
    const w = workspace();
    const s = setup(w, { people: [ann(), bob()], contacts: [cy()], companiesSync: false });
    expect((await w.runJson()).exitCode).toBe(0);
    const good = w.readText('contacts.csv');

    w.remove('contacts.csv');
    w.writeText('contacts.csv/inside.txt', 'not a CSV file');
    const asFolder = await w.run('run');
    w.remove('contacts.csv');
    w.writeText('contacts.csv', `${good}"unclosed,quote\n`);
    const broken = await w.run('run');
    w.writeText('contacts.csv', good);
    const restored = await w.runJson();

    expect(asFolder.exitCode).toBe(3);
    expect(asFolder.stderr).toContain('contacts.csv');
    expect(broken.exitCode).toBe(2); // a malformed CSV: fix the data (issue 13.14)
    expect(broken.stderr).toMatch(/contacts\.csv:\d+: a quoted value is never closed/);
    expect(restored.exitCode).toBe(0);
    expect(total(restored.json, 'deleted')).toBe(0);
    expect(total(restored.json, 'created')).toBe(0);
    expect(s.crm.count('people')).toBe(3);
    expect(s.contacts()).toHaveLength(3);

    // The links are alive: changes still flow both ways.
    s.editCrm('ann@example.com', { job_title: 'CEO' });
    s.editCsv('cy@example.com', { jobtitle: 'Dev' });
    const after = await w.runJson();
    expect(total(after.json, 'updated')).toBe(2);
    expect(s.contact('ann@example.com')!.jobtitle).toBe('CEO');
    expect(s.person('cy@example.com')!.job_title).toBe('Dev');
  });

  it('a SQLite table that cannot be read marks nothing deleted', async () => {
    const w = workspace();
    const s = setup(w, { people: [ann(), bob()], contacts: [cy()], companiesSync: false });
    expect((await w.runJson()).exitCode).toBe(0);

    s.crm.exec('ALTER TABLE people RENAME TO people_away');
    const missing = await w.run('run');
    s.crm.exec('ALTER TABLE people_away RENAME TO people');
    const restored = await w.runJson();

    expect(missing.exitCode).not.toBe(0);
    expect(missing.stderr).toContain('people');
    expect(restored.exitCode).toBe(0);
    expect(total(restored.json, 'deleted')).toBe(0);
    expect(total(restored.json, 'created')).toBe(0);
    expect(s.crm.count('people')).toBe(3);
    expect(s.contacts()).toHaveLength(3);
  });
});
