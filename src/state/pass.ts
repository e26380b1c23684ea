/**
 * The scratch data of one pass (issue 15): what each side's scan read, and
 * the units the pass will apply, kept in TEMP tables of the state's SQLite
 * connection instead of in memory. A pass writes the records it reads here
 * page by page, sorts them with set queries against the links and statuses
 * (unchanged since the last sync, linked, back from deletion), and the apply
 * phase reads back one batch of units and the records they need by id.
 *
 * TEMP tables live in a private temp file of the connection (SQLite's
 * temp_store, set to FILE here), never in the state file: nothing of a pass
 * is journalled, a pass killed at any point leaves nothing behind, and a
 * dry run (which writes nothing to the state) streams the same way. Every
 * row carries its sync, so passes of several syncs on one connection keep
 * apart; each pass clears its own rows when it starts and when it ends.
 */
import { deserialize, serialize } from 'node:v8';
import type Database from 'better-sqlite3';
import type { SourceRecord } from '../connector.js';
import type { Side } from './store.js';
import { statementCache } from './statements.js';

const SCHEMA = `
  CREATE TEMP TABLE IF NOT EXISTS pass_records (
    seq INTEGER PRIMARY KEY,        -- reading order
    sync TEXT NOT NULL,
    side TEXT NOT NULL,
    id TEXT NOT NULL,
    fp TEXT NOT NULL,               -- fingerprint (engine/fingerprint.ts)
    keys TEXT NOT NULL,             -- JSON list of its match keys (engine/keys.ts)
    reason TEXT,                    -- why a rule or filter excludes it (NULL: it takes part)
    merged INTEGER NOT NULL,        -- 1: lists records merged into it
    loaded INTEGER NOT NULL,        -- 1: its record is in pass_data (0: read as when last in sync, the row only)
    link_a TEXT,                    -- the a_id of its link (NULL: none), set by sortRead
    link_deleted TEXT,              -- that link's deleted side
    same INTEGER NOT NULL DEFAULT 0,     -- 1: read exactly as when last in sync
    settled INTEGER NOT NULL DEFAULT 0,  -- 1: matching decided it with set queries (settleSimpleMatches)
    resumed INTEGER NOT NULL DEFAULT 0,  -- 1: back from exclusion or deletion
    UNIQUE (sync, side, id)
  );
  CREATE INDEX IF NOT EXISTS temp.pass_records_order ON pass_records (sync, side, seq);
  -- The records themselves, apart from their rows: the set queries rewrite the rows' columns several
  -- times a pass, and with each record in its row every such update rewrote every page of the records
  -- (261 MB written to the temp file by a 100,000-contact initial sync, for 45 MB of records).
  CREATE TEMP TABLE IF NOT EXISTS pass_data (
    seq INTEGER PRIMARY KEY,        -- its row's seq
    data BLOB NOT NULL              -- the SourceRecord (v8 serialisation: values exactly as read)
  );
  CREATE TEMP TABLE IF NOT EXISTS pass_units (
    seq INTEGER PRIMARY KEY,        -- applying order
    sync TEXT NOT NULL,
    kind TEXT NOT NULL,             -- 'pair' | 'create'
    link TEXT,                      -- a linked pair: its link's a_id
    a TEXT,                         -- pair: the records to merge (a linked pair: the sides read)
    b TEXT,
    from_side TEXT,                 -- create: the side of the record (its id in a or b)
    key TEXT,
    resumed INTEGER NOT NULL DEFAULT 0,
    UNIQUE (sync, link)
  );
  CREATE TEMP TABLE IF NOT EXISTS pass_keys (
    sync TEXT NOT NULL,
    side TEXT NOT NULL,
    id TEXT NOT NULL,
    key TEXT NOT NULL,
    pos INTEGER NOT NULL,           -- 0: the primary key
    linked INTEGER NOT NULL         -- 1: the record is linked (or claimed by a recovered create)
  );
  CREATE INDEX IF NOT EXISTS temp.pass_keys_by_key ON pass_keys (sync, key, side, id);
  CREATE INDEX IF NOT EXISTS temp.pass_keys_by_id ON pass_keys (sync, side, id);
  CREATE TEMP TABLE IF NOT EXISTS pass_claimed (sync TEXT NOT NULL, side TEXT NOT NULL, id TEXT NOT NULL, PRIMARY KEY (sync, side, id));
  CREATE TEMP TABLE IF NOT EXISTS pass_keystats (
    sync TEXT NOT NULL,
    key TEXT NOT NULL,
    a_id TEXT,                      -- a record of side a holding it (the only one, unless bad)
    b_id TEXT,
    bad INTEGER NOT NULL,           -- 1: held by more than one record of a side, by a linked one, or by one read before
    PRIMARY KEY (sync, key)
  );
  CREATE TEMP TABLE IF NOT EXISTS pass_match (
    sync TEXT NOT NULL,
    side TEXT NOT NULL,
    id TEXT NOT NULL,
    bad INTEGER NOT NULL,           -- 1: a key of it is held by more than one record of a side, a linked one, or one read before
    partners INTEGER NOT NULL,      -- records of the other side sharing a key with it
    partner TEXT,
    PRIMARY KEY (sync, side, id)
  );
  CREATE TEMP TABLE IF NOT EXISTS pass_deferred (
    seq INTEGER PRIMARY KEY,        -- writing order
    sync TEXT NOT NULL,
    data BLOB NOT NULL              -- a written batch waiting for its app's flush (engine/apply.ts PendingRecords)
  );
`;

