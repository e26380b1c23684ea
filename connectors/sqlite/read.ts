/**
 * Reading a table as pages of canonical records.
 *
 * With an `updated_at` column the cursor is JSON `{v:1, ts, id, from, seen}`:
 * `ts`/`id` are the change time (ISO UTC) and id of the last row read, `from`
 * is the start of the second of `ts` minus LOOKBACK_MS, and `seen` maps the id
 * of every row read with a change time >= `from` to a hash of its content. The
 * next read takes every row changed at or after `from` and skips only those in
 * `seen` with the same content. So a row is never missed when another program
 * writes whole-second times ('2024-06-01 12:00:00') in the same second as a
 * millisecond time the cursor has passed, nor when a row is changed twice
 * within one tick. When more than SEEN_LIMIT rows fall in that window, `seen`
 * is dropped and the next read skips rows with (time, id) <= (ts, id).
 *
 * Without `updated_at` the cursor is `sha256:<hex>` of the whole table: the
 * same cursor again means an unchanged table and the read yields nothing.
 */
import { createHash } from 'node:crypto';
import type { ReadBatch, ReadOptions, SourceRecord, Value } from '../../src/connector.js';
import { isoMs, toCanonical } from '../shared/values.js';
import { quoteIdent, type Db } from './database.js';
import type { TableSchema } from './schema.js';

type Row = Record<string, unknown>;
/** Row ids as SQLite returns them (integer or text ids; blob ids are not supported). */
export type Id = number | string;

interface ChangeCursor { v: 1; ts: string; id: Id; from: string; seen?: Record<string, string> }

const SEEN_LIMIT = 10_000;
/** Slack for writers whose clocks or timestamps lag ours by up to this much. */
const LOOKBACK_MS = 2000;
const IN_CHUNK = 500;

/** SQL giving the change time of a row as 'YYYY-MM-DDTHH:MM:SS.SSSZ' (or '' when unset), whatever its storage. */
export function changeTimeSql(column: string): string {
  const c = quoteIdent(column);
  return `coalesce(CASE WHEN typeof(${c}) IN ('integer','real') ` +
    `THEN strftime('%Y-%m-%dT%H:%M:%fZ', CASE WHEN abs(${c}) >= 100000000000 THEN ${c} / 1000.0 ELSE ${c} END, 'unixepoch') ` +
    `ELSE strftime('%Y-%m-%dT%H:%M:%fZ', ${c}) END, '')`;
}

/** Start of the window of rows a cursor at `ts` remembers (rows without a change time: all of them). */
function windowStart(ts: string): string {
  const ms = Date.parse(ts);
  return Number.isNaN(ms) ? '' : isoMs(Math.floor(ms / 1000) * 1000 - LOOKBACK_MS);
}

const rowHash = (row: Row) => createHash('sha1').update(JSON.stringify(row)).digest('base64url').slice(0, 12);

function parseChangeCursor(since: string | null): ChangeCursor | null {
  if (!since?.startsWith('{')) return null;
  try {
    const c = JSON.parse(since) as Partial<ChangeCursor>;
    return c.v === 1 && typeof c.ts === 'string' && typeof c.from === 'string' && c.id !== undefined ? (c as ChangeCursor) : null;
  } catch {
    return null;
  }
}

export function toRecord(schema: TableSchema, row: Row, opts: ReadOptions): SourceRecord {
  const wanted = opts.fields.length > 0 ? opts.fields : schema.fields.map((f) => f.name);
  const fields: Record<string, Value> = {};
  for (const name of wanted) {
    const spec = schema.fieldsByName.get(name);
    if (spec) fields[name] = toCanonical(row[name], spec.type);
  }
  const record: SourceRecord = { id: String(row[schema.id.name]), fields };
  const assocs = schema.associations.filter((a) => !opts.associations || opts.associations.includes(a.name));
  if (assocs.length > 0) {
    record.associations = {};
    for (const a of assocs) {
      const v = row[a.field];
      record.associations[a.name] = v === null || v === undefined || v === '' ? [] : [String(v)];
    }
  }
  return record;
}

/** Rows by id, keyed by String(id); ids not in the table are absent. */
export function fetchRows(db: Db, schema: TableSchema, ids: Id[]): Map<string, Row> {
  const out = new Map<string, Row>();
  const statements = new Map<number, { all(...params: unknown[]): unknown[] }>();
  for (let i = 0; i < ids.length; i += IN_CHUNK) {
    const chunk = ids.slice(i, i + IN_CHUNK);
    let stmt = statements.get(chunk.length);
    if (!stmt) {
      stmt = db.prepare(`SELECT * FROM ${quoteIdent(schema.table)} WHERE ${quoteIdent(schema.id.name)} IN (${chunk.map(() => '?').join(',')})`);
      statements.set(chunk.length, stmt);
    }
    for (const row of stmt.all(...chunk) as Row[]) out.set(String(row[schema.id.name]), row);
  }
  return out;
}

/** Of the given ids, those present in the table (as strings). */
export function fetchIds(db: Db, schema: TableSchema, ids: Id[]): string[] {
  const out: string[] = [];
  const id = quoteIdent(schema.id.name);
  for (let i = 0; i < ids.length; i += IN_CHUNK) {
    const chunk = ids.slice(i, i + IN_CHUNK);
    const sql = `SELECT ${id} FROM ${quoteIdent(schema.table)} WHERE ${id} IN (${chunk.map(() => '?').join(',')})`;
    for (const [v] of db.prepare(sql).raw().all(...chunk) as [unknown][]) out.push(String(v));
  }
  return out;
}

