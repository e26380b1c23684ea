/**
 * The model-based property test of the whole engine (after vdirsyncer's
 * SyncMachine), shared by its variants (model.property.test.ts: two in-memory
 * apps; model.postgres.property.test.ts: crm a real PostgreSQL table behind
 * the real connector): two apps, random people's edits on both sides,
 * runs of `runOnce` with random interruptions, and after every clean run the
 * invariants of SPEC §4:
 *
 *  (a) every live link holds what the SPEC §4 rules say, computed by a small
 *      reference model of the rules from the records as they were before the
 *      run; links the model cannot follow (a write was refused) fall back to
 *      "agree, or one side empty, or a record is marked failed";
 *  (b) a one-way source is never written (whole sync, and the one-way
 *      number → text mapping);
 *  (c) no record is linked twice, links persist, every record the engine made
 *      is linked, nothing is created while an unlinked record of the target
 *      holds its match key, and no pairable or creatable record is left over;
 *  (d) a run right after a clean run writes nothing;
 *  (e) the same commands with the runs interrupted (crash before/after an
 *      app's write, crash while reading, abort between batches) and re-run
 *      end with the same app contents and links, modulo the ids the engine
 *      made;
 *  (f) no saved cursor stands past now plus the skew allowed, although a
 *      person stamped a record 9999-12-31 (`futureTime`), and a run that
 *      read such a record warns about it.
 *
 * A person's commands: create, edit, clear a field, delete, edit during a
 * pass, give a removed record's id to a new one, a record vanished for one
 * run then back with its id, a change time far in the future, an integer
 * past 2^53.
 *
 * The apps are ModelApps (test/support/memory-connector.ts): a World takes
 * another app than MemoryApp for crm through `makeB`.
 */
import Database from 'better-sqlite3';
import fc from 'fast-check';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import type { FieldSpec, Fields, ObjectSpec, Value } from '../../src/connector.js';
import type { Config, Direction, SyncConfig } from '../../src/config/types.js';
import { emailRule, matchKeys } from '../../src/engine/keys.js';
import { REUSED_MARK } from '../../src/state/store.js';
import { runOnce } from '../../src/engine/run.js';
import { FUTURE_SKEW_MS } from '../../connectors/shared/change-times.js';
import type { Flow } from '../../src/mapping/types.js';
import { FAR_FUTURE, FaultPlan, MemoryApp, REJECT, SimulatedCrash, type FaultKind, type ModelApp } from '../support/memory-connector.js';

export type Side = 'a' | 'b';
export const SIDES = ['a', 'b'] as const;
export const other = (s: Side): Side => (s === 'a' ? 'b' : 'a');
export const CONN = { a: 'hub', b: 'crm' } as const;

// ---- the two apps --------------------------------------------------------------

export const f = (name: string, type: FieldSpec['type'], role?: FieldSpec['role']): FieldSpec =>
  ({ name, label: name, type, readOnly: false, ...(role ? { role } : {}) });
export const contacts = (fields: FieldSpec[]): ObjectSpec =>
  ({ name: 'contacts', label: 'Contacts', fields, associations: [], capabilities: { create: true, update: true, changeCursor: true } });
export const SPEC = {
  a: contacts([f('email', 'text', 'email'), f('firstname', 'text', 'firstname'), f('lastname', 'text', 'lastname'), f('notes', 'text'), f('score', 'number')]),
  b: contacts([f('email', 'text', 'email'), f('first_name', 'text', 'firstname'), f('last_name', 'text', 'lastname'), f('remarks', 'text'), f('score_text', 'text')]),
};

/** The model's view of a mapping: field names, which way values flow, how they compare. */
export interface ModelMapping { a: string; b: string; flow: Flow; kind: 'email' | 'text' | 'number-to-text' }

export function modelMappings(direction: Direction): ModelMapping[] {
  const flow: Flow = direction === 'two-way' ? 'both' : direction;
  const maps: ModelMapping[] = [
    { a: 'email', b: 'email', flow, kind: 'email' },
    { a: 'firstname', b: 'first_name', flow, kind: 'text' },
    { a: 'lastname', b: 'last_name', flow, kind: 'text' },
    { a: 'notes', b: 'remarks', flow, kind: 'text' },
  ];
  // SPEC §5: a number is written into a text field one way, never back.
  if (direction !== 'b-to-a') maps.push({ a: 'score', b: 'score_text', flow: 'a-to-b', kind: 'number-to-text' });
  return maps;
}

// ---- the rules of SPEC §4, as a reference model of one field --------------------------

export const empty = (v: Value | undefined) => v === null || v === undefined || (typeof v === 'string' && v.trim() === '');
export const canFlow = (m: ModelMapping, from: Side) => m.flow === 'both' || m.flow === (from === 'a' ? 'a-to-b' : 'b-to-a');
export const carry = (m: ModelMapping, from: Side, v: Value): Value =>
  v === null ? null : m.kind === 'number-to-text' && from === 'a' ? String(v) : v;
/** A number digit for digit: an integer past 2^53 is a decimal string in the canonical form, compared by its digits. */
export const digits = (v: Value): string =>
  typeof v === 'string' && /^[-+]?\d+$/.test(v.trim()) ? BigInt(v.trim()).toString() : String(Number(v));
/** The same value of one side's field (emails case-insensitive, numbers numerically). */
export function same(m: ModelMapping, side: Side, x: Value, y: Value): boolean {
  if (empty(x) || empty(y)) return empty(x) && empty(y);
  if (m.kind === 'email') return String(x).trim().toLowerCase() === String(y).trim().toLowerCase();
  if (m.kind === 'number-to-text' && side === 'a') return digits(x) === digits(y);
  return x === y;
}
export const agree = (m: ModelMapping, va: Value, vb: Value) =>
  (empty(va) && empty(vb)) || (canFlow(m, 'a') ? same(m, 'b', carry(m, 'a', va), vb) : same(m, 'a', carry(m, 'b', vb), va));