/**
 * What the pass needs of a record besides its fields, worked out once as it
 * is stored: its fingerprint first, and only for a record not read exactly as
 * when last in sync its match keys and why a rule or filter excludes it.
 */
export interface RecordFacts {
  /** '' when the pass compares no fingerprints (an initial sync, a rescan). */
  fp(rec: SourceRecord): string;
  rest(rec: SourceRecord): { keys: string[]; reason: string | null };
}

/** A record read in this pass with what the pass worked out about it (`record`: only from `pages` with records). */
export interface ReadRow {
  id: string;
  record?: SourceRecord;
  keys: string[];
  reason: string | null;
  seq: number;
  /** The a_id of its link; null: none (or freed). */
  linkA: string | null;
  linkDeleted: Side | null;
  resumed: boolean;
}

interface RawRow { seq: number; id: string; data?: Buffer | null; keys: string; reason: string | null; link_a: string | null; link_deleted: Side | null; resumed: number }

const decode = (data: Buffer): SourceRecord => deserialize(data) as SourceRecord;

/**
 * Whether a record of `side` reads exactly as when last in sync: its live
 * link holds its fingerprint and it has no status. One rule for `put` (as it
 * stores a record) and `sortRead` (after merges, deletions and returns were
 * settled); the arguments are SQL expressions for its sync, id and fingerprint.
 */
function doneSql(side: Side, rec: { sync: string; id: string; fp: string }): string {
  const col = side === 'a' ? 'a_id' : 'b_id';
  return `(EXISTS (SELECT 1 FROM links l WHERE l.sync = ${rec.sync} AND l.${col} = ${rec.id} AND l.deleted IS NULL AND l.${side}_hash = ${rec.fp})
           AND NOT EXISTS (SELECT 1 FROM record_status s WHERE s.sync = ${rec.sync} AND s.side = '${side}' AND s.record_id = ${rec.id}))`;
}

/** Ids per statement with `IN (…)`: far below SQLite's limit of bound parameters. */
const CHUNK = 500;

function chunks<T>(items: T[], size = CHUNK): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

export class PassState {
  /** Set once `sortRead` ran: records put after it get their link columns as they are stored. */
  private sorted = false;
  private readonly q: (sql: string) => Database.Statement<unknown[]>;
  constructor(private db: Database.Database, readonly sync: string) {
    this.q = statementCache(db);
    db.pragma('temp_store = FILE');
    db.exec(SCHEMA);
    this.clear();
  }


  /** Forgets this sync's scratch rows (a pass starts and ends with none). */
  clear(): void {
    // A record's data goes with its row (pass_data has no sync of its own).
    if (this.othersIn('pass_records')) this.q(`DELETE FROM pass_data WHERE seq IN (SELECT seq FROM pass_records WHERE sync = ?)`).run(this.sync);
    else this.q(`DELETE FROM pass_data`).run();
    for (const table of ['pass_records', 'pass_units', 'pass_deferred', 'pass_keys', 'pass_claimed', 'pass_keystats', 'pass_match']) {
      // Only this sync's rows (the usual case): emptied whole, which SQLite does without visiting each row.
      if (this.othersIn(table)) this.q(`DELETE FROM ${table} WHERE sync = ?`).run(this.sync);
      else this.q(`DELETE FROM ${table}`).run();
    }
  }
  /** Whether a scratch table holds rows of another sync. */
  private othersIn(table: string): boolean {
    return this.q(`SELECT 1 FROM ${table} WHERE sync < ? LIMIT 1`).get(this.sync) !== undefined
      || this.q(`SELECT 1 FROM ${table} WHERE sync > ? LIMIT 1`).get(this.sync) !== undefined;
  }

  /** The records of one side, a Map-like view the scan and the lookups by id work with. */
  records(side: Side, facts: RecordFacts): PassRecords {
    return new PassRecords(this, side, facts);
  }

