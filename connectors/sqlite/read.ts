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
 * is dropped and the next read skips rows with (time, id) <= (ts, id); the
 * cursor that read makes has a window starting no earlier than that `ts`
 * (rows before it were not listed, so `seen` cannot hold them).
 *
 * A cursor past this connector's own writes (own-writes.ts) is made right
 * after them, and a bulk write fills the window. When more than SEEN_LIMIT
 * rows fall in it, `own` maps each change time this connector gave rows of the
 * window to a hash of the ids of all rows with that time. The next read passes
 * over such a group unread while exactly those rows still have that time: a
 * row changed since has another time, and another program's row with that
 * very time changes the set, so the whole group is read. `seen` covers the
 * other rows and, past SEEN_LIMIT, keeps the newest instead of being dropped:
 * without it a change made later in that very second with a whole-second time
 * would be skipped.
 *
 * Without `updated_at` the cursor is `sha256:<hex>` of the whole table: the
 * same cursor again means an unchanged table and the read yields nothing.
 */
import { createHash } from 'node:crypto';
import type { ReadBatch, ReadOptions, SourceRecord } from '../../src/connector.js';
import { futureHorizon, futureRowWarning } from '../shared/change-times.js';
import { rowToRecord } from '../shared/rows.js';
import { exactInteger, isoMs } from '../shared/values.js';
import { prepared, quoteIdent, type Db } from './database.js';
import type { TableSchema } from './schema.js';

type Row = Record<string, unknown>;
/** Row ids as SQLite returns them (integer or text ids; blob ids are not supported). */
export type Id = number | string;

/**
 * Rows are read with `safeIntegers`, so an integer above 2^53 is not rounded
 * to a double: each integer comes as a BigInt and leaves here as a number
 * when a double holds it exactly, else as its decimal string (an id
 * 12345678901234567 stays itself and is found again by that string).
 */
export function exactRow<T extends Row | unknown[]>(row: T): T {
  if (Array.isArray(row)) {
    for (let i = 0; i < row.length; i++) if (typeof row[i] === 'bigint') row[i] = exactInteger(row[i] as bigint);
  } else {
    for (const k in row) if (typeof row[k] === 'bigint') (row as Row)[k] = exactInteger(row[k] as bigint);
  }
  return row;
}

interface ChangeCursor { v: 1; ts: string; id: Id; from: string; seen?: Record<string, string>; own?: Record<string, string> }

const SEEN_LIMIT = 10_000;
/** How far in the future a change time is believed (shared with every connector with a time-based cursor). */
export { FUTURE_SKEW_MS, futureHorizon } from '../shared/change-times.js';
/** Slack for writers whose clocks or timestamps lag ours by up to this much. */
const LOOKBACK_MS = 2000;
/** Ids per `IN (...)` query. */
export const IN_CHUNK = 500;

/** SQL giving the change time of a row as 'YYYY-MM-DDTHH:MM:SS.SSSZ' (or '' when unset), whatever its storage. */
export function changeTimeSql(column: string): string {
  const c = quoteIdent(column);
  return `coalesce(CASE WHEN typeof(${c}) IN ('integer','real') ` +
    `THEN strftime('%Y-%m-%dT%H:%M:%fZ', CASE WHEN abs(${c}) >= 100000000000 THEN ${c} / 1000.0 ELSE ${c} END, 'unixepoch') ` +
    `ELSE strftime('%Y-%m-%dT%H:%M:%fZ', ${c}) END, '')`;
}

