/**
 * Reading phase of a sync: what changed on each side since its cursor, the
 * failed records due for a retry, and which linked records were deleted.
 * Nothing here writes; a read that fails throws before any deletion is marked.
 */
import type { SourceRecord } from '../connector.js';
import type { PassRecords, PassState } from '../state/pass.js';
import type { Side } from '../state/store.js';
import { type GoneReason, scanDepartures } from './departures.js';
import { exclusionReason } from './filters.js';
import { fingerprint } from './fingerprint.js';
import { matchKeys } from './keys.js';
import type { SyncContext } from './types.js';

export interface SideScan {
  /** What was read, page by page into the pass's scratch tables (state/pass.ts), not held in memory. */
  records: PassRecords;
  /** The cursor to save once the run has applied everything it read. */
  cursor: string | null;
  /** The cursor this pass read from (kept when a change read could not be applied, see `BatchHooks.reread`). */
  since: string | null;
  initial: boolean;
  /** When the side was read whole (every record, since: null), the time the read began; else null. */
  readWhole: Date | null;
  deleted: string[];
  /**
   * Why nothing was marked deleted although linked records were not found:
   * an unusual share of them vanished at once (a half-written export, a
   * table being reloaded), which is more likely a bad listing than deletions.
   */
  suspect: string | null;
  /** What the connector warned about while reading (a change time in the future, …). */
  warnings: string[];
  /** Why some of `deleted` went, where the app could tell (departures.ts). */
  gone?: Map<string, GoneReason>;
  /** When this pass ran a complete deletion check of the side (the next one may be spaced out: DELETION_CHECK, departures.ts). */
  checkedAt?: string | null;
}

/** Below this many vanished records a pass is never suspect (a person deleting a few records of a small set). */
export const SUSPECT_FLOOR = 10;
/** The default share of a side's linked records that may vanish in one pass before it is suspect. */
export const SUSPECT_SHARE = 0.1;

/** The sentence a suspect pass prints and `health` shows; null when the vanished records count as deleted. */
export function suspectListing(connection: string, vanished: number, linked: number, share: number): string | null {
  if (vanished < SUSPECT_FLOOR || vanished <= share * linked) return null;
  return `${connection}: ${vanished} of ${linked} linked records were not listed (more than ${Math.round(share * 100)}%), `
    + 'more likely a partial listing than deletions: nothing was marked deleted this pass '
    + '(if they were deleted on purpose, raise `suspect_deletions` of the sync, e.g. to 100%, for one run)';
}

/** Per run context, the fields each side reads, for the mappings they were worked out from. */
const toRead = new WeakMap<SyncContext, { mappings: SyncContext['mappings']; fields: Partial<Record<Side, string[]>> }>();

/** Fields a side must read: mapped fields, match keys, filters, the email rule. */
export function fieldsToRead(ctx: SyncContext, side: Side): string[] {
  let known = toRead.get(ctx);
  if (known?.mappings !== ctx.mappings) toRead.set(ctx, (known = { mappings: ctx.mappings, fields: {} }));
  return (known.fields[side] ??= workOutFields(ctx, side));
}

function workOutFields(ctx: SyncContext, side: Side): string[] {
  const { sync, sides, mappings } = ctx;
  const spec = sides[side].spec;
  const names = new Set<string>();
  for (const m of mappings) names.add(side === 'a' ? m.a.name : m.b.name);
  for (const f of spec.fields) {
    if (f.role === 'email' || f.role === 'domain' || f.role === 'website' || f.role === 'name' || f.name === 'email') names.add(f.name);
  }
  if (typeof sync.match === 'object') names.add(sync.match[side]);
  for (const c of sync.filters[sides[side].connection] ?? []) names.add(c.field);
  const known = new Set(spec.fields.map((f) => f.name));
  return [...names].filter((n) => known.has(n));
}

/**
 * The pass's records of one side: what the rest of the pass needs of each record is worked out as it
 * is stored: its fingerprint, its match keys and whether a rule or filter excludes it (all three pure
 * functions of what was read). Fingerprints are compared only with those stored on links: with none
 * yet (an initial sync) or a rescan, none are worked out.
 */
