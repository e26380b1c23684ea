/**
 * Reading a table as pages of canonical records, in each of the three ways
 * changes are found (schema.ts picks one per table):
 *
 * - `triggers`: the ids the change log lists since the cursor's horizon
 *   (changelog.ts), their rows fetched by id; ids without a row are listed as
 *   deleted. The cursor is `{v:1, m:'log', x}`.
 * - `updated_at`: rows whose change time is at or after the cursor's time
 *   minus LOOKBACK, in (time, id) order. A transaction's now() is its start,
 *   so a row can commit with a time the cursor has passed: the lookback reads
 *   them again, and `seen` (id → hash of the row, for the rows in the window)
 *   passes over those read already and unchanged. The cursor is
 *   `{v:1, m:'u', ts, seen}`. Edits that forget to bump the column are not
 *   seen here.
 * - `scan`: the cursor is a hash of every row (`md5(t::text)`, computed by
 *   the server); the same hash again means an unchanged table and nothing is
 *   listed, otherwise the whole table is. After datasync's own writes the
 *   cursor moves to the new hash when no one else changed a row meanwhile
 *   (`scanCursorAfterWrites`).
 *
 * Every read remembers the `xmin` of each row it saw (RowVersions), so an
 * update later in the run can be made conditional on the row still being as
 * read (write.ts).
 */
import { createHash } from 'node:crypto';
import type { ReadBatch, ReadOptions, SourceRecord } from '../../src/connector.js';
import { futureHorizonMs, futureRowWarning } from '../shared/change-times.js';
import { rowToRecord } from '../shared/rows.js';
import { belowFloor, changedIds, horizon, newReader, parseLogCursor, registerAndPrune } from './changelog.js';
import { quoteIdent, type Db, type Queryable } from './database.js';
import type { TableSchema } from './schema.js';

type Row = Record<string, unknown>;
const XMIN = 'datasync xmin';
const HASH = 'datasync hash';
const TS = 'datasync ts';

/** Slack for transactions that commit after a read with a change time before it. */
export const LOOKBACK_MS = 5000;
const SEEN_LIMIT = 10_000;

/** What this connector knows of rows it saw during the run: their version (xmin), and the last read's bounds. */
export class RowVersions {
  readonly xmin = new Map<string, string>();
  /** triggers: the horizon the last read reached; updated_at: the start of its window. */
  since: string | undefined;
}

const selectFrom = (s: TableSchema) => `SELECT t.xmin::text AS ${quoteIdent(XMIN)}, md5(t::text) AS ${quoteIdent(HASH)}, ${s.selectList} FROM ${s.qname} t`;
const idCol = (s: TableSchema) => `t.${quoteIdent(s.id.name)}`;

/** Rows by id (as strings), in pages of `batch`; ids without a row are left out. */
export async function fetchRows(db: Queryable, s: TableSchema, ids: string[], versions: RowVersions, batch = 1000): Promise<Row[]> {
  const out: Row[] = [];
  const sql = `${selectFrom(s)} WHERE ${idCol(s)} = ANY($1::${s.id.declared}[])`;
  for (let i = 0; i < ids.length; i += batch) {
    for (const row of (await db.query(sql, [ids.slice(i, i + batch)], `ds_get_${hashOf(sql)}`)).rows) {
      versions.xmin.set(String(row[s.id.name]), String(row[XMIN]));
      out.push(row);
    }
  }
  return out;
}

export const hashOf = (text: string) => createHash('sha1').update(text).digest('hex').slice(0, 20);

/** The whole table in id order, page by page (keyset, so each page is an index range). */
async function* allRows(db: Queryable, s: TableSchema, batchSize: number, versions: RowVersions, select = selectFrom(s)): AsyncGenerator<Row[]> {
  const first = `${select} ORDER BY ${idCol(s)} LIMIT $1`;
  const next = `${select} WHERE ${idCol(s)} > $2::${s.id.declared} ORDER BY ${idCol(s)} LIMIT $1`;
  let last: string | undefined;
  for (;;) {
    const sql = last === undefined ? first : next;
    const rows = (await db.query(sql, last === undefined ? [batchSize] : [batchSize, last], `ds_all_${hashOf(sql)}`)).rows;
    for (const row of rows) versions.xmin.set(String(row[s.id.name]), String(row[XMIN]));
    if (rows.length > 0) yield rows;
    if (rows.length < batchSize) return;
    last = String(rows[rows.length - 1]![s.id.name]);
  }
}

export async function* readTable(db: Db, s: TableSchema, opts: ReadOptions, batchSize: number, versions: RowVersions): AsyncGenerator<ReadBatch> {
  if (s.mode === 'triggers') yield* readLog(db, s, opts, batchSize, versions);
  else if (s.mode === 'updated_at') yield* readSinceTime(db, s, opts, batchSize, versions);
  else yield* readScan(db, s, opts, batchSize, versions);
}