/** Oldest change first, from the cursor's window on; pages are fetched by id so the table is sorted once. */
async function* readChanges(db: Db, schema: TableSchema, opts: ReadOptions, batchSize: number): AsyncGenerator<ReadBatch> {
  const from = parseChangeCursor(opts.since);
  const lower = !from ? '' : from.seen ? from.from : from.ts;
  // Materialised so the time expression is computed once per row, not for WHERE and ORDER BY each.
  const keys = db.prepare(`WITH k AS MATERIALIZED (SELECT ${changeTimeSql(schema.updatedAt!.name)} AS ts, ${quoteIdent(schema.id.name)} AS id ` +
    `FROM ${quoteIdent(schema.table)}) SELECT ts, id FROM k WHERE ts >= ? ORDER BY ts, id`).raw().all(lower) as [string, Id][];
  /** Rows read, oldest first; those from `head` on are inside the window of the last one (hashed when a cursor is made). */
  const window: { ts: string; id: string; row?: Row; hash?: string }[] = [];
  let head = 0;
  let second = '';
  let start = '';
  let last: { ts: string; id: Id } | undefined;
  let given = opts.since;
  let records: SourceRecord[] = [];
  const cursor = () => {
    const inWindow = window.slice(head);
    let seen: Record<string, string> | undefined;
    if (inWindow.length <= SEEN_LIMIT) {
      seen = {};
      for (const e of inWindow) seen[e.id] = e.hash ??= rowHash(e.row!);
    }
    return JSON.stringify({ v: 1, ts: last!.ts, id: last!.id, from: windowStart(last!.ts), ...(seen ? { seen } : {}) });
  };

  for (let i = 0; i < keys.length; i += batchSize) {
    const page = keys.slice(i, i + batchSize);
    const rows = fetchRows(db, schema, page.map(([, id]) => id));
    for (const [rowTs, id] of page) {
      const row = rows.get(String(id));
      if (!row) continue; // deleted since the listing
      const entry: (typeof window)[number] = { ts: rowTs, id: String(id), row };
      const known = from?.seen?.[entry.id];
      const unchanged = from !== null && (from.seen
        ? known !== undefined && known === (entry.hash = rowHash(row))
        : rowTs < from.ts || (rowTs === from.ts && id <= from.id));
      window.push(entry);
      if (rowTs.slice(0, 19) !== second) {
        second = rowTs.slice(0, 19);
        start = windowStart(rowTs);
        for (; window[head]!.ts < start; head++) window[head]!.row = undefined; // let go of rows that left the window
      }
      last = { ts: rowTs, id };
      if (!unchanged) records.push(toRecord(schema, row, opts));
    }
    if (records.length >= batchSize) {
      given = cursor();
      yield { records, cursor: given };
      records = [];
    }
  }
  // Also when only unchanged rows followed: their hashes belong in the cursor.
  const end = last === undefined ? null : cursor();
  if (records.length > 0 || (end !== null && end !== given)) yield { records, cursor: end };
}

function tableHash(db: Db, schema: TableSchema): string {
  const h = createHash('sha256');
  const sql = `SELECT * FROM ${quoteIdent(schema.table)} ORDER BY ${quoteIdent(schema.id.name)}`;
  for (const row of db.prepare(sql).raw().iterate()) h.update(JSON.stringify(row)).update('\n');
  return `sha256:${h.digest('hex')}`;
}

/** The whole table by id; the last page carries the table's content hash. */
async function* readListing(db: Db, schema: TableSchema, opts: ReadOptions, batchSize: number): AsyncGenerator<ReadBatch> {
  if (opts.since !== null && opts.since === tableHash(db, schema)) return;
  const id = quoteIdent(schema.id.name);
  const first = db.prepare(`SELECT * FROM ${quoteIdent(schema.table)} ORDER BY ${id} LIMIT ?`).raw();
  const next = db.prepare(`SELECT * FROM ${quoteIdent(schema.table)} WHERE ${id} > ? ORDER BY ${id} LIMIT ?`).raw();
  const names = first.columns().map((c) => c.name);
  const idIndex = names.indexOf(schema.id.name);
  const h = createHash('sha256');
  let last: unknown;
  for (;;) {
    const rows = (last === undefined ? first.all(batchSize) : next.all(last, batchSize)) as unknown[][];
    for (const row of rows) h.update(JSON.stringify(row)).update('\n');
    const done = rows.length < batchSize;
    const records = rows.map((r) => toRecord(schema, Object.fromEntries(names.map((n, i) => [n, r[i]])), opts));
    yield { records, cursor: done ? `sha256:${h.digest('hex')}` : null };
    if (done) return;
    last = rows[rows.length - 1]![idIndex];
  }
}

export function readTable(db: Db, schema: TableSchema, opts: ReadOptions, batchSize: number): AsyncGenerator<ReadBatch> {
  return schema.updatedAt ? readChanges(db, schema, opts, batchSize) : readListing(db, schema, opts, batchSize);
}
