/**
 * Applies one batch of units: decide (pure), write to both apps, then record
 * every outcome in the state in one transaction. A create is journalled as
 * pending before the app is asked, so a crash between the app's write and the
 * state's write never creates the record twice (see `recoverPending`).
 */
import { createHash } from 'node:crypto';
import type { Fields, SourceRecord, WriteOp, WriteResult } from '../connector.js';
import { type Base, type Side, otherSide } from '../state/store.js';
import { createFields, mappingKey, mergePair, type MergeResult } from './merge.js';
import { fingerprint } from './fingerprint.js';
import { exclusionReason } from './filters.js';
import { matchKeys, sameKeys } from './keys.js';
import type { PlannedAction, SyncContext, SyncSummary, Unit } from './types.js';

export interface BatchHooks {
  isExcluded(side: Side, id: string): boolean;
  /** A create refused because the record exists already: pair them in a later batch. */
  adopt(from: Side, sourceId: string, existingId: string): void;
  /**
   * A record written to `side` whose content afterwards could not be
   * foreseen (see `afterWrite`): the next run must read it back.
   */
  unforeseen(side: Side): void;
  /**
   * A change read on `side` was not written to the other side because that
   * record changed after it was read (a conditional write answered
   * `changed`): the next pass must read `side` again from this pass's cursor.
   */
  reread(side: Side): void;
}

/** A write to one side: the op, and whether an association of it waits for a related record. */
interface Planned { op: WriteOp; waits: boolean }

type Decided =
  | { unit: Extract<Unit, { kind: 'pair' }>; aId: string; bId: string; merge: MergeResult | null; writes: Partial<Record<Side, Planned>> }
  | { unit: Extract<Unit, { kind: 'create' }>; fields: Fields; base: Base; ref: string; write: Planned };

/**
 * Records of written batches waiting for the apps to make those writes
 * durable (`Connector.flush`, the csv connector's one rewrite for many
 * batches). When neither side defers its writes, a batch is recorded right
 * after its write, as before. Otherwise its record waits until `commit`:
 * every `RECORD_EVERY` units, at the end of the units, and before an error
 * or a stop is passed on; `commit` flushes both sides, then records the
 * batches in order. A flush that fails records none of them: the state is as
 * before those batches, as after a crash between a write and its record.
 */
export class PendingRecords {
  /** Units whose records may wait for one flush: a file of a million rows is rewritten ~4 times in an initial sync, not ~100. */
  static readonly RECORD_EVERY = 250_000;
  private queue: (() => void)[] = [];
  private units = 0;
  private readonly deferring: boolean;
  constructor(private readonly ctx: SyncContext) {
    this.deferring = !ctx.dryRun && (['a', 'b'] as const).some((side) => ctx.sides[side].connector.flush !== undefined);
  }
  /** Takes a batch's record: run now, or queued until the next commit. */
  add(units: number, recordIt: () => void): void {
    if (!this.deferring) return recordIt();
    this.queue.push(recordIt);
    this.units += units;
  }
  get due(): boolean {
    return this.units >= PendingRecords.RECORD_EVERY;
  }
  async commit(): Promise<void> {
    if (this.queue.length === 0) return;
    const queued = this.queue;
    this.queue = [];
    this.units = 0;
    for (const side of ['a', 'b'] as const) await this.ctx.sides[side].connector.flush?.(this.ctx.sync.object);
    for (const recordIt of queued) recordIt();
  }
}

