/**
 * Typed access to the state: links, base, match keys, record statuses,
 * cursors, pending creates and runs. Statements are prepared once.
 */
import type { Value } from '../connector.js';
import type Database from 'better-sqlite3';
import type { StateDb } from './open.js';
import { statementCache } from './statements.js';

export type Side = 'a' | 'b';
export type Base = Record<string, [Value, Value]>;
export type AssocBase = Record<string, [string[], string[]]>;

export interface LinkRow {
  a_id: string;
  b_id: string;
  /** Read and parsed on first use: an unchanged record (same fingerprint) never needs it. */
  readonly base: Base;
  readonly assoc: AssocBase;
  deleted: Side | null;
  /** Fingerprints of each record as last read while in sync; null when unknown. */
  a_hash: string | null;
  b_hash: string | null;
}

export interface StatusRow {
  side: Side;
  record_id: string;
  status: 'failed' | 'excluded';
  reason: string;
  attempts: number;
  next_retry_at: string | null;
  updated_at: string;
}

export type SyncStatus = 'idle' | 'scanning' | 'in-progress' | 'listening' | 'queued' | 'stopped' | 'error';

export interface SyncRow {
  name: string;
  object: string;
  a_conn: string;
  b_conn: string;
  enabled: number;
  status: SyncStatus;
  status_detail: string | null;
  scanned: number;
  last_success_at: string | null;
  mappings: string | null;
  settings: string | null;
  /** JSON [a, b]: what each side pointed at when its links were made (engine/identity.ts). */
  identities: string | null;
  updated_at: string;
}

const now = () => new Date().toISOString();
/** Marks the id of a link whose record's id the app gave to a new record (`freeId`). */
export const REUSED_MARK = '#reused-';
/** The other side of a sync. */
export const otherSide = (side: Side): Side => (side === 'a' ? 'b' : 'a');

interface LinkBody { base: string; assoc: string | null }
interface RawLink { a_id: string; b_id: string; deleted: Side | null; a_hash: string | null; b_hash: string | null }
const LINK_COLUMNS = 'a_id, b_id, deleted, a_hash, b_hash';

/**
 * A base as stored: the mappings whose two sides hold the same value (most
 * of them, a link's life long) under "=" with that value once, the others as
 * their pair. A 100,000-contact state was two thirds bases, each value twice.
 * A base stored before had pairs only, and reads the same.
 */
export function encodeBase(base: Base): string {
  const out: Record<string, unknown> = {};
  let same: Record<string, Value> | undefined;
  for (const [key, [a, b]] of Object.entries(base)) {
    // Undefined is null, as it was in a stored pair.
    const x = a ?? null, y = b ?? null;
    if (x === y || (typeof x === 'object' && typeof y === 'object' && JSON.stringify(x) === JSON.stringify(y))) (same ??= {})[key] = x;
    else out[key] = [x, y];
  }
  if (same) out[SAME] = same;
  return JSON.stringify(out);
}
export function decodeBase(text: string): Base {
  const stored = JSON.parse(text) as Record<string, [Value, Value]> & { [SAME]?: Record<string, Value> };
  const same = stored[SAME];
  if (!same) return stored;
  delete stored[SAME];
  const base: Base = stored;
  // A list value is copied for its second side: a caller may change one side of a pair.
  for (const [key, v] of Object.entries(same)) base[key] = [v, Array.isArray(v) ? [...v] : v];
  return base;
}
/** Never a mapping's key (`from|to`). */
const SAME = '=';

/** A link whose base and association base are read by `body` when first asked for. */
function toLink(r: RawLink, body: () => LinkBody): LinkRow {
  let raw: LinkBody | undefined;
  let base: Base | undefined;
  let assoc: AssocBase | undefined;
  return {
    a_id: r.a_id, b_id: r.b_id, deleted: r.deleted, a_hash: r.a_hash, b_hash: r.b_hash,
    get base() {
      return (base ??= decodeBase((raw ??= body()).base));
    },
    get assoc() {
      const text = (raw ??= body()).assoc;
      return (assoc ??= text ? JSON.parse(text) as AssocBase : {});
    },
  };
}