  /** @internal */
  put(side: Side, recs: SourceRecord[], facts: RecordFacts): number {
    let added = 0;
    // Most records are new: one statement each; a record read again (a listing that moved) is replaced in place.
    const insert = this.q(`INSERT OR IGNORE INTO pass_records (sync, side, id, fp, keys, reason, merged, loaded, same) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`);
    const replace = this.q(`UPDATE pass_records SET fp = ?, keys = ?, reason = ?, merged = ?, loaded = ? WHERE sync = ? AND side = ? AND id = ?
                            RETURNING seq`).pluck();
    const putData = this.q(`INSERT OR REPLACE INTO pass_data (seq, data) VALUES (?, ?)`);
    const dropData = this.q(`DELETE FROM pass_data WHERE seq = ?`);
    const link = this.q(this.linkSql(side, 'AND id = ?'));
    const fps = recs.map((r) => facts.fp(r));
    const merges = (r: SourceRecord) => (r.merged && r.merged.length > 0 ? 1 : 0);
    this.db.transaction(() => {
      // Read exactly as when last in sync (see sortRead): only the row, not the record, its keys or its
      // verdict. A file read whole on every pass (a CSV file) stored a million records to use a few.
      // Asked of the whole page in one statement: one per record was a fifth of a 1% pass at 1,000,000 rows.
      const asked = this.sorted ? [] : recs.flatMap((r, i) => (fps[i] !== '' && !merges(r) ? [[r.id, fps[i], i]] : []));
      const done = new Set(asked.length === 0 ? [] : this.q(`SELECT j.value ->> 2 FROM json_each(@page) j
          WHERE ${doneSql(side, { sync: '@sync', id: '(j.value ->> 0)', fp: '(j.value ->> 1)' })}`).pluck()
        .all({ page: JSON.stringify(asked), sync: this.sync }) as number[]);
      for (const [i, r] of recs.entries()) {
        const merged = merges(r);
        const fp = fps[i]!;
        const same = done.has(i);
        const f = same ? { fp, keys: [] as string[], reason: null } : { fp, ...facts.rest(r) };
        const keys = JSON.stringify(f.keys);
        const loaded = same ? 0 : 1;
        const stored = insert.run(this.sync, side, r.id, f.fp, keys, f.reason, merged, loaded, same ? 1 : 0);
        if (stored.changes > 0) {
          added++;
          if (!same) putData.run(stored.lastInsertRowid, serialize(r));
        } else {
          const seq = replace.get(f.fp, keys, f.reason, merged, loaded, this.sync, side, r.id) as number;
          if (same) dropData.run(seq);
          else putData.run(seq, serialize(r));
        }
        if (this.sorted) link.run(this.sync, side, r.id);
      }
    })();
    return added;
  }

  /** @internal */
  remove(side: Side, ids: string[]): number {
    let removed = 0;
    const del = this.q(`DELETE FROM pass_records WHERE sync = ? AND side = ? AND id = ? RETURNING seq`).pluck();
    const dropData = this.q(`DELETE FROM pass_data WHERE seq = ?`);
    this.db.transaction(() => {
      for (const id of ids) {
        const seq = del.get(this.sync, side, id) as number | undefined;
        if (seq === undefined) continue;
        dropData.run(seq);
        removed++;
      }
    })();
    return removed;
  }
  /** @internal */
  has(side: Side, id: string): boolean {
    return this.q(`SELECT 1 FROM pass_records WHERE sync = ? AND side = ? AND id = ?`).get(this.sync, side, id) !== undefined;
  }
  /** @internal */
  get(side: Side, id: string): SourceRecord | undefined {
    const data = this.q(`SELECT d.data FROM pass_records r JOIN pass_data d ON d.seq = r.seq WHERE r.sync = ? AND r.side = ? AND r.id = ?`)
      .pluck().get(this.sync, side, id) as Buffer | undefined;
    return data ? decode(data) : undefined;
  }
  /** Records of one side by id (those read or fetched in this pass). */
  getMany(side: Side, ids: string[]): Map<string, SourceRecord> {
    const out = new Map<string, SourceRecord>();
    for (const chunk of chunks([...new Set(ids)])) {
      const rows = this.q(`SELECT r.id, d.data FROM pass_records r JOIN pass_data d ON d.seq = r.seq
                           WHERE r.sync = ? AND r.side = ? AND r.id IN (${chunk.map(() => '?').join(',')})`)
        .all(this.sync, side, ...chunk) as { id: string; data: Buffer }[];
      for (const r of rows) out.set(r.id, decode(r.data));
    }
    return out;
  }
  /** Of `ids`, those not read in this pass, in their order. */
  unread(side: Side, ids: string[]): string[] {
    return this.without(side, ids, '');
  }
  /** Of `ids`, those in `ids` order that have no row here matching `where` (SQL over pass_records). */
  private without(side: Side, ids: string[], where: string): string[] {
    const found = new Set<string>();
    for (const chunk of chunks(ids)) {
      const rows = this.q(`SELECT id FROM pass_records WHERE sync = ? AND side = ? ${where} AND id IN (${chunk.map(() => '?').join(',')})`)
        .pluck().all(this.sync, side, ...chunk) as string[];
      for (const id of rows) found.add(id);
    }
    return ids.filter((id) => !found.has(id));
  }
  /**
   * Ids on `side` of every live link whose record this pass did not read, in
   * pages by id, and how many live links there are (the deletion check).
   * One query walks the links' id index against the records read: handing
   * every linked id out to be looked up again by id was 7% of a 1% pass at
   * 1,000,000 rows.
   */
  unreadLinked(side: Side, page: number): { linked: () => number; pages: Generator<string[]> } {
    const col = side === 'a' ? 'a_id' : 'b_id';
    const gone = new Set(this.q(`SELECT ${col} FROM links WHERE sync = ? AND deleted IS NOT NULL`).pluck().all(this.sync) as string[]);
    // Counted only when asked (a walk of every link's id): most passes find nothing deleted.
    const linked = () => (this.q(`SELECT count(*) FROM links WHERE sync = ?`).pluck().get(this.sync) as number) - gone.size;
    return { linked, pages: this.unreadLinkedPages(side, gone, page) };
  }
  private *unreadLinkedPages(side: Side, gone: Set<string>, page: number): Generator<string[]> {
    const col = side === 'a' ? 'a_id' : 'b_id';
    let after = '';
    for (;;) {
      const ids = this.q(`SELECT l.${col} FROM links l WHERE l.sync = ? AND l.${col} > ?
                            AND NOT EXISTS (SELECT 1 FROM pass_records r WHERE r.sync = l.sync AND r.side = ? AND r.id = l.${col})
                          ORDER BY l.${col} LIMIT ?`).pluck().all(this.sync, after, side, page) as string[];
      if (ids.length === 0) return;
      after = ids[ids.length - 1]!;
      const live = gone.size === 0 ? ids : ids.filter((id) => !gone.has(id));
      if (live.length > 0) yield live;
    }
  }
  count(side: Side): number {
    return this.q(`SELECT count(*) FROM pass_records WHERE sync = ? AND side = ?`).pluck().get(this.sync, side) as number;
  }