export type ModelBase = Record<string, [Value, Value]>;
export interface Policy { defaultSide: Side; clears: 'keep' | 'propagate' }

/** What SPEC §4 says a merge of two linked records writes, field by field. */
export function modelMerge(maps: ModelMapping[], a: Fields, b: Fields, base: ModelBase | null, policy: Policy) {
  const write: Record<Side, Fields> = { a: {}, b: {} };
  const next: ModelBase = {};
  for (const m of maps) {
    const cur: Record<Side, Value> = { a: a[m.a] ?? null, b: b[m.b] ?? null };
    const name = (s: Side) => (s === 'a' ? m.a : m.b);
    const set = (to: Side) => {
      cur[to] = carry(m, other(to), cur[other(to)]);
      write[to][name(to)] = cur[to];
    };
    const prior = base?.[m.a];
    if (!agree(m, cur.a, cur.b)) {
      if (!prior) {
        // First match: one-sided fills the empty side; two values: the default app wins; never against the direction.
        if (empty(cur.a) || empty(cur.b)) {
          const from: Side = empty(cur.a) ? 'b' : 'a';
          if (canFlow(m, from)) set(other(from));
        } else if (canFlow(m, policy.defaultSide)) set(other(policy.defaultSide));
      } else {
        const changed = { a: !same(m, 'a', cur.a, prior[0]), b: !same(m, 'b', cur.b, prior[1]) };
        if (changed.a !== changed.b) {
          const from: Side = changed.a ? 'a' : 'b';
          // An empty value never overwrites a filled one, unless clears propagate.
          if (canFlow(m, from) && (!empty(cur[from]) || policy.clears === 'propagate')) set(other(from));
        } else if (changed.a) {
          // A conflict: the default app wins, unless its value is empty; never against the direction.
          const w = policy.defaultSide;
          if (!empty(cur[w]) && canFlow(m, w)) set(other(w));
        }
      }
    }
    next[m.a] = [cur.a, cur.b];
  }
  return { write, base: next };
}

/** The record SPEC §4 creates on the other side of `source`, and the base it leaves. */
export function modelCreate(maps: ModelMapping[], from: Side, source: Fields) {
  const made: Fields = {};
  const base: ModelBase = {};
  for (const m of maps) {
    const v = source[from === 'a' ? m.a : m.b] ?? null;
    const to = canFlow(m, from) ? carry(m, from, v) : null;
    if (!empty(to)) made[from === 'a' ? m.b : m.a] = to;
    base[m.a] = from === 'a' ? [v, empty(to) ? null : to] : [empty(to) ? null : to, v];
  }
  return { made, base };
}

// ---- the world: two apps, a state file, and what the model remembers -------------------

export interface LinkRow { a_id: string; b_id: string; deleted: Side | null }
export interface Params {
  direction: Direction; defaultSide: Side; clears: 'keep' | 'propagate'; batchSize: number; pageSize: number;
  /** The apps' connectors implement `cursorAfterWrites` (runs then skip their own writes). */
  ownCursor?: boolean;
  /** The apps make updates only while the record is as read (capabilities.conditionalUpdate). */
  conditional?: boolean;
}
/** A person's edit of one record made between the engine's read and its write of that record. */
export interface Concurrent { side: Side; id: string; fields: Fields }
/** A record put back with its id after a run without it; `intact`: as the engine last saw it. */
export interface Returning { side: Side; id: string; fields: Fields; intact: boolean }
export interface Target { k: number; partner: boolean }
export interface FaultSpec { kind: FaultKind; at: number }

/** State files in memory where the OS offers it: a run fsyncs its state several times. */
export const SCRATCH = existsSync('/dev/shm') ? '/dev/shm' : tmpdir();

export class World {
  readonly dir = mkdtempSync(join(SCRATCH, 'datasync-model-'));
  readonly apps: Record<Side, ModelApp>;
  readonly config: Config;
  readonly maps: ModelMapping[];
  readonly policy: Policy;
  private userIds: Record<Side, string[]> = { a: [], b: [] };
  /** Ids of records removed by a person, which an app may give to a new record. */
  private removed: Record<Side, string[]> = { a: [], b: [] };
  /** Ids given to a new record after their link was marked deleted: the engine may free them (`#reused-`). */
  private reused: Record<Side, Set<string>> = { a: new Set(), b: new Set() };
  private reuses = 0;
  links: LinkRow[] = [];
  failed = new Set<string>(); // `${side}:${id}`
  private base = new Map<string, ModelBase>(); // link `${a}|${b}` -> model base
  private tainted = new Set<string>();
  faultsFired = 0;

  /** `makeB`: another app than MemoryApp as crm (the Postgres variant). */
  constructor(readonly params: Params, readonly cleanOnly: boolean, makeB?: (params: Params) => ModelApp) {
    const own = params.ownCursor ?? false;
    const cond = params.conditional ?? false;
    this.apps = { a: new MemoryApp('hub', SPEC.a, params.pageSize, own, cond), b: makeB?.(params) ?? new MemoryApp('crm', SPEC.b, params.pageSize, own, cond) };
    this.maps = modelMappings(params.direction);
    this.policy = { defaultSide: params.defaultSide, clears: params.clears };
    const custom = [{ fields: { hub: 'notes', crm: 'remarks' }, where: 'model:1:1' }];
    if (params.direction !== 'b-to-a') custom.push({ fields: { hub: 'score', crm: 'score_text' }, where: 'model:2:1' });
    const sync: SyncConfig = {
      name: 'contacts', object: 'contacts', between: [CONN.a, CONN.b], direction: params.direction,
      defaultApp: CONN[params.defaultSide], match: 'default', mappings: { defaults: true, custom: true, fields: custom },
      rules: { onlyWithEmail: true }, filters: {}, associations: false, clears: params.clears, enabled: true, where: 'model:1:1',
    };
    this.config = {
      file: join(this.dir, 'sync.yaml'), baseDir: this.dir, version: 1, state: join(this.dir, 'state.db'), interval: 300_000,
      connections: {
        hub: this.apps.a.connection('hub', this.dir),
        crm: this.apps.b.connection('crm', this.dir),
      },
      syncs: [sync],
    };
  }