export async function applyBatch(ctx: SyncContext, units: Unit[], summary: SyncSummary, hooks: BatchHooks, pending?: PendingRecords): Promise<void> {
  const ops: Record<Side, WriteOp[]> = { a: [], b: [] };
  const decided = units.map((unit, i) => decide(ctx, unit, i, ops, hooks));
  if (ctx.dryRun) {
    for (const d of decided) plan(summary, d);
    countDecided(summary, decided, new Map());
    return;
  }
  const { store, sync } = ctx;
  store.transaction(() => {
    for (const d of decided) {
      if (!('ref' in d)) continue;
      const to = otherSide(d.unit.from);
      const since = store.addPending(sync.name, to, d.unit.record.id, d.fields);
      (d.write.op as Extract<WriteOp, { kind: 'create' }>).key = creationKey(sync.name, to, d.unit.record.id, since);
    }
  });
  // Both writes settle before a failure of one ends the run: a write still in flight (a database's
  // transaction) could otherwise commit after the run, unseen by the next run's read, whose recovery of
  // the journalled create would then make the record a second time.
  const [sa, sb] = await Promise.allSettled([write(ctx, 'a', ops.a), write(ctx, 'b', ops.b)]);
  if (sa.status === 'rejected') throw sa.reason;
  if (sb.status === 'rejected') throw sb.reason;
  const [ra, rb] = [sa.value, sb.value];
  const results = new Map<string, WriteResult>();
  for (const r of [...ra, ...rb]) results.set(r.ref, r);
  const recordIt = () => {
    store.transaction(() => record(ctx, decided, results, hooks));
    countDecided(summary, decided, results);
  };
  if (pending) pending.add(units.length, recordIt);
  else recordIt();
}

/** Stable per journalled create: the sync, the side, the source record and when the intent was first journalled. */
function creationKey(sync: string, to: Side, sourceId: string, since: string): string {
  return `datasync-${createHash('sha256').update(`${sync}\n${to}\n${sourceId}\n${since}`).digest('hex').slice(0, 32)}`;
}

function decide(ctx: SyncContext, unit: Unit, i: number, ops: Record<Side, WriteOp[]>, hooks: BatchHooks): Decided {
  const policy = { defaultSide: ctx.sync.defaultApp === ctx.sides.a.connection ? 'a' as const : 'b' as const, clears: ctx.sync.clears };
  const bridge = ctx.associations;
  const withAssoc = (side: Side, rec: SourceRecord | null): Fields | null =>
    rec && (bridge ? { ...rec.fields, ...bridge.values(side, rec) } : rec.fields);
  const split = (side: Side, fields: Fields, base: Base, prior: Base) => {
    if (!bridge) return { fields, associations: undefined, dropped: [] };
    const out = bridge.split(side, fields);
    // A related record that is not in sync yet: that association waits.
    for (const key of out.dropped) {
      if (prior[key]) base[key] = prior[key];
      else delete base[key];
    }
    return out;
  };
  if (unit.kind === 'create') {
    const to = otherSide(unit.from);
    const created = createFields(ctx.mappings, unit.from, withAssoc(unit.from, unit.record)!);
    const { fields, associations, dropped } = split(to, created.fields, created.base, {});
    const ref = `c${i}`;
    const op: WriteOp = { kind: 'create', ref, fields, associations };
    ops[to].push(op);
    return { unit, fields, base: created.base, ref, write: { op, waits: dropped.length > 0 } };
  }
  const aId = unit.a?.id ?? unit.link!.a_id;
  const bId = unit.b?.id ?? unit.link!.b_id;
  if (hooks.isExcluded('a', aId) || hooks.isExcluded('b', bId)) return { unit, aId, bId, merge: null, writes: {} };
  const prior = unit.link?.base ?? {};
  const merge = mergePair(ctx.mappings, withAssoc('a', unit.a), withAssoc('b', unit.b), unit.link?.base ?? null, policy);
  const writes: Partial<Record<Side, Planned>> = {};
  for (const side of ['a', 'b'] as const) {
    const { fields, associations, dropped } = split(side, merge.write[side], merge.base, prior);
    if (Object.keys(fields).length === 0 && !associations) continue;
    // Conditional on the record being as read (Connector contract): a person's edit since is never overwritten.
    const expect = unit[side]?.fields;
    const op: WriteOp = { kind: 'update', ref: `u${i}${side}`, id: side === 'a' ? aId : bId, fields, associations, ...(expect ? { expect } : {}) };
    ops[side].push(op);
    writes[side] = { op, waits: dropped.length > 0 };
  }
  return { unit, aId, bId, merge, writes };
}

async function write(ctx: SyncContext, side: Side, ops: WriteOp[]): Promise<WriteResult[]> {
  if (ops.length === 0) return [];
  return ctx.sides[side].connector.write(ctx.sync.object, ops);
}