  /**
   * Pages of records of one side in reading order. `only`: records still to
   * look at (not read as when last in sync), unlinked ones, or ones that
   * list merged records. Each page is read whole before it is handed out,
   * so the caller may write between pages.
   */
  *pages(side: Side, only: 'all' | 'changed' | 'unsettled' | 'unlinked' | 'merged', opts: { records?: boolean; size?: number } = {}): Generator<ReadRow[]> {
    const where = only === 'changed' ? 'AND same = 0' : only === 'unsettled' ? 'AND same = 0 AND settled = 0'
      : only === 'unlinked' ? 'AND same = 0 AND link_a IS NULL'
      : only === 'merged' ? 'AND merged = 1' : '';
    const size = opts.size ?? 5000;
    const sql = opts.records
      ? `SELECT r.seq, r.id, d.data, r.keys, r.reason, r.link_a, r.link_deleted, r.resumed FROM pass_records r LEFT JOIN pass_data d ON d.seq = r.seq
         WHERE r.sync = ? AND r.side = ? AND r.seq > ? ${where} ORDER BY r.seq LIMIT ?`
      : `SELECT seq, id, keys, reason, link_a, link_deleted, resumed FROM pass_records
         WHERE sync = ? AND side = ? AND seq > ? ${where} ORDER BY seq LIMIT ?`;
    let after = 0;
    for (;;) {
      const rows = this.q(sql).all(this.sync, side, after, size) as RawRow[];
      if (rows.length === 0) return;
      after = rows[rows.length - 1]!.seq;
      yield rows.map((r) => ({
        id: r.id, ...(r.data ? { record: decode(r.data) } : {}),
        keys: JSON.parse(r.keys) as string[], reason: r.reason, seq: r.seq, linkA: r.link_a, linkDeleted: r.link_deleted,
        resumed: r.resumed === 1,
      }));
    }
  }

  /** Records read on `side` whose link is marked deleted on that side (back, or a new record under a reused id). */
  deletedOnSide(side: Side): SourceRecord[] {
    const col = side === 'a' ? 'a_id' : 'b_id';
    // From the few deleted links (links_deleted), not from every record read: a pass over a million rows read 3.5 s here.
    return (this.q(`SELECT d.data FROM links l CROSS JOIN pass_records r ON r.sync = l.sync AND r.side = ? AND r.id = l.${col}
                      CROSS JOIN pass_data d ON d.seq = r.seq
                    WHERE l.sync = ? AND l.deleted = ? ORDER BY r.seq`).pluck().all(side, this.sync, side) as Buffer[])
      .map(decode);
  }

  /**
   * Sorts the records read: each one's link (as the links are now), and
   * whether it reads exactly as when last in sync (its fingerprint is the
   * one stored on its live link and it has no status): those are done.
   * Answers how many are done per side.
   */
  sortRead(opts: { compareFingerprints: boolean }): Record<Side, number> {
    const same = { a: 0, b: 0 };
    this.db.transaction(() => {
      for (const side of ['a', 'b'] as const) {
        const done = doneSql(side, { sync: 'pass_records.sync', id: 'pass_records.id', fp: 'pass_records.fp' });
        // Rows `put` found done whose link or status changed since (a merge, a deletion, a return settled
        // before this sort): to look at after all (their records are read again: `unloadedChanged`).
        this.q(`UPDATE pass_records SET same = 0 WHERE sync = ? AND side = ? AND same = 1 AND NOT (${done})`).run(this.sync, side);
        // Links of the rows to look at (the done ones need none).
        this.q(this.linkSql(side, 'AND same = 0')).run(this.sync, side);
        if (opts.compareFingerprints) this.q(`UPDATE pass_records SET same = 1 WHERE sync = ? AND side = ? AND same = 0 AND ${done}`).run(this.sync, side);
        same[side] = this.q(`SELECT count(*) FROM pass_records WHERE sync = ? AND side = ? AND same = 1`).pluck().get(this.sync, side) as number;
      }
    })();
    this.sorted = true;
    return same;
  }