  dispose(): void {
    for (const s of SIDES) this.apps[s].dispose?.();
    rmSync(this.dir, { recursive: true, force: true });
  }

  // --- a person's changes ---------------------------------------------------------
  seed(initial: Record<Side, Values[]>): void {
    for (const s of SIDES) for (const v of initial[s]) this.create(s, spell(s, v));
  }
  create(side: Side, fields: Fields): void {
    this.userIds[side].push(this.apps[side].insert(fields));
  }
  /** The k-th record a person made on `side`, or (partner) the record linked to the k-th one of the other side. */
  resolve(side: Side, t: Target): string | null {
    const from = t.partner ? other(side) : side;
    const ids = this.userIds[from];
    if (ids.length === 0) return null;
    const id = ids[t.k % ids.length]!;
    if (!t.partner) return this.apps[side].has(id) ? id : null;
    const link = this.links.find((l) => l[from === 'a' ? 'a_id' : 'b_id'] === id);
    const partner = link ? (side === 'a' ? link.a_id : link.b_id) : null;
    return partner !== null && this.apps[side].has(partner) ? partner : null;
  }
  edit(side: Side, t: Target, fields: Fields): void {
    const id = this.resolve(side, t);
    if (id) this.apps[side].edit(id, fields);
  }
  remove(side: Side, t: Target): void {
    const id = this.resolve(side, t);
    if (!id) return;
    this.apps[side].remove(id);
    this.removed[side].push(id);
  }
  /**
   * The app gives the id of a removed record to a new one (SQLite without
   * AUTOINCREMENT, a CSV's largest id + 1), whose email no record ever held:
   * it is a new record, matched or created like any other.
   */
  reuseId(side: Side, k: number, values: Fields): void {
    const ids = this.removed[side];
    if (ids.length === 0) return;
    const id = ids.splice(k % ids.length, 1)[0]!;
    const email = NAMES[side].email;
    this.apps[side].insert({ ...values, [email]: `reused${++this.reuses}@r.se` }, id);
    if (this.links.some((l) => l[side === 'a' ? 'a_id' : 'b_id'] === id && l.deleted === side)) this.reused[side].add(id);
    if (!this.userIds[side].includes(id)) this.userIds[side].push(id);
  }
  /** A record missing from its app for one run, then back with its id and values (a table reloaded). */
  async vanish(side: Side, t: Target): Promise<void> {
    const id = this.resolve(side, t);
    if (!id) return;
    const r = this.apps[side].record(id)!;
    // As when last in sync: every mapped value as in its link's base (what returned.ts can recognise).
    const link = this.links.find((l) => l[side === 'a' ? 'a_id' : 'b_id'] === id);
    const key = link && `${link.a_id}|${link.b_id}`;
    const base = key && !this.tainted.has(key) ? this.base.get(key) : undefined;
    const i = side === 'a' ? 0 : 1;
    const intact = base !== undefined && JSON.stringify(this.seen[side].get(id)) === JSON.stringify(r.fields)
      && this.maps.every((m) => JSON.stringify(r.fields[side === 'a' ? m.a : m.b] ?? null) === JSON.stringify(base[m.a]?.[i] ?? null));
    this.apps[side].remove(id);
    await this.run([], false, false);
    this.apps[side].restore(r);
    this.returning.push({ side, id, fields: { ...r.fields }, intact });
  }
  /** Records back with the id of a link marked deleted on their side, not yet seen by a run. */
  private returning: Returning[] = [];
  /** Every record as the last clean run left it (a person's edit during that run left out). */
  private seen: Record<Side, Map<string, Fields>> = { a: new Map(), b: new Map() };

  // --- runs -----------------------------------------------------------------------
  /** A person stamps the record with a change time in the year 9999 (and may edit it in the same UPDATE). */
  futureTime(side: Side, t: Target, fields: Fields): void {
    const id = this.resolve(side, t);
    if (!id) return;
    this.apps[side].edit(id, fields);
    this.apps[side].poison(id);
  }

  private readState(): void {
    if (!existsSync(this.config.state)) return;
    const db = new Database(this.config.state, { readonly: true, fileMustExist: true });
    try {
      // (f) A change time in the future never moves a cursor past now (plus the skew allowed).
      for (const { side, cursor } of db.prepare(`SELECT side, cursor FROM cursors WHERE sync = 'contacts'`).all() as { side: Side; cursor: string | null }[]) {
        if (cursor === null) continue;
        expect(this.apps[side].cursorTime(cursor), `(f) the cursor of ${side} (${cursor}) stands in the future`).toBeLessThanOrEqual(Date.now() + FUTURE_SKEW_MS);
      }
      this.links = db.prepare(`SELECT a_id, b_id, deleted FROM links WHERE sync = 'contacts'`).all() as LinkRow[];
      this.failed = new Set((db.prepare(`SELECT side, record_id FROM record_status WHERE sync = 'contacts' AND status = 'failed'`)
        .all() as { side: Side; record_id: string }[]).map((r) => `${r.side}:${r.record_id}`));
    } finally {
      db.close();
    }
  }

