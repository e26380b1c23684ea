/** A fresh pair of CSV files in a temp folder for the conformance suite, edited the way a spreadsheet would. */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { stringify } from 'csv-stringify/sync';
import type { Fields } from '../../src/connector.js';
import { factory } from '../../connectors/csv/index.js';
import type { ConformanceApp, ConformanceObject, MakeHarness } from './harness.js';

const HEADERS: Record<ConformanceObject, string[]> = {
  contacts: ['id', 'email', 'firstname', 'age', 'birthday', 'last_contacted', 'opted_in', 'company_id'],
  companies: ['id', 'name', 'domain'],
};

/** How a spreadsheet would show a canonical value: TRUE/FALSE, 'YYYY-MM-DD HH:MM:SS'. */
function cell(value: Fields[string]): string {
  if (value === null) return '';
  if (typeof value === 'boolean') return value ? 'TRUE' : 'FALSE';
  if (typeof value === 'string' && /^\d{4}-\d{2}-\d{2}T.*\.000Z$/.test(value)) return value.replace('T', ' ').replace('.000Z', '');
  return String(value);
}

export const makeCsvApp: MakeHarness = async () => {
  const dir = mkdtempSync(join(tmpdir(), 'datasync-csv-'));
  const file = (o: ConformanceObject) => join(dir, `${o}.csv`);
  for (const o of ['contacts', 'companies'] as const) writeFileSync(file(o), `${HEADERS[o].join(',')}\r\n`);
  const load = (o: ConformanceObject) => parse(readFileSync(file(o)), { columns: true, bom: true }) as Record<string, string>[];
  const save = (o: ConformanceObject, rows: Record<string, string>[]) =>
    writeFileSync(file(o), stringify(rows, { header: true, columns: Object.keys(rows[0] ?? {}).length ? Object.keys(rows[0]!) : HEADERS[o], record_delimiter: 'windows' }));
  const connector = factory.create({
    name: 'export', app: 'csv', baseDir: dir, batch_size: 10,
    objects: {
      contacts: {
        file: 'contacts.csv', id: 'id',
        fields: { age: { type: 'number' }, birthday: { type: 'date' }, last_contacted: { type: 'datetime' }, opted_in: { type: 'boolean' } },
        associations: { company: { field: 'company_id', object: 'companies' } },
      },
      companies: { file: 'companies.csv' },
    },
  }, { cache: { dir: join(dir, 'cache'), write: true } });
  const app: ConformanceApp = {
    connector,
    fields: { email: 'email', typed: { text: 'firstname', number: 'age', date: 'birthday', datetime: 'last_contacted', boolean: 'opted_in' }, companyName: 'name' },
    companyAssociation: 'company',
    pageSize: 10,
    async seed(object, records) {
      const rows = load(object);
      let max = rows.reduce((m, r) => Math.max(m, Number(r.id)), 0);
      const ids = records.map((r) => {
        const row: Record<string, string> = Object.fromEntries(HEADERS[object].map((h) => [h, '']));
        for (const [k, v] of Object.entries(r.fields)) row[k] = cell(v);
        if (r.associations?.company) row.company_id = r.associations.company[0]!;
        row.id = String(++max);
        rows.push(row);
        return row.id;
      });
      save(object, rows);
      return ids;
    },
    async edit(object, id, fields) {
      save(object, load(object).map((r) => (r.id === id ? { ...r, ...Object.fromEntries(Object.entries(fields).map(([k, v]) => [k, cell(v)])) } : r)));
    },
    async remove(object, id) {
      save(object, load(object).filter((r) => r.id !== id));
    },
    async dispose() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return app;
};