  /** Records to look at that `put` stored without their record (found done, then not: see sortRead). */
  unloadedChanged(side: Side): string[] {
    return this.q(`SELECT id FROM pass_records WHERE sync = ? AND side = ? AND same = 0 AND loaded = 0`).pluck().all(this.sync, side) as string[];
  }
  /** Of `ids`, those whose record the pass does not hold: not read, or read as when last in sync (its row only). */
  unloaded(side: Side, ids: string[]): string[] {
    return this.without(side, ids, 'AND loaded = 1');
  }


  private linkSql(side: Side, where: string): string {
    const col = side === 'a' ? 'a_id' : 'b_id';
    return `UPDATE pass_records SET
              link_a = (SELECT l.a_id FROM links l WHERE l.sync = pass_records.sync AND l.${col} = pass_records.id),
              link_deleted = (SELECT l.deleted FROM links l WHERE l.sync = pass_records.sync AND l.${col} = pass_records.id)
            WHERE sync = ? AND side = ? ${where}`;
  }

  /** A dry run's view of a link settled in memory only: revived (live, fingerprints unknown) or freed (no link). */
  overrideLink(side: Side, id: string, linkA: string | null): void {
    this.q(`UPDATE pass_records SET link_a = ?, link_deleted = NULL, same = 0 WHERE sync = ? AND side = ? AND id = ?`)
      .run(linkA, this.sync, side, id);
  }

  /**
   * Classification: the records still to look at take the verdict their
   * `reason` gives (records fetched later keep none: their status stands).
   */
  setClassified(side: Side): void {
    this.classifiedUpTo[side] = (this.q(`SELECT max(seq) FROM pass_records WHERE sync = ? AND side = ?`).pluck().get(this.sync, side) as number | null) ?? 0;
  }
  /** Per side, the last record classified (every record stored up to it that is still to look at). */
  private classifiedUpTo: Record<Side, number> = { a: 0, b: 0 };
  /** Marks records resumed (back from deletion: their partner is read whole). */
  setResumed(side: Side, ids: Iterable<string>): void {
    const st = this.q(`UPDATE pass_records SET resumed = 1 WHERE sync = ? AND side = ? AND id = ?`);
    this.db.transaction(() => {
      for (const id of ids) st.run(this.sync, side, id);
    })();
  }
  /** The exclusion verdict of this pass for a record read (undefined: not read, or not looked at). */
  excludedNow(side: Side, id: string): boolean | undefined {
    const row = this.q(`SELECT seq, same, reason FROM pass_records WHERE sync = ? AND side = ? AND id = ?`).get(this.sync, side, id) as
      { seq: number; same: number; reason: string | null } | undefined;
    if (!row || row.same === 1 || row.seq > this.classifiedUpTo[side]) return undefined;
    return row.reason !== null;
  }

