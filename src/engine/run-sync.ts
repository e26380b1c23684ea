/**
 * One pass of one sync (SPEC §4): scan both sides, recover interrupted
 * creates, sort records into pairs, creates, failures and exclusions, then
 * apply them batch by batch. Cursors are saved only after everything read has
 * been applied and recorded, so an interrupted pass is simply done again.
 */
import type { FieldSpec, FieldType, SourceRecord, Value } from '../connector.js';
import { append } from '../lists.js';
import { sameValue, textKey } from '../mapping/convert.js';
import { PassState, type ReadRow, type StoredUnit, type UnitRow } from '../state/pass.js';
import { type LinkRow, type Side, otherSide } from '../state/store.js';
import { applyBatch, PendingRecords } from './apply.js';
import { matchKeys, sameKeys } from './keys.js';
import { matchRecords, type KeyedRecord, type MatchOutcome } from './match.js';
import { settleMerges } from './departures.js';
import { mappingKey } from './merge.js';
import { settleReturned } from './returned.js';
import { fetchMissing, fieldsToRead, Interrupted, scanSide, Stopped, type SideScan } from './scan.js';
import { scanTargeted } from './targeted.js';
import type { SideCounts, SyncContext, SyncSummary, Unit } from './types.js';

const SIDES = ['a', 'b'] as const;

export function emptySummary(ctx: SyncContext): SyncSummary {
  const counts = (side: Side): SideCounts => ({
    connection: ctx.sides[side].connection, read: 0, created: 0, updated: 0, unchanged: 0, failed: 0, excluded: 0, deleted: 0,
  });
  return { sync: ctx.sync.name, object: ctx.sync.object, outcome: 'ok', sides: { a: counts('a'), b: counts('b') }, linked: 0, conflicts: 0, defaultApp: ctx.sync.defaultApp };
}

/** `summary` is filled as the pass goes: when it is interrupted, the caller still has what was done. */
export async function runSync(ctx: SyncContext, summary: SyncSummary = emptySummary(ctx)): Promise<SyncSummary> {
  const pass = new PassState(ctx.store.db, ctx.sync.name);
  try {
    return await streamedPass(ctx, pass, summary);
  } finally {
    try {
      pass.clear();
    } catch {
      // The connection failed (the error is on its way up): its TEMP tables go with it.
    }
  }
}

/**
 * The pass (issue 15): each side's scan writes what it reads page by page
 * into the pass's scratch tables (state/pass.ts); which records are done,
 * linked or back from deletion are set queries there; classification and
 * the match keys go page by page; the units to apply are rows too, and
 * `applyAll` reads them back one write batch at a time with the records
 * they need.
 */
