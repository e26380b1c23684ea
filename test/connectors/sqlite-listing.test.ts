/**
 * The change listing's (time, id) pairs are sorted into a TEMP table of the
 * connection rather than held in memory (read.ts Listing): it must read a
 * read-only file, keep two listings open at once apart, and leave no table
 * behind, also when its reader stops early.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ReadBatch } from '../../src/connector.js';
import { changeBatches } from '../../connectors/sqlite/read.js';
import { resolveTable } from '../../connectors/sqlite/schema.js';

let dir: string;
let file: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'ds-listing-'));
  file = join(dir, 'crm.db');
  const db = new Database(file);
  db.exec(`CREATE TABLE people (id INTEGER PRIMARY KEY, email TEXT, modified_at TEXT)`);
  const insert = db.prepare(`INSERT INTO people (id, email, modified_at) VALUES (?, ?, ?)`);
  // Times out of id order, and ties on one time, so the order is the listing's own.
  for (let i = 1; i <= 25; i++) insert.run(i, `p${i}@example.com`, `2024-06-01T12:00:${String(30 - (i % 7)).padStart(2, '0')}.000Z`);
  db.close();
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const schemaOf = (db: Database.Database) => resolveTable(db, 'crm', file,
  { name: 'contacts', table: 'people', id: 'id', updatedAt: 'modified_at', fields: {}, raw: {}, associations: [] } as never);
const tempTables = (db: Database.Database) => db.prepare(`SELECT name FROM sqlite_temp_master WHERE type = 'table'`).pluck().all();
const expected = (db: Database.Database) => db.prepare(`SELECT id FROM people ORDER BY modified_at, id`).pluck().all().map(String);

describe('the SQLite change listing', () => {
  it('reads a read-only file page by page, oldest change first (ties by id), and leaves no TEMP table behind', () => {
    const db = new Database(file, { readonly: true });
    const schema = schemaOf(db);
    const batches = [...changeBatches(db, schema, { since: null, fields: [] }, 4)];
    expect(batches.length).toBeGreaterThan(1);
    expect(batches.flatMap((b) => b.records.map((r) => r.id))).toEqual(expected(db));
    expect(tempTables(db)).toEqual([]);
    db.close();
  });

  it('keeps two listings open at once apart, and drops each table when its reader stops early', () => {
    const db = new Database(file);
    const schema = schemaOf(db);
    const one = changeBatches(db, schema, { since: null, fields: [] }, 5);
    const first = one.next().value as ReadBatch;
    const two = changeBatches(db, schema, { since: null, fields: [] }, 5);
    const all = [...two].flatMap((b) => b.records.map((r) => r.id));
    expect(tempTables(db)).toHaveLength(1);
    const rest = [...one].flatMap((b) => b.records.map((r) => r.id));
    expect([...first.records.map((r) => r.id), ...rest]).toEqual(all);
    expect(all).toEqual(expected(db));

    const stopped = changeBatches(db, schema, { since: null, fields: [] }, 5);
    stopped.next();
    expect(tempTables(db)).toHaveLength(1);
    stopped.return(undefined);
    expect(tempTables(db)).toEqual([]);
    db.close();
  });
});