export function passRecords(ctx: SyncContext, side: Side, pass: PassState): PassRecords {
  const { sync, store, sides } = ctx;
  const compare = !ctx.rescan && store.hasLinks(sync.name);
  return pass.records(side, {
    fp: (rec) => (compare ? fingerprint(ctx, side, rec) : ''),
    rest: (rec) => ({ keys: matchKeys(sync.object, rec.fields, sides[side].spec, sync.match, side), reason: exclusionReason(ctx, side, rec.fields) }),
  });
}

export async function scanSide(ctx: SyncContext, side: Side, pass: PassState): Promise<SideScan> {
  const { sync, store, sides } = ctx;
  const s = sides[side];
  const initial = !store.hasCursor(sync.name, side);
  const began = new Date();
  const since = initial || ctx.rescan || reconcileDue(ctx, side, began) ? null : store.getCursor(sync.name, side);
  const readWhole = since === null ? began : null;
  const opts = { fields: fieldsToRead(ctx, side), associations: ctx.associations?.names(side) };
  const records = passRecords(ctx, side, pass);
  let cursor = since;
  let batches = 0;
  let relisted = false;
  const reported = new Set<string>();
  const warnings = new Set<string>();
  for await (const batch of s.connector.read(sync.object, { ...opts, since })) {
    batches++;
    for (const w of batch.warnings ?? []) warnings.add(`${s.connection}: ${w}`);
    if (batch.relisted) relisted = true;
    records.putAll(batch.records);
    for (const r of batch.records) reported.delete(r.id);
    records.deleteAll(batch.deleted ?? []);
    for (const id of batch.deleted ?? []) reported.add(id);
    if (batch.cursor !== null) cursor = batch.cursor;
    ctx.progress?.({ phase: 'scan', sync: sync.name, side, connection: s.connection, records: records.size });
    if (ctx.signal?.aborted) throw new Interrupted();
  }
  // Failed records due for a retry that did not change (so were not read).
  const due = records.unread(store.dueFailed(sync.name, side, ctx.retryFailed));
  if (due.length > 0) records.putAll(await s.connector.get(sync.object, due, opts));
  // Without a change cursor a read lists everything or, when nothing changed, nothing (connector.ts).
  const listing = relisted || since === null && s.spec.capabilities.reportsDeletions ? 'all'
    : s.spec.capabilities.changeCursor ? 'changes' : batches > 0 ? 'all' : 'unchanged';
  // Deletions the app reports itself are deletions, however many; records missing from a listing may not be.
  if (listing === 'changes' && s.spec.capabilities.reportsDeletions) {
    const deleted = linkedAmong(ctx, side, [...reported]);
    if (!s.spec.capabilities.deletionsFromListing || deleted.length === 0) {
      return { records, cursor, since, initial, readWhole, deleted, suspect: null, warnings: [...warnings] };
    }
    // Rows gone from a listing (a CSV file): a suspect share settles nothing, and the cursor stays, so the
    // next pass reports them again (its own, or after `suspect_deletions` was raised).
    const suspect = suspectListing(s.connection, deleted.length, records.unreadLinked().linked(), ctx.sync.suspectDeletions ?? SUSPECT_SHARE);
    return { records, cursor: suspect ? since : cursor, since, initial, readWhole, deleted: suspect ? [] : deleted, suspect, warnings: [...warnings] };
  }
  if (listing === 'changes' && s.connector.departures) {
    // Departures are HubSpot's own per-id answers (not found, archived, merged), not absence from a
    // listing: they are not held back as a suspect listing.
    const { gone, checkedAt } = await scanDepartures(ctx, side, records, opts);
    return { records, cursor, since, initial, readWhole, deleted: [...gone.keys()], gone, checkedAt, suspect: null, warnings: [...warnings] };
  }
  const checks = listing === 'all' || (listing === 'changes' && deletionCheckDue(ctx, side, readWhole !== null));
  const found = checks ? await findDeleted(ctx, side, records, listing === 'all') : { deleted: [], linked: 0 };
  const suspect = suspectListing(s.connection, found.deleted.length, found.linked, ctx.sync.suspectDeletions ?? SUSPECT_SHARE);
  // A suspect listing settled nothing: the next pass looks again.
  const checkedAt = checks && !suspect ? new Date().toISOString() : null;
  return { records, cursor, since, initial, readWhole, deleted: suspect ? [] : found.deleted, suspect, warnings: [...warnings], checkedAt };
}