  private async interruptedRun(fault: FaultSpec, retryFailed: boolean): Promise<void> {
    const controller = new AbortController();
    const plan = new FaultPlan(fault.kind, fault.at, controller);
    for (const s of SIDES) this.apps[s].fault = plan;
    try {
      await runOnce(this.config, { signal: controller.signal, batchSize: this.params.batchSize, retryFailed });
    } catch (err) {
      if (!(err instanceof SimulatedCrash)) throw err;
    } finally {
      for (const s of SIDES) this.apps[s].fault = null;
    }
    if (plan.fired) this.faultsFired++;
    this.readState();
    this.checkOneWay();
  }

  private async cleanRun(retryFailed: boolean): Promise<void> {
    const poisoned = { a: this.apps.a.all().filter((r) => r.at === FAR_FUTURE), b: this.apps.b.all().filter((r) => r.at === FAR_FUTURE) };
    const result = await runOnce(this.config, { batchSize: this.params.batchSize, retryFailed });
    expect(result.interrupted).toBe(false);
    for (const s of result.summaries) expect(s.outcome, JSON.stringify(s.error)).not.toBe('error');
    // (f) A record stamped in the future is read on every pass (until a write stamps it now), and the pass says so.
    for (const side of SIDES) {
      const said = result.summaries.flatMap((x) => x.warnings ?? []).filter((w) => w.startsWith(`${CONN[side]}: `) && w.includes('in the future'));
      expect(said.length, `(f) ${side}: ${poisoned[side].length} record(s) stamped 9999-12-31, warned about: ${JSON.stringify(said)}`).toBe(poisoned[side].length);
    }
    this.readState();
    this.checkOneWay();
  }

  /** A `run` command: (interruptions, unless this world runs clean only), a clean run, checks, and a second run. */
  async run(faults: FaultSpec[], retryFailed: boolean, thenNoop = true): Promise<void> {
    const before = { a: this.apps.a.snapshot(), b: this.apps.b.snapshot() };
    const linksBefore = this.links;
    const failedBefore = this.failed;
    if (!this.cleanOnly) for (const fault of faults) await this.interruptedRun(fault, retryFailed);
    await this.cleanRun(retryFailed);
    const after = { a: this.apps.a.snapshot(), b: this.apps.b.snapshot() };
    this.checkLinks(before, linksBefore, after, failedBefore);
    this.checkContents(before, linksBefore, after, null);
    this.checkNothingLeft(after);
    this.returning = [];
    this.seen = after;
    // (d) A run right after a clean run writes nothing.
    if (!thenNoop) return;
    // A write the app refuses is not a write: an echo of the engine's own
    // write may make it retry a failed record once (see the report).
    const applied = { a: this.apps.a.writeCount(), b: this.apps.b.writeCount() };
    const links = JSON.stringify(this.links);
    await this.cleanRun(false);
    expect({ a: this.apps.a.writeCount(), b: this.apps.b.writeCount() }, '(d) a run right after a clean run writes nothing').toEqual(applied);
    expect(this.apps.a.snapshot()).toEqual(after.a);
    expect(this.apps.b.snapshot()).toEqual(after.b);
    expect(JSON.stringify(this.links), '(d) links unchanged by a no-op run').toBe(links);
  }

  /**
   * A clean run during which a person edits `target` on `side` right before
   * the engine's write of an update to it (conditional apps only; otherwise,
   * or if the run writes no update to it, the edit is made after the run).
   * The edit is never lost: the app answers `changed`, the pass leaves that
   * side's fields and their base alone, and the next run merges the edit.
   */
  async concurrentRun(side: Side, target: Target, fields: Fields): Promise<void> {
    const id = this.resolve(side, target);
    const app = this.apps[side];
    let edit: Concurrent | null = null;
    if (id && app.conditional) {
      app.beforeWrite = (ops) => {
        if (!ops.some((op) => op.kind === 'update' && op.id === id)) return;
        app.beforeWrite = null;
        const held = app.record(id)!.fields;
        // An edit to the values already held changes nothing: the write goes through.
        if (Object.entries(fields).some(([k, v]) => JSON.stringify(held[k] ?? null) !== JSON.stringify(v))) edit = { side, id, fields };
        app.edit(id, fields);
      };
    }
    const before = { a: this.apps.a.snapshot(), b: this.apps.b.snapshot() };
    const linksBefore = this.links;
    const failedBefore = this.failed;
    try {
      await this.cleanRun(false);
    } finally {
      app.beforeWrite = null;
    }
    const after = { a: this.apps.a.snapshot(), b: this.apps.b.snapshot() };
    if (edit) {
      const { fields: made } = edit as Concurrent;
      expect(Object.fromEntries(Object.keys(made).map((k) => [k, after[side].get(id!)?.[k] ?? null])),
        `a person's edit of ${side}:${id} during the pass was overwritten`).toEqual(made);
    }
    this.checkLinks(before, linksBefore, after, failedBefore);
    this.checkContents(before, linksBefore, after, edit);
    this.checkNothingLeft(after);
    this.returning = [];
    this.seen = after;
    if (edit) after[side].delete(id!);
    if (id && !edit) this.apps[side].edit(id, fields);
  }

  // --- invariants ---------------------------------------------------------------
  /** (b) A one-way source is never written. */
  private checkOneWay(): void {
    const { direction } = this.params;
    if (direction === 'a-to-b') expect(this.apps.a.writes.calls, '(b) a-to-b: hub (the source) was written').toBe(0);
    if (direction === 'b-to-a') expect(this.apps.b.writes.calls, '(b) b-to-a: crm (the source) was written').toBe(0);
    expect(this.apps.a.writes.fields.get('score') ?? 0, '(b) number -> text mapping wrote its source').toBe(0);
  }

