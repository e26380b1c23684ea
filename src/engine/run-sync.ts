/**
 * One pass of one sync (SPEC §4): scan both sides, recover interrupted
 * creates, sort records into pairs, creates, failures and exclusions, then
 * apply them batch by batch. Cursors are saved only after everything read has
 * been applied and recorded, so an interrupted pass is simply done again.
 */
import type { SourceRecord } from '../connector.js';
import { sameValue } from '../mapping/convert.js';
import { type LinkRow, type Side, otherSide } from '../state/store.js';
import { applyBatch, PendingRecords } from './apply.js';
import { exclusionReason } from './filters.js';
import { matchKeys, sameKeys } from './keys.js';
import { matchRecords, type KeyedRecord, type MatchOutcome } from './match.js';
import { settleMerges } from './departures.js';
import { mappingKey } from './merge.js';
import { fingerprint } from './fingerprint.js';
import { settleReturned } from './returned.js';
import { fetchMissing, Interrupted, scanSide, Stopped, type SideScan } from './scan.js';
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
  const { sync, store } = ctx;
  // A targeted pass (webhooks) reads the records it was told of and leaves the sync's status as the last poll set it.
  const targets = ctx.targets;
  const status = !ctx.dryRun && !targets;
  if (status) store.setSyncStatus(sync.name, 'scanning', null, 0);
  const read = (side: Side) => (targets ? scanTargeted(ctx, side, targets[side] ?? []) : scanSide(ctx, side));
  const scan = { a: await read('a'), b: await read('b') };
  for (const side of SIDES) summary.sides[side].read = scan[side].records.size;
  if (status) store.setSyncStatus(sync.name, 'in-progress');

  // Merges first: the survivor of a merge takes over its merged-away record's link.
  for (const side of SIDES) settleMerges(ctx, side, scan[side].records);
  // Deletions before links are looked up: a partner read in this pass must see its link as deleted
  // (else its change is written to the record just found gone, and fails).
  markDeleted(ctx, scan, summary);
  const links = new LinkCache(ctx);
  for (const side of SIDES) links.preload(side, scan[side].records.keys());
  const revived = settleReturned(ctx, scan, links);
  const warnings = SIDES.flatMap((side) => [...(scan[side].suspect ? [scan[side].suspect!] : []), ...scan[side].warnings]);
  if (warnings.length > 0) summary.warnings = warnings;
  // Linked records read exactly as when last in sync: nothing to classify, match or merge.
  const same = { a: new Set<string>(), b: new Set<string>() };
  for (const side of SIDES) {
    for (const rec of scan[side].records.values()) {
      const link = links.get(side, rec.id);
      if (link && !link.deleted && unchangedSince(ctx, side, rec, link)) same[side].add(rec.id);
    }
    summary.sides[side].unchanged += same[side].size;
  }
  const { excluded, resumed } = classify(ctx, scan, summary, same);
  const isExcluded = (side: Side, id: string) =>
    excluded[side].get(id) ?? (store.getStatus(sync.name, side, id)?.status === 'excluded');

  const pairs = new Map<string, Extract<Unit, { kind: 'pair' }>>();
  for (const side of SIDES) {
    for (const rec of scan[side].records.values()) {
      const link = links.get(side, rec.id);
      if (!link || link.deleted || same[side].has(rec.id)) continue;
      const unit: Extract<Unit, { kind: 'pair' }> = pairs.get(link.a_id) ?? { kind: 'pair' as const, link, a: null, b: null };
      unit[side] = rec;
      // Back from exclusion or deletion: the partner may have changed meanwhile, read it whole. So is a
      // link with no fingerprint on either side (reviveLink and an excluded pair leave it so): a pass
      // interrupted after the revival or the end of the exclusion was recorded, but before the pair was
      // merged, leaves nothing else to tell the re-run that the partner's cursor moved past its changes.
      if (resumed[side].has(rec.id) || revived[side].has(rec.id) || (link.a_hash === null && link.b_hash === null)) unit.resumed = true;
      pairs.set(link.a_id, unit);
    }
  }
  const claimed = new Set<string>();
  const recovered = await recoverPending(ctx, scan, links, claimed);
  // concat, not push(...): a spread of a million units overflows the stack.
  const matched = await matchUnlinked(ctx, scan, links, claimed, isExcluded, summary, same);
  const units = ([...pairs.values()] as Unit[]).concat(recovered, matched.units);

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
  await applyAll(ctx, units, summary, hooks, scan);
  if (adopted.length > 0) {
    // Records the app already had (HubSpot's 409 on a duplicate email): pair and merge them now.
    for (const side of SIDES) {
      await fetchMissing(ctx, side, adopted.filter((x) => x.from !== side).map((x) => x.existingId), scan[side].records);
    }
    const again: Unit[] = [];
    for (const { from, sourceId, existingId } of adopted) {
      const source = scan[from].records.get(sourceId) ?? null;
      const existing = scan[otherSide(from)].records.get(existingId) ?? null;
      if (!source || !existing) continue;
      again.push({ kind: 'pair', link: null, a: from === 'a' ? source : existing, b: from === 'b' ? source : existing, key: `existing record ${existingId}` });
    }
    await applyAll(ctx, again, summary, { ...hooks, adopt: () => undefined }, scan);
  }
  if (matched.deferred.length > 0) {
    // New records whose key only linked records held when read: those pairs are written now, and may have dropped it.
    await applyAll(ctx, await matchAgain(ctx, scan, claimed, matched.deferred, isExcluded, summary), summary, { ...hooks, adopt: () => undefined }, scan);
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

/** Read, but exactly as when last in sync, with no failure or exclusion on it: no need to look at it. */
function unchangedSince(ctx: SyncContext, side: Side, rec: SourceRecord, link: LinkRow): boolean {
  const stored = side === 'a' ? link.a_hash : link.b_hash;
  if (stored === null || ctx.rescan) return false;
  if (ctx.store.getStatus(ctx.sync.name, side, rec.id)) return false;
  return fingerprint(ctx, side, rec) === stored;
}

/**
 * Records per write batch: 1,000, or a tenth of the work when there is more,
 * up to 10,000. Each batch costs two state transactions, so an initial sync
 * of 100,000 records takes ~12 batches rather than ~125 (a file app's
 * rewrite waits for many batches: `PendingRecords`); `stop` and SIGTERM
 * still wait for one batch at most.
 */
export function batchSizeFor(units: number): number {
  return Math.min(10_000, Math.max(1000, Math.ceil(units / 10)));
}

async function applyAll(ctx: SyncContext, units: Unit[], summary: SyncSummary, hooks: Parameters<typeof applyBatch>[3], scan: Record<Side, SideScan>): Promise<void> {
  const size = ctx.batchSize ?? batchSizeFor(units.length);
  // Writes an app makes durable later (Connector.flush) are recorded once flushed.
  const pending = new PendingRecords(ctx);
  try {
    for (let i = 0; i < units.length; i += size) {
      if (ctx.signal?.aborted) throw new Interrupted();
      // `datasync stop` from another terminal takes effect at the next batch.
      if (!ctx.dryRun && !ctx.store.isEnabled(ctx.sync.name)) throw new Stopped();
      const batch = await completePairs(ctx, units.slice(i, i + size), scan);
      await applyBatch(ctx, batch, summary, hooks, pending);
      if (pending.due) await pending.commit();
      ctx.progress?.({ phase: 'apply', sync: ctx.sync.name, done: Math.min(i + size, units.length), total: units.length });
    }
  } catch (err) {
    // The batches written before the error are kept, as when each was recorded at once (nothing is queued after a failed flush).
    await pending.commit().catch(() => undefined);
    throw err;
  }
  await pending.commit();
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
    for (const u of batch) {
      if (u.kind === 'pair' && !u[side] && u.link) u[side] = scan[side].records.get(side === 'a' ? u.link.a_id : u.link.b_id) ?? null;
    }
    // A pair back from deletion or exclusion whose partner went meanwhile (no pass looked for it while
    // its link was dead): its link is deleted on the partner's side, not left live to a missing record.
    const unread = batch.flatMap((u) => (u.kind === 'pair' && u.link && u.resumed && !u[side] ? [side === 'a' ? u.link.a_id : u.link.b_id] : []));
    if (unread.length === 0) continue;
    const gone = new Set(await ctx.sides[side].connector.missing(ctx.sync.object, unread));
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

class LinkCache {
  private cache = { a: new Map<string, LinkRow | null>(), b: new Map<string, LinkRow | null>() };
  /** No link at all yet (an initial sync): nothing to load or look up. */
  private readonly none: boolean;
  constructor(private ctx: SyncContext) {
    this.none = !ctx.store.hasLinks(ctx.sync.name);
  }
  /** Loads the links of every record read, a query per 500 ids instead of one per record. */
  preload(side: Side, ids: Iterable<string>): void {
    if (this.none) return;
    const want = [...ids].filter((id) => !this.cache[side].has(id));
    for (const id of want) this.cache[side].set(id, null);
    for (const link of this.ctx.store.linksBy(this.ctx.sync.name, side, want)) {
      this.cache.a.set(link.a_id, link);
      this.cache.b.set(link.b_id, link);
    }
  }
  forget(side: Side, id: string): void {
    this.cache[side].set(id, null);
  }
  get(side: Side, id: string): LinkRow | null {
    if (this.none) return null;
    const c = this.cache[side];
    if (!c.has(id)) c.set(id, this.ctx.store.linkBy(this.ctx.sync.name, side, id) ?? null);
    return c.get(id)!;
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
 * Rules and filters (SPEC §4): which records take part. Returns id -> excluded,
 * and the records excluded before that pass again (`resumed`).
 */
function classify(ctx: SyncContext, scan: Record<Side, SideScan>, summary: SyncSummary, same: Record<Side, Set<string>>):
  { excluded: Record<Side, Map<string, boolean>>; resumed: Record<Side, Set<string>> } {
  const { sync, store } = ctx;
  const out = { a: new Map<string, boolean>(), b: new Map<string, boolean>() };
  const resumed = { a: new Set<string>(), b: new Set<string>() };
  for (const side of SIDES) {
    for (const rec of scan[side].records.values()) {
      if (same[side].has(rec.id)) continue;
      const reason = exclusionReason(ctx, side, rec.fields);
      out[side].set(rec.id, reason !== null);
      const prior = store.getStatus(sync.name, side, rec.id);
      if (reason) {
        summary.sides[side].excluded++;
        if (ctx.dryRun) (summary.plan ??= []).push({ kind: 'exclude', side, id: rec.id, reason });
        else if (prior?.status !== 'excluded' || prior.reason !== reason) store.setExcluded(sync.name, side, rec.id, reason);
      } else if (prior?.status === 'excluded') {
        resumed[side].add(rec.id);
        if (!ctx.dryRun) store.clearStatus(sync.name, side, rec.id);
      }
    }
  }
  return { excluded: out, resumed };
}

/**
 * A create journalled by a run that was interrupted before it recorded the
 * new record: find the record the app made (same values, unlinked) and link
 * it instead of creating it again.
 */
async function recoverPending(ctx: SyncContext, scan: Record<Side, SideScan>, links: LinkCache, claimed: Set<string>): Promise<Unit[]> {
  const { store, sync, sides } = ctx;
  const units: Unit[] = [];
  for (const to of SIDES) {
    const from = otherSide(to);
    for (const intent of store.listPending(sync.name, to)) {
      if (links.get(from, intent.source_id)) {
        if (!ctx.dryRun) store.removePending(sync.name, to, intent.source_id);
        continue;
      }
      if (Object.keys(intent.fields).length === 0) continue; // nothing to recognise it by
      const made = [...scan[to].records.values()].find((r) => !links.get(to, r.id) && !claimed.has(`${to}:${r.id}`) &&
        Object.entries(intent.fields).every(([f, v]) => sameValue(r.fields[f] ?? null, v, sides[to].spec.fields.find((x) => x.name === f) ?? 'text')));
      if (!made) continue;
      await fetchMissing(ctx, from, [intent.source_id], scan[from].records);
      const source = scan[from].records.get(intent.source_id);
      if (!source) continue;
      claimed.add(`${to}:${made.id}`);
      claimed.add(`${from}:${source.id}`);
      // The intent stays journalled until the pair's link is recorded (apply.ts): a run killed before
      // that finds it again.
      units.push({ kind: 'pair', link: null, a: to === 'a' ? made : source, b: to === 'b' ? made : source, key: 'recovered create' });
    }
  }
  return units;
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

/** Pairs unlinked records by match key; the rest are created where the direction allows (some decided later: `deferred`). */
async function matchUnlinked(ctx: SyncContext, scan: Record<Side, SideScan>, links: LinkCache, claimed: Set<string>,
  isExcluded: (side: Side, id: string) => boolean, summary: SyncSummary, same: Record<Side, Set<string>>): Promise<{ units: Unit[]; deferred: MatchOutcome[] }> {
  const { sync, store, sides } = ctx;
  const keyed: Record<Side, KeyedRecord[]> = { a: [], b: [] };
  // A recovered create (`claimed`) is as good as linked: it holds its keys, so
  // a new record with the same key is a duplicate, not a record to create.
  const isClaimed = (side: Side, id: string) => claimed.has(`${side}:${id}`);
  for (const side of SIDES) {
    for (const rec of scan[side].records.values()) {
      if (same[side].has(rec.id)) continue;
      const link = links.get(side, rec.id);
      if (link?.deleted) continue;
      const linked = link !== null || isClaimed(side, rec.id);
      keyed[side].push({ id: rec.id, keys: matchKeys(sync.object, rec.fields, sides[side].spec, sync.match, side), linked });
    }
  }
  const reads = keyed.a.length + keyed.b.length;
  const index = { a: new KeyIndex(store, sync.name, 'a', reads), b: new KeyIndex(store, sync.name, 'b', reads) };
  // Records whose keys were computed in this run; the others' stored keys stand.
  const fresh = { a: new Set(keyed.a.map((r) => r.id)), b: new Set(keyed.b.map((r) => r.id)) };
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
    knownIds: (side, key) => index[side].ids(key).filter((id) => !fresh[side].has(id) && !gone[side].has(id)),
    isLinked: (side, id) => links.get(side, id) !== null || isClaimed(side, id),
  });
  // Held by a linked record only: decided again once this pass's pairs are written (`matchAgain`).
  // A dry run writes nothing, so nothing would change: it reports them as duplicates now.
  const deferred = ctx.dryRun ? [] : outcomes.filter((o) => o.kind === 'duplicate' && o.linkedHolders !== undefined);
  return { units: await unitsOf(ctx, scan, outcomes.filter((o) => !deferred.includes(o)), isExcluded, summary), deferred };
}

/**
 * The records `matchUnlinked` deferred, matched again now that the pass's
 * pairs are written: the linked records that held their key (either side) are read again
 * (a write may have changed a record that was not read) and their keys
 * stored. A pass interrupted after those writes and re-run reads them as
 * written; the uninterrupted pass must decide as that re-run would.
 */
async function matchAgain(ctx: SyncContext, scan: Record<Side, SideScan>, claimed: Set<string>, deferred: MatchOutcome[],
  isExcluded: (side: Side, id: string) => boolean, summary: SyncSummary): Promise<Unit[]> {
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
  isExcluded: (side: Side, id: string) => boolean, summary: SyncSummary): Promise<Unit[]> {
  const { sync, store, sides } = ctx;
  const need: Record<Side, string[]> = { a: [], b: [] };
  for (const o of outcomes) if (o.kind === 'pair') for (const side of SIDES) if (!scan[side].records.has(o[side])) need[side].push(o[side]);
  for (const side of SIDES) await fetchMissing(ctx, side, need[side], scan[side].records);

  const units: Unit[] = [];
  const canCreate = (from: Side) =>
    (sync.direction === 'two-way' || sync.direction === (from === 'a' ? 'a-to-b' : 'b-to-a')) && sides[otherSide(from)].spec.capabilities.create;
  const create = (from: Side, id: string) => {
    const record = scan[from].records.get(id);
    if (record && !isExcluded(from, id) && canCreate(from)) units.push({ kind: 'create', from, record });
  };
  for (const o of outcomes) {
    if (o.kind === 'pair') {
      const a = scan.a.records.get(o.a) ?? null;
      const b = scan.b.records.get(o.b) ?? null;
      if (a && b) units.push({ kind: 'pair', link: null, a, b, key: o.key });
      else if (a) create('a', a.id);
      else if (b) create('b', b.id);
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
