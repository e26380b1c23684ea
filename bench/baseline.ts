/**
 * The baseline: what a minimal hand-written script with the same libraries
 * would do for W1. Read both sides fully, insert every CSV row into SQLite (one
 * transaction, one prepared statement) and write every SQLite row into the CSV
 * (the whole file again, through a temp file). No matching, no merge, no
 * state: the floor that W1 is reported against.
 */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { parse } from 'csv-parse/sync';
import { stringify } from 'csv-stringify/sync';
import { CSV_COLUMNS, SQLITE_COLUMNS } from './contacts.js';

export function baseline(dir: string): { read: number; written: number } {
  const db = new Database(join(dir, 'crm.db'));
  const csvFile = join(dir, 'contacts.csv');
  const people = db.prepare('SELECT * FROM people').raw().all() as unknown[][];
  const rows = parse(readFileSync(csvFile), { columns: false, skip_empty_lines: true }) as string[][];
  const header = rows.shift()!;

  // CSV → SQLite: columns in the same order minus id; SQLite assigns ids.
  const cols = SQLITE_COLUMNS.slice(1);
  const insert = db.prepare(`INSERT INTO people (${cols.join(', ')}) VALUES (${cols.map(() => '?').join(', ')})`);
  const at = new Date().toISOString();
  db.transaction(() => { for (const r of rows) insert.run(...r.slice(1), at); })();
  db.close();

  // SQLite → CSV: the file again with the SQLite rows appended, new ids after the last one.
  let next = rows.reduce((m, r) => Math.max(m, Number(r[0])), 0);
  const added = people.map((p) => [String(++next), ...p.slice(1, CSV_COLUMNS.length).map((v) => (v === null ? '' : String(v)))]);
  const tmp = `${csvFile}.tmp`;
  writeFileSync(tmp, stringify([header, ...rows, ...added]));
  renameSync(tmp, csvFile);
  return { read: people.length + rows.length, written: people.length + rows.length };
}