async function streamedPass(ctx: SyncContext, pass: PassState, summary: SyncSummary): Promise<SyncSummary> {
  const { sync, store } = ctx;
  // A targeted pass (webhooks) reads the records it was told of and leaves the sync's status as the last poll set it.
  const targets = ctx.targets;
  const status = !ctx.dryRun && !targets;
  if (status) store.setSyncStatus(sync.name, 'scanning', null, 0);
  const read = (side: Side) => (targets ? scanTargeted(ctx, side, targets[side] ?? [], pass) : scanSide(ctx, side, pass));
  const scan = { a: await read('a'), b: await read('b') };
  for (const side of SIDES) summary.sides[side].read = scan[side].records.size;
  if (status) store.setSyncStatus(sync.name, 'in-progress');

  // Merges first: the survivor of a merge takes over its merged-away record's link.
  for (const side of SIDES) settleMerges(ctx, side, scan[side].records.merging());
  // Deletions before links are looked up: a partner read in this pass must see its link as deleted
  // (else its change is written to the record just found gone, and fails).
  markDeleted(ctx, scan, summary);
  const links = new LinkCache(ctx);
  links.remember = ctx.dryRun;
  const revived = settleReturned(ctx, scan, links);
  links.remember = false;
  const warnings = SIDES.flatMap((side) => [...(scan[side].suspect ? [scan[side].suspect!] : []), ...scan[side].warnings]);
  if (warnings.length > 0) summary.warnings = warnings;
  // Linked records read exactly as when last in sync: nothing to classify, match or merge.
  const same = pass.sortRead({ compareFingerprints: !ctx.rescan && links.any });
  // Records the scan found done and stored without their fields, no longer done (their link changed since): read them now.
  for (const side of SIDES) {
    const again = pass.unloadedChanged(side);
    if (again.length > 0) await fetchMissing(ctx, side, again, scan[side].records);
  }
  // A dry run settled returned records in memory only: the scratch rows follow what it decided.
  if (ctx.dryRun) links.overrideRows(pass);
  for (const side of SIDES) {
    summary.sides[side].unchanged += same[side];
    pass.setResumed(side, revived[side]);
  }
  classify(ctx, pass, summary);
  const isExcluded = (side: Side, id: string) =>
    pass.excludedNow(side, id) ?? (store.getStatus(sync.name, side, id)?.status === 'excluded');

  // Back from exclusion or deletion (`resumed`): the partner may have changed meanwhile, read it whole. So is a
  // link with no fingerprint on either side (reviveLink and an excluded pair leave it so): a pass
  // interrupted after the revival or the end of the exclusion was recorded, but before the pair was
  // merged, leaves nothing else to tell the re-run that the partner's cursor moved past its changes.
  pass.addLinkedPairs();
  const claimed = new Set<string>();
  pass.addUnits(await recoverPending(ctx, scan, links, claimed));
  const matched = await matchUnlinked(ctx, pass, scan, links, claimed, isExcluded, summary);

  const adopted: { from: Side; sourceId: string; existingId: string }[] = [];
  // Sides where every record written is recorded as it now is (apply.ts afterWrite).
  const foreseen = { a: true, b: true };
  // Sides with a change read this pass that a conditional write could not apply.
  const reread = { a: false, b: false };
  const hooks = {
    isExcluded,
    adopt: (from: Side, sourceId: string, existingId: string) => adopted.push({ from, sourceId, existingId }),
    unforeseen: (side: Side) => { foreseen[side] = false; },
    reread: (side: Side) => { reread[side] = true; },
  };
  await applyAll(ctx, pass, 0, summary, hooks, scan, links);
  if (adopted.length > 0) {
    // Records the app already had (HubSpot's 409 on a duplicate email): pair and merge them now.
    for (const side of SIDES) {
      await fetchMissing(ctx, side, adopted.filter((x) => x.from !== side).map((x) => x.existingId), scan[side].records);
    }
    const again: UnitRow[] = [];
    for (const { from, sourceId, existingId } of adopted) {
      if (!scan[from].records.has(sourceId) || !scan[otherSide(from)].records.has(existingId)) continue;
      again.push({ kind: 'pair', a: from === 'a' ? sourceId : existingId, b: from === 'b' ? sourceId : existingId, key: `existing record ${existingId}` });
    }
    await applyMore(ctx, pass, again, summary, { ...hooks, adopt: () => undefined }, scan, links);
  }
  if (matched.deferred.length > 0) {
    // New records whose key only linked records held when read: those pairs are written now, and may have dropped it.
    const again = await matchAgain(ctx, scan, claimed, matched.deferred, isExcluded, summary);
    await applyMore(ctx, pass, again, summary, { ...hooks, adopt: () => undefined }, scan, links);
  }

  // A targeted pass saves no cursor: the next poll reads from where the last one stopped (targeted.ts).
  if (status) {
    const after = async (side: Side) => (reread[side] ? scan[side].since
      : foreseen[side] ? cursorAfterRun(ctx, side, scan[side].cursor) : scan[side].cursor);
    const cursors = { a: await after('a'), b: await after('b') };
    store.transaction(() => {
      for (const side of SIDES) {
        store.setCursor(sync.name, side, cursors[side]);
        if (scan[side].readWhole) store.setReadWhole(sync.name, side, scan[side].readWhole!);
      }
      store.setSyncStatus(sync.name, 'listening', warnings.length > 0 ? warnings.join('; ') : null, scan.a.records.size + scan.b.records.size);
      store.markSuccess(sync.name);
    });
  }
  const failed = store.countStatuses(sync.name).failed;
  summary.failedStanding = failed;
  summary.outcome = summary.sides.a.failed + summary.sides.b.failed > 0 || (!ctx.dryRun && failed > 0) ? 'failed-records' : 'ok';
  return summary;
}

/**
 * The cursor to save for a side: past this run's own writes where the
 * connector can tell them apart, so the next run does not read them back.
 * Only for a side whose every write is recorded as it left the record (the
 * fingerprint and match keys a read would give).
 */
async function cursorAfterRun(ctx: SyncContext, side: Side, scanned: string | null): Promise<string | null> {
  const { connector } = ctx.sides[side];
  if (!ctx.ownWrites?.[side] || !connector.cursorAfterWrites) return scanned;
  return connector.cursorAfterWrites(ctx.sync.object, scanned);
}

/**
 * Records per write batch: 1,000, or a tenth of the work when there is more,
 * up to 2,500. Each batch costs two state transactions, so an initial sync
 * of 100,000 records takes ~40 batches rather than ~100 (a file app's
 * rewrite waits for many batches: `PendingRecords`); `stop` and SIGTERM
 * still wait for one batch at most. A batch's records, merges and writes
 * are what the heap holds at a time: at 10,000 a batch W1 peaked at 310 MB
 * at 100,000 contacts, at 2,500 at 272 MB, in no more CPU time (issue 15).
 */
export function batchSizeFor(units: number): number {
  return Math.min(2500, Math.max(1000, Math.ceil(units / 10)));
}

type BatchHooks = Parameters<typeof applyBatch>[3];

/**
 * Applies the units stored after `after` (a unit's seq), one write batch at
 * a time: each batch's units are read back with their links and records.
 */