  /** (c) Links: one per record, kept once made, deleted exactly when a record is gone, every created record linked. */
  private checkLinks(before: Record<Side, Map<string, Fields>>, linksBefore: LinkRow[], after: Record<Side, Map<string, Fields>>,
    failedBefore: Set<string>): void {
    const col = (s: Side) => (s === 'a' ? 'a_id' : 'b_id');
    for (const s of SIDES) {
      const ids = this.links.map((l) => l[col(s)]);
      expect(new Set(ids).size, `(c) a record of ${s} is linked twice`).toBe(ids.length);
    }
    // A link marked deleted whose record's id went to a new record is kept deleted under the marked id.
    // So may a record back with its id and an edit the engine never saw: it cannot be told from a
    // new record given a reused id (returned.ts), unless it still shares a key with its partner.
    const changedBack = (r: Returning) => !r.intact || JSON.stringify(before[r.side].get(r.id)) !== JSON.stringify(r.fields);
    const ambiguous = (s: Side, id: string) => this.returning.some((r) => r.side === s && r.id === id && changedBack(r));
    const freed = (s: Side, id: string, now: string | undefined) =>
      now !== undefined && (this.reused[s].has(id) || ambiguous(s, id)) && now.startsWith(`${id}${REUSED_MARK}`);
    for (const l of linksBefore) {
      const now = this.links.find((x) => x.a_id === l.a_id && x.b_id === l.b_id)
        ?? (l.deleted ? this.links.find((x) => (freed('a', l.a_id, x.a_id) && x.b_id === l.b_id) || (x.a_id === l.a_id && freed('b', l.b_id, x.b_id))) : undefined)
        ?? this.links.find((x) => x.a_id === l.a_id);
      if (l.deleted && now && (freed('a', l.a_id, now.a_id) || freed('b', l.b_id, now.b_id))) {
        expect(now.deleted, `(c) freed link ${now.a_id}|${now.b_id} not kept as deleted`).toBe(l.deleted);
        continue;
      }
      expect(now?.b_id, `(c) link ${l.a_id}|${l.b_id} changed or vanished`).toBe(l.b_id);
    }
    // A record back as it was with its link's id (and not changed since) is that link's record again.
    for (const r of this.returning) {
      const l = linksBefore.find((x) => x[col(r.side)] === r.id);
      if (l?.deleted !== r.side) continue;
      const now = this.links.find((x) => x[col(r.side)] === r.id);
      // Unless its partner went meanwhile: then the link is deleted on the partner's side.
      const partnerGone = !after[other(r.side)].has(l[col(other(r.side))]);
      if (changedBack(r)) continue;
      expect(now?.deleted ?? null, `(c) ${r.side}:${r.id} came back but its link ${l.a_id}|${l.b_id} stays deleted`)
        .toBe(partnerGone ? other(r.side) : null);
      expect(now?.[col(other(r.side))], `(c) ${r.side}:${r.id} came back linked elsewhere`).toBe(l[col(other(r.side))]);
    }
    for (const l of this.links) {
      const gone = SIDES.filter((s) => !before[s].has(l[col(s)]) && !after[s].has(l[col(s)]));
      if (l.deleted) expect(after[l.deleted].has(l[col(l.deleted)]), `(c) link ${l.a_id}|${l.b_id} marked deleted in ${l.deleted} but the record exists`).toBe(false);
      else expect(gone, `(c) live link ${l.a_id}|${l.b_id} to a deleted record`).toEqual([]);
    }
    for (const s of SIDES) {
      for (const r of this.apps[s].all()) {
        if (r.origin !== 'engine') continue;
        const link = this.links.find((l) => l[col(s)] === r.id);
        // Back with its id and an edit, the engine took it for a new record (its old link kept under the marked id).
        if (!link && this.links.some((l) => l[col(s)].startsWith(`${r.id}${REUSED_MARK}`))) continue;
        expect(link, `(c) ${s}:${r.id} was created by the engine but is not linked (a duplicate)`).toBeDefined();
        if (before[s].has(r.id)) continue;
        // Created in this run: nothing on this side that was unlinked held its match key.
        const keys = matchKeys('contacts', r.fields, SPEC[s], 'default', s);
        const unlinkedBefore = [...before[s]].filter(([id, fields]) =>
          !linksBefore.some((l) => l[col(s)] === id) && matchKeys('contacts', fields, SPEC[s], 'default', s).some((k) => keys.includes(k)));
        expect(unlinkedBefore.map(([id]) => id),
          `(c) ${s}:${r.id} (${keys.join()}) was created although unlinked ${s} records held that key${
            unlinkedBefore.some(([id]) => failedBefore.has(`${s}:${id}`)) ? ' (failed as duplicates)' : ''}`).toEqual([]);
      }
    }
  }