/** Records the outcome of a batch in the state (inside one transaction). */
function record(ctx: SyncContext, decided: Decided[], results: Map<string, WriteResult>, hooks: BatchHooks): void {
  const { store, sync, sides } = ctx;
  for (const d of decided) {
    if ('ref' in d) {
      const { from } = d.unit;
      const to = otherSide(from);
      const source = d.unit.record;
      const r = results.get(d.ref);
      store.removePending(sync.name, to, source.id);
      if (r?.ok) {
        const [aId, bId] = from === 'a' ? [source.id, r.id] : [r.id, source.id];
        // An id the app had given a record before (deleted, or vanished unnoticed): free it for this one.
        store.freeId(sync.name, to, r.id);
        const made = afterWrite(ctx, to, r.id, null, d.write, hooks);
        const fp = fingerprint(ctx, from, source);
        const fpMade = made && fingerprint(ctx, to, made);
        store.insertLink(sync.name, aId, bId, d.base, { a: from === 'a' ? fp : fpMade, b: from === 'b' ? fp : fpMade });
        store.addKeys(sync.name, to, r.id, keysOf(ctx, to, d.fields));
        store.clearStatus(sync.name, from, source.id);
      } else if (r?.existingId && !store.linkBy(sync.name, to, r.existingId)) {
        hooks.adopt(from, source.id, r.existingId);
      } else {
        store.setFailed(sync.name, from, source.id, `${sides[to].connection} rejected it: ${r?.reason ?? 'no answer'}`);
      }
      continue;
    }
    const { aId, bId, merge, unit } = d;
    if (!unit.link) {
      // A recovered create: its journal entry goes in the same transaction as the link that replaces it.
      store.removePending(sync.name, 'a', bId);
      store.removePending(sync.name, 'b', aId);
    }
    if (!merge) {
      // Excluded: look at both records again when they next come by.
      if (!unit.link) store.insertLink(sync.name, aId, bId, {});
      else if (unit.link.a_hash || unit.link.b_hash) store.setHashes(sync.name, aId, null, null);
      continue;
    }
    const failed: Partial<Record<Side, string>> = {};
    // Sides whose record changed after it was read: nothing written there, nothing failed.
    const changed: Partial<Record<Side, string>> = {};
    for (const side of ['a', 'b'] as const) {
      const ref = d.writes[side]?.op.ref;
      const r = ref ? results.get(ref) : undefined;
      if (r && !r.ok && r.changed) {
        changed[side] = r.reason;
        hooks.reread(otherSide(side));
      } else if (ref && !r?.ok) failed[side] = r && !r.ok ? r.reason : 'no answer';
    }
    const base = baseAfter(ctx, merge, unit.link?.base ?? {}, { ...changed, ...failed });
    // Fingerprints of the records as they are now in sync: as read, or as
    // written when that can be foreseen. Any other side written to (or a pair
    // with a refusal) is compared field by field next time.
    const clean = !failed.a && !failed.b && !changed.a && !changed.b;
    const hash = (side: Side) => {
      const write = d.writes[side];
      if (write && !clean) hooks.unforeseen(side);
      if (!clean) return null;
      if (write) {
        const now = afterWrite(ctx, side, side === 'a' ? aId : bId, unit[side], write, hooks);
        return now && fingerprint(ctx, side, now);
      }
      const rec = unit[side];
      return rec ? fingerprint(ctx, side, rec) : (side === 'a' ? unit.link?.a_hash : unit.link?.b_hash) ?? null;
    };
    const [ha, hb] = [hash('a'), hash('b')];
    if (!unit.link) store.insertLink(sync.name, aId, bId, base, { a: ha, b: hb });
    else {
      // Unchanged pairs are most of an incremental run: write nothing for them.
      if (!sameBase(base, unit.link.base)) store.updateBase(sync.name, aId, base);
      if (ha !== unit.link.a_hash || hb !== unit.link.b_hash) store.setHashes(sync.name, aId, ha, hb);
    }
    for (const side of ['a', 'b'] as const) {
      const rejected = failed[otherSide(side)];
      const id = side === 'a' ? aId : bId;
      // The record whose change could not be written is the one to retry.
      if (rejected) store.setFailed(sync.name, side, id, `${sides[otherSide(side)].connection} rejected it: ${rejected}`);
      else store.clearStatus(sync.name, side, id);
    }
  }
}

/** The match keys of a record of `side` with these fields. */
function keysOf(ctx: SyncContext, side: Side, fields: Fields): string[] {
  return matchKeys(ctx.sync.object, fields, ctx.sides[side].spec, ctx.sync.match, side);
}