async function* readLog(db: Db, s: TableSchema, opts: ReadOptions, batchSize: number, versions: RowVersions): AsyncGenerator<ReadBatch> {
  const from = parseLogCursor(opts.since);
  const to = await horizon(db);
  const reader = from?.r ?? newReader();
  const cursor = JSON.stringify({ v: 1, m: 'log', x: to, r: reader });
  versions.since = to;
  // Everything, then the log from the horizon taken before the listing began. A cursor of
  // another kind (the triggers were installed since), or one below the pruned part of the log:
  // the listing is whole, so a linked record not in it is gone (`relisted`), since the log cannot
  // say what was deleted before.
  const whole = async function* (): AsyncGenerator<ReadBatch> {
    let pending: SourceRecord[] | undefined;
    for await (const rows of allRows(db, s, batchSize, versions)) {
      if (pending) yield { records: pending, cursor: null };
      pending = rows.map((r) => rowToRecord(r, s, opts));
    }
    yield { records: pending ?? [], cursor, ...(opts.since !== null ? { relisted: true } : {}) };
  };
  // The position this reader's saved cursor (or, first read, its new one) stands at holds the log back.
  await registerAndPrune(db, s.schema, s.table, reader, from?.x ?? to);
  if (!from) {
    yield* whole();
    return;
  }
  const ids = await changedIds(db, s.schema, s.table, from.x, to, from.skip ?? []);
  // After reading the log: a prune committed before that read is seen here.
  if (await belowFloor(db, s.schema, s.table, from.x)) {
    yield* whole();
    return;
  }
  for (let i = 0; i < ids.length; i += batchSize) {
    const page = ids.slice(i, i + batchSize);
    const rows = await fetchRows(db, s, page, versions, batchSize);
    const found = new Set(rows.map((r) => String(r[s.id.name])));
    const last = i + batchSize >= ids.length;
    yield { records: rows.map((r) => rowToRecord(r, s, opts)), cursor: last ? cursor : null, deleted: page.filter((id) => !found.has(id)) };
  }
  if (ids.length === 0 && from.x !== to) yield { records: [], cursor, deleted: [] };
}

interface TimeCursor { v: 1; m: 'u'; ts: string; seen: Record<string, string> }

function parseTimeCursor(since: string | null): TimeCursor | null {
  if (!since?.startsWith('{')) return null;
  try {
    const c = JSON.parse(since) as Partial<TimeCursor>;
    return c.v === 1 && c.m === 'u' && typeof c.ts === 'string' && typeof c.seen === 'object' && c.seen !== null ? (c as TimeCursor) : null;
  } catch {
    return null;
  }
}

/** '2024-05-01 10:30:00.123456+00' (or without zone) → ms. */
const tsMs = (ts: string) => Date.parse(`${ts.replace(' ', 'T').replace(/([+-]\d\d)$/, '$1:00')}${/[+-]\d\d(:\d\d)?$/.test(ts) ? '' : 'Z'}`);