async function applyAll(ctx: SyncContext, pass: PassState, after: number, summary: SyncSummary, hooks: BatchHooks,
  scan: Record<Side, SideScan>, links: LinkCache): Promise<void> {
  const total = pass.countUnits(after);
  const size = ctx.batchSize ?? batchSizeFor(total);
  let done = 0;
  // Writes an app makes durable later (Connector.flush) are recorded once flushed.
  const pending = new PendingRecords(ctx, pass, summary, hooks);
  try {
    for (;;) {
      const rows = pass.unitPage(after, size);
      if (rows.length === 0) break;
      if (ctx.signal?.aborted) throw new Interrupted();
      // `datasync stop` from another terminal takes effect at the next batch.
      if (!ctx.dryRun && !ctx.store.isEnabled(ctx.sync.name)) throw new Stopped();
      after = rows[rows.length - 1]!.seq;
      const batch = await completePairs(ctx, unitsFrom(ctx, rows, scan, links), scan);
      await applyBatch(ctx, batch, summary, hooks, pending);
      if (pending.due) await pending.commit();
      done += rows.length;
      ctx.progress?.({ phase: 'apply', sync: ctx.sync.name, done: Math.min(done, total), total });
    }
  } catch (err) {
    // The batches written before the error are kept, as when each was recorded at once (nothing is queued after a failed flush).
    await pending.commit().catch(() => undefined);
    throw err;
  }
  await pending.commit();
}

/** Units decided after the first apply (adopted records, deferred matches): stored after the others and applied. */
async function applyMore(ctx: SyncContext, pass: PassState, units: UnitRow[], summary: SyncSummary, hooks: BatchHooks,
  scan: Record<Side, SideScan>, links: LinkCache): Promise<void> {
  const after = pass.lastUnit();
  pass.addUnits(units);
  await applyAll(ctx, pass, after, summary, hooks, scan, links);
}

/** The units of stored rows, with their links and the records read or fetched for them. */
function unitsFrom(ctx: SyncContext, rows: StoredUnit[], scan: Record<Side, SideScan>, links: LinkCache): Unit[] {
  const ids: Record<Side, string[]> = { a: [], b: [] };
  for (const r of rows) {
    if (r.a !== null) ids.a.push(r.a);
    if (r.b !== null) ids.b.push(r.b);
  }
  const recs = { a: scan.a.records.getMany(ids.a), b: scan.b.records.getMany(ids.b) };
  const linked = links.byA(rows.flatMap((r) => (r.link !== null ? [r.link] : [])));
  const units: Unit[] = [];
  for (const r of rows) {
    if (r.kind === 'create') {
      const record = recs[r.from!].get((r.from === 'a' ? r.a : r.b)!);
      if (record) units.push({ kind: 'create', from: r.from!, record });
    } else if (r.link !== null) {
      const link = linked.get(r.link);
      if (!link) continue;
      const unit: Extract<Unit, { kind: 'pair' }> = { kind: 'pair', link, a: r.a === null ? null : recs.a.get(r.a) ?? null,
        b: r.b === null ? null : recs.b.get(r.b) ?? null };
      if (r.resumed) unit.resumed = true;
      units.push(unit);
    } else {
      const a = recs.a.get(r.a!);
      const b = recs.b.get(r.b!);
      if (a && b) units.push({ kind: 'pair', link: null, a, b, key: r.key ?? undefined });
    }
  }
  return units;
}

/**
 * The unread side of a pair, where writes are conditional (see below).
 * A pair whose base lacks a mapping (first match, or linked while excluded)
 * is merged like a first match, which needs both records: fetch the side
 * that did not change. So does a pair back from exclusion: the other side
 * may have changed while it was out, and its cursor has moved past that.
 */