  /** (a) Every record holds what the rules of SPEC §4 say; records not on a live link are left alone. */
  private checkContents(before: Record<Side, Map<string, Fields>>, linksBefore: LinkRow[], after: Record<Side, Map<string, Fields>>,
    edit: Concurrent | null): void {
    const live = this.links.filter((l) => !l.deleted);
    const onLive = { a: new Set(live.map((l) => l.a_id)), b: new Set(live.map((l) => l.b_id)) };
    for (const s of SIDES) {
      for (const [id, fields] of before[s]) {
        if (!onLive[s].has(id) && after[s].has(id)) expect(after[s].get(id), `${s}:${id} is on no live link and must not change`).toEqual(fields);
      }
    }
    const excluded = (s: Side, fields: Fields) => emailRule(fields, SPEC[s]) !== null;
    for (const l of live) {
      const key = `${l.a_id}|${l.b_id}`;
      // A link revived (its record back with its id) merges against the base it had.
      const wasLinked = linksBefore.some((x) => x.a_id === l.a_id && x.b_id === l.b_id);
      const pre = { a: before.a.get(l.a_id), b: before.b.get(l.b_id) };
      const post = { a: after.a.get(l.a_id)!, b: after.b.get(l.b_id)! };
      const expected: Record<Side, Fields> = { a: { ...(pre.a ?? {}) }, b: { ...(pre.b ?? {}) } };
      const made = SIDES.find((s) => !pre[s]);
      if (made) {
        // Created in this run from the other side's record.
        const from = other(made);
        expect(wasLinked, `${key}: a new record on an old link`).toBe(false);
        expect(pre[from], `${key}: both records are new`).toBeDefined();
        const c = modelCreate(this.maps, from, this.asRead(from, pre[from]!));
        expected[made] = this.written(made, c.made);
        this.base.set(key, c.base);
      } else if (!excluded('a', pre.a!) && !excluded('b', pre.b!)) {
        const prior = wasLinked ? (this.base.get(key) ?? {}) : null;
        const m = modelMerge(this.maps, this.asRead('a', pre.a!), this.asRead('b', pre.b!), prior, this.policy);
        const hit = edit && l[edit.side === 'a' ? 'a_id' : 'b_id'] === edit.id ? edit.side : null;
        for (const s of SIDES) {
          if (s === hit) {
            // Edited after the read: the app answered `changed`, nothing of the write was made, and
            // the fields it would have written keep their prior base, so the next run sees the edit.
            Object.assign(expected[s], edit!.fields);
            for (const m2 of this.maps) {
              if (!((s === 'a' ? m2.a : m2.b) in m.write[s])) continue;
              if (prior?.[m2.a]) m.base[m2.a] = prior[m2.a]!;
              else delete m.base[m2.a];
            }
            continue;
          }
          if (Object.values(m.write[s]).includes(REJECT)) this.tainted.add(key); // the app refuses it: the link is failed
          Object.assign(expected[s], this.written(s, m.write[s]));
        }
        this.base.set(key, m.base);
      }
      if (SIDES.some((s) => this.failed.has(`${s}:${l[s === 'a' ? 'a_id' : 'b_id']}`))) this.tainted.add(key);
      if (!this.tainted.has(key)) {
        const fill = (s: Side, x: Fields) => Object.fromEntries(SPEC[s].fields.map((fl) => [fl.name, x[fl.name] ?? null]));
        expect({ a: fill('a', post.a), b: fill('b', post.b) }, `(a) ${key} after the run (before: ${JSON.stringify(pre)})`)
          .toEqual({ a: fill('a', expected.a), b: fill('b', expected.b) });
      } else if (!(edit && l[edit.side === 'a' ? 'a_id' : 'b_id'] === edit.id)) {
        // (A pair whose write met a person's edit is out of step until the next run merges the edit.)
        this.weakCheck(l, post);
      }
    }
  }

  /** Fields as the app's connector reads them. */
  private asRead(s: Side, fields: Fields): Fields {
    return Object.fromEntries(Object.entries(fields).map(([k, v]) => [k, this.apps[s].read(v)]));
  }

  /** Fields as the app holds them once the engine wrote them. */
  private written(s: Side, fields: Fields): Fields {
    return Object.fromEntries(Object.entries(fields).map(([k, v]) => [k, this.apps[s].stored(v)]));
  }

  /** A link the model cannot follow after a refused write: it agrees, or one side is empty, or a record is marked failed. */
  private weakCheck(l: LinkRow, post: Record<Side, Fields>): void {
    if (this.failed.has(`a:${l.a_id}`) || this.failed.has(`b:${l.b_id}`)) return;
    if ([post.a, post.b].some((fields, i) => emailRule(fields, SPEC[SIDES[i]!]) !== null)) return; // excluded: not synced
    for (const m of this.maps) {
      const va = post.a[m.a] ?? null, vb = post.b[m.b] ?? null;
      if (m.flow !== 'both' || empty(va) || empty(vb)) continue;
      expect(agree(m, va, vb), `(a) ${l.a_id}|${l.b_id}: ${m.a}=${JSON.stringify(va)} and ${m.b}=${JSON.stringify(vb)} differ, and neither record is marked failed`).toBe(true);
    }
  }

  /** (c) After a clean run no record that can be paired or created is left unlinked (unless marked failed or excluded). */
  private checkNothingLeft(after: Record<Side, Map<string, Fields>>): void {
    const linked = (s: Side, id: string) => this.links.some((l) => (s === 'a' ? l.a_id : l.b_id) === id);
    const loose = (s: Side) => [...after[s]].filter(([id, fields]) =>
      !linked(s, id) && !this.failed.has(`${s}:${id}`) && emailRule(fields, SPEC[s]) === null);
    const creates = (s: Side) => this.params.direction === 'two-way' || this.params.direction === (s === 'a' ? 'a-to-b' : 'b-to-a');
    for (const s of SIDES) {
      if (creates(s)) expect(loose(s).map(([id]) => id), `(c) unlinked ${s} records that should have been created on the other side`).toEqual([]);
    }
    const keysOf = (s: Side) => new Set(loose(s).flatMap(([, fields]) => matchKeys('contacts', fields, SPEC[s], 'default', s)));
    const a = keysOf('a');
    expect([...keysOf('b')].filter((k) => a.has(k)), '(c) unlinked records on both sides share a match key').toEqual([]);
  }

  /** App contents and links, with the ids the engine made replaced by the record's contents. */
  canonical(): unknown {
    const tag = (s: Side, id: string) => {
      const r = this.apps[s].record(id);
      // The mark of a freed id carries the time it was freed.
      if (id.includes(REUSED_MARK)) return `freed:${id.slice(0, id.indexOf(REUSED_MARK))}`;
      return !r ? `gone:${id}` : r.origin === 'user' ? id : `made:${JSON.stringify(r.fields)}`;
    };
    const apps = Object.fromEntries(SIDES.map((s) => [s,
      this.apps[s].all().map((r) => JSON.stringify([r.origin === 'user' ? r.id : 'made', r.fields])).sort()]));
    const links = this.links.map((l) => JSON.stringify([tag('a', l.a_id), tag('b', l.b_id), l.deleted])).sort();
    return { apps, links };
  }
}