  /**
   * The linked pairs to merge, as units in reading order: every live link
   * one of whose records was read and is not done; sides read are named.
   */
  addLinkedPairs(): void {
    this.db.transaction(() => {
      // A link with no fingerprint on either side is resumed too (reviveLink and an excluded pair leave it so).
      const resumed = `MAX(r.resumed, COALESCE((SELECT l.a_hash IS NULL AND l.b_hash IS NULL FROM links l
                                               WHERE l.sync = r.sync AND l.a_id = r.link_a), 0))`;
      this.q(`INSERT INTO pass_units (sync, kind, link, a, resumed)
              SELECT r.sync, 'pair', r.link_a, r.id, ${resumed} FROM pass_records r
              WHERE r.sync = ? AND r.side = 'a' AND r.same = 0 AND r.link_a IS NOT NULL AND r.link_deleted IS NULL ORDER BY r.seq`).run(this.sync);
      this.q(`INSERT INTO pass_units (sync, kind, link, b, resumed)
              SELECT r.sync, 'pair', r.link_a, r.id, ${resumed} FROM pass_records r
              WHERE r.sync = ? AND r.side = 'b' AND r.same = 0 AND r.link_a IS NOT NULL AND r.link_deleted IS NULL ORDER BY r.seq
              ON CONFLICT (sync, link) DO UPDATE SET b = excluded.b, resumed = MAX(pass_units.resumed, excluded.resumed)`).run(this.sync);
    })();
  }
  /**
   * Matching's common case as set queries (issue 15), before the rest is
   * matched in memory (engine/match.ts). The records matching looks at are
   * those still to look at whose link is not deleted ("keyed"). An unlinked
   * keyed record is settled here when no other record can change its
   * outcome: each of its keys is held by at most one keyed record per side,
   * by no linked or claimed one, and by no record known from earlier runs
   * that is not keyed now (stored match keys); and it shares keys with at
   * most one record of the other side, itself settled the same way with it
   * alone. Such a pair is paired on the first of the a-record's keys the
   * b-record holds; a record sharing none is unmatched, exactly as
   * `matchRecords` decides them (no other record touches their keys, so
   * nothing in its order or its duplicate rules reaches them). Linked keyed
   * records that share no key with an unsettled unlinked one are settled
   * too: they decide nothing. Every other keyed record stays for
   * `pages(side, 'unsettled')`. Answers how many records were settled.
   *
   * `claimed`: records a recovered create holds (as good as linked).
   */
  settleSimpleMatches(claimed: Iterable<readonly [Side, string]>): number {
    const sync = this.sync;
    let settled = 0;
    this.db.transaction(() => {
      for (const t of ['pass_keys', 'pass_claimed', 'pass_keystats', 'pass_match']) this.q(`DELETE FROM ${t} WHERE sync = ?`).run(sync);
      const claim = this.q(`INSERT OR IGNORE INTO pass_claimed (sync, side, id) VALUES (?, ?, ?)`);
      for (const [side, id] of claimed) claim.run(sync, side, id);
      const keyed = `r.sync = ? AND r.same = 0 AND r.link_deleted IS NULL`;
      this.q(`INSERT INTO pass_keys (sync, side, id, key, pos, linked)
              SELECT r.sync, r.side, r.id, j.value, j.key,
                     r.link_a IS NOT NULL OR EXISTS (SELECT 1 FROM pass_claimed c WHERE c.sync = r.sync AND c.side = r.side AND c.id = r.id)
              FROM pass_records r, json_each(r.keys) j WHERE ${keyed}`).run(sync);
      // Keys more than one record of a side holds, or a linked one, or a record read before and not keyed now.
      this.q(`INSERT INTO pass_keystats (sync, key, a_id, b_id, bad)
              SELECT sync, key, MIN(CASE side WHEN 'a' THEN id END), MIN(CASE side WHEN 'b' THEN id END),
                     SUM(side = 'a') > 1 OR SUM(side = 'b') > 1 OR MAX(linked) = 1
              FROM pass_keys WHERE sync = ? GROUP BY key`).run(sync);
      if (this.q(`SELECT 1 FROM match_keys WHERE sync = ? LIMIT 1`).get(sync) !== undefined) {
        this.q(`UPDATE pass_keystats SET bad = 1 WHERE sync = ? AND bad = 0 AND EXISTS (
                  SELECT 1 FROM match_keys m WHERE m.sync = pass_keystats.sync AND m.side IN ('a', 'b') AND m.key = pass_keystats.key
                    AND NOT EXISTS (SELECT 1 FROM pass_records r
                      WHERE r.sync = m.sync AND r.side = m.side AND r.id = m.record_id AND r.same = 0 AND r.link_deleted IS NULL))`).run(sync);
      }
      this.q(`INSERT INTO pass_match (sync, side, id, bad, partners, partner)
              SELECT k.sync, k.side, k.id, MAX(s.bad OR k.linked),
                     COUNT(DISTINCT CASE k.side WHEN 'a' THEN s.b_id ELSE s.a_id END), MIN(CASE k.side WHEN 'a' THEN s.b_id ELSE s.a_id END)
              FROM pass_keys k JOIN pass_keystats s ON s.sync = k.sync AND s.key = k.key
              WHERE k.sync = ? GROUP BY k.side, k.id`).run(sync);
      // Unlinked records with no key at all: unmatched.
      settled += this.q(`UPDATE pass_records SET settled = 1 WHERE sync = ? AND same = 0 AND link_deleted IS NULL AND keys = '[]'
                           AND link_a IS NULL AND NOT EXISTS (SELECT 1 FROM pass_claimed c WHERE c.sync = pass_records.sync
                             AND c.side = pass_records.side AND c.id = pass_records.id)`).run(sync).changes;
      // Unlinked records alone with their keys, or with one partner alone with them.
      settled += this.q(`UPDATE pass_records SET settled = 1 WHERE sync = ? AND same = 0 AND link_deleted IS NULL AND EXISTS (
                           SELECT 1 FROM pass_match m WHERE m.sync = pass_records.sync AND m.side = pass_records.side AND m.id = pass_records.id
                             AND m.bad = 0 AND m.partners <= 1
                             AND (m.partners = 0 OR EXISTS (SELECT 1 FROM pass_match p WHERE p.sync = m.sync
                                                              AND p.side = (CASE m.side WHEN 'a' THEN 'b' ELSE 'a' END)
                                                              AND p.id = m.partner AND p.bad = 0 AND p.partners = 1)))`).run(sync).changes;
      // Linked records sharing no key with an unlinked record still unsettled. CROSS JOIN keeps SQLite
      // from starting at every key of the pass for each linked record (quadratic: the run after a kill
      // with 70,000 journalled creates, all as good as linked, did not end in ten minutes).
      settled += this.q(`UPDATE pass_records SET settled = 1 WHERE sync = ? AND same = 0 AND link_deleted IS NULL AND settled = 0
                           AND (link_a IS NOT NULL OR EXISTS (SELECT 1 FROM pass_claimed c WHERE c.sync = pass_records.sync
                             AND c.side = pass_records.side AND c.id = pass_records.id))
                           AND NOT EXISTS (SELECT 1 FROM pass_keys k INDEXED BY pass_keys_by_id CROSS JOIN pass_keys o ON o.sync = k.sync AND o.key = k.key
                                             CROSS JOIN pass_records u ON u.sync = o.sync AND u.side = o.side AND u.id = o.id
                                           WHERE k.sync = pass_records.sync AND k.side = pass_records.side AND k.id = pass_records.id
                                             AND o.linked = 0 AND u.settled = 0)`).run(sync).changes;
    })();
    return settled;
  }