async function completePairs(ctx: SyncContext, batch: Unit[], scan: Record<Side, SideScan>): Promise<Unit[]> {
  const need: Record<Side, string[]> = { a: [], b: [] };
  const incomplete = (u: Extract<Unit, { kind: 'pair' }>) => !u.link || ctx.mappings.some((m) => !u.link!.base[mappingKey(m)]);
  // A side marked failed holds a change an app refused: its base is older than
  // the record, so read it rather than take the base for it (and lose the change).
  const failed = (side: Side, id: string) => ctx.store.getStatus(ctx.sync.name, side, id)?.status === 'failed';
  // A side that writes only while the record is as read (conditionalUpdate) needs the record read, not its base:
  // a person's edit made since the last pass, or during this one, is then never overwritten.
  const conditional = (side: Side) => ctx.sides[side].spec.capabilities.conditionalUpdate === true;
  for (const u of batch) {
    if (u.kind !== 'pair' || !u.link) continue;
    const whole = incomplete(u) || u.resumed;
    if (!u.a && (whole || conditional('a') || failed('a', u.link.a_id))) need.a.push(u.link.a_id);
    if (!u.b && (whole || conditional('b') || failed('b', u.link.b_id))) need.b.push(u.link.b_id);
  }
  for (const side of SIDES) {
    if (need[side].length === 0) continue;
    await fetchMissing(ctx, side, need[side], scan[side].records);
    // Every unit of the batch missing this side takes the record where the pass has it (read or just fetched).
    const got = scan[side].records.getMany(batch.flatMap((u) => (u.kind === 'pair' && !u[side] && u.link ? [side === 'a' ? u.link.a_id : u.link.b_id] : [])));
    for (const u of batch) {
      if (u.kind === 'pair' && !u[side] && u.link) u[side] = got.get(side === 'a' ? u.link.a_id : u.link.b_id) ?? null;
    }
    // A pair back from deletion or exclusion whose partner went meanwhile (no pass looked for it while
    // its link was dead): its link is deleted on the partner's side, not left live to a missing record.
    const unread = batch.flatMap((u) => (u.kind === 'pair' && u.link && u.resumed && !u[side] ? [side === 'a' ? u.link.a_id : u.link.b_id] : []));
    if (unread.length === 0) continue;
    const gone = await partnersGone(ctx, side, unread, batch);
    for (const u of batch) {
      if (u.kind !== 'pair' || !u.link || u[side] || !gone.has(side === 'a' ? u.link.a_id : u.link.b_id)) continue;
      u.link.deleted = side;
      if (ctx.dryRun) continue;
      const id = side === 'a' ? u.link.a_id : u.link.b_id;
      ctx.store.markDeleted(ctx.sync.name, side, id);
      ctx.store.setKeys(ctx.sync.name, side, id, []);
      ctx.store.clearStatus(ctx.sync.name, side, id);
    }
  }
  return batch.filter((u) => u.kind !== 'pair' || !u.link?.deleted);
}

/**
 * Which unread partners of resumed pairs are gone. Where the app tells how a
 * record left (HubSpot), a partner merged into another record is not gone:
 * the merge is settled as the pass settles those it reads (the link follows
 * the survivor, or retires as merged), and the pair goes on with the
 * survivor. Marking it deleted instead left the survivor to take over
 * another record's link, and wrote its values over that record.
 */
async function partnersGone(ctx: SyncContext, side: Side, ids: string[], batch: Unit[]): Promise<Set<string>> {
  const connector = ctx.sides[side].connector;
  if (!connector.departures) return new Set(await connector.missing(ctx.sync.object, ids));
  const departed = await connector.departures(ctx.sync.object, ids);
  const into = [...new Set(departed.flatMap((d) => (d.how === 'merged' ? [d.into] : [])))];
  const gone = new Set(departed.filter((d) => d.how !== 'merged').map((d) => d.id));
  if (into.length === 0) return gone;
  const survivors = await connector.get(ctx.sync.object, into, { fields: fieldsToRead(ctx, side), associations: ctx.associations?.names(side) });
  settleMerges(ctx, side, survivors);
  const byId = new Map(survivors.map((r) => [r.id, r]));
  for (const d of departed) {
    if (d.how !== 'merged') continue;
    const survivor = byId.get(d.into);
    const other = otherSide(side);
    for (const u of batch) {
      if (u.kind !== 'pair' || !u.link || u[side] || (side === 'a' ? u.link.a_id : u.link.b_id) !== d.id) continue;
      const now = survivor && !ctx.dryRun ? ctx.store.linkBy(ctx.sync.name, side, survivor.id) : undefined;
      if (survivor && now && !now.deleted && (other === 'a' ? now.a_id : now.b_id) === (other === 'a' ? u.link.a_id : u.link.b_id)) {
        // The link now follows the survivor: the pair goes on with it.
        u.link = now;
        u[side] = survivor;
      } else u.link.deleted = side; // retired as merged (settleMerges stored why), or a dry run: no merge for this pair
    }
  }
  return gone;
}

/**
 * Links looked up by record id, from the state as it is now (nothing is
 * held per record read). A dry run settles returned records in memory
 * only: while `remember` is on, the links it hands out are kept, so the
 * rest of the pass sees them as settled (revived, or freed by `forget`).
 */
