/**
 * The trigger-based change log, installed with the user's consent
 * (`datasync postgres install-triggers`): per schema a table
 * `datasync_changes` and a function, and on each synced table a row trigger
 * that logs every insert, update and delete — also those that touch no
 * column datasync knows — with the id of the row and the id of the writing
 * transaction (`pg_current_xact_id()`).
 *
 * Why transaction ids and not the sequence alone: a sequence number is taken
 * when the row is written, not when its transaction commits, so a reader can
 * see number 7 committed while number 6 is still in flight, and a cursor "past
 * 7" would never see 6. A read only takes entries of transactions below the
 * horizon of its snapshot (`pg_snapshot_xmin`: every transaction below it has
 * ended) and its cursor is that horizon; everything at or above it is read
 * next time.
 *
 * datasync's own writes are tagged, not left out: the write transaction sets
 * `datasync.writer` with SET LOCAL (set_config(..., true)) to a token of the
 * run, and the trigger stores it as `origin`. A read from a cursor that
 * `cursorAfterWrites` marked with that token passes over those entries, so
 * nothing echoes. Left out entirely, a record created just before a crash
 * (before the state recorded it) would never be read again, and the engine's
 * recovery of pending creates could not find it.
 *
 * Pruning: each cursor carries a reader id (`r`), and a read registers its
 * reader at the cursor it starts from — one the engine has saved, since it
 * came back as `since` — in `datasync_log_readers`. Entries below every
 * reader's position (readers seen within READER_TTL_DAYS) are deleted, and
 * the table's floor in `datasync_log_floor` is raised to that bound in the
 * same transaction. A read whose cursor stands below the floor (a reader
 * not seen for longer, or a cursor of a datasync that did not register)
 * cannot trust the log and lists the table whole instead (`relisted`); it
 * checks the floor after reading the log, so a prune committed meanwhile is
 * seen.
 */
import { randomUUID } from 'node:crypto';
import { DatasyncError } from '../../src/errors.js';
import { qualified, quoteIdent, WRITER_SETTING, type Db, type Queryable } from './database.js';

export const LOG_TABLE = 'datasync_changes';
const READERS = 'datasync_log_readers';
const FLOOR = 'datasync_log_floor';
/** How long a reader's registration holds the log back: a sync not run for longer lists its table whole when it runs again. */
export const READER_TTL_DAYS = 30;
const LOG_FUNCTION = 'datasync_log_change';
const TRIGGER = 'datasync_change_log';

const literal = (s: string) => `'${s.replace(/'/g, "''")}'`;

/** The statements `install-triggers` runs for one table (shown to the user before asking). */
export function installSql(schema: string, table: string, idColumn: string): string[] {
  const log = qualified(schema, LOG_TABLE);
  const fn = qualified(schema, LOG_FUNCTION);
  return [
    `CREATE TABLE IF NOT EXISTS ${log} (
      seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      txid xid8 NOT NULL DEFAULT pg_current_xact_id(),
      tbl text NOT NULL,
      row_id text NOT NULL,
      op "char" NOT NULL,
      origin text,
      at timestamptz NOT NULL DEFAULT clock_timestamp())`,
    `CREATE INDEX IF NOT EXISTS ${quoteIdent(`${LOG_TABLE}_txid`)} ON ${log} (tbl, txid)`,
    `CREATE INDEX IF NOT EXISTS ${quoteIdent(`${LOG_TABLE}_row`)} ON ${log} (tbl, row_id, txid)`,
    `CREATE TABLE IF NOT EXISTS ${qualified(schema, READERS)} (
      reader text NOT NULL, tbl text NOT NULL, x xid8 NOT NULL, seen_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (reader, tbl))`,
    `CREATE TABLE IF NOT EXISTS ${qualified(schema, FLOOR)} (tbl text PRIMARY KEY, below xid8 NOT NULL)`,
    `CREATE OR REPLACE FUNCTION ${fn}() RETURNS trigger LANGUAGE plpgsql AS $fn$
    DECLARE
      idcol text := TG_ARGV[0];
      origin text := nullif(current_setting(${literal(WRITER_SETTING)}, true), '');
      old_id text;
      new_id text;
    BEGIN
      IF TG_OP <> 'INSERT' THEN old_id := to_jsonb(OLD) ->> idcol; END IF;
      IF TG_OP <> 'DELETE' THEN new_id := to_jsonb(NEW) ->> idcol; END IF;
      IF old_id IS NOT NULL AND old_id IS DISTINCT FROM new_id THEN
        INSERT INTO ${log} (tbl, row_id, op, origin) VALUES (TG_TABLE_NAME, old_id, 'D', origin);
      END IF;
      IF new_id IS NOT NULL THEN
        INSERT INTO ${log} (tbl, row_id, op, origin) VALUES (TG_TABLE_NAME, new_id, left(TG_OP, 1), origin);
      END IF;
      RETURN NULL;
    END $fn$`,
    `DROP TRIGGER IF EXISTS ${quoteIdent(TRIGGER)} ON ${qualified(schema, table)}`,
    `CREATE TRIGGER ${quoteIdent(TRIGGER)} AFTER INSERT OR UPDATE OR DELETE ON ${qualified(schema, table)}
      FOR EACH ROW EXECUTE FUNCTION ${fn}(${literal(idColumn)})`,
  ];
}

/** Whether our trigger is on the table (and enabled). */
export async function triggerInstalled(db: Queryable, schema: string, table: string): Promise<boolean> {
  const r = await db.query(`SELECT 1 FROM pg_trigger g JOIN pg_class c ON c.oid = g.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = $1 AND c.relname = $2 AND g.tgname = $3 AND g.tgenabled <> 'D'`, [schema, table, TRIGGER]);
  return r.rows.length > 0;
}

