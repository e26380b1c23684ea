/**
 * Triggers that keep a table's `updated_at` column current, installed with
 * consent (`datasync connect sqlite --triggers`): an UPDATE or INSERT by any
 * program that leaves the column as it was (or empty) sets it to now. With
 * them the change cursor misses nothing and a plain `UPDATE people SET
 * job_title = …` flows on the next run; without them such an edit waits for
 * the full comparison every `reconcile` (engine/scan.ts).
 *
 * The trigger's own UPDATE changes the column, so it does not fire itself
 * again (its WHEN is false), and SQLite's recursive_triggers is off anyway.
 * The connector's writes always set the column, so they never fire it.
 */
import { quoteIdent, type Db } from './database.js';
import type { Column } from './schema.js';

export const triggerNames = (table: string) => ({ update: `datasync_touch_${table}_update`, insert: `datasync_touch_${table}_insert` });

/** Now, in the column's storage: ms since the epoch for a numeric column, else ISO 8601 UTC text (as changeTimeSql reads both). */
function nowSql(column: Column): string {
  return column.affinity === 'integer' || column.affinity === 'real'
    ? `CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)`
    : `strftime('%Y-%m-%dT%H:%M:%fZ', 'now')`;
}

/** Whether both triggers of the table are there. */
export function hasTriggers(db: Db, table: string): boolean {
  const names = triggerNames(table);
  const found = db.prepare(`SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = ? AND name IN (?, ?)`)
    .all(table, names.update, names.insert) as { name: string }[];
  return found.length === 2;
}

/**
 * Installs (or replaces) the two triggers of a table in one transaction. The
 * row is found by its rowid, or by `key` in a WITHOUT ROWID table: a column
 * name SQLite would only check when the trigger fires, failing the user's UPDATE.
 */
export function installTriggers(db: Db, table: string, updatedAt: Column, key?: string): void {
  const names = triggerNames(table);
  const t = quoteIdent(table);
  const col = quoteIdent(updatedAt.name);
  const ddl = (db.prepare(`SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?`).get(table) as { sql: string } | undefined)?.sql ?? '';
  const withoutRowid = /WITHOUT\s+ROWID/i.test(ddl);
  if (withoutRowid && !key) throw new Error(`table ${table} has no rowid: name its key column`);
  const row = withoutRowid ? quoteIdent(key!) : 'rowid';
  db.transaction(() => {
    db.exec(`DROP TRIGGER IF EXISTS ${quoteIdent(names.update)}; DROP TRIGGER IF EXISTS ${quoteIdent(names.insert)};`);
    db.exec(`CREATE TRIGGER ${quoteIdent(names.update)} AFTER UPDATE ON ${t} FOR EACH ROW WHEN NEW.${col} IS OLD.${col}
      BEGIN UPDATE ${t} SET ${col} = ${nowSql(updatedAt)} WHERE ${row} = NEW.${row}; END;`);
    db.exec(`CREATE TRIGGER ${quoteIdent(names.insert)} AFTER INSERT ON ${t} FOR EACH ROW WHEN NEW.${col} IS NULL OR NEW.${col} = ''
      BEGIN UPDATE ${t} SET ${col} = ${nowSql(updatedAt)} WHERE ${row} = NEW.${row}; END;`);
  })();
}