class LinkCache {
  private settled = { a: new Map<string, LinkRow | null>(), b: new Map<string, LinkRow | null>() };
  /** No link at all yet (an initial sync): nothing to look up. */
  private readonly none: boolean;
  remember = false;
  constructor(private ctx: SyncContext) {
    this.none = !ctx.store.hasLinks(ctx.sync.name);
  }
  /** Whether the sync had any link when the pass began. */
  get any(): boolean {
    return !this.none;
  }
  forget(side: Side, id: string): void {
    if (this.ctx.dryRun) this.settled[side].set(id, null);
  }
  get(side: Side, id: string): LinkRow | null {
    if (this.none) return null;
    const kept = this.settled[side];
    if (kept.has(id)) return kept.get(id)!;
    const link = this.ctx.store.linkBy(this.ctx.sync.name, side, id) ?? null;
    if (this.remember && link) {
      this.settled.a.set(link.a_id, link);
      this.settled.b.set(link.b_id, link);
    }
    return link;
  }
  /** Links by their a_id, a query per 500 (a write batch's linked pairs). */
  byA(ids: string[]): Map<string, LinkRow> {
    const out = new Map<string, LinkRow>();
    if (ids.length === 0) return out;
    for (const link of this.ctx.store.linksBy(this.ctx.sync.name, 'a', ids)) out.set(link.a_id, this.settled.a.get(link.a_id) ?? link);
    return out;
  }
  /** A dry run: the scratch rows of the records whose links it settled in memory say what it settled. */
  overrideRows(pass: PassState): void {
    for (const side of SIDES) {
      for (const [id, link] of this.settled[side]) {
        if (link === null) pass.overrideLink(side, id, null);
        else if (!link.deleted) pass.overrideLink(side, id, link.a_id);
      }
    }
  }
}

function markDeleted(ctx: SyncContext, scan: Record<Side, SideScan>, summary: SyncSummary): void {
  const mark = () => {
    for (const side of SIDES) {
      for (const id of scan[side].deleted) {
        summary.sides[side].deleted++;
        if (ctx.dryRun) (summary.plan ??= []).push({ kind: 'deleted', side, id });
        else {
          const why = scan[side].gone?.get(id);
          if (why) ctx.store.markGone(ctx.sync.name, side, id, why);
          else ctx.store.markDeleted(ctx.sync.name, side, id);
          ctx.store.setKeys(ctx.sync.name, side, id, []);
          // Gone is gone: a failure or exclusion on it no longer stands, nor a failure of its partner (a
          // change HubSpot refused for the record just found archived: it is written nowhere now). The
          // partner's exclusion does stand: it is about the partner's own values, which no pass reads again
          // until they change, so a link revived later (returned.ts) would merge an excluded record.
          ctx.store.clearStatus(ctx.sync.name, side, id);
          const link = ctx.store.linkBy(ctx.sync.name, side, id);
          const partner = link && (side === 'a' ? link.b_id : link.a_id);
          if (partner && ctx.store.getStatus(ctx.sync.name, otherSide(side), partner)?.status === 'failed') {
            ctx.store.clearStatus(ctx.sync.name, otherSide(side), partner);
          }
          if (why === 'privacy' || why === 'purged') ctx.store.purgeLink(ctx.sync.name, side, id);
        }
      }
      const checkedAt = scan[side].checkedAt;
      if (checkedAt && !ctx.dryRun) ctx.store.setDeletionCheck(ctx.sync.name, side, checkedAt);
    }
  };
  if (ctx.dryRun) mark();
  else ctx.store.transaction(mark);
}

/**
 * Records to match above which all of a side's stored keys are loaded at
 * once (~2 µs a key) rather than asked for key by key (~20 µs a key): a run
 * after a small change in a 100,000-row file took 0.4 s to load 200,000
 * keys for 2,000 records.
 */
const WHOLE_KEY_INDEX = 20_000;

/**
 * The match keys of one side from earlier runs, loaded once per run when
 * many records are matched: a query per key per record was a fifth of an
 * initial sync's time.
 */
class KeyIndex {
  private byKey = new Map<string, string[]>();
  private byId = new Map<string, string[]>();
  private readonly whole: boolean;
  /** Loads every key of the side when many records were read; else asks the state key by key. */
  constructor(private store: SyncContext['store'], private sync: string, private side: Side, readCount: number) {
    this.whole = readCount > WHOLE_KEY_INDEX;
    if (!this.whole) return;
    for (const { key, record_id: id } of store.allKeys(sync, side)) {
      (this.byKey.get(key) ?? this.byKey.set(key, []).get(key)!).push(id);
      (this.byId.get(id) ?? this.byId.set(id, []).get(id)!).push(key);
    }
  }
  ids(key: string): string[] {
    if (!this.whole && !this.byKey.has(key)) this.byKey.set(key, this.store.idsWithKey(this.sync, this.side, key));
    return this.byKey.get(key) ?? [];
  }
  /** Whether the stored keys of a record differ from `keys` (so they need writing). */
  changed(id: string, keys: string[]): boolean {
    if (!this.whole) return true;
    return !sameKeys(this.byId.get(id) ?? [], keys);
  }
  /** Whether the record is known to have no keys stored (so new ones need no delete first). */
  none(id: string): boolean {
    return this.whole && !this.byId.has(id);
  }
}

/**
 * Rules and filters (SPEC §4): which records take part, page by page over
 * the records still to look at; the verdict goes on each scratch row, with
 * the records excluded before that pass again (`resumed`).
 */
