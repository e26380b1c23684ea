/**
 * Applies one batch of units: decide (pure), write to both apps, then record
 * every outcome in the state in one transaction. A create is journalled as
 * pending before the app is asked, so a crash between the app's write and the
 * state's write never creates the record twice (see `recoverPending`).
 */
import { createHash } from 'node:crypto';
import { deserialize, serialize } from 'node:v8';
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
 *
 * A waiting batch is not held in memory: its state writes and counts
 * (`recordOps`, plain values) go to the pass's scratch data
 * (`PassState.defer`, a TEMP table) as soon as its answers are in, and
 * `commit` reads them back one batch at a time. Holding the batches was most
 * of an initial sync's memory (a million-row sync's quarter of a million
 * creates, each with its records, merge and write).
 */
export class PendingRecords {
  /** Units whose records may wait for one flush: a file of a million rows is rewritten ~4 times in an initial sync, not ~100. */
  static readonly RECORD_EVERY = 250_000;
  private units = 0;
  private readonly deferring: boolean;
  constructor(private readonly ctx: SyncContext, private readonly scratch: Deferred, private readonly summary: SyncSummary,
    private readonly hooks: BatchHooks) {
    this.deferring = !ctx.dryRun && (['a', 'b'] as const).some((side) => ctx.sides[side].connector.flush !== undefined);
  }
  /** Takes a written batch: recorded now, or kept in the scratch data until the next commit. */
  add(units: number, batch: Recorded): void {
    if (!this.deferring) return recordBatch(this.ctx, batch, this.summary, this.hooks);
    this.scratch.defer(serialize(batch));
    this.units += units;
  }
  get due(): boolean {
    return this.units >= PendingRecords.RECORD_EVERY;
  }
  async commit(): Promise<void> {
    if (!this.scratch.hasDeferred()) return;
    this.units = 0;
    try {
      for (const side of ['a', 'b'] as const) await this.ctx.sides[side].connector.flush?.(this.ctx.sync.object);
      for (const data of this.scratch.deferred()) recordBatch(this.ctx, deserialize(data) as Recorded, this.summary, this.hooks);
    } finally {
      // Recorded, or dropped with the writes a failed flush dropped.
      this.scratch.clearDeferred();
    }
  }
}

/** Where `PendingRecords` keeps the batches waiting (state/pass.ts). */
export interface Deferred {
  defer(data: Buffer): void;
  hasDeferred(): boolean;
  /** The batches kept, in order, one at a time. */
  deferred(): Iterable<Buffer>;
  clearDeferred(): void;
}