  /**
   * The outcomes `settleSimpleMatches` decided, a page at a time in reading
   * order: pairs (from their a-record) and unmatched records.
   */
  *settledMatches(size = 5000): Generator<({ kind: 'pair'; a: string; b: string; key: string } | { kind: 'unmatched'; side: Side; id: string })[]> {
    for (const side of ['a', 'b'] as const) {
      let after = 0;
      for (;;) {
        // A pair comes from its a-record: of side b only the unmatched are asked for, with no key to find.
        const rows = this.q(`SELECT r.seq, r.id, m.partner,
                               ${side === 'a' ? `(SELECT k.key FROM pass_keys k WHERE k.sync = r.sync AND k.side = 'a' AND k.id = r.id
                                  AND EXISTS (SELECT 1 FROM pass_keys o WHERE o.sync = k.sync AND o.side = 'b' AND o.id = m.partner AND o.key = k.key)
                                ORDER BY k.pos LIMIT 1)` : 'NULL'} AS key
                             FROM pass_records r LEFT JOIN pass_match m ON m.sync = r.sync AND m.side = r.side AND m.id = r.id
                             WHERE r.sync = ? AND r.side = ? AND r.settled = 1 AND r.link_a IS NULL AND r.seq > ? ${side === 'b' ? 'AND m.partner IS NULL' : ''}
                               AND NOT EXISTS (SELECT 1 FROM pass_claimed c WHERE c.sync = r.sync AND c.side = r.side AND c.id = r.id)
                             ORDER BY r.seq LIMIT ?`).all(this.sync, side, after, size) as { seq: number; id: string; partner: string | null; key: string | null }[];
        if (rows.length === 0) break;
        after = rows[rows.length - 1]!.seq;
        const page: ({ kind: 'pair'; a: string; b: string; key: string } | { kind: 'unmatched'; side: Side; id: string })[] = [];
        for (const r of rows) {
          if (r.partner === null) page.push({ kind: 'unmatched', side, id: r.id });
          else if (side === 'a') page.push({ kind: 'pair', a: r.id, b: r.partner, key: r.key! });
        }
        if (page.length > 0) yield page;
      }
    }
  }

  /** Whether a record is keyed in this pass (still to look at, its link not deleted): its fresh keys stand for it. */
  isKeyed(side: Side, id: string): boolean {
    return this.q(`SELECT 1 FROM pass_records WHERE sync = ? AND side = ? AND id = ? AND same = 0 AND link_deleted IS NULL`)
      .get(this.sync, side, id) !== undefined;
  }

  /**
   * Stores the fresh match keys of the records `settleSimpleMatches`
   * settled, in place of those stored before (the others' keys are stored
   * by the engine as it matches them).
   */
  storeSettledKeys(): void {
    this.db.transaction(() => {
      for (const side of ['a', 'b'] as const) {
        if (this.q(`SELECT 1 FROM match_keys WHERE sync = ? AND side = ? LIMIT 1`).get(this.sync, side) !== undefined) {
          // Only the keys a record no longer has: most records settled keep theirs (an edit of a job title), and
          // deleting and inserting them again rewrote their pages of the key index (a 1% pass at 1,000,000).
          this.q(`DELETE FROM match_keys WHERE sync = ? AND side = ? AND record_id IN
                    (SELECT id FROM pass_records WHERE sync = ? AND side = ? AND settled = 1)
                    AND NOT EXISTS (SELECT 1 FROM pass_keys k WHERE k.sync = match_keys.sync AND k.side = match_keys.side
                                    AND k.id = match_keys.record_id AND k.key = match_keys.key)`).run(this.sync, side, this.sync, side);
        }
        this.q(`INSERT OR IGNORE INTO match_keys (sync, side, key, record_id)
                SELECT k.sync, k.side, k.key, k.id FROM pass_keys k JOIN pass_records r ON r.sync = k.sync AND r.side = k.side AND r.id = k.id
                WHERE k.sync = ? AND k.side = ? AND r.settled = 1`).run(this.sync, side);
      }
    })();
  }