/**
 * SQL true for every row whose change time (`changeTimeSql`) may be at or
 * after a lower bound, tested on the stored value. Text in the very form
 * `changeTimeSql` gives (ISO UTC to the millisecond, as this connector and
 * JavaScript's toISOString write it) is its own change time and is compared
 * with the bound exactly, unless its day could roll over (SQLite reads 30
 * February as 2 March). Other text passes when it starts with a date from five
 * days before the bound on (an offset such as +05:00 moves a time by less
 * than a day, a 31 February is carried three days on) or does not start with
 * a date at all; a number when it is from a second before the bound on in
 * its unit (ms or s); anything else always. Cheap next to a date function per
 * row: a listing from a cursor evaluates that only for the rows let through
 * (see `maybeSinceBounds`). The exact test matters right after a sync: the
 * rows it wrote are all from that day, and a day's margin let every one of
 * them through (at 1,000,000 contacts a pass that read nothing computed and
 * sorted 225,000 change times).
 */
export function maybeSinceSql(column: string): string {
  const c = quoteIdent(column);
  const numeric = `${c} < 0 OR (abs(${c}) >= 100000000000 AND ${c} >= :ms) OR (abs(${c}) < 100000000000 AND ${c} >= :s)`;
  // Ordered so that an old row in the exact form costs two comparisons and a short LIKE (SQLite orders
  // every number before every text, so the two comparisons are false for numbers).
  return `(${c} >= :exact OR (${c} >= :day AND NOT (${c} LIKE '${ISO_MS_SHAPE}' AND substr(${c}, 9, 2) <= '28')) ` +
    `OR CASE typeof(${c}) WHEN 'text' THEN ${c} NOT LIKE '${DATE_SHAPE}%' ` +
    `WHEN 'integer' THEN ${numeric} WHEN 'real' THEN ${numeric} ELSE 1 END)`;
}

/**
 * The shapes of 'YYYY-MM-DDTHH:MM:SS.SSSZ' (the whole value) and of a date,
 * as LIKE patterns: any character where the digits go. A third cheaper than
 * GLOB's digit classes over a million rows, and as safe: text of that shape
 * whose digits are not all digits is no date to SQLite, its change time is ''
 * and never at or after a bound, so it may be judged either way.
 */
const ISO_MS_SHAPE = '____-__-__T__:__:__.___Z';
const DATE_SHAPE = '____-__-__';

/** The bounds of `maybeSinceSql` for a lower bound ('' or unparsable: every row). */
export function maybeSinceBounds(lower: string): { exact: string; day: string; ms: number; s: number } {
  const at = Date.parse(lower);
  if (lower === '' || Number.isNaN(at)) return { exact: '', day: '', ms: -Number.MAX_VALUE, s: -Number.MAX_VALUE };
  const dayBefore = at - 5 * 86_400_000;
  // A second of slack for numbers: a ms value is divided by 1000.0 before it is formatted, which may round.
  return { exact: lower, day: new Date(dayBefore).toISOString().slice(0, 10), ms: at - 1000, s: Math.floor(at / 1000) - 1 };
}

/** Start of the window of rows a cursor at `ts` remembers (rows without a change time: all of them). */
function windowStart(ts: string): string {
  const ms = Date.parse(ts);
  return Number.isNaN(ms) ? '' : isoMs(Math.floor(ms / 1000) * 1000 - LOOKBACK_MS);
}

const rowHash = (row: Row) => createHash('sha1').update(JSON.stringify(row)).digest('base64url').slice(0, 12);
const groupHash = (ids: Id[]) => createHash('sha1').update(JSON.stringify(ids)).digest('base64url').slice(0, 16);

/**
 * Change times of the cursor's `own` groups whose rows are exactly those listed now with that time.
 * The listing is sorted by time, so each group's ids come together and only one group is held at a time.
 */
function intactGroups(listing: Listing, own: Record<string, string> | undefined): Set<string> {
  const intact = new Set<string>();
  if (!own || typeof own !== 'object') return intact;
  let ts: string | undefined;
  let ids: Id[] = [];
  const close = () => {
    if (ts !== undefined && groupHash(ids) === own[ts]) intact.add(ts);
    ts = undefined;
    ids = [];
  };
  for (const [t, id] of listing.all()) {
    if (t !== ts) close();
    if (typeof own[t] !== 'string') continue;
    ts = t;
    ids.push(id);
  }
  close();
  return intact;
}