/** Writes a batch's record in one state transaction, and counts it. */
function recordBatch(ctx: SyncContext, { ops, counts }: Recorded, summary: SyncSummary, hooks: BatchHooks): void {
  ctx.store.transaction(() => writeOps(ctx, ops, hooks));
  summary.linked += counts.linked;
  summary.conflicts += counts.conflicts;
  for (const side of ['a', 'b'] as const) {
    for (const k of ['created', 'updated', 'unchanged', 'failed'] as const) summary.sides[side][k] += counts.sides[side][k];
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
  const counts = zeroCounts();
  countDecided(counts, decided, results);
  const recorded = { ops: recordOps(ctx, decided, results, hooks), counts };
  if (pending) pending.add(units.length, recorded);
  else recordBatch(ctx, recorded, summary, hooks);
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

/**
 * What a written batch leaves in the state, worked out from its decisions
 * and the apps' answers as soon as they are in (pure but for the hooks'
 * flags): the state's writes as plain values, so a batch waiting for its
 * app's flush (`PendingRecords`) keeps only these, not its records.
 */
type StateOp =
  | { op: 'removePending'; side: Side; id: string }
  | { op: 'freeId'; side: Side; id: string }
  | { op: 'insertLink'; a: string; b: string; base: Base; ha: string | null; hb: string | null }
  | { op: 'updateBase'; a: string; base: Base }
  | { op: 'setHashes'; a: string; ha: string | null; hb: string | null }
  | { op: 'addKeys' | 'setKeys'; side: Side; id: string; keys: string[] }
  | { op: 'clearStatus'; side: Side; id: string }
  | { op: 'setFailed'; side: Side; id: string; reason: string }
  /** A create refused because the record exists: paired later unless that record is linked by then (then failed). */
  | { op: 'adopt'; from: Side; sourceId: string; existingId: string; reason: string };

/** What `countDecided` counts of a batch. */
interface Counts {
  linked: number;
  conflicts: number;
  sides: Record<Side, { created: number; updated: number; unchanged: number; failed: number }>;
}
const zeroCounts = (): Counts => {
  const side = () => ({ created: 0, updated: 0, unchanged: 0, failed: 0 });
  return { linked: 0, conflicts: 0, sides: { a: side(), b: side() } };
};

/** A batch's state writes and its counts, recorded together. */
interface Recorded { ops: StateOp[]; counts: Counts }

function recordOps(ctx: SyncContext, decided: Decided[], results: Map<string, WriteResult>, hooks: BatchHooks): StateOp[] {
  const { sides } = ctx;
  const ops: StateOp[] = [];
  for (const d of decided) {
    if ('ref' in d) {
      const { from } = d.unit;
      const to = otherSide(from);
      const source = d.unit.record;
      const r = results.get(d.ref);
      ops.push({ op: 'removePending', side: to, id: source.id });
      if (r?.ok) {
        const [aId, bId] = from === 'a' ? [source.id, r.id] : [r.id, source.id];
        // An id the app had given a record before (deleted, or vanished unnoticed): free it for this one.
        ops.push({ op: 'freeId', side: to, id: r.id });
        const made = afterWrite(ctx, to, r.id, null, d.write, hooks, ops);
        const fp = fingerprint(ctx, from, source);
        const fpMade = made && fingerprint(ctx, to, made);
        ops.push({ op: 'insertLink', a: aId, b: bId, base: d.base, ha: from === 'a' ? fp : fpMade, hb: from === 'b' ? fp : fpMade });
        ops.push({ op: 'addKeys', side: to, id: r.id, keys: keysOf(ctx, to, d.fields) });
        ops.push({ op: 'clearStatus', side: from, id: source.id });
      } else if (r?.existingId) {
        ops.push({ op: 'adopt', from, sourceId: source.id, existingId: r.existingId, reason: `${sides[to].connection} rejected it: ${r.reason}` });
      } else {
        ops.push({ op: 'setFailed', side: from, id: source.id, reason: `${sides[to].connection} rejected it: ${r?.reason ?? 'no answer'}` });
      }
      continue;
    }
    const { aId, bId, merge, unit } = d;
    if (!unit.link) {
      // A recovered create: its journal entry goes in the same transaction as the link that replaces it.
      ops.push({ op: 'removePending', side: 'a', id: bId }, { op: 'removePending', side: 'b', id: aId });
    }
    if (!merge) {
      // Excluded: look at both records again when they next come by.
      if (!unit.link) ops.push({ op: 'insertLink', a: aId, b: bId, base: {}, ha: null, hb: null });
      else if (unit.link.a_hash || unit.link.b_hash) ops.push({ op: 'setHashes', a: aId, ha: null, hb: null });
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
        const now = afterWrite(ctx, side, side === 'a' ? aId : bId, unit[side], write, hooks, ops);
        return now && fingerprint(ctx, side, now);
      }
      const rec = unit[side];
      return rec ? fingerprint(ctx, side, rec) : (side === 'a' ? unit.link?.a_hash : unit.link?.b_hash) ?? null;
    };
    const [ha, hb] = [hash('a'), hash('b')];
    if (!unit.link) ops.push({ op: 'insertLink', a: aId, b: bId, base, ha, hb });
    else {
      // Unchanged pairs are most of an incremental run: write nothing for them.
      if (!sameBase(base, unit.link.base)) ops.push({ op: 'updateBase', a: aId, base });
      if (ha !== unit.link.a_hash || hb !== unit.link.b_hash) ops.push({ op: 'setHashes', a: aId, ha, hb });
    }
    for (const side of ['a', 'b'] as const) {
      const rejected = failed[otherSide(side)];
      const id = side === 'a' ? aId : bId;
      // The record whose change could not be written is the one to retry.
      if (rejected) ops.push({ op: 'setFailed', side, id, reason: `${sides[otherSide(side)].connection} rejected it: ${rejected}` });
      else ops.push({ op: 'clearStatus', side, id });
    }
  }
  return ops;
}

/** Writes a batch's state writes (inside one transaction). */
function writeOps(ctx: SyncContext, ops: StateOp[], hooks: BatchHooks): void {
  const { store, sync } = ctx;
  const name = sync.name;
  for (const o of ops) {
    switch (o.op) {
      case 'removePending': store.removePending(name, o.side, o.id); break;
      case 'freeId': store.freeId(name, o.side, o.id); break;
      case 'insertLink': store.insertLink(name, o.a, o.b, o.base, { a: o.ha, b: o.hb }); break;
      case 'updateBase': store.updateBase(name, o.a, o.base); break;
      case 'setHashes': store.setHashes(name, o.a, o.ha, o.hb); break;
      case 'addKeys': store.addKeys(name, o.side, o.id, o.keys); break;
      case 'setKeys': store.setKeys(name, o.side, o.id, o.keys); break;
      case 'clearStatus': store.clearStatus(name, o.side, o.id); break;
      case 'setFailed': store.setFailed(name, o.side, o.id, o.reason); break;
      case 'adopt': {
        const to = otherSide(o.from);
        if (!store.linkBy(name, to, o.existingId)) hooks.adopt(o.from, o.sourceId, o.existingId);
        else store.setFailed(name, o.from, o.sourceId, o.reason);
        break;
      }
      default: {
        const never: never = o;
        throw new Error(`unknown state write ${JSON.stringify(never)}`);
      }
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
function afterWrite(ctx: SyncContext, side: Side, id: string, before: SourceRecord | null, write: Planned, hooks: BatchHooks,
  ops: StateOp[]): SourceRecord | null {
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
    if (!sameKeys(keys, keysOf(ctx, side, before!.fields))) ops.push({ op: 'setKeys', side, id, keys });
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

function countDecided(summary: Counts, decided: Decided[], results: Map<string, WriteResult>): void {
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