/**
 * The deletion check of a side with a change cursor (and no deletions of its
 * own to report) asks the app about every linked record the pass did not
 * read: work that follows the app, not the change (at 1,000,000 contacts,
 * 750,000 ids on every pass that read nothing). So it runs on every pass only
 * while the sync has at most `everyPassUpTo` links; above, on every pass that
 * reads the side whole (the initial sync, the full comparison every
 * `reconcile:`, `--rescan`) and otherwise once `passes` runs have started
 * since the last check. A record deleted is then marked deleted within
 * `passes` passes (docs/finding-changes.md, "Deletions"). Tests lower them.
 */
export const DELETION_CHECK = { everyPassUpTo: 100_000, passes: 10 };

function deletionCheckDue(ctx: SyncContext, side: Side, readWhole: boolean): boolean {
  const { store, sync } = ctx;
  if (ctx.rescan || readWhole || !store.hasMoreLinksThan(sync.name, DELETION_CHECK.everyPassUpTo)) return true;
  const last = store.lastDeletionCheck(sync.name, side);
  const at = last === null ? NaN : Date.parse(last);
  // Never checked, or a check "in the future" (the clock went back): check now.
  if (!Number.isFinite(at) || at > Date.now()) return true;
  return store.runsSince(last!, DELETION_CHECK.passes) >= DELETION_CHECK.passes;
}

/** One hour: what `reconcile:` defaults to (config/schema.ts). */
export const RECONCILE_MS = 3_600_000;

/**
 * Whether this pass reads the side whole and compares every record with the
 * fingerprint stored at its last sync: its change cursor can miss edits (an
 * UPDATE that left a SQLite updated_at column alone) and the last whole read
 * is `reconcile` old or more. Records whose fingerprint did not change cost
 * no write; the rest are merged as any change.
 */
export function reconcileDue(ctx: SyncContext, side: Side, now: Date): boolean {
  const caps = ctx.sides[side].spec.capabilities;
  if (!caps.changeCursor || !caps.cursorMisses) return false;
  const last = ctx.store.readWholeAt(ctx.sync.name, side);
  return last === null || now.getTime() - last >= (ctx.sync.reconcileMs ?? RECONCILE_MS);
}

/**
 * Linked records that are gone from the app. After a full listing, those not
 * listed; else the app is asked about every linked record not read.
 */
async function findDeleted(ctx: SyncContext, side: Side, read: PassRecords, listedAll: boolean):
  Promise<{ deleted: string[]; linked: number }> {
  const { sync, sides } = ctx;
  const deleted: string[] = [];
  const { linked, pages } = read.unreadLinked();
  for (const unseen of pages) {
    for (const id of listedAll ? unseen : await sides[side].connector.missing(sync.object, unseen)) deleted.push(id);
  }
  // The count is for the suspect-listing rule, which nothing missing never meets (SUSPECT_FLOOR).
  return { deleted, linked: deleted.length === 0 ? 0 : linked() };
}

/** Of ids the app reported deleted, those linked in this sync (the rest were never synced). */
function linkedAmong(ctx: SyncContext, side: Side, ids: string[]): string[] {
  if (ids.length === 0) return [];
  const linked = new Set(ctx.store.linksBy(ctx.sync.name, side, ids).filter((l) => !l.deleted).map((l) => (side === 'a' ? l.a_id : l.b_id)));
  return ids.filter((id) => linked.has(id));
}

/** Thrown between batches when the run is asked to stop (SIGINT/SIGTERM). */
export class Interrupted extends Error {
  constructor() {
    super('interrupted');
    this.name = 'Interrupted';
  }
}

/** Fetches records by id in one call per side (unchanged records a decision needs), into the pass's records or a Map. */
export async function fetchMissing(ctx: SyncContext, side: Side, ids: string[], into: PassRecords | Map<string, SourceRecord>): Promise<void> {
  const unique = [...new Set(ids)];
  const want = into instanceof Map ? unique.filter((id) => !into.has(id)) : into.unloaded(unique);
  if (want.length === 0) return;
  const opts = { fields: fieldsToRead(ctx, side), associations: ctx.associations?.names(side) };
  const got = await ctx.sides[side].connector.get(ctx.sync.object, want, opts);
  if (into instanceof Map) for (const r of got) into.set(r.id, r);
  else into.putAll(got);
}

/** Thrown between batches when the sync was turned off (`datasync stop`) during the run. */
export class Stopped extends Error {
  constructor() {
    super('stopped');
    this.name = 'Stopped';
  }
}