/** Listings open at once per connection (a listing inside another's read): each has its own table. */
const openListings = new WeakMap<Db, Set<number>>();

/**
 * The (change time, id) pairs of a change listing, sorted once by SQLite into
 * a TEMP table of the connection and read back a page at a time by rowid.
 * Held in memory as an array, a million rows' pairs took ~380 MB of heap
 * at the start of an initial sync (issue 15); in the connection's temp file
 * they cost its page cache. The pairs are taken in one statement, so the
 * listing is a snapshot of the table's change times as before; the rows
 * themselves are fetched by id page by page, as they are then. TEMP tables
 * never touch the user's file, and work on a read-only one too.
 */
class Listing {
  private readonly slot: number;
  private readonly table: string;
  constructor(private readonly db: Db, select: string, params: Record<string, unknown>) {
    let slots = openListings.get(db);
    if (!slots) openListings.set(db, (slots = new Set()));
    let slot = 0;
    while (slots.has(slot)) slot++;
    slots.add(slot);
    this.slot = slot;
    this.table = `temp.datasync_listing_${slot}`;
    try {
      db.exec(`DROP TABLE IF EXISTS ${this.table}; CREATE TABLE ${this.table} (ts TEXT NOT NULL, id)`);
      // Rows are inserted in the SELECT's order, so rowid order is (ts, id) order.
      prepared(db, `INSERT INTO ${this.table} (ts, id) ${select}`).run(params);
    } catch (err) {
      this.close();
      throw err;
    }
  }

  /** Up to `n` pairs after the `after`th, in order ([] at the end). */
  page(after: number, n: number): [string, Id][] {
    // Rowids run 1, 2, 3… in the order inserted (a fresh table, one INSERT): the `after`th pair has rowid `after`.
    return (prepared(this.db, `SELECT ts, id FROM ${this.table} WHERE rowid > ? ORDER BY rowid LIMIT ?`)
      .raw().safeIntegers(true).all(after, n) as unknown[][]).map((r) => exactRow(r)) as [string, Id][];
  }

  /** Every pair in order; nothing else may use the connection until the iteration ends. */
  *all(): Generator<[string, Id]> {
    const stmt = prepared(this.db, `SELECT ts, id FROM ${this.table} ORDER BY rowid`).raw().safeIntegers(true);
    for (const r of stmt.iterate()) yield exactRow(r as unknown[]) as [string, Id];
  }

  close(): void {
    try {
      this.db.exec(`DROP TABLE IF EXISTS ${this.table}`);
    } finally {
      openListings.get(this.db)?.delete(this.slot);
    }
  }
}

function parseChangeCursor(since: string | null): ChangeCursor | null {
  if (!since?.startsWith('{')) return null;
  try {
    const c = JSON.parse(since) as Partial<ChangeCursor>;
    return c.v === 1 && typeof c.ts === 'string' && typeof c.from === 'string' && c.id !== undefined ? (c as ChangeCursor) : null;
  } catch {
    return null;
  }
}

/** The change time a listing from `from` starts at: its window with `seen`, else its last row's time. */
function listingStart(from: ChangeCursor | null): string {
  return !from ? '' : from.seen ? from.from : from.ts;
}

/** The later of two change times in the ISO form (or ''), which sorts as it reads. */
const laterOf = (a: string, b: string): string => (a > b ? a : b);

/** A cursor of the `{v:1, ...}` kind, from which a change listing can start. */
export const isChangeCursor = (since: string | null): boolean => parseChangeCursor(since) !== null;