// ---- commands ---------------------------------------------------------------------

export type Model = Record<string, never>;
export type Cmd = fc.AsyncCommand<Model, World>;

/** A person's values, named abstractly and spelled in each app's field names. */
export interface Values { email?: Value; first?: Value; last?: Value; note?: Value; score?: Value }
export const NAMES = {
  a: { email: 'email', first: 'firstname', last: 'lastname', note: 'notes', score: 'score' },
  b: { email: 'email', first: 'first_name', last: 'last_name', note: 'remarks', score: 'score_text' },
} as const;
export const spell = (s: Side, v: Values): Fields =>
  Object.fromEntries(Object.entries(v).filter(([, x]) => x !== undefined).map(([k, x]) => [NAMES[s][k as keyof Values], x as Value]));

export const emailArb = fc.oneof(
  { weight: 12, arbitrary: fc.constantFrom<Value>('ann@x.se', 'ANN@x.se', 'bo@x.se', 'cy@x.se', 'dee@y.se', 'ed@y.se', 'flo@y.se', 'gus@z.se', 'hal@z.se') },
  { weight: 1, arbitrary: fc.constantFrom<Value>(null, 'not-an-email') },
);
export const textArb = fc.oneof(
  { weight: 30, arbitrary: fc.constantFrom<Value>('Ann', 'Bo', 'Cy', 'Dee', '', null) },
  { weight: 1, arbitrary: fc.constant<Value>(REJECT) },
);
export const nameArb = fc.constantFrom<Value>('Eve', 'Fay', 'Gil', '', null);
/** 2^53 + 3 and 2^53 + 4 read as the same double (as do 2^53 + 1 and 2^53): only their digits tell them apart. */
export const BIG = ['9007199254740993', '9007199254740995', '9007199254740996'] as const;
export const scoreArb = (s: Side) => (s === 'a' ? fc.constantFrom<Value>(1, 2.5, 10, null, ...BIG) : fc.constantFrom<Value>('1', '2.5', 'ten', null, BIG[0]));
export const sideArb = fc.constantFrom<Side>('a', 'b');
export const targetArb = fc.record({ k: fc.nat(20), partner: fc.boolean() });
export const valuesArb = (s: Side, all: boolean) => {
  const r = { email: emailArb, first: textArb, last: textArb, note: textArb, score: scoreArb(s) };
  return all ? fc.record(r) : fc.record(r, { requiredKeys: [] });
};

export class CreateCmd implements Cmd {
  constructor(readonly side: Side, readonly values: Values) {}
  check = () => true;
  async run(_m: Model, w: World) {
    w.create(this.side, spell(this.side, this.values));
  }
  toString = () => `create(${this.side}, ${JSON.stringify(this.values)})`;
}
export class EditCmd implements Cmd {
  constructor(readonly side: Side, readonly target: Target, readonly values: Values) {}
  check = () => true;
  async run(_m: Model, w: World) {
    w.edit(this.side, this.target, spell(this.side, this.values));
  }
  toString = () => `edit(${this.side}, ${JSON.stringify(this.target)}, ${JSON.stringify(this.values)})`;
}
export class ClearCmd implements Cmd {
  constructor(readonly side: Side, readonly target: Target, readonly field: keyof Values) {}
  check = () => true;
  async run(_m: Model, w: World) {
    w.edit(this.side, this.target, spell(this.side, { [this.field]: null }));
  }
  toString = () => `clear(${this.side}, ${JSON.stringify(this.target)}, ${this.field})`;
}
export class DeleteCmd implements Cmd {
  constructor(readonly side: Side, readonly target: Target) {}
  check = () => true;
  async run(_m: Model, w: World) {
    w.remove(this.side, this.target);
  }
  toString = () => `delete(${this.side}, ${JSON.stringify(this.target)})`;
}
export class ConcurrentEditCmd implements Cmd {
  constructor(readonly side: Side, readonly target: Target, readonly values: Values) {}
  check = () => true;
  async run(_m: Model, w: World) {
    await w.concurrentRun(this.side, this.target, spell(this.side, this.values));
  }
  toString = () => `concurrentEdit(${this.side}, ${JSON.stringify(this.target)}, ${JSON.stringify(this.values)})`;
}
export class ReuseIdCmd implements Cmd {
  constructor(readonly side: Side, readonly k: number, readonly values: Values) {}
  check = () => true;
  async run(_m: Model, w: World) {
    w.reuseId(this.side, this.k, spell(this.side, this.values));
  }
  toString = () => `reuseId(${this.side}, ${this.k}, ${JSON.stringify(this.values)})`;
}
export class VanishCmd implements Cmd {
  constructor(readonly side: Side, readonly target: Target) {}
  check = () => true;
  async run(_m: Model, w: World) {
    await w.vanish(this.side, this.target);
  }
  toString = () => `vanishForOneRun(${this.side}, ${JSON.stringify(this.target)})`;
}
export class FutureTimeCmd implements Cmd {
  constructor(readonly side: Side, readonly target: Target, readonly values: Values) {}
  check = () => true;
  async run(_m: Model, w: World) {
    w.futureTime(this.side, this.target, spell(this.side, this.values));
  }
  toString = () => `futureTime(${this.side}, ${JSON.stringify(this.target)}, ${JSON.stringify(this.values)})`;
}
/** A person writes an integer past 2^53 into the number field (or its text field on the other side). */
export class BigNumberCmd implements Cmd {
  constructor(readonly side: Side, readonly target: Target, readonly big: (typeof BIG)[number]) {}
  check = () => true;
  async run(_m: Model, w: World) {
    w.edit(this.side, this.target, spell(this.side, { score: this.big }));
  }
  toString = () => `bigNumber(${this.side}, ${JSON.stringify(this.target)}, ${this.big})`;
}
export class RunCmd implements Cmd {
  /** `thenNoop`: check (d) with a second run at once (which also lets the engine read back its own writes). */
  constructor(readonly faults: FaultSpec[], readonly retryFailed: boolean, readonly thenNoop = true) {}
  check = () => true;
  async run(_m: Model, w: World) {
    await w.run(this.faults, this.retryFailed, this.thenNoop);
  }
  toString = () => `run(${JSON.stringify(this.faults)}${this.retryFailed ? ', retry-failed' : ''}${this.thenNoop ? '' : ', no second run'})`;
}

