/**
 * Records read with the id of a link marked deleted on their side (issue 14.3,
 * 14.4). Either the record is back (a table reloaded with the same ids, a
 * file restored): its link lives again and the pass merges it with its
 * partner, read afresh. Or the app gave the id to a new record (SQLite without
 * AUTOINCREMENT, a CSV's largest id + 1): the old link keeps its partner from
 * being re-created under a marked id (`StateStore.freeId`), and the newcomer
 * is matched or created like any new record.
 */
import type { SourceRecord } from '../connector.js';
import { type LinkRow, type Side, otherSide } from '../state/store.js';
import { fingerprint } from './fingerprint.js';
import { matchKeys } from './keys.js';
import { mappingKey } from './merge.js';
import type { SideScan } from './scan.js';
import type { SyncContext } from './types.js';

export interface LinkLookup {
  get(side: Side, id: string): LinkRow | null;
  /** The id's link is gone from this side (its id was freed). */
  forget(side: Side, id: string): void;
}

/** Settles every record read whose link is marked deleted on its side; returns the ids whose links were revived. */
export function settleReturned(ctx: SyncContext, scan: Record<Side, SideScan>, links: LinkLookup): Record<Side, Set<string>> {
  const revived = { a: new Set<string>(), b: new Set<string>() };
  for (const side of ['a', 'b'] as const) {
    for (const rec of scan[side].records.deletedOnSide()) {
      const link = links.get(side, rec.id);
      if (link?.deleted !== side) continue;
      if (isSameRecord(ctx, side, rec, link)) {
        revived[side].add(rec.id);
        link.deleted = null;
        link.a_hash = null;
        link.b_hash = null;
        if (!ctx.dryRun) ctx.store.reviveLink(ctx.sync.name, side, rec.id);
      } else {
        links.forget(side, rec.id);
        if (!ctx.dryRun) ctx.store.freeId(ctx.sync.name, side, rec.id);
      }
    }
  }
  return revived;
}

/**
 * The record its link was made for: it shares a match key with its partner,
 * or reads as it was when last in sync (same fingerprint, or every mapped
 * value as in the base).
 */
function isSameRecord(ctx: SyncContext, side: Side, rec: SourceRecord, link: LinkRow): boolean {
  const { sync, store, sides } = ctx;
  const partner = side === 'a' ? link.b_id : link.a_id;
  const keys = matchKeys(sync.object, rec.fields, sides[side].spec, sync.match, side);
  if (keys.some((k) => store.idsWithKey(sync.name, otherSide(side), k).includes(partner))) return true;
  if (fingerprint(ctx, side, rec) === (side === 'a' ? link.a_hash : link.b_hash)) return true;
  const i = side === 'a' ? 0 : 1;
  const mapped = ctx.mappings.filter((m) => link.base[mappingKey(m)] !== undefined);
  return mapped.length > 0 && mapped.every((m) => JSON.stringify(rec.fields[(side === 'a' ? m.a : m.b).name] ?? null)
    === JSON.stringify(link.base[mappingKey(m)]![i] ?? null));
}