async function* readSinceTime(db: Queryable, s: TableSchema, opts: ReadOptions, batchSize: number, versions: RowVersions): AsyncGenerator<ReadBatch> {
  const from = parseTimeCursor(opts.since);
  const col = `t.${quoteIdent(s.updatedAt!.name)}`;
  const type = s.updatedAt!.declared;
  const base = `SELECT (${col})::text AS ${quoteIdent(TS)}, ${selectFrom(s).slice('SELECT '.length)}`;
  /** Rows read with a time, for the cursor's window. */
  const window: { ts: string; ms: number; id: string; hash: string }[] = [];
  const cursor = (): string | null => {
    window.sort((a, b) => a.ms - b.ms || (a.ts < b.ts ? -1 : a.ts > b.ts ? 1 : 0));
    const end = window[window.length - 1];
    if (!end) return opts.since;
    const seen: Record<string, string> = {};
    for (const w of window.filter((x) => x.ms >= end.ms - LOOKBACK_MS).slice(-SEEN_LIMIT)) seen[w.id] = w.hash;
    return JSON.stringify({ v: 1, m: 'u', ts: end.ts, seen });
  };
  const horizon = futureHorizonMs();
  let warnings: string[] = [];
  /** A batch, with the warnings gathered since the last one. */
  const out = (records: SourceRecord[], cursor: string | null): ReadBatch => {
    const batch: ReadBatch = warnings.length > 0 ? { records, cursor, warnings } : { records, cursor };
    warnings = [];
    return batch;
  };
  const note = (row: Row) => {
    const ts = row[TS] as string | null;
    if (ts === null) return;
    const ms = tsMs(ts);
    // A time past now + the skew allowed (9999-12-31, 'infinity') is not believed: the row is read on
    // every pass (it sorts last) and left out of the cursor, which would otherwise pass over every later edit.
    if (!(ms <= horizon)) warnings.push(futureRowWarning(String(row[s.id.name]), s.updatedAt!.name, ts));
    else window.push({ ts, ms, id: String(row[s.id.name]), hash: String(row[HASH]) });
  };
  if (!from) {
    // Everything, by id; the cursor is the newest time seen (and the rows near it).
    versions.since = undefined;
    let pending: SourceRecord[] | undefined;
    for await (const rows of allRows(db, s, batchSize, versions, base)) {
      if (pending) yield out(pending, null);
      for (const row of rows) note(row);
      pending = rows.map((r) => rowToRecord(r, s, opts));
    }
    yield out(pending ?? [], cursor());
    return;
  }
  versions.since = new Date(tsMs(from.ts) - LOOKBACK_MS).toISOString();
  const lower = `${col} >= $2::${type} - interval '${LOOKBACK_MS} milliseconds'`;
  const firstSql = `${base} WHERE ${lower} ORDER BY ${col}, ${idCol(s)} LIMIT $1`;
  const nextSql = `${base} WHERE ${lower} AND (${col}, ${idCol(s)}) > ($3::${type}, $4::${s.id.declared}) ORDER BY ${col}, ${idCol(s)} LIMIT $1`;
  let last: { ts: string; id: string } | undefined;
  let pending: SourceRecord[] = [];
  for (;;) {
    const sql = last ? nextSql : firstSql;
    const rows = (await db.query(sql, last ? [batchSize, from.ts, last.ts, last.id] : [batchSize, from.ts], `ds_u_${hashOf(sql)}`)).rows;
    for (const row of rows) {
      const id = String(row[s.id.name]);
      versions.xmin.set(id, String(row[XMIN]));
      note(row);
      last = { ts: row[TS] as string, id };
      if (from.seen[id] !== row[HASH]) pending.push(rowToRecord(row, s, opts));
    }
    const done = rows.length < batchSize;
    if (pending.length >= batchSize || done) {
      const c = cursor();
      if (pending.length > 0 || c !== opts.since || warnings.length > 0) yield out(pending, c);
      pending = [];
    }
    if (done) return;
    // Keep only what a cursor can still need.
    if (window.length > SEEN_LIMIT * 2) {
      const end = window[window.length - 1]!.ms - LOOKBACK_MS;
      window.splice(0, window.findIndex((w) => w.ms >= end));
    }
  }
}

const hashSql = (s: TableSchema) => `SELECT ${idCol(s)}::text AS id, t.xmin::text AS x, md5(t::text) AS h FROM ${s.qname} t ORDER BY ${idCol(s)}`;

/** The table's content hash, and the xmin of every row (for conditional updates). */
async function tableHash(db: Queryable, s: TableSchema, versions: RowVersions): Promise<string> {
  const h = createHash('sha256');
  for (const r of (await db.query<{ id: string; x: string; h: string }>(hashSql(s))).rows) {
    versions.xmin.set(r.id, r.x);
    h.update(r.h);
  }
  return `sha256:${h.digest('hex')}`;
}

/**
 * `scan`: the table's hash now, when every row is as this run read it or as
 * its own writes left it (the xmin of each, RowVersions) — then the next
 * pass need not list the whole table again for datasync's own writes; else
 * (a row someone else inserted, changed or deleted since) `since`, and the
 * next pass lists it whole.
 */
export async function scanCursorAfterWrites(db: Queryable, s: TableSchema, versions: RowVersions, since: string | null): Promise<string | null> {
  const h = createHash('sha256');
  const rows = (await db.query<{ id: string; x: string; h: string }>(hashSql(s))).rows;
  for (const r of rows) {
    if (versions.xmin.get(r.id) !== r.x) return since;
    h.update(r.h);
  }
  return rows.length === versions.xmin.size ? `sha256:${h.digest('hex')}` : since;
}

async function* readScan(db: Queryable, s: TableSchema, opts: ReadOptions, batchSize: number, versions: RowVersions): AsyncGenerator<ReadBatch> {
  const before = await tableHash(db, s, versions);
  if (opts.since !== null && opts.since === before) return;
  let pending: SourceRecord[] | undefined;
  for await (const rows of allRows(db, s, batchSize, versions)) {
    if (pending) yield { records: pending, cursor: null };
    pending = rows.map((r) => rowToRecord(r, s, opts));
  }
  // The hash from before the listing: a change made during it is listed again next time.
  yield { records: pending ?? [], cursor: before };
}