  /** Keeps a written batch until its app's flush (engine/apply.ts `PendingRecords`). */
  defer(data: Buffer): void {
    this.q(`INSERT INTO pass_deferred (sync, data) VALUES (?, ?)`).run(this.sync, data);
  }
  hasDeferred(): boolean {
    return this.q(`SELECT 1 FROM pass_deferred WHERE sync = ? LIMIT 1`).get(this.sync) !== undefined;
  }
  /** The batches kept, in order, read one at a time (the caller records each before the next is read). */
  *deferred(): Generator<Buffer> {
    let after = 0;
    for (;;) {
      const row = this.q(`SELECT seq, data FROM pass_deferred WHERE sync = ? AND seq > ? ORDER BY seq LIMIT 1`).get(this.sync, after) as
        { seq: number; data: Buffer } | undefined;
      if (!row) return;
      after = row.seq;
      yield row.data;
    }
  }
  clearDeferred(): void {
    this.q(`DELETE FROM pass_deferred WHERE sync = ?`).run(this.sync);
  }
  /** Units decided in memory (matched pairs, creates, recovered creates), after those already added. */
  addUnits(units: UnitRow[]): void {
    const st = this.q(`INSERT INTO pass_units (sync, kind, a, b, from_side, key) VALUES (?, ?, ?, ?, ?, ?)`);
    this.db.transaction(() => {
      for (const u of units) {
        if (u.kind === 'create') st.run(this.sync, 'create', u.from === 'a' ? u.id : null, u.from === 'b' ? u.id : null, u.from, null);
        else st.run(this.sync, 'pair', u.a, u.b, null, u.key ?? null);
      }
    })();
  }
  /** Units stored after `after` (a seq). */
  countUnits(after = 0): number {
    return this.q(`SELECT count(*) FROM pass_units WHERE sync = ? AND seq > ?`).pluck().get(this.sync, after) as number;
  }
  /** The seq of the last unit stored (0: none). */
  lastUnit(): number {
    return (this.q(`SELECT max(seq) FROM pass_units WHERE sync = ?`).pluck().get(this.sync) as number | null) ?? 0;
  }
  /** Units after `after` (a seq), at most `size`. */
  unitPage(after: number, size: number): StoredUnit[] {
    return (this.q(`SELECT seq, kind, link, a, b, from_side, key, resumed FROM pass_units WHERE sync = ? AND seq > ? ORDER BY seq LIMIT ?`)
      .all(this.sync, after, size) as { seq: number; kind: 'pair' | 'create'; link: string | null; a: string | null; b: string | null;
        from_side: Side | null; key: string | null; resumed: number }[])
      .map((r) => ({ seq: r.seq, kind: r.kind, link: r.link, a: r.a, b: r.b, from: r.from_side, key: r.key, resumed: r.resumed === 1 }));
  }
}

/** A unit decided in memory, by ids. */
export type UnitRow =
  | { kind: 'pair'; a: string; b: string; key?: string }
  | { kind: 'create'; from: Side; id: string };

export interface StoredUnit {
  seq: number;
  kind: 'pair' | 'create';
  link: string | null;
  a: string | null;
  b: string | null;
  from: Side | null;
  key: string | null;
  resumed: boolean;
}

/**
 * One side's records of a pass, with the few Map operations the scan, the
 * deletion checks and the lookups by id need (`size` counts them).
 */
export class PassRecords {
  private n = 0;
  constructor(private pass: PassState, readonly side: Side, private facts: RecordFacts) {}
  get size(): number {
    return this.n;
  }
  /** Adds or replaces a page of records. */
  putAll(recs: SourceRecord[]): void {
    if (recs.length > 0) this.n += this.pass.put(this.side, recs, this.facts);
  }
  set(_id: string, rec: SourceRecord): this {
    this.putAll([rec]);
    return this;
  }
  deleteAll(ids: string[]): void {
    if (ids.length > 0) this.n -= this.pass.remove(this.side, ids);
  }
  has(id: string): boolean {
    return this.pass.has(this.side, id);
  }
  get(id: string): SourceRecord | undefined {
    return this.pass.get(this.side, id);
  }
  getMany(ids: string[]): Map<string, SourceRecord> {
    return this.pass.getMany(this.side, ids);
  }
  unreadLinked(page = 50_000): { linked: () => number; pages: Generator<string[]> } {
    return this.pass.unreadLinked(this.side, page);
  }
  unread(ids: string[]): string[] {
    // Nothing read (a no-op pass): nothing to look up, e.g. for the deletion check's every linked id.
    return this.n === 0 ? ids : this.pass.unread(this.side, ids);
  }
  /** Of `ids`, those whose record the pass does not hold (not read, or read unchanged: `PassState.put`). */
  unloaded(ids: string[]): string[] {
    return this.n === 0 ? ids : this.pass.unloaded(this.side, ids);
  }
  /** The records that list records merged into them (HubSpot), few. */
  pages(only: 'all' | 'changed' | 'unsettled' | 'unlinked' | 'merged', opts?: { records?: boolean; size?: number }): Generator<ReadRow[]> {
    return this.pass.pages(this.side, only, opts);
  }
  /** Records read whose link is marked deleted on this side. */
  deletedOnSide(): SourceRecord[] {
    return this.pass.deletedOnSide(this.side);
  }
  merging(): SourceRecord[] {
    const out: SourceRecord[] = [];
    for (const page of this.pass.pages(this.side, 'merged', { records: true })) for (const r of page) out.push(r.record!);
    return out;
  }
}
