/** A fresh SQLite "CRM" in a temp folder for the conformance suite, seeded and edited with plain SQL. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { Fields } from '../../src/connector.js';
import { factory } from '../../connectors/sqlite/index.js';
import type { ConformanceApp, ConformanceObject, MakeHarness, SeedRecord } from './harness.js';

export const SQLITE_SCHEMA = `
  CREATE TABLE orgs (id INTEGER PRIMARY KEY, name TEXT NOT NULL, domain TEXT, modified_at TEXT);
  CREATE TABLE people (
    id INTEGER PRIMARY KEY, email TEXT UNIQUE, firstname TEXT, age INTEGER, birthday DATE,
    last_contacted DATETIME, opted_in BOOLEAN, company_id INTEGER REFERENCES orgs(id), modified_at TEXT);
`;

const TABLES: Record<ConformanceObject, string> = { contacts: 'people', companies: 'orgs' };

/** How another program would store a canonical value: 0/1 booleans, SQLite's own 'YYYY-MM-DD HH:MM:SS' times. */
function stored(value: Fields[string]): unknown {
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (typeof value === 'string' && /^\d{4}-\d{2}-\d{2}T.*\.000Z$/.test(value)) return value.replace('T', ' ').replace('.000Z', '');
  return value;
}

/** `withCursor: false` leaves `updated_at` out of the config, so the connector falls back to content hashes. */
export function sqliteApp(opts: { withCursor: boolean }): MakeHarness {
  return async () => {
    const dir = mkdtempSync(join(tmpdir(), 'datasync-sqlite-'));
    const path = join(dir, 'crm.db');
    const db = new Database(path);
    db.exec(SQLITE_SCHEMA);
    const cursor = opts.withCursor ? { updated_at: 'modified_at' } : {};
    const connector = factory.create({
      name: 'crm', app: 'sqlite', baseDir: dir, path: './crm.db', batch_size: 10,
      objects: {
        contacts: { table: 'people', id: 'id', ...cursor, associations: { company: { field: 'company_id', object: 'companies' } } },
        companies: { table: 'orgs', id: 'id', ...cursor },
      },
    }, {});
    const now = "strftime('%Y-%m-%d %H:%M:%S', 'now')";
    const app: ConformanceApp = {
      connector,
      fields: { email: 'email', typed: { text: 'firstname', number: 'age', date: 'birthday', datetime: 'last_contacted', boolean: 'opted_in' }, companyName: 'name' },
      companyAssociation: 'company',
      pageSize: 10,
      async seed(object: ConformanceObject, records: SeedRecord[]) {
        return db.transaction(() => records.map((r) => {
          const values: Record<string, unknown> = Object.fromEntries(Object.entries(r.fields).map(([k, v]) => [k, stored(v)]));
          if (r.associations?.company) values.company_id = Number(r.associations.company[0]);
          const cols = Object.keys(values);
          const sql = `INSERT INTO ${TABLES[object]} (${[...cols, 'modified_at'].join(', ')}) VALUES (${[...cols.map(() => '?'), now].join(', ')})`;
          return String(db.prepare(sql).run(...Object.values(values)).lastInsertRowid);
        }))();
      },
      async edit(object, id, fields) {
        const sets = Object.keys(fields).map((k) => `${k} = ?`);
        db.prepare(`UPDATE ${TABLES[object]} SET ${[...sets, `modified_at = ${now}`].join(', ')} WHERE id = ?`)
          .run(...Object.values(fields).map(stored), Number(id));
      },
      async remove(object, id) {
        db.prepare(`DELETE FROM ${TABLES[object]} WHERE id = ?`).run(Number(id));
      },
      async dispose() {
        db.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
    return app;
  };
}