/** Every transaction below this one has ended: its log entries are final. */
export async function horizon(db: Queryable): Promise<string> {
  const r = await db.query<{ x: string }>(`SELECT pg_snapshot_xmin(pg_current_snapshot())::text AS x`);
  return r.rows[0]!.x;
}

/** `r`: the reader (one per sync side), for pruning; `skip`: tokens of runs whose writes are passed over. */
export interface LogCursor { v: 1; m: 'log'; x: string; r?: string; skip?: string[] }

export const newReader = (): string => randomUUID();

/** Whether the schema's log has the tables pruning needs (a log installed before them has not: it is left whole). */
const known = new WeakMap<Queryable, Map<string, boolean>>();
async function prunable(db: Queryable, schema: string): Promise<boolean> {
  let bySchema = known.get(db);
  if (!bySchema) known.set(db, (bySchema = new Map()));
  let ok = bySchema.get(schema);
  if (ok === undefined) {
    const r = await db.query<{ ok: boolean }>(`SELECT to_regclass($1) IS NOT NULL AND to_regclass($2) IS NOT NULL AS ok`,
      [qualified(schema, READERS), qualified(schema, FLOOR)]);
    bySchema.set(schema, (ok = r.rows[0]?.ok === true));
  }
  return ok;
}

/**
 * Registers `reader` at `x` (a saved cursor's position, or the horizon of a
 * first read) and deletes the entries of `table` below every registered
 * reader's position, raising the floor to it. Returns how many it deleted.
 */
export async function registerAndPrune(db: Db, schema: string, table: string, reader: string, x: string): Promise<number> {
  if (!(await prunable(db, schema))) return 0;
  const readers = qualified(schema, READERS);
  // Registered there already (an idle pass, or the same cursor read again): pruned then; one query.
  const held = await db.query<{ x: string }>(`SELECT x::text AS x FROM ${readers} WHERE reader = $1 AND tbl = $2
    AND seen_at > now() - interval '1 hour'`, [reader, table]);
  if (held.rows[0]?.x === x) return 0;
  // A user that may read the log but not change it: the log is left whole (as before pruning).
  return db.transaction('', async (q) => {
    await q.query(`INSERT INTO ${readers} AS r (reader, tbl, x) VALUES ($1, $2, $3::xid8)
      ON CONFLICT (reader, tbl) DO UPDATE SET x = EXCLUDED.x, seen_at = now()
      WHERE r.x <> EXCLUDED.x OR r.seen_at < now() - interval '1 hour'`, [reader, table, x]);
    const bound = (await q.query<{ m: string | null }>(`SELECT min(x)::text AS m FROM ${readers}
      WHERE tbl = $1 AND seen_at > now() - interval '${READER_TTL_DAYS} days'`, [table])).rows[0]?.m;
    if (!bound) return 0;
    const deleted = (await q.query(`DELETE FROM ${qualified(schema, LOG_TABLE)} WHERE tbl = $1 AND txid < $2::xid8`, [table, bound])).rowCount ?? 0;
    if (deleted > 0) {
      await q.query(`INSERT INTO ${qualified(schema, FLOOR)} AS f (tbl, below) VALUES ($1, $2::xid8)
        ON CONFLICT (tbl) DO UPDATE SET below = greatest(f.below, EXCLUDED.below)`, [table, bound]);
    }
    return deleted;
  }).catch((err: unknown) => {
    if (err instanceof DatasyncError && err.code === 'PG_PERMISSION') return 0;
    throw err;
  });
}

/** Whether entries at or after `x` may have been pruned: the table's floor is above it. */
export async function belowFloor(db: Queryable, schema: string, table: string, x: string): Promise<boolean> {
  if (!(await prunable(db, schema))) return false;
  const r = await db.query<{ below: string }>(`SELECT below::text AS below FROM ${qualified(schema, FLOOR)} WHERE tbl = $1`, [table]);
  const below = r.rows[0]?.below;
  return below !== undefined && BigInt(below) > BigInt(x);
}

export function parseLogCursor(since: string | null): LogCursor | null {
  if (!since?.startsWith('{')) return null;
  try {
    const c = JSON.parse(since) as Partial<LogCursor>;
    return c.v === 1 && c.m === 'log' && typeof c.x === 'string' && /^\d+$/.test(c.x) ? (c as LogCursor) : null;
  } catch {
    return null;
  }
}

/** Ids of rows changed (or deleted) in transactions [from, to), by others than the tokens in `skip`, oldest change first. */
export async function changedIds(db: Queryable, schema: string, table: string, from: string, to: string, skip: string[]): Promise<string[]> {
  const r = await db.query<{ row_id: string }>(
    `SELECT row_id FROM ${qualified(schema, LOG_TABLE)} WHERE tbl = $1 AND txid >= $2::xid8 AND txid < $3::xid8
       AND (origin IS NULL OR NOT origin = ANY($4::text[])) GROUP BY row_id ORDER BY max(seq)`,
    [table, from, to, skip]);
  return r.rows.map((x) => x.row_id);
}

/** SQL true when the row `$idParam` has no log entry at or after `$horizonParam` from anyone but `$tokenParam`. */
export function unchangedSinceSql(schema: string, horizonParam: number, idParam: number, tableParam: number, tokenParam: number): string {
  return `NOT EXISTS (SELECT 1 FROM ${qualified(schema, LOG_TABLE)} l WHERE l.tbl = $${tableParam} AND l.row_id = $${idParam}::text
    AND l.txid >= $${horizonParam}::xid8 AND l.origin IS DISTINCT FROM $${tokenParam})`;
}
