/**
 * Which of a list of record ids no longer have a row: the deletion check
 * asks this of every linked record a run did not read, up to 50,000 ids at a
 * time.
 *
 * A list is looked up by id, 500 ids a query. Each lookup costs about what
 * reading one to three ids of the whole table does, so once a list reaches
 * half the table's rows the id column is read once instead. On a 100,000-row table,
 * 100,000 integer ids: ~60 ms by id, ~45 ms by reading the column; UUIDs
 * ~200 ms and ~70 ms. At half the table the two cost about the same.
 */
import { quoteIdent, type Db } from './database.js';
import { exactRow, IN_CHUNK } from './read.js';
import { bindId, type TableSchema } from './schema.js';

/** Below this many ids lookups take a few ms at most: the table is not even counted. */
const SCAN_MIN_IDS = 10_000;

/** Of `ids`, those with no row whose id, as a read gives it (String(id)), is the same string. */
export function missingIds(db: Db, schema: TableSchema, ids: string[]): string[] {
  if (ids.length === 0) return [];
  const present = readsWholeColumn(db, schema, ids.length) ? presentByScan(db, schema) : presentById(db, schema, ids);
  return ids.filter((id) => !present(id));
}

function readsWholeColumn(db: Db, schema: TableSchema, asked: number): boolean {
  if (asked < SCAN_MIN_IDS) return false;
  // Counted only up to the bound: a plain count(*) walks all of a large table (~30 ms a million rows).
  const bound = asked * 2;
  const rows = db.prepare(`SELECT count(*) FROM (SELECT 1 FROM ${quoteIdent(schema.table)} LIMIT ?)`).pluck().get(bound + 1) as number;
  return rows <= bound;
}

function presentById(db: Db, schema: TableSchema, ids: string[]): (id: string) => boolean {
  const found = new Set<string>();
  const id = quoteIdent(schema.id.name);
  const bound = ids.map((x) => bindId(x, schema.id));
  const statements = new Map<number, { all(...params: unknown[]): unknown[] }>();
  for (let i = 0; i < bound.length; i += IN_CHUNK) {
    const chunk = bound.slice(i, i + IN_CHUNK);
    let stmt = statements.get(chunk.length);
    if (!stmt) {
      stmt = db.prepare(`SELECT ${id} FROM ${quoteIdent(schema.table)} WHERE ${id} IN (${chunk.map(() => '?').join(',')})`).pluck().safeIntegers(true);
      statements.set(chunk.length, stmt);
    }
    for (const v of stmt.all(...chunk)) found.add(String(v));
  }
  return (x) => found.has(x);
}

/**
 * The whole id column, kept as SQLite gives it (no String() per row): a
 * number id matches the one string String() makes of it, as in presentById.
 */
function presentByScan(db: Db, schema: TableSchema): (id: string) => boolean {
  const id = quoteIdent(schema.id.name);
  // `.pluck()` alone: `.raw()` after it would turn it off and give [id] arrays.
  const all = new Set<unknown>(exactRow(db.prepare(`SELECT ${id} FROM ${quoteIdent(schema.table)} WHERE ${id} IS NOT NULL`).pluck().safeIntegers(true).all()));
  return (x) => {
    if (all.has(x)) return true;
    const n = Number(x);
    return String(n) === x && all.has(n);
  };
}
