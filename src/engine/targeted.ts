/**
 * A targeted pass (`watch` with webhooks, issue 18): instead of reading a
 * side's changes since its cursor, it reads just the records an app named
 * in its change notifications, by id (one batch read per 100), and asks the
 * app how the ones it did not find left (archived, merged, deleted for
 * privacy). The other side is not read at all (a pair's unread side is
 * fetched as in any pass, run-sync.ts `completePairs`).
 *
 * Notifications are hints: a targeted pass never saves a cursor, nor the
 * time of a whole read or a deletion check, nor counts as a successful
 * pass. The next poll reads from where the last poll stopped, so a change a
 * notification did not name (a lost or forged event, a pass killed half
 * way) is read then; what a targeted pass already applied is read back and
 * found unchanged.
 */
import type { PassState } from '../state/pass.js';
import type { Side } from '../state/store.js';
import type { GoneReason } from './departures.js';
import { fieldsToRead, passRecords, type SideScan } from './scan.js';
import type { SyncContext } from './types.js';

export async function scanTargeted(ctx: SyncContext, side: Side, ids: readonly string[], pass: PassState): Promise<SideScan> {
  const { sync, store, sides } = ctx;
  const s = sides[side];
  const cursor = store.getCursor(sync.name, side);
  const records = passRecords(ctx, side, pass);
  const gone = new Map<string, GoneReason>();
  const scan: SideScan = { records, cursor, since: cursor, initial: false, readWhole: null, deleted: [], gone, suspect: null, warnings: [] };
  const want = [...new Set(ids)];
  if (want.length === 0) return scan;
  const opts = { fields: fieldsToRead(ctx, side), associations: ctx.associations?.names(side) };
  const got = await s.connector.get(sync.object, want, opts);
  records.putAll(got);
  // An id answered by a record that lists it as merged into it is settled by settleMerges.
  const answered = new Set(got.map((r) => r.id));
  for (const r of got) for (const id of r.merged ?? []) answered.add(id);
  const unread = want.filter((id) => !answered.has(id));
  if (unread.length === 0 || !s.connector.departures) return scan;
  // Only linked ids matter: a record never synced that left needs nothing.
  const links = new Map(store.linksBy(sync.name, side, unread).map((l) => [side === 'a' ? l.a_id : l.b_id, l]));
  const asked = unread.filter((id) => links.has(id));
  if (asked.length === 0) return scan;
  const fetch: string[] = [];
  for (const d of await s.connector.departures(sync.object, asked)) {
    const link = links.get(d.id)!;
    if (d.how === 'merged') fetch.push(d.into);
    // A side already deleted is marked again only when it is now gone for good (its data is purged).
    else if (!link.deleted || (link.deleted === side && d.how !== 'archived')) gone.set(d.id, d.how);
  }
  const survivors = records.unread([...new Set(fetch)]);
  if (survivors.length > 0) records.putAll(await s.connector.get(sync.object, survivors, opts));
  scan.deleted = [...gone.keys()];
  return scan;
}