/** Rows by id, keyed by String(id); ids not in the table are absent. */
export function fetchRows(db: Db, schema: TableSchema, ids: (Id | bigint)[]): Map<string, Row> {
  const out = new Map<string, Row>();
  const statements = new Map<number, { all(...params: unknown[]): unknown[] }>();
  for (let i = 0; i < ids.length; i += IN_CHUNK) {
    const chunk = ids.slice(i, i + IN_CHUNK);
    let stmt = statements.get(chunk.length);
    if (!stmt) {
      stmt = db.prepare(`SELECT * FROM ${quoteIdent(schema.table)} WHERE ${quoteIdent(schema.id.name)} IN (${chunk.map(() => '?').join(',')})`)
        .safeIntegers(true);
      statements.set(chunk.length, stmt);
    }
    for (const row of stmt.all(...chunk) as Row[]) out.set(String(exactRow(row)[schema.id.name]), row);
  }
  return out;
}

/** A row as the change listing compares it: its change time and a hash of its content. */
export interface RowState { ts: string; hash: string }

/** The state of one row (undefined: no such row), read as the listing would. */
export function rowState(db: Db, schema: TableSchema, id: Id | bigint): RowState | undefined {
  const stmt = prepared(db, `SELECT ${changeTimeSql(schema.updatedAt!.name)}, * FROM ${quoteIdent(schema.table)} ` +
    `WHERE ${quoteIdent(schema.id.name)} = ?`).raw().safeIntegers(true);
  const r = stmt.get(id) as unknown[] | undefined;
  if (r) exactRow(r);
  if (!r) return undefined;
  const names = stmt.columns().slice(1).map((c) => c.name);
  return { ts: r[0] as string, hash: rowHash(Object.fromEntries(names.map((n, i) => [n, r[i + 1]]))) };
}

/**
 * Says whether a listed row is this connector's own write, left as it wrote
 * it (own-writes.ts), and if so what the row was before its first such write
 * (null: created by it). The row counts as unchanged when what it was before
 * did, and is fetched only when a cursor needs its hash.
 */
export type Ours = (id: string, ts: string) => { before: RowState | null } | undefined;

/**
 * Told, once a listing has gone through every row, a change time no believed
 * row's is later than ('' when the table has none): a writer's stamp comes
 * after it without a scan of the table (write.ts ChangeClock). An upper bound,
 * not the newest itself: rows before where the listing began are not looked at.
 */
export type NewestTime = (ts: string) => void;

/** Entries of rows that left the window are dropped once this many have. */
const TRIM_WINDOW = 4096;

/**
 * Oldest change first, from the cursor's window on; pages are fetched by id so the table is sorted once.
 * Synchronous, so a caller can run it inside one read transaction (cursorPastOwnWrites).
 */
export function* changeBatches(db: Db, schema: TableSchema, opts: ReadOptions, batchSize: number, ours?: Ours,
  onNewest?: NewestTime): Generator<ReadBatch> {
  const from = parseChangeCursor(opts.since);
  const lower = listingStart(from);
  // Materialised so the time expression is computed once per row, not for WHERE and ORDER BY each,
  // and only for the rows a cheap test on the stored value lets through.
  const col = schema.updatedAt!.name;
  const listing = new Listing(db, `WITH k AS MATERIALIZED (SELECT ${changeTimeSql(col)} AS ts, ${quoteIdent(schema.id.name)} AS id ` +
    `FROM ${quoteIdent(schema.table)} WHERE ${maybeSinceSql(col)}) SELECT ts, id FROM k WHERE ts >= :lower ORDER BY ts, id`,
  { lower, ...maybeSinceBounds(lower) });
  try {
    yield* listed(db, schema, opts, batchSize, from, lower, listing, ours, onNewest);
  } finally {
    listing.close();
  }
}