function classify(ctx: SyncContext, pass: PassState, summary: SyncSummary): void {
  const { sync, store } = ctx;
  for (const side of SIDES) {
    pass.setClassified(side);
    for (const page of pass.pages(side, 'changed')) {
      const resumed: string[] = [];
      const look = () => {
        // `reason`: exclusionReason of the record, worked out by the scan as it stored it.
        for (const { id, reason } of page) {
          const prior = store.getStatus(sync.name, side, id);
          if (reason) {
            summary.sides[side].excluded++;
            if (ctx.dryRun) (summary.plan ??= []).push({ kind: 'exclude', side, id, reason });
            else if (prior?.status !== 'excluded' || prior.reason !== reason) store.setExcluded(sync.name, side, id, reason);
          } else if (prior?.status === 'excluded') {
            resumed.push(id);
            if (!ctx.dryRun) store.clearStatus(sync.name, side, id);
          }
        }
      };
      if (ctx.dryRun) look();
      else store.transaction(look);
      pass.setResumed(side, resumed);
    }
  }
}

/**
 * A create journalled by a run that was interrupted before it recorded the
 * new record: find the record the app made (same values, unlinked) and link
 * it instead of creating it again. Each intent takes the first unlinked
 * record read that matches it and no earlier intent took; one read of the
 * unlinked records settles every intent.
 */
async function recoverPending(ctx: SyncContext, scan: Record<Side, SideScan>, links: LinkCache, claimed: Set<string>): Promise<UnitRow[]> {
  const { store, sync, sides } = ctx;
  const units: UnitRow[] = [];
  for (const to of SIDES) {
    const from = otherSide(to);
    let open: { source_id: string; fields: Record<string, Value> }[] = [];
    for (const intent of store.listPending(sync.name, to)) {
      if (links.get(from, intent.source_id)) {
        if (!ctx.dryRun) store.removePending(sync.name, to, intent.source_id);
        continue;
      }
      if (Object.keys(intent.fields).length === 0) continue; // nothing to recognise it by
      open.push(intent);
    }
    const specs = new Map(sides[to].spec.fields.map((x) => [x.name, x]));
    const fieldOf = (f: string) => specs.get(f) ?? 'text';
    const matches = (r: SourceRecord, intent: (typeof open)[number]) => Object.entries(intent.fields)
      .every(([f, v]) => sameValue(r.fields[f] ?? null, v, fieldOf(f)));
    // An intent whose source record is gone takes nothing: the others are settled again without it.
    for (;;) {
      const made = new Map<number, string>(); // intent index -> record made
      const candidates = intentsByValue(open, fieldOf);
      if (open.length > 0) {
        for (const page of scan[to].records.pages('unlinked', { records: true })) {
          for (const { record: r } of page as Required<ReadRow>[]) {
            if (claimed.has(`${to}:${r.id}`)) continue;
            const i = candidates(r).find((k) => !made.has(k) && matches(r, open[k]!)) ?? -1;
            if (i >= 0) made.set(i, r.id);
          }
          if (made.size === open.length) break;
        }
      }
      await fetchMissing(ctx, from, [...made.keys()].map((i) => open[i]!.source_id), scan[from].records);
      const gone = new Set(scan[from].records.unread([...made.keys()].map((i) => open[i]!.source_id)));
      if (gone.size > 0) {
        open = open.filter((intent) => !gone.has(intent.source_id));
        continue;
      }
      for (const [i, id] of [...made].sort((x, y) => x[0] - y[0])) {
        const source = open[i]!.source_id;
        claimed.add(`${to}:${id}`);
        claimed.add(`${from}:${source}`);
        // The intent stays journalled until the pair's link is recorded (apply.ts): a run killed before
        // that finds it again.
        units.push({ kind: 'pair', a: to === 'a' ? id : source, b: to === 'b' ? id : source, key: 'recovered create' });
      }
      break;
    }
  }
  return units;
}
/**
 * The journalled creates a record may be, in journal order: each intent is
 * filed under the value of one of its fields compared as text (an email
 * first, a field with a value before an empty one), and a record is
 * compared with the intents filed under its own values only (and with
 * those that have no such field). Comparing every unlinked record with
 * every intent made the run after a kill mid-apply quadratic: 20,000
 * contacts with 7,218 journalled creates took 140-160 s instead of 10.
 */
export function intentsByValue(open: { fields: Record<string, Value> }[], fieldOf: (f: string) => FieldType | FieldSpec):
  (r: SourceRecord) => number[] {
  const filed = new Map<string, Map<string, number[]>>();
  const unfiled: number[] = [];
  const rank = (f: string) => {
    const spec = fieldOf(f);
    return typeof spec !== 'string' && spec.role === 'email' ? 0 : 1;
  };
  open.forEach((intent, i) => {
    const keyed = Object.keys(intent.fields).sort((x, y) => rank(x) - rank(y) || (x < y ? -1 : x > y ? 1 : 0))
      .flatMap((f) => {
        const key = textKey(intent.fields[f]!, fieldOf(f));
        return key === undefined ? [] : [{ f, key }];
      });
    const pick = keyed.find((k) => k.key !== '') ?? keyed[0];
    if (!pick) return void unfiled.push(i);
    const byKey = filed.get(pick.f) ?? filed.set(pick.f, new Map()).get(pick.f)!;
    (byKey.get(pick.key) ?? byKey.set(pick.key, []).get(pick.key)!).push(i);
  });
  return (r) => {
    const out = [...unfiled];
    for (const [f, byKey] of filed) append(out, byKey.get(textKey(r.fields[f] ?? null, fieldOf(f))!) ?? []);
    return out.sort((x, y) => x - y);
  };
}

