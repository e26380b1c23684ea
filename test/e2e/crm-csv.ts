/**
 * A SQLite CRM (connection crm, table people) and a CSV export (connection
 * exp) kept in step by a two-way contacts sync, for the "nothing lost"
 * scenarios (issue 14). Paths are relative to the workspace, so a test can
 * put the CSV on a small disk of its own.
 */
import Database from 'better-sqlite3';
import { OLD, now, type Workspace } from './support.js';

export const PEOPLE = `CREATE TABLE people (id INTEGER PRIMARY KEY, email TEXT, first_name TEXT, last_name TEXT,
  job_title TEXT, modified_at TEXT)`;
export const CSV_HEADER = ['id', 'email', 'firstname', 'lastname', 'jobtitle'];

export interface Person { id?: number; email: string; first_name?: string | null; last_name?: string | null; job_title?: string | null }

export const person = (i: number): Person => ({ email: `p${i}@example.com`, first_name: `First${i}`, last_name: `Last${i}`, job_title: 'Engineer' });

export function crmCsv(w: Workspace, opts: { people?: Person[]; csvFile?: string; sync?: Record<string, unknown>; crmPath?: string } = {}) {
  const crmPath = opts.crmPath ?? 'crm.db';
  const csvFile = opts.csvFile ?? 'contacts.csv';
  const crm = w.sqlite(crmPath, PEOPLE);
  insertPeople(w.path(crmPath), opts.people ?? []);
  if (!w.exists(csvFile)) w.writeCsv(csvFile, CSV_HEADER, []);
  const config = (crmFile = crmPath) => w.writeConfig({
    connections: {
      crm: { app: 'sqlite', path: `./${crmFile}`, objects: { contacts: { table: 'people', id: 'id', updated_at: 'modified_at' } } },
      exp: { app: 'csv', objects: { contacts: { file: csvFile, id: 'id' } } },
    },
    syncs: [{ name: 'contacts', object: 'contacts', between: ['crm', 'exp'], direction: 'two-way', default_app: 'crm', ...opts.sync }],
  });
  config();
  const emails = () => crm.all<{ email: string }>('SELECT email FROM people').map((r) => r.email);
  return { crm, csvFile, config, emails, csv: () => w.readCsv(csvFile) };
}

/** Many rows in one transaction (the e2e helper opens the file per row). */
export function insertPeople(file: string, people: Person[], modifiedAt = OLD): void {
  const db = new Database(file);
  try {
    const put = db.prepare('INSERT INTO people (id, email, first_name, last_name, job_title, modified_at) VALUES (?, ?, ?, ?, ?, ?)');
    db.transaction(() => {
      for (const p of people) put.run(p.id ?? null, p.email, p.first_name ?? null, p.last_name ?? null, p.job_title ?? null, modifiedAt);
    })();
  } finally {
    db.close();
  }
}

/** Emails that occur more than once (any case). */
export function duplicates(emails: string[]): string[] {
  const seen = new Map<string, number>();
  for (const e of emails) seen.set(e.trim().toLowerCase(), (seen.get(e.trim().toLowerCase()) ?? 0) + 1);
  return [...seen].filter(([, n]) => n > 1).map(([e]) => e);
}

/** The state file's tables, read-only (nothing of ours imported). */
export function stateRows<T = Record<string, unknown>>(file: string, sql: string, ...params: unknown[]): T[] {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    return db.prepare(sql).all(...params) as T[];
  } finally {
    db.close();
  }
}

export { now };