/** The listing's rows from `listedFrom` (`listingStart(from)`) on, as pages of records with their cursors. */
function* listed(db: Db, schema: TableSchema, opts: ReadOptions, batchSize: number, from: ChangeCursor | null, listedFrom: string,
  listing: Listing, ours: Ours | undefined, onNewest: NewestTime | undefined): Generator<ReadBatch> {
  const col = schema.updatedAt!.name;
  const intact = intactGroups(listing, from?.own);
  /**
   * Rows read, oldest first; those from `head` on are inside the window of the last one (hashed when a cursor is made).
   * A row passed over unread (`passed`: ours, or in an intact group) has neither `row` nor `hash` until a cursor needs it.
   */
  const window: { ts: string; id: string; key: Id; passed: boolean; row?: Row; hash?: string }[] = [];
  let head = 0;
  let second = '';
  let start = '';
  let last: { ts: string; id: Id } | undefined;
  let given = opts.since;
  let records: SourceRecord[] = [];
  const horizon = futureHorizon();
  let warnings: string[] = [];
  const batch = (cursor: string | null): ReadBatch => {
    const out: ReadBatch = warnings.length > 0 ? { records, cursor, warnings } : { records, cursor };
    records = [];
    warnings = [];
    return out;
  };
  /** A row at `ts` is passed over by a read from the cursor: not listed from it, or in its window with the same content. */
  const unchangedSince = (ts: string, id: Id, hash: () => string): boolean => {
    if (from === null) return false;
    if (!from.seen) return ts < from.ts || (ts === from.ts && id <= from.id);
    const known = from.seen[String(id)];
    return ts < from.from || (known !== undefined && known === hash());
  };
  /** Unchanged, and need not be fetched: in an intact group, or our own write over an unchanged row. */
  const passedOver = (ts: string, id: Id): boolean => {
    if (intact.has(ts)) return true;
    const own = ours?.(String(id), ts);
    if (!own) return false;
    const { before } = own;
    return before === null || unchangedSince(before.ts, id, () => before.hash);
  };
  const cursor = () => {
    const inWindow = window.slice(head);
    // Past our own writes, rows passed over are summed up per change time when they cannot all be hashed.
    const ownTimes = new Set(ours && inWindow.length > SEEN_LIMIT ? inWindow.filter((e) => e.passed).map((e) => e.ts) : []);
    const rest = inWindow.filter((e) => !ownTimes.has(e.ts));
    const kept = rest.length <= SEEN_LIMIT ? rest : ours ? rest.slice(-SEEN_LIMIT) : undefined;
    let seen: Record<string, string> | undefined;
    if (kept) {
      const late = fetchRows(db, schema, kept.filter((e) => e.hash === undefined && !e.row).map((e) => e.key));
      seen = {};
      for (const e of kept) {
        const row = e.row ?? late.get(e.id);
        if (e.hash === undefined && !row) continue; // deleted since the listing: nothing to pass over
        seen[e.id] = e.hash ??= rowHash(row!);
      }
    }
    let own: Record<string, string> | undefined;
    for (const t of ownTimes) (own ??= {})[t] = groupHash(inWindow.filter((e) => e.ts === t).map((e) => e.key));
    // A cursor's `seen` must hold every row from its `from` on, so its window does not reach back before
    // the rows listed: a listing from a cursor without `seen` starts at that cursor's last time, and a
    // window two seconds wider named rows never hashed, which the next read took for changed (after a
    // bulk write, every other pass read again the ~15,000 rows of its last two seconds).
    const windowFrom = laterOf(windowStart(last!.ts), listedFrom);
    return JSON.stringify({ v: 1, ts: last!.ts, id: last!.id, from: windowFrom, ...(seen ? { seen } : {}), ...(own ? { own } : {}) });
  };

  for (let after = 0; ;) {
    const page = listing.page(after, batchSize);
    if (page.length === 0) break;
    after += page.length;
    const passed = page.map(([ts, id]) => passedOver(ts, id));
    const rows = fetchRows(db, schema, page.filter((_, j) => !passed[j]).map(([, id]) => id));
    for (const [j, [rowTs, id]] of page.entries()) {
      const row = rows.get(String(id));
      if (!row && !passed[j]) continue; // deleted since the listing
      if (rowTs > horizon) {
        // Listed last (by time), read every pass, and left out of the cursor and its window.
        warnings.push(futureRowWarning(String(id), col, rowTs));
        if (row) records.push(rowToRecord(row, schema, opts));
        continue;
      }
      const entry: (typeof window)[number] = { ts: rowTs, id: String(id), key: id, passed: passed[j]!, row };
      // `row!`: rows not passed over were fetched.
      const unchanged = passed[j] || unchangedSince(rowTs, id, () => (entry.hash = rowHash(row!)));
      window.push(entry);
      if (rowTs.slice(0, 19) !== second) {
        second = rowTs.slice(0, 19);
        start = windowStart(rowTs);
        for (; window[head]!.ts < start; head++) window[head]!.row = undefined; // let go of rows that left the window
        // And of their entries: a listing of a million rows kept one per row to the end.
        if (head >= TRIM_WINDOW) {
          window.splice(0, head);
          head = 0;
        }
      }
      last = { ts: rowTs, id };
      if (!unchanged) records.push(rowToRecord(row!, schema, opts));
    }
    if (records.length >= batchSize) {
      if (last !== undefined) given = cursor();
      yield batch(last === undefined ? null : given);
    }
  }
  // Every row listed: no believed change time in the table is later than the last one, or than where the listing began.
  onNewest?.(last === undefined ? listedFrom : laterOf(last.ts, listedFrom));
  // Also when only unchanged rows followed: their hashes belong in the cursor.
  const end = last === undefined ? null : cursor();
  if (records.length > 0 || warnings.length > 0 || (end !== null && end !== given)) yield batch(end);
}

