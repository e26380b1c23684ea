/**
 * Records that left an app that can say how (Connector.departures; HubSpot):
 * archived, merged into another record, or deleted for good for privacy.
 *
 * The deletion check reads every linked record, so for such an app it runs
 * at most once per `deletionCheckIntervalMs` per sync side (HubSpot: hourly),
 * not on every pass; merges need no check, as the survivor is read as a
 * change and lists the ids merged into it (`SourceRecord.merged`).
 *
 * A merge re-points the link of the merged-away record to the survivor (one
 * link: the one whose record shares a match key with it, else the first);
 * the other merged records' links are retired as `merged:<survivor>`: their
 * partners are neither deleted nor re-created, and nothing stays failed.
 */
import type { SourceRecord } from '../connector.js';
import type { PassRecords } from '../state/pass.js';
import { type Side } from '../state/store.js';
import { matchKeys } from './keys.js';
import type { SyncContext } from './types.js';
import { append } from '../lists.js';

/** Why a side of a link went, as stored in `links.gone`. */
export type GoneReason = 'archived' | 'privacy' | 'purged' | `merged:${string}`;

export interface DepartureScan {
  /** Linked ids that left, with why. */
  gone: Map<string, GoneReason>;
  /** When the check read every linked record (null: not due this pass). */
  checkedAt: string | null;
}

/** Whether the deletion check of a side is due: never done, interval 0, or the interval is over. */
export function checkDue(last: string | null, intervalMs: number, now: number): boolean {
  if (last === null || intervalMs <= 0) return true;
  const at = Date.parse(last);
  return !Number.isFinite(at) || now - at >= intervalMs || at > now;
}

/**
 * The deletion check of a side whose connector tells departures. Records it
 * finds back (restored) or answering for a linked id (a merge's survivor)
 * are added to `read`, so the pass settles them like any record read.
 */
export async function scanDepartures(ctx: SyncContext, side: Side, read: PassRecords,
  opts: { fields: string[]; associations?: string[] }):
  Promise<DepartureScan> {
  const { sync, store, sides } = ctx;
  const connector = sides[side].connector;
  const gone = new Map<string, GoneReason>();
  if (!connector.departures) return { gone, checkedAt: null };
  const now = Date.now();
  if (!ctx.rescan && !checkDue(store.lastDeletionCheck(sync.name, side), connector.deletionCheckIntervalMs ?? 0, now)) return { gone, checkedAt: null };
  const fetch: string[] = [];
  for (const unseen of read.unreadLinked().pages) {
    for (const d of await connector.departures(sync.object, unseen)) {
      if (d.how === 'merged') fetch.push(d.into);
      else gone.set(d.id, d.how);
    }
  }
  // Deleted sides that may come back: read the ones still there (restored), and purge the ones gone for good.
  const returnable = store.returnableIds(sync.name, side);
  const unread = returnable.filter((id) => !read.has(id));
  const settled = new Set<string>();
  for (let i = 0; i < unread.length; i += 10_000) {
    const chunk = unread.slice(i, i + 10_000);
    for (const d of await connector.departures(sync.object, chunk)) {
      settled.add(d.id);
      if (d.how === 'merged') fetch.push(d.into);
      else if (d.how !== 'archived') gone.set(d.id, d.how);
    }
    append(fetch, chunk.filter((id) => !settled.has(id)));
  }
  const want = [...new Set(fetch)].filter((id) => !read.has(id));
  if (want.length > 0) for (const r of await connector.get(sync.object, want, opts)) read.set(r.id, r);
  // A deleted side read back with its id is restored: the pass revives its link (returned.ts).
  return { gone, checkedAt: new Date(now).toISOString() };
}

/** What a side's merges did, for the summary. */
export interface MergeOutcome {
  repointed: number;
  retired: number;
}

/**
 * Settles the merges seen in a side's records: before links are looked up,
 * so the pass sees the survivor as the linked record.
 */
export function settleMerges(ctx: SyncContext, side: Side, records: Iterable<SourceRecord>): MergeOutcome {
  const { sync, store, sides } = ctx;
  const outcome = { repointed: 0, retired: 0 };
  for (const rec of records) {
    const old = (rec.merged ?? []).filter((id) => id !== rec.id);
    if (old.length === 0) continue;
    const linked = old.filter((id) => { const l = store.linkBy(sync.name, side, id); return l !== undefined && !l.deleted; });
    if (linked.length === 0) continue;
    let keeper: string | undefined;
    if (!store.linkBy(sync.name, side, rec.id)) {
      const keys = new Set(matchKeys(sync.object, rec.fields, sides[side].spec, sync.match, side));
      const sharesKey = (id: string) => store.allKeysOf(sync.name, side, id).some((k) => keys.has(k));
      keeper = linked.find(sharesKey) ?? linked[0];
    }
    if (ctx.dryRun) {
      outcome.repointed += keeper ? 1 : 0;
      outcome.retired += linked.length - (keeper ? 1 : 0);
      continue;
    }
    store.transaction(() => {
      for (const id of linked) {
        if (id === keeper) {
          store.repointLink(sync.name, side, id, rec.id);
          outcome.repointed++;
        } else {
          store.markGone(sync.name, side, id, `merged:${rec.id}`);
          store.setKeys(sync.name, side, id, []);
          store.clearStatus(sync.name, side, id);
          outcome.retired++;
        }
      }
    });
  }
  return outcome;
}

/** How `health` says why the record of a link went from `app`. */
export function describeGone(gone: string | null, app: string): string {
  if (gone === null || gone === '') return `deleted in ${app}`;
  if (gone === 'archived') return `deleted in ${app} (archived)`;
  if (gone === 'privacy') return `deleted in ${app} (privacy): its data is purged from the state`;
  if (gone === 'purged') return `deleted in ${app} for good`;
  if (gone.startsWith('merged:')) return `merged in ${app} into #${gone.slice('merged:'.length)}`;
  return `deleted in ${app} (${gone})`;
}