/**
 * The record as a write leaves it, when that can be foreseen: the record as
 * read (nothing for a create) with the written fields and associations over
 * it, and no association waiting. Its match keys are stored, as the next run
 * may not read it back (`Connector.cursorAfterWrites`). Null when the record
 * was not read, or when it would now be excluded by the rules or filters:
 * then the next run must read it back and see.
 */
function afterWrite(ctx: SyncContext, side: Side, id: string, before: SourceRecord | null, write: Planned, hooks: BatchHooks): SourceRecord | null {
  const { op } = write;
  if (write.waits || (op.kind === 'update' && !before)) {
    hooks.unforeseen(side);
    return null;
  }
  const fields = { ...before?.fields, ...op.fields };
  if (exclusionReason(ctx, side, fields) !== null) {
    hooks.unforeseen(side);
    return null;
  }
  if (op.kind === 'update') {
    const keys = keysOf(ctx, side, fields);
    if (!sameKeys(keys, keysOf(ctx, side, before!.fields))) ctx.store.setKeys(ctx.sync.name, side, id, keys);
  }
  return { id, fields, associations: { ...before?.associations, ...op.associations } };
}

/** Equal bases: the merge hands back the stored entries themselves when nothing moved. */
function sameBase(x: Base, y: Base): boolean {
  const keys = Object.keys(x);
  if (keys.length !== Object.keys(y).length) return false;
  return keys.every((k) => {
    const [p, q] = [x[k], y[k]];
    return p === q || (p !== undefined && q !== undefined && p[0] === q[0] && p[1] === q[1]);
  });
}

/** The merged base, keeping the old entry of every mapping whose write failed. */
function baseAfter(ctx: SyncContext, merge: MergeResult, prior: Base, failed: Partial<Record<Side, string>>): Base {
  const base: Base = { ...merge.base };
  for (const m of ctx.mappings) {
    const key = mappingKey(m);
    const wrote = (failed.a && m.a.name in merge.write.a) || (failed.b && m.b.name in merge.write.b);
    if (!wrote) continue;
    if (prior[key]) base[key] = prior[key];
    else delete base[key];
  }
  return base;
}

function plan(summary: SyncSummary, d: Decided): void {
  const p = (summary.plan ??= []);
  if ('ref' in d) {
    p.push({ kind: 'create', in: otherSide(d.unit.from), from: d.unit.record.id, fields: d.fields });
    return;
  }
  if (!d.unit.link) p.push({ kind: 'link', a: d.aId, b: d.bId, key: d.unit.key ?? '' });
  for (const side of ['a', 'b'] as const) {
    const changes = d.merge?.changes.filter((c) => c.side === side) ?? [];
    if (changes.length > 0) p.push({ kind: 'update', in: side, id: side === 'a' ? d.aId : d.bId, changes });
  }
}

function countDecided(summary: SyncSummary, decided: Decided[], results: Map<string, WriteResult>): void {
  const ok = (ref: string | undefined) => ref !== undefined && (results.size === 0 || results.get(ref)?.ok === true);
  for (const d of decided) {
    if ('ref' in d) {
      const to = otherSide(d.unit.from);
      if (ok(d.ref)) summary.sides[to].created++;
      else if (!results.get(d.ref)?.ok && !(results.get(d.ref) as { existingId?: string } | undefined)?.existingId) summary.sides[d.unit.from].failed++;
      continue;
    }
    if (!d.unit.link) summary.linked++;
    if (!d.merge) continue;
    // Records with conflicting edits, not fields: one record edited on both sides in three fields is one.
    if (d.merge.conflicts > 0) summary.conflicts++;
    let wrote = false;
    for (const side of ['a', 'b'] as const) {
      const ref = d.writes[side]?.op.ref;
      if (!ref) continue;
      wrote = true;
      if (ok(ref)) summary.sides[side].updated++;
      else if (!(results.get(ref) as { changed?: true } | undefined)?.changed) summary.sides[otherSide(side)].failed++;
    }
    if (!wrote) {
      if (d.unit.a) summary.sides.a.unchanged++;
      if (d.unit.b) summary.sides.b.unchanged++;
    }
  }
}