async function* readChanges(db: Db, schema: TableSchema, opts: ReadOptions, batchSize: number, onNewest?: NewestTime):
  AsyncGenerator<ReadBatch> {
  yield* changeBatches(db, schema, opts, batchSize, undefined, onNewest);
}

function tableHash(db: Db, schema: TableSchema): string {
  const h = createHash('sha256');
  const sql = `SELECT * FROM ${quoteIdent(schema.table)} ORDER BY ${quoteIdent(schema.id.name)}`;
  for (const row of db.prepare(sql).raw().safeIntegers(true).iterate()) h.update(JSON.stringify(exactRow(row as unknown[]))).update('\n');
  return `sha256:${h.digest('hex')}`;
}

/** The whole table by id; the last page carries the table's content hash. */
async function* readListing(db: Db, schema: TableSchema, opts: ReadOptions, batchSize: number): AsyncGenerator<ReadBatch> {
  if (opts.since !== null && opts.since === tableHash(db, schema)) return;
  const id = quoteIdent(schema.id.name);
  const first = db.prepare(`SELECT * FROM ${quoteIdent(schema.table)} ORDER BY ${id} LIMIT ?`).raw().safeIntegers(true);
  const next = db.prepare(`SELECT * FROM ${quoteIdent(schema.table)} WHERE ${id} > ? ORDER BY ${id} LIMIT ?`).raw().safeIntegers(true);
  const names = first.columns().map((c) => c.name);
  const idIndex = names.indexOf(schema.id.name);
  const h = createHash('sha256');
  let last: unknown;
  for (;;) {
    const rows = ((last === undefined ? first.all(batchSize) : next.all(last, batchSize)) as unknown[][]).map(exactRow);
    for (const row of rows) h.update(JSON.stringify(row)).update('\n');
    const done = rows.length < batchSize;
    const records = rows.map((r) => rowToRecord(Object.fromEntries(names.map((n, i) => [n, r[i]])), schema, opts));
    yield { records, cursor: done ? `sha256:${h.digest('hex')}` : null };
    if (done) return;
    last = rows[rows.length - 1]![idIndex];
  }
}

export function readTable(db: Db, schema: TableSchema, opts: ReadOptions, batchSize: number, onNewest?: NewestTime):
  AsyncGenerator<ReadBatch> {
  return schema.updatedAt ? readChanges(db, schema, opts, batchSize, onNewest) : readListing(db, schema, opts, batchSize);
}
