/**
 * The deletion check (Connector.departures): of some linked ids, which left
 * HubSpot and how. One batch read per 100 ids; a second one, with
 * `archived=true`, only for the ids the first reported as not found.
 *
 * - answered by a record with another id that lists the id in
 *   `hs_merged_object_ids`: merged into that record (live merges make a new
 *   id, reference §2.10);
 * - reported not found, then found archived: in the recycle bin;
 * - reported not found both times: deleted for good. For a contact that is a
 *   GDPR delete (or the recycle bin's 90 days are over, which asks the same
 *   of us): `privacy`. Otherwise `purged`.
 *
 * Only ids HubSpot names as not found (a 207's `OBJECT_NOT_FOUND` context, or
 * a 404 for the whole batch) count: an answer that is missing an id without
 * saying why, or a failed read, tells nothing, and such ids are left out.
 */
import type { Departure } from '../../src/connector.js';
import type { HttpClient } from '../../src/http/client.js';
import { expectAnswer, hasResults } from './answers.js';
import { MERGED_PROPERTY, V3 } from './read.js';

const BATCH = 100;

interface Answer {
  results?: Array<{ id?: string | number; archived?: boolean; properties?: Record<string, string | null> }>;
  errors?: Array<{ category?: string; context?: { ids?: string[] } }>;
}

/** One batch read: the ids present, merged (old id → survivor) and named as not found. */
async function lookUp(http: HttpClient, object: string, ids: string[], archived: boolean):
  Promise<{ present: Set<string>; merged: Map<string, string>; notFound: Set<string> }> {
  const present = new Set<string>();
  const merged = new Map<string, string>();
  const notFound = new Set<string>();
  // Only the documented answer counts (answers.ts): `{}`, an HTML page or a 404 that is not HubSpot's
  // own is asked again, then an app error; never "every id unknown".
  const body = await expectAnswer(http, 'POST', `${V3}/${object}/batch/read`, {
    class: 'read', query: { archived }, json: { inputs: ids.map((id) => ({ id })), properties: ['hs_object_id', MERGED_PROPERTY] },
  }, hasResults, (b) => b as Answer, () => null);
  // Every id unknown: HubSpot may answer its OBJECT_NOT_FOUND 404 for the whole batch.
  if (body === null) return { present, merged, notFound: new Set(ids) };
  const asked = new Set(ids);
  for (const r of body?.results ?? []) {
    const id = String(r.id ?? '');
    if (asked.has(id)) {
      present.add(id);
      continue;
    }
    for (const old of (r.properties?.[MERGED_PROPERTY] ?? '').split(';')) if (asked.has(old.trim())) merged.set(old.trim(), id);
  }
  for (const e of body?.errors ?? []) {
    if (e.category !== 'OBJECT_NOT_FOUND') continue;
    for (const id of e.context?.ids ?? []) if (asked.has(String(id)) && !present.has(String(id))) notFound.add(String(id));
  }
  return { present, merged, notFound };
}

export async function findDepartures(http: HttpClient, object: string, ids: string[]): Promise<Departure[]> {
  const out: Departure[] = [];
  const unique = [...new Set(ids)];
  for (let i = 0; i < unique.length; i += BATCH) {
    const live = await lookUp(http, object, unique.slice(i, i + BATCH), false);
    for (const [id, into] of live.merged) out.push({ id, how: 'merged', into });
    if (live.notFound.size === 0) continue;
    const bin = await lookUp(http, object, [...live.notFound], true);
    for (const id of live.notFound) {
      if (bin.present.has(id)) out.push({ id, how: 'archived' });
      else if (bin.notFound.has(id)) out.push({ id, how: object === 'contacts' ? 'privacy' : 'purged' });
    }
  }
  return out;
}