/**
 * Unlinked records known from earlier runs that hold a key of this run's
 * records may have been deleted since (a user resolving a duplicate): ask the
 * app, and forget the keys of the ones that are gone.
 */
async function pruneVanished(ctx: SyncContext, scan: Record<Side, SideScan>, keyed: Record<Side, KeyedRecord[]>, links: LinkCache,
  index: Record<Side, KeyIndex>): Promise<Record<Side, Set<string>>> {
  const { store, sync, sides } = ctx;
  const gone = { a: new Set<string>(), b: new Set<string>() };
  const keys = new Set<string>();
  for (const side of SIDES) for (const r of keyed[side]) if (!r.linked) for (const k of r.keys) keys.add(k);
  for (const side of SIDES) {
    const known = new Set<string>();
    for (const key of keys) {
      for (const id of index[side].ids(key)) if (!scan[side].records.has(id) && !links.get(side, id)) known.add(id);
    }
    if (known.size === 0) continue;
    for (const id of await sides[side].connector.missing(sync.object, [...known])) gone[side].add(id);
  }
  if (!ctx.dryRun && (gone.a.size > 0 || gone.b.size > 0)) {
    store.transaction(() => {
      for (const side of SIDES) for (const id of gone[side]) {
        store.setKeys(sync.name, side, id, []);
        store.clearStatus(sync.name, side, id);
      }
    });
  }
  return gone;
}

/** Match outcomes turned into units and stored at a time. */
const UNITS_SLICE = 10_000;

/**
 * Pairs unlinked records by match key; the rest are created where the
 * direction allows (some decided later: `deferred`). The common case — a
 * record whose keys no other record shares, or shares with one record of the
 * other side alone — is settled by set queries over the pass's scratch rows
 * (PassState.settleSimpleMatches); only the records left (duplicates,
 * records sharing keys with linked ones or with records of earlier runs)
 * go through `matchRecords` in memory, so an initial sync of a million
 * records holds their ids and keys only where they collide.
 */
async function matchUnlinked(ctx: SyncContext, pass: PassState, scan: Record<Side, SideScan>, links: LinkCache, claimed: Set<string>,
  isExcluded: (side: Side, id: string) => boolean, summary: SyncSummary): Promise<{ deferred: MatchOutcome[] }> {
  const { sync, store } = ctx;
  // A recovered create (`claimed`) is as good as linked: it holds its keys, so
  // a new record with the same key is a duplicate, not a record to create.
  const isClaimed = (side: Side, id: string) => claimed.has(`${side}:${id}`);
  pass.settleSimpleMatches([...claimed].map((c) => [c.slice(0, 1) as Side, c.slice(2)] as const));
  if (!ctx.dryRun) pass.storeSettledKeys();
  const keyed: Record<Side, KeyedRecord[]> = { a: [], b: [] };
  for (const side of SIDES) {
    for (const page of scan[side].records.pages('unsettled')) {
      for (const { id, keys, linkA, linkDeleted } of page) {
        if (linkDeleted) continue;
        keyed[side].push({ id, keys, linked: linkA !== null || isClaimed(side, id) });
      }
    }
  }
  const reads = keyed.a.length + keyed.b.length;
  const index = { a: new KeyIndex(store, sync.name, 'a', reads), b: new KeyIndex(store, sync.name, 'b', reads) };
  if (!ctx.dryRun) {
    store.transaction(() => {
      for (const side of SIDES) {
        for (const r of keyed[side]) {
          if (index[side].none(r.id)) store.addKeys(sync.name, side, r.id, r.keys);
          else if (index[side].changed(r.id, r.keys)) store.setKeys(sync.name, side, r.id, r.keys);
        }
      }
    });
  }
  const gone = await pruneVanished(ctx, scan, keyed, links, index);
  const outcomes = matchRecords(keyed, {
    // Records keyed in this run (settled or not) hold the keys computed now; the others' stored keys stand.
    knownIds: (side, key) => index[side].ids(key).filter((id) => !pass.isKeyed(side, id) && !gone[side].has(id)),
    isLinked: (side, id) => links.get(side, id) !== null || isClaimed(side, id),
  });
  // Held by a linked record only: decided again once this pass's pairs are written (`matchAgain`).
  // A dry run writes nothing, so nothing would change: it reports them as duplicates now.
  const deferred = ctx.dryRun ? [] : outcomes.filter((o) => o.kind === 'duplicate' && o.linkedHolders !== undefined);
  // Stored as units a slice of outcomes at a time (in their order): the pass never holds a unit per record.
  const rest = deferred.length > 0 ? outcomes.filter((o) => !deferred.includes(o)) : outcomes;
  for (let i = 0; i < rest.length; i += UNITS_SLICE) pass.addUnits(await unitsOf(ctx, scan, rest.slice(i, i + UNITS_SLICE), isExcluded, summary));
  for (const page of pass.settledMatches()) pass.addUnits(await unitsOf(ctx, scan, page, isExcluded, summary));
  return { deferred };
}