export const faultArb = fc.record({
  kind: fc.constantFrom<FaultKind>('crash-before-write', 'crash-after-write', 'crash-on-read', 'abort'),
  at: fc.oneof(fc.nat(4), fc.nat(12)),
});
export const commandsArb = fc.commands<Model, World, false>([
  sideArb.chain((s) => valuesArb(s, true).map((v) => new CreateCmd(s, v))),
  sideArb.chain((s) => fc.tuple(targetArb, valuesArb(s, false)).map(([t, v]) => new EditCmd(s, t, v))),
  fc.tuple(sideArb, targetArb, fc.constantFrom<keyof Values>('email', 'first', 'last', 'note', 'score')).map(([s, t, k]) => new ClearCmd(s, t, k)),
  fc.tuple(sideArb, targetArb).map(([s, t]) => new DeleteCmd(s, t)),
  // Names only: the edit keeps the record's match keys, so only the write to it is at stake.
  fc.tuple(sideArb, targetArb, fc.record({ first: nameArb, last: nameArb, note: nameArb }, { requiredKeys: [] }))
    .map(([s, t, v]) => new ConcurrentEditCmd(s, t, v)),
  sideArb.chain((s) => fc.tuple(fc.nat(20), valuesArb(s, true)).map(([k, v]) => new ReuseIdCmd(s, k, v))),
  // A record missing for one run, then back with its id (a table reloaded, an export rewritten).
  fc.tuple(sideArb, targetArb).map(([s, t]) => new VanishCmd(s, t)),
  // A change time in the year 9999, with or without an edit in the same UPDATE.
  sideArb.chain((s) => fc.tuple(targetArb, valuesArb(s, false)).map(([t, v]) => new FutureTimeCmd(s, t, v))),
  fc.tuple(sideArb, targetArb, fc.constantFrom(...BIG)).map(([s, t, big]) => new BigNumberCmd(s, t, big)),
  fc.tuple(fc.oneof({ weight: 1, arbitrary: fc.constant<FaultSpec[]>([]) }, { weight: 3, arbitrary: fc.array(faultArb, { minLength: 1, maxLength: 2 }) }),
    fc.boolean(), fc.boolean()).map(([faults, retry, noop]) => new RunCmd(faults, retry, noop)),
], { maxCommands: 30 });

export const paramsArb: fc.Arbitrary<Params> = fc.record({
  direction: fc.constantFrom<Direction>('two-way', 'two-way', 'a-to-b', 'b-to-a'),
  defaultSide: sideArb,
  clears: fc.constantFrom<'keep' | 'propagate'>('keep', 'propagate'),
  batchSize: fc.constantFrom(1, 2, 3, 200),
  pageSize: fc.constantFrom(2, 3, 50),
  ownCursor: fc.boolean(),
  conditional: fc.boolean(),
});

/** Records both apps hold before the first run (the initial sync matches them). */
export const initialArb = fc.record({ a: fc.array(valuesArb('a', true), { maxLength: 6 }), b: fc.array(valuesArb('b', true), { maxLength: 6 }) });

// ---- the property -------------------------------------------------------------------

/** Every world made, for the test file's afterAll (`disposeWorlds`). */
export const worlds: World[] = [];
export function disposeWorlds(): void {
  for (const w of worlds.splice(0)) w.dispose();
}

/** DATASYNC_PROPERTY_SEED, or a seed of our own (printed) so that a passing long run can be named and replayed too. */
export function propertySeed(label: string, runs: number): number {
  const seed = process.env['DATASYNC_PROPERTY_SEED'] ? Number(process.env['DATASYNC_PROPERTY_SEED']) : (Math.random() * 2 ** 32) | 0;
  console.log(`${label}: seed ${seed}, ${runs} runs`);
  return seed;
}

/** One case of the property: the commands with their interruptions, the checks after each run, and (e). */
export async function modelCase(params: Params, initial: Record<Side, Values[]>, cmds: Iterable<Cmd>, makeB?: (params: Params) => ModelApp): Promise<void> {
  const interrupted = new World(params, false, makeB);
  worlds.push(interrupted);
  try {
    interrupted.seed(initial);
    await fc.asyncModelRun(() => ({ model: {}, real: interrupted }), cmds);
    await interrupted.run([], false);
    if (interrupted.faultsFired === 0) return;
    // (e) The same commands without interruptions end in the same place.
    const clean = new World(params, true, makeB);
    worlds.push(clean);
    try {
      clean.seed(initial);
      for (const c of cmds) await c.run({}, clean);
      await clean.run([], false);
      expect(interrupted.canonical(), '(e) interrupted runs re-run converge to the uninterrupted result').toEqual(clean.canonical());
    } finally {
      clean.dispose();
    }
  } finally {
    interrupted.dispose();
  }
}