/** One webhook receiver's counters (src/webhooks.ts keeps them as `WebhookStats`). */
export interface WebhookRow {
  connection: string;
  url: string;
  events: number;
  duplicates: number;
  signatureFailures: number;
  lastEventAt: string | null;
  lastFailureAt: string | null;
  lastFailure: string | null;
  targetedPasses: number;
  lastPassAt: string | null;
  /** Events per minute of the last 15 minutes: epoch minute → count. */
  minutes: Record<string, number>;
}

export class StateStore {
  private readonly q: (sql: string) => Database.Statement<unknown[]>;
  constructor(readonly db: StateDb) {
    this.q = statementCache(db);
  }

  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }

  // --- syncs ---------------------------------------------------------------
  ensureSync(name: string, object: string, a: string, b: string): SyncRow {
    this.q(`INSERT INTO syncs (name, object, a_conn, b_conn, updated_at) VALUES (?, ?, ?, ?, ?)
            ON CONFLICT (name) DO UPDATE SET object = excluded.object, a_conn = excluded.a_conn, b_conn = excluded.b_conn`)
      .run(name, object, a, b, now());
    return this.getSync(name)!;
  }
  getSync(name: string): SyncRow | undefined {
    return this.q(`SELECT * FROM syncs WHERE name = ?`).get(name) as SyncRow | undefined;
  }
  listSyncs(): SyncRow[] {
    return this.q(`SELECT * FROM syncs ORDER BY name`).all() as SyncRow[];
  }
  setSyncStatus(name: string, status: SyncStatus, detail: string | null = null, scanned?: number): void {
    this.q(`UPDATE syncs SET status = ?, status_detail = ?, scanned = COALESCE(?, scanned), updated_at = ? WHERE name = ?`)
      .run(status, detail, scanned ?? null, now(), name);
  }
  markSuccess(name: string): void {
    this.q(`UPDATE syncs SET last_success_at = ? WHERE name = ?`).run(now(), name);
  }
  setMappings(name: string, mappings: unknown): void {
    this.q(`UPDATE syncs SET mappings = ? WHERE name = ?`).run(JSON.stringify(mappings), name);
  }
  setIdentities(name: string, identities: readonly [string, string]): void {
    this.q(`UPDATE syncs SET identities = ? WHERE name = ?`).run(JSON.stringify(identities), name);
  }
  setSettings(name: string, fingerprint: string): void {
    this.q(`UPDATE syncs SET settings = ? WHERE name = ?`).run(fingerprint, name);
  }
  isEnabled(name: string): boolean {
    const row = this.q(`SELECT enabled FROM syncs WHERE name = ?`).get(name) as { enabled: number } | undefined;
    return row === undefined || row.enabled === 1;
  }
  setEnabled(name: string, enabled: boolean): void {
    this.q(`UPDATE syncs SET enabled = ?, updated_at = ? WHERE name = ?`).run(enabled ? 1 : 0, now(), name);
  }
  /** `stop --delete`: forget links, base, cursors and history of a sync. */
  forgetSync(name: string): void {
    this.transaction(() => {
      this.statuses.delete(name);
      this.pending.delete(name);
      for (const table of ['links', 'match_keys', 'record_status', 'cursors', 'pending_creates', 'deletion_checks']) {
        this.db.prepare(`DELETE FROM ${table} WHERE sync = ?`).run(name);
      }
      // Its history: its entry in each run's summary.
      this.q(`UPDATE runs SET summary = (SELECT json_group_array(json(j.value)) FROM json_each(runs.summary) j
                                         WHERE json_extract(j.value, '$.sync') IS NOT ?)
              WHERE summary IS NOT NULL AND json_valid(summary) AND EXISTS
                (SELECT 1 FROM json_each(runs.summary) k WHERE json_extract(k.value, '$.sync') = ?)`).run(name, name);
      // The row stays, turned off: deleting it made the next run see a new, enabled sync and scan it again.
      this.q(`UPDATE syncs SET enabled = 0, status = 'stopped', status_detail = ?, scanned = 0, last_success_at = NULL,
              mappings = NULL, settings = NULL, identities = NULL, updated_at = ? WHERE name = ?`)
        .run('stopped and forgotten by `datasync stop --delete`', now(), name);
    });
  }

  // --- connections (stored by `datasync connect`) ------------------------------
  /** The credential is JSON and secret: never print it. */
  saveConnection(name: string, app: string, credential: unknown, info: unknown): void {
    this.q(`INSERT INTO connections (name, app, credential, info, created_at) VALUES (?, ?, ?, ?, ?)
            ON CONFLICT (name) DO UPDATE SET app = excluded.app, credential = excluded.credential, info = excluded.info`)
      .run(name, app, JSON.stringify(credential), JSON.stringify(info), now());
  }
  getConnection(name: string): { name: string; app: string; credential: Record<string, unknown>; info: unknown; created_at: string } | undefined {
    const row = this.q(`SELECT name, app, credential, info, created_at FROM connections WHERE name = ?`).get(name) as
      { name: string; app: string; credential: string | null; info: string | null; created_at: string } | undefined;
    return row && { ...row, credential: row.credential ? JSON.parse(row.credential) as Record<string, unknown> : {}, info: row.info ? JSON.parse(row.info) : null };
  }
  listConnections(): { name: string; app: string; credential: Record<string, unknown>; created_at: string }[] {
    return (this.q(`SELECT name, app, credential, created_at FROM connections ORDER BY name`).all() as { name: string; app: string; credential: string | null; created_at: string }[])
      .map((r) => ({ ...r, credential: r.credential ? JSON.parse(r.credential) as Record<string, unknown> : {} }));
  }
  removeConnection(name: string): boolean {
    return this.q(`DELETE FROM connections WHERE name = ?`).run(name).changes > 0;
  }
  /** Keeps a refreshed OAuth credential. */
  updateCredential(name: string, credential: unknown): void {
    this.q(`UPDATE connections SET credential = ? WHERE name = ?`).run(JSON.stringify(credential), name);
  }

  // --- cursors -------------------------------------------------------------
  getCursor(sync: string, side: Side): string | null {
    const row = this.q(`SELECT cursor FROM cursors WHERE sync = ? AND side = ?`).get(sync, side) as { cursor: string | null } | undefined;
    return row?.cursor ?? null;
  }
  /** When the side was last read whole (an initial sync or a full comparison), ms since the epoch; null: never recorded. */
  readWholeAt(sync: string, side: Side): number | null {
    const row = this.q(`SELECT read_whole_at FROM cursors WHERE sync = ? AND side = ?`).get(sync, side) as { read_whole_at: string | null } | undefined;
    return row?.read_whole_at ? Date.parse(row.read_whole_at) : null;
  }
  /** Records that the side was read whole by the pass that saved its cursor (call after setCursor). */
  setReadWhole(sync: string, side: Side, at: Date): void {
    this.q(`UPDATE cursors SET read_whole_at = ? WHERE sync = ? AND side = ?`).run(at.toISOString(), sync, side);
  }
  hasCursor(sync: string, side: Side): boolean {
    return this.q(`SELECT 1 FROM cursors WHERE sync = ? AND side = ?`).get(sync, side) !== undefined;
  }
  setCursor(sync: string, side: Side, cursor: string | null): void {
    this.q(`INSERT INTO cursors (sync, side, cursor, updated_at) VALUES (?, ?, ?, ?)
            ON CONFLICT (sync, side) DO UPDATE SET cursor = excluded.cursor, updated_at = excluded.updated_at`)
      .run(sync, side, cursor, now());
  }

  // --- links ---------------------------------------------------------------
  linkBy(sync: string, side: Side, id: string): LinkRow | undefined {
    const col = side === 'a' ? 'a_id' : 'b_id';
    const r = this.q(`SELECT ${LINK_COLUMNS}, base, assoc FROM links WHERE sync = ? AND ${col} = ?`).get(sync, id) as (RawLink & LinkBody) | undefined;
    return r && toLink(r, () => r);
  }
  /**
   * The links of many records of one side, in one query per 500 ids, without
   * their bases: most records of a run are read unchanged and never need one
   * (reading them all was most of a run after a small change at 100,000).
   */
  linksBy(sync: string, side: Side, ids: string[]): LinkRow[] {
    const col = side === 'a' ? 'a_id' : 'b_id';
    const out: LinkRow[] = [];
    const body = (aId: string) => () => this.q(`SELECT base, assoc FROM links WHERE sync = ? AND a_id = ?`).get(sync, aId) as LinkBody;
    for (let i = 0; i < ids.length; i += 500) {
      const chunk = ids.slice(i, i + 500);
      const rows = this.q(`SELECT ${LINK_COLUMNS} FROM links WHERE sync = ? AND ${col} IN (${chunk.map(() => '?').join(',')})`)
        .all(sync, ...chunk) as RawLink[];
      for (const r of rows) out.push(toLink(r, body(r.a_id)));
    }
    return out;
  }
  /** A new link, with its base and the fingerprints of its records (see `setHashes`) in one write. */
  insertLink(sync: string, aId: string, bId: string, base: Base, hashes: { a: string | null; b: string | null } = { a: null, b: null }): void {
    const t = now();
    this.q(`INSERT INTO links (sync, a_id, b_id, base, assoc, a_hash, b_hash, created_at, updated_at) VALUES (?, ?, ?, ?, '{}', ?, ?, ?, ?)`)
      .run(sync, aId, bId, encodeBase(base), hashes.a, hashes.b, t, t);
  }
  /** Fingerprints of the two records as read in sync (null: unknown, compare field by field next time). */
  setHashes(sync: string, aId: string, aHash: string | null, bHash: string | null): void {
    this.q(`UPDATE links SET a_hash = ?, b_hash = ? WHERE sync = ? AND a_id = ?`).run(aHash, bHash, sync, aId);
  }
  updateBase(sync: string, aId: string, base: Base, assoc?: AssocBase): void {
    this.q(`UPDATE links SET base = ?, assoc = COALESCE(?, assoc), updated_at = ? WHERE sync = ? AND a_id = ?`)
      .run(encodeBase(base), assoc ? JSON.stringify(assoc) : null, now(), sync, aId);
  }
  markDeleted(sync: string, side: Side, id: string): void {
    const col = side === 'a' ? 'a_id' : 'b_id';
    this.q(`UPDATE links SET deleted = ?, updated_at = ? WHERE sync = ? AND ${col} = ? AND deleted IS NULL`).run(side, now(), sync, id);
  }
  /** A record deleted on `side` that is back with its id and is the same record: its link is live again. */
  reviveLink(sync: string, side: Side, id: string): void {
    const col = side === 'a' ? 'a_id' : 'b_id';
    this.q(`UPDATE links SET deleted = NULL, gone = NULL, a_hash = NULL, b_hash = NULL, updated_at = ? WHERE sync = ? AND ${col} = ? AND deleted = ?`)
      .run(now(), sync, id, side);
  }
  /**
   * The app gave `id` to a new record (SQLite without AUTOINCREMENT, a CSV's
   * largest id + 1): the link that held it is kept as deleted (its partner is
   * still not re-created), under the id with a `#reused-<ms>` mark, and the
   * old record's keys and status go, so the id is free for the new record.
   */
  freeId(sync: string, side: Side, id: string): void {
    const col = side === 'a' ? 'a_id' : 'b_id';
    const t = now();
    this.q(`UPDATE links SET ${col} = ${col} || ?, deleted = COALESCE(deleted, ?), updated_at = ? WHERE sync = ? AND ${col} = ?`)
      .run(`${REUSED_MARK}${Date.now()}`, side, t, sync, id);
    this.setKeys(sync, side, id, []);
    this.clearStatus(sync, side, id);
  }
  /**
   * Marks a side deleted and says why (`archived`, `merged:<id>`, `privacy`,
   * `purged`); a side already deleted takes the newer, surer reason.
   */
  markGone(sync: string, side: Side, id: string, gone: string): void {
    const col = side === 'a' ? 'a_id' : 'b_id';
    this.q(`UPDATE links SET deleted = ?, gone = ?, updated_at = ? WHERE sync = ? AND ${col} = ? AND (deleted IS NULL OR deleted = ?)`)
      .run(side, gone, now(), sync, id, side);
  }
  /** The record of a link has a new id (the survivor of a merge): the link follows it. */
  repointLink(sync: string, side: Side, oldId: string, newId: string): void {
    const col = side === 'a' ? 'a_id' : 'b_id';
    this.q(`UPDATE links SET ${col} = ?, deleted = NULL, gone = NULL, ${side}_hash = NULL, updated_at = ? WHERE sync = ? AND ${col} = ?`)
      .run(newId, now(), sync, oldId);
    this.setKeys(sync, side, oldId, []);
    this.clearStatus(sync, side, oldId);
  }
  /**
   * A record deleted for good (a GDPR delete): its link keeps only the two
   * ids; the base (both records' values), the association base, the
   * fingerprints, both records' match keys and statuses, and any journalled
   * create from either record go.
   */
  purgeLink(sync: string, side: Side, id: string): void {
    const col = side === 'a' ? 'a_id' : 'b_id';
    const link = this.q(`SELECT a_id, b_id FROM links WHERE sync = ? AND ${col} = ?`).get(sync, id) as { a_id: string; b_id: string } | undefined;
    const ids: Record<Side, string> = link ? { a: link.a_id, b: link.b_id } : { a: side === 'a' ? id : '', b: side === 'b' ? id : '' };
    this.q(`UPDATE links SET base = '{}', assoc = '{}', a_hash = NULL, b_hash = NULL, updated_at = ? WHERE sync = ? AND ${col} = ?`).run(now(), sync, id);
    for (const s of ['a', 'b'] as const) {
      if (ids[s] === '') continue;
      this.setKeys(sync, s, ids[s], []);
      this.clearStatus(sync, s, ids[s]);
      this.removePending(sync, otherSide(s), ids[s]);
    }
  }
  /** Ids of one side deleted without a final reason (archived, or not said): the ones that may come back. */
  returnableIds(sync: string, side: Side): string[] {
    const col = side === 'a' ? 'a_id' : 'b_id';
    return this.q(`SELECT ${col} FROM links WHERE sync = ? AND deleted = ? AND (gone IS NULL OR gone = 'archived')`).pluck().all(sync, side) as string[];
  }
  /** When the deletion check of a side last read every linked record (null: never). */
  lastDeletionCheck(sync: string, side: Side): string | null {
    return (this.q(`SELECT checked_at FROM deletion_checks WHERE sync = ? AND side = ?`).pluck().get(sync, side) as string | undefined) ?? null;
  }
  setDeletionCheck(sync: string, side: Side, at: string): void {
    this.q(`INSERT INTO deletion_checks (sync, side, checked_at) VALUES (?, ?, ?)
            ON CONFLICT (sync, side) DO UPDATE SET checked_at = excluded.checked_at`).run(sync, side, at);
  }
  /** Whether the sync has more than `n` links, counted no further (a plain count walks every link). */
  hasMoreLinksThan(sync: string, n: number): boolean {
    return (this.q(`SELECT count(*) FROM (SELECT 1 FROM links WHERE sync = ? LIMIT ?)`).pluck().get(sync, n + 1) as number) > n;
  }
  hasLinks(sync: string): boolean {
    return this.q(`SELECT 1 FROM links WHERE sync = ? LIMIT 1`).get(sync) !== undefined;
  }
  countLinks(sync: string): { live: number; deleted: { a: number; b: number } } {
    const rows = this.q(`SELECT deleted, count(*) AS n FROM links WHERE sync = ? GROUP BY deleted`).all(sync) as { deleted: Side | null; n: number }[];
    const count = (d: Side | null) => rows.find((r) => r.deleted === d)?.n ?? 0;
    return { live: count(null), deleted: { a: count('a'), b: count('b') } };
  }
  /** The match keys of one record (`email:…`, `domain:…`, `name:…`). */
  keysOfRecord(sync: string, side: Side, id: string): string[] {
    return (this.q(`SELECT key FROM match_keys WHERE sync = ? AND side = ? AND record_id = ?`).all(sync, side, id) as { key: string }[]).map((r) => r.key);
  }
  /** Live links neither of whose records is excluded now (a filter or rule took it out): what "in sync" counts. */
  countInSync(sync: string): number {
    return (this.q(`SELECT count(*) AS n FROM links l WHERE l.sync = ? AND l.deleted IS NULL
      AND NOT EXISTS (SELECT 1 FROM record_status s WHERE s.sync = l.sync AND s.status = 'excluded'
                      AND ((s.side = 'a' AND s.record_id = l.a_id) OR (s.side = 'b' AND s.record_id = l.b_id)))`).get(sync) as { n: number }).n;
  }
  deletedLinks(sync: string): { a_id: string; b_id: string; deleted: Side; gone: string | null }[] {
    return this.q(`SELECT a_id, b_id, deleted, gone FROM links WHERE sync = ? AND deleted IS NOT NULL ORDER BY updated_at`).all(sync) as { a_id: string; b_id: string; deleted: Side; gone: string | null }[];
  }

  // --- match keys ------------------------------------------------------------
  setKeys(sync: string, side: Side, id: string, keys: string[]): void {
    this.q(`DELETE FROM match_keys WHERE sync = ? AND side = ? AND record_id = ?`).run(sync, side, id);
    this.addKeys(sync, side, id, keys);
  }
  /** Keys of a record that has none stored yet (just created). */
  addKeys(sync: string, side: Side, id: string, keys: string[]): void {
    for (const key of keys) this.q(`INSERT OR IGNORE INTO match_keys (sync, side, key, record_id) VALUES (?, ?, ?, ?)`).run(sync, side, key, id);
  }
  /** Every match key of one side: what a run matches new records against. */
  allKeys(sync: string, side: Side): { key: string; record_id: string }[] {
    return this.q(`SELECT key, record_id FROM match_keys WHERE sync = ? AND side = ?`).all(sync, side) as { key: string; record_id: string }[];
  }
  /** The stored match keys of one record. */
  allKeysOf(sync: string, side: Side, id: string): string[] {
    return this.q(`SELECT key FROM match_keys WHERE sync = ? AND side = ? AND record_id = ?`).pluck().all(sync, side, id) as string[];
  }
  idsWithKey(sync: string, side: Side, key: string): string[] {
    return (this.q(`SELECT record_id FROM match_keys WHERE sync = ? AND side = ? AND key = ?`).all(sync, side, key) as { record_id: string }[])
      .map((r) => r.record_id);
  }

  // --- record statuses -------------------------------------------------------
  /**
   * Statuses of a sync, loaded once and kept current by this store's own
   * writes: a run asks about every record it reads, and few have a status.
   */
  private statuses = new Map<string, Map<string, StatusRow>>();
  private statusesOf(sync: string): Map<string, StatusRow> {
    let m = this.statuses.get(sync);
    if (!m) {
      m = new Map();
      const rows = this.q(`SELECT side, record_id, status, reason, attempts, next_retry_at, updated_at FROM record_status WHERE sync = ?`).all(sync) as StatusRow[];
      for (const r of rows) m.set(`${r.side}:${r.record_id}`, r);
      this.statuses.set(sync, m);
    }
    return m;
  }
  getStatus(sync: string, side: Side, id: string): StatusRow | undefined {
    return this.statusesOf(sync).get(`${side}:${id}`);
  }
  setFailed(sync: string, side: Side, id: string, reason: string): void {
    const prev = this.getStatus(sync, side, id);
    const attempts = prev?.status === 'failed' ? prev.attempts + 1 : 1;
    // Growing delays: 5 min, 10, 20, … capped at a day.
    const delayMs = Math.min(5 * 60_000 * 2 ** (attempts - 1), 24 * 3600_000);
    this.q(`INSERT INTO record_status (sync, side, record_id, status, reason, attempts, next_retry_at, updated_at)
            VALUES (?, ?, ?, 'failed', ?, ?, ?, ?)
            ON CONFLICT (sync, side, record_id) DO UPDATE SET status = 'failed', reason = excluded.reason,
              attempts = excluded.attempts, next_retry_at = excluded.next_retry_at, updated_at = excluded.updated_at`)
      .run(sync, side, id, reason, attempts, new Date(Date.now() + delayMs).toISOString(), now());
    this.statusesOf(sync).set(`${side}:${id}`, { side, record_id: id, status: 'failed', reason, attempts, next_retry_at: new Date(Date.now() + delayMs).toISOString(), updated_at: now() });
  }
  setExcluded(sync: string, side: Side, id: string, reason: string): void {
    this.q(`INSERT INTO record_status (sync, side, record_id, status, reason, attempts, next_retry_at, updated_at)
            VALUES (?, ?, ?, 'excluded', ?, 0, NULL, ?)
            ON CONFLICT (sync, side, record_id) DO UPDATE SET status = 'excluded', reason = excluded.reason,
              attempts = 0, next_retry_at = NULL, updated_at = excluded.updated_at`)
      .run(sync, side, id, reason, now());
    this.statusesOf(sync).set(`${side}:${id}`, { side, record_id: id, status: 'excluded', reason, attempts: 0, next_retry_at: null, updated_at: now() });
  }
  clearStatus(sync: string, side: Side, id: string): void {
    const cache = this.statusesOf(sync);
    if (!cache.delete(`${side}:${id}`)) return;
    this.q(`DELETE FROM record_status WHERE sync = ? AND side = ? AND record_id = ?`).run(sync, side, id);
  }
  /** Failed records due for a retry (all of them with `retryAll`). */
  dueFailed(sync: string, side: Side, retryAll: boolean): string[] {
    const sql = retryAll
      ? `SELECT record_id FROM record_status WHERE sync = ? AND side = ? AND status = 'failed'`
      : `SELECT record_id FROM record_status WHERE sync = ? AND side = ? AND status = 'failed' AND next_retry_at <= ?`;
    const args = retryAll ? [sync, side] : [sync, side, now()];
    return (this.q(sql).all(...args) as { record_id: string }[]).map((r) => r.record_id);
  }
  listStatuses(sync: string, status: 'failed' | 'excluded'): StatusRow[] {
    return this.q(`SELECT side, record_id, status, reason, attempts, next_retry_at, updated_at FROM record_status
                   WHERE sync = ? AND status = ? ORDER BY reason, side, record_id`).all(sync, status) as StatusRow[];
  }
  countStatuses(sync: string): { failed: number; excluded: number } {
    const rows = this.q(`SELECT status, count(*) AS n FROM record_status WHERE sync = ? GROUP BY status`).all(sync) as { status: string; n: number }[];
    return { failed: rows.find((r) => r.status === 'failed')?.n ?? 0, excluded: rows.find((r) => r.status === 'excluded')?.n ?? 0 };
  }

  // --- pending creates -------------------------------------------------------
  /**
   * The journalled creates of a sync (`side:source_id`), loaded once and kept
   * current by this store's writes: every new pair asks to clear one, and
   * nearly none has any.
   */
  private pending = new Map<string, Set<string>>();
  private pendingOf(sync: string): Set<string> {
    let set = this.pending.get(sync);
    if (!set) {
      const rows = this.q(`SELECT side, source_id FROM pending_creates WHERE sync = ?`).all(sync) as { side: Side; source_id: string }[];
      set = new Set(rows.map((r) => `${r.side}:${r.source_id}`));
      this.pending.set(sync, set);
    }
    return set;
  }
  /**
   * Journals a create; answers when the intent was first journalled. A
   * create sent again after a crash keeps that time, so the creation key
   * derived from it (apply.ts) is the same on every attempt.
   */
  addPending(sync: string, side: Side, sourceId: string, fields: unknown): string {
    const row = this.q(`INSERT INTO pending_creates (sync, side, source_id, fields, created_at) VALUES (?, ?, ?, ?, ?)
      ON CONFLICT (sync, side, source_id) DO UPDATE SET fields = excluded.fields RETURNING created_at`)
      .get(sync, side, sourceId, JSON.stringify(fields), now()) as { created_at: string };
    this.pendingOf(sync).add(`${side}:${sourceId}`);
    return row.created_at;
  }
  removePending(sync: string, side: Side, sourceId: string): void {
    if (!this.pendingOf(sync).delete(`${side}:${sourceId}`)) return;
    this.q(`DELETE FROM pending_creates WHERE sync = ? AND side = ? AND source_id = ?`).run(sync, side, sourceId);
  }
  listPending(sync: string, side: Side): { source_id: string; fields: Record<string, Value> }[] {
    return (this.q(`SELECT source_id, fields FROM pending_creates WHERE sync = ? AND side = ?`).all(sync, side) as { source_id: string; fields: string }[])
      .map((r) => ({ source_id: r.source_id, fields: JSON.parse(r.fields) as Record<string, Value> }));
  }

  // --- runs ------------------------------------------------------------------
  startRun(): number {
    return Number(this.q(`INSERT INTO runs (started_at, pid) VALUES (?, ?)`).run(now(), process.pid).lastInsertRowid);
  }
  /** Runs started after `at`, counted among the newest `upTo` runs only (the history is never scanned whole). */
  runsSince(at: string, upTo: number): number {
    return this.q(`SELECT count(*) FROM (SELECT started_at FROM runs ORDER BY id DESC LIMIT ?) WHERE started_at > ?`).pluck().get(upTo, at) as number;
  }
  finishRun(id: number, outcome: string, summary: unknown, error?: string): void {
    this.q(`UPDATE runs SET finished_at = ?, outcome = ?, summary = ?, error = ? WHERE id = ?`)
      .run(now(), outcome, JSON.stringify(summary), error ?? null, id);
  }
  /**
   * The last finished run that passed over this sync (not one that only saw
   * it stopped), with the sync's own outcome in it.
   */
  /** `warnings`: the JSON list of the sync's warnings in that run, or null. */
  lastRunOf(sync: string): { started_at: string; finished_at: string; outcome: string; warnings: string | null } | undefined {
    return this.q(`SELECT r.started_at, r.finished_at, json_extract(j.value, '$.outcome') AS outcome,
                          json_extract(j.value, '$.warnings') AS warnings
                   FROM runs r, json_each(r.summary) j
                   WHERE r.summary IS NOT NULL AND json_extract(j.value, '$.sync') = ?
                     AND json_extract(j.value, '$.outcome') <> 'stopped'
                   ORDER BY r.id DESC LIMIT 1`).get(sync) as never;
  }
  // --- webhooks (watch) -------------------------------------------------------
  /** The receivers' counters, as `watch` holds them (src/webhooks.ts). */
  saveWebhooks(rows: WebhookRow[], pid: number, startedAt: string): void {
    const q = this.q(`INSERT INTO webhooks (connection, url, pid, started_at, stopped_at, events, duplicates, signature_failures,
        last_event_at, last_failure_at, last_failure, targeted_passes, last_pass_at, minutes, updated_at)
      VALUES (?, ?, ?, ?, NULL, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
      ON CONFLICT (connection) DO UPDATE SET url = excluded.url, pid = excluded.pid, started_at = excluded.started_at, stopped_at = NULL,
        events = excluded.events, duplicates = excluded.duplicates, signature_failures = excluded.signature_failures,
        last_event_at = excluded.last_event_at, last_failure_at = excluded.last_failure_at, last_failure = excluded.last_failure,
        targeted_passes = excluded.targeted_passes, last_pass_at = excluded.last_pass_at, minutes = excluded.minutes, updated_at = excluded.updated_at`);
    this.transaction(() => {
      for (const r of rows) {
        q.run(r.connection, r.url, pid, startedAt, r.events, r.duplicates, r.signatureFailures, r.lastEventAt, r.lastFailureAt, r.lastFailure,
          r.targetedPasses, r.lastPassAt, JSON.stringify(r.minutes), now());
      }
    });
  }
  stopWebhooks(pid: number): void {
    this.q(`UPDATE webhooks SET stopped_at = ?, updated_at = ? WHERE pid = ? AND stopped_at IS NULL`).run(now(), now(), pid);
  }
  listWebhooks(): (WebhookRow & { pid: number; startedAt: string; stoppedAt: string | null; updatedAt: string })[] {
    const rows = this.q(`SELECT * FROM webhooks ORDER BY connection`).all() as Record<string, unknown>[];
    return rows.map((r) => ({
      connection: String(r.connection), url: String(r.url), pid: Number(r.pid), startedAt: String(r.started_at), stoppedAt: (r.stopped_at as string | null) ?? null,
      events: Number(r.events), duplicates: Number(r.duplicates), signatureFailures: Number(r.signature_failures),
      lastEventAt: (r.last_event_at as string | null) ?? null, lastFailureAt: (r.last_failure_at as string | null) ?? null, lastFailure: (r.last_failure as string | null) ?? null,
      targetedPasses: Number(r.targeted_passes), lastPassAt: (r.last_pass_at as string | null) ?? null,
      minutes: JSON.parse(String(r.minutes ?? '{}')) as Record<string, number>, updatedAt: String(r.updated_at),
    }));
  }

  lastRun(): { id: number; started_at: string; finished_at: string | null; outcome: string | null; summary: string | null; error: string | null } | undefined {
    return this.q(`SELECT id, started_at, finished_at, outcome, summary, error FROM runs ORDER BY id DESC LIMIT 1`).get() as never;
  }
}