/**
 * The records `matchUnlinked` deferred, matched again now that the pass's
 * pairs are written: the linked records that held their key (either side) are read again
 * (a write may have changed a record that was not read) and their keys
 * stored. A pass interrupted after those writes and re-run reads them as
 * written; the uninterrupted pass must decide as that re-run would.
 */
async function matchAgain(ctx: SyncContext, scan: Record<Side, SideScan>, claimed: Set<string>, deferred: MatchOutcome[],
  isExcluded: (side: Side, id: string) => boolean, summary: SyncSummary): Promise<UnitRow[]> {
  const { sync, store, sides } = ctx;
  const keyed: Record<Side, KeyedRecord[]> = { a: [], b: [] };
  const holders: Record<Side, string[]> = { a: [], b: [] };
  for (const o of deferred) {
    const rec = o.kind === 'duplicate' ? scan[o.side].records.get(o.id) : undefined;
    if (o.kind !== 'duplicate' || !rec) continue;
    keyed[o.side].push({ id: rec.id, keys: matchKeys(sync.object, rec.fields, sides[o.side].spec, sync.match, o.side), linked: false });
    for (const h of o.linkedHolders ?? []) holders[h.side].push(h.id);
  }
  for (const side of SIDES) {
    const now = new Map<string, SourceRecord>();
    await fetchMissing(ctx, side, holders[side], now);
    store.transaction(() => {
      for (const id of new Set(holders[side])) {
        const rec = now.get(id);
        store.setKeys(sync.name, side, id, rec ? matchKeys(sync.object, rec.fields, sides[side].spec, sync.match, side) : []);
      }
    });
  }
  const mine = { a: new Set(keyed.a.map((r) => r.id)), b: new Set(keyed.b.map((r) => r.id)) };
  const outcomes = matchRecords(keyed, {
    knownIds: (side, key) => store.idsWithKey(sync.name, side, key).filter((id) => !mine[side].has(id)),
    isLinked: (side, id) => store.linkBy(sync.name, side, id) !== undefined || claimed.has(`${side}:${id}`),
  });
  return unitsOf(ctx, scan, outcomes, isExcluded, summary);
}

/** Units for match outcomes: pairs to merge, records to create; duplicates are marked failed. */
async function unitsOf(ctx: SyncContext, scan: Record<Side, SideScan>, outcomes: MatchOutcome[],
  isExcluded: (side: Side, id: string) => boolean, summary: SyncSummary): Promise<UnitRow[]> {
  const { sync, store, sides } = ctx;
  const paired: Record<Side, string[]> = { a: [], b: [] };
  for (const o of outcomes) if (o.kind === 'pair') for (const side of SIDES) paired[side].push(o[side]);
  for (const side of SIDES) await fetchMissing(ctx, side, paired[side], scan[side].records);
  // Records the pass has neither read nor could fetch (gone since their keys were stored).
  const absent = { a: new Set(scan.a.records.unread(paired.a)), b: new Set(scan.b.records.unread(paired.b)) };

  const units: UnitRow[] = [];
  const canCreate = (from: Side) =>
    (sync.direction === 'two-way' || sync.direction === (from === 'a' ? 'a-to-b' : 'b-to-a')) && sides[otherSide(from)].spec.capabilities.create;
  // Every record of an outcome was read or fetched, but a pair's unread side.
  const create = (from: Side, id: string) => {
    if (!isExcluded(from, id) && canCreate(from)) units.push({ kind: 'create', from, id });
  };
  for (const o of outcomes) {
    if (o.kind === 'pair') {
      const a = !absent.a.has(o.a);
      const b = !absent.b.has(o.b);
      if (a && b) units.push({ kind: 'pair', a: o.a, b: o.b, key: o.key });
      else if (a) create('a', o.a);
      else if (b) create('b', o.b);
    } else if (o.kind === 'duplicate') {
      const reason = `duplicate match key (${o.key}): also on ${o.others.slice(0, 3).join(', ')}${o.others.length > 3 ? ', …' : ''}`;
      summary.sides[o.side].failed++;
      if (ctx.dryRun) (summary.plan ??= []).push({ kind: 'fail', side: o.side, id: o.id, reason });
      else store.setFailed(sync.name, o.side, o.id, reason);
    } else {
      create(o.side, o.id);
    }
  }
  return units;
}
