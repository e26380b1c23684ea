/**
 * Benchmark workspaces: a folder with crm.db, contacts.csv and sync.yaml,
 * written from the generators, and the W3 edits made the way other programs
 * would make them (SQLite rows with a new updated_at, CSV cells in place).
 */
import { closeSync, openSync, readFileSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { parse } from 'csv-parse/sync';
import { stringify as toCsv } from 'csv-stringify/sync';
import { stringify } from 'yaml';
import { contactRows, CSV_COLUMNS, csvLine, emptyCounts, PEOPLE_DDL, SQLITE_COLUMNS, type ContactCounts } from './contacts.js';
import { rng } from './prng.js';

/** A sync of the bench's configs: two-way, named after its object unless told. */
export interface BenchSync { object: string; between: [string, string]; default_app: string; name?: string; associations?: boolean }

/**
 * Writes DIR/sync.yaml for a bench workload: the state in .datasync/, the
 * connections as given, each sync two-way.
 */
export function writeBenchConfig(dir: string, connections: Record<string, Record<string, unknown>>, syncs: BenchSync[]): void {
  const config = {
    version: 1,
    state: '.datasync/state.db',
    connections,
    syncs: syncs.map(({ name, object, between, default_app, associations }) =>
      ({ name: name ?? object, object, between, direction: 'two-way', default_app, ...(associations ? { associations } : {}) })),
  };
  writeFileSync(join(dir, 'sync.yaml'), stringify(config));
}

/** The SQLite CRM of W4 and W6: companies, and contacts with a company. */
export const CRM_WITH_COMPANIES = {
  app: 'sqlite',
  path: './crm.db',
  objects: {
    companies: { table: 'companies', id: 'id', updated_at: 'updated_at' },
    contacts: { table: 'contacts', id: 'id', updated_at: 'updated_at', associations: { company: { field: 'company_id', object: 'companies' } } },
  },
};

/** W1-W3: the SQLite CRM (table people) and the CSV export. */
function writeW1Config(dir: string): void {
  writeBenchConfig(dir, {
    crm: { app: 'sqlite', path: './crm.db', objects: { contacts: { table: 'people', id: 'id', updated_at: 'updated_at' } } },
    exp: { app: 'csv', objects: { contacts: { file: 'contacts.csv', id: 'id' } } },
  }, [{ object: 'contacts', between: ['crm', 'exp'], default_app: 'crm' }]);
}

/** Appends text to a file through a 1 MB buffer. */
export class FileWriter {
  private fd: number;
  private parts: string[] = [];
  private size = 0;
  constructor(path: string) {
    this.fd = openSync(path, 'w');
  }
  write(text: string): void {
    this.parts.push(text);
    this.size += text.length;
    if (this.size >= 1 << 20) this.flush();
  }
  close(): void {
    this.flush();
    closeSync(this.fd);
  }
  private flush(): void {
    writeSync(this.fd, this.parts.join(''));
    this.parts = [];
    this.size = 0;
  }
}

/** Writes the W1 input into `dir` and answers what it holds. */
export function writeContactsWorkspace(dir: string, n: number, seed: number): ContactCounts {
  const counts = emptyCounts();
  const db = new Database(join(dir, 'crm.db'));
  db.pragma('journal_mode = DELETE');
  db.exec(PEOPLE_DDL);
  const insert = db.prepare(`INSERT INTO people (${SQLITE_COLUMNS.join(', ')}) VALUES (${SQLITE_COLUMNS.map(() => '?').join(', ')})`);
  const insertMany = db.transaction((rows: (string | number | null)[][]) => { for (const r of rows) insert.run(...r); });
  const csv = new FileWriter(join(dir, 'contacts.csv'));
  csv.write(csvLine(CSV_COLUMNS));
  let pending: (string | number | null)[][] = [];
  for (const row of contactRows(n, seed, counts)) {
    if (row.sqlite) pending.push(row.sqlite);
    if (row.csv) csv.write(csvLine(row.csv));
    if (pending.length >= 10_000) {
      insertMany(pending);
      pending = [];
    }
  }
  insertMany(pending);
  csv.close();
  db.close();
  writeW1Config(dir);
  return counts;
}

/** W3: about `share` of the people rows get a new job title and a new updated_at. Answers how many. */
export function editSqliteRows(file: string, share: number, seed: number): number {
  const r = rng(seed);
  const db = new Database(file);
  try {
    const ids = (db.prepare('SELECT id FROM people ORDER BY id').raw().all() as [number][]).map(([id]) => id).filter(() => r.next() < share);
    const update = db.prepare('UPDATE people SET job_title = ?, updated_at = ? WHERE id = ?');
    const at = new Date().toISOString();
    db.transaction(() => { for (const id of ids) update.run(`Edited in CRM ${id}`, at, id); })();
    return ids.length;
  } finally {
    db.close();
  }
}

/** W3: about `share` of the CSV rows get a new job title, edited in place. Answers how many. */
export function editCsvRows(file: string, share: number, seed: number): number {
  const r = rng(seed);
  const rows = parse(readFileSync(file), { columns: false, skip_empty_lines: true }) as string[][];
  const header = rows[0]!;
  const col = header.indexOf('jobtitle');
  let edited = 0;
  for (let i = 1; i < rows.length; i++) {
    if (r.next() >= share) continue;
    rows[i]![col] = `Edited in CSV ${rows[i]![header.indexOf('id')]}`;
    edited++;
  }
  writeFileSync(file, toCsv(rows));
  return edited;
}
