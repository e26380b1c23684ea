/**
 * Reading records: a full scan with the list endpoint (no 10,000 cap), or the
 * changes since a cursor with search on the last-modified property
 * (reference §4).
 *
 * The cursor (cursor.ts) is the newest last-modified value read plus the
 * records already delivered within the overlap window before it.
 */
import type { ReadBatch, SourceRecord, FieldType } from '../../src/connector.js';
import type { HttpClient } from '../../src/http/client.js';
import { HttpError } from '../../src/http/errors.js';
import { expectAnswer, hasResults } from './answers.js';
import { ASSOCIATION_READ_LIMIT, readAssociations } from './associations.js';
import { DEFAULT_OVERLAP_MS } from './config.js';
import { parseCursor, Progress } from './cursor.js';
import type { HubSpotObject } from './properties.js';
import { fromHubSpot, timestampMs } from './values.js';
import { append } from '../../src/lists.js';

export const V3 = '/crm/v3/objects';
/** Leaves room in a search body for filters and sorts. */
const SEARCH_PROPERTIES_MAX = 2_500;
/**
 * HubSpot refuses URLs past ~8 KB with 414 (reference §7): a list page whose
 * `properties` would not fit in this many characters lists ids only and
 * reads the properties by batch read, which takes them in the body.
 */
export const URL_PROPERTIES_MAX = 6_000;
/** The survivor of a merge lists the ids merged into it here (reference §2.10). */
export const MERGED_PROPERTY = 'hs_merged_object_ids';
/** Taken off an answer's Date (whole seconds, stamped as the answer leaves) before the cursor moves to it. */
const DATE_MARGIN_MS = 2_000;
/** How far ahead of this machine's clock an answer's Date is believed. */
const DATE_AHEAD_MAX_MS = 10 * 60_000;

/** Epoch ms of an HTTP Date header; undefined when absent or not a date. */
function httpDate(v: string | string[] | undefined): number | undefined {
  const ms = Date.parse(Array.isArray(v) ? v[0] ?? '' : v ?? '');
  return Number.isFinite(ms) ? ms : undefined;
}

/** The record id as a property: unique, a number, sortable and filterable in search. */
export const ID_PROPERTY = 'hs_object_id';

export interface ReadTuning {
  listPageSize: number;
  searchPageSize: number;
  /** Records gathered per batch when associations are read: what one v4 batch read takes (1,000). */
  associationBatch: number;
  overlapMs: number;
}
export const DEFAULT_TUNING: ReadTuning = { listPageSize: 100, searchPageSize: 200, associationBatch: ASSOCIATION_READ_LIMIT, overlapMs: DEFAULT_OVERLAP_MS };

export interface ReadPlan {
  http: HttpClient;
  object: HubSpotObject;
  /** Properties to return; empty returns every property HubSpot sends. */
  fields: string[];
  types: Map<string, FieldType>;
  associations: HubSpotObject['associations'];
  tuning: ReadTuning;
}

interface RawRecord { id: string; properties?: Record<string, string | null>; updatedAt?: string }
interface Page { results?: RawRecord[]; paging?: { next?: { after?: string } } }

function requested(plan: ReadPlan): string[] {
  return [...new Set([...plan.fields, plan.object.modifiedProperty, MERGED_PROPERTY])];
}

/** The ids merged into a record, from its `hs_merged_object_ids` (`;`-joined). */
export function mergedIds(r: RawRecord): string[] {
  return (r.properties?.[MERGED_PROPERTY] ?? '').split(';').map((x) => x.trim()).filter((x) => x !== '' && x !== String(r.id));
}

function modifiedOf(plan: ReadPlan, r: RawRecord): number | undefined {
  return timestampMs(r.properties?.[plan.object.modifiedProperty] ?? undefined) ?? timestampMs(r.updatedAt);
}

/**
 * Raw records → canonical records, with associations read by v4 batch read,
 * up to 1,000 records a call (reference §6.1).
 */
async function toRecords(plan: ReadPlan, raw: RawRecord[]): Promise<SourceRecord[]> {
  const records = raw.map((r): SourceRecord => {
    const props = r.properties ?? {};
    const names = plan.fields.length > 0 ? plan.fields : Object.keys(props);
    const fields = Object.fromEntries(names.map((n) => [n, fromHubSpot(props[n], plan.types.get(n))]));
    const merged = mergedIds(r);
    return merged.length > 0 ? { id: String(r.id), fields, merged } : { id: String(r.id), fields };
  });
  if (records.length > 0 && plan.associations.length > 0) {
    const ids = records.map((r) => r.id);
    for (const assoc of plan.associations) {
      const found = await readAssociations(plan.http, plan.object.name, assoc, ids);
      for (const r of records) (r.associations ??= {})[assoc.name] = found.get(r.id) ?? [];
    }
  }
  return records;
}

/**
 * Records a batch holds before it is yielded: with associations to read,
 * pages are gathered up to what one v4 batch read takes (1,000), so
 * associations cost one call per 1,000 records rather than one per page.
 */
function batchTarget(plan: ReadPlan): number {
  return plan.associations.length > 0 ? Math.min(plan.tuning.associationBatch, ASSOCIATION_READ_LIMIT) : 1;
}

/**
 * Every record, list endpoint, 100 a page; only the last batch carries the
 * cursor. With associations, batches of up to 1,000 records (batchTarget).
 */
export async function* fullScan(plan: ReadPlan): AsyncGenerator<ReadBatch> {
  // An empty object ends at epoch 0, so the next read finds every new record.
  // Records modified after the scan passed them have a later time than any
  // value the scan saw, so the newest value seen is a safe cursor.
  const progress = new Progress({ t: 0, seen: new Map() }, plan.tuning.overlapMs);
  let after: string | undefined;
  const inUrl = requested(plan).join(',').length <= URL_PROPERTIES_MAX;
  let pending: RawRecord[] = [];
  do {
    const res = await plan.http.get<Page>(`${V3}/${plan.object.name}`, {
      class: 'read',
      query: { limit: plan.tuning.listPageSize, after, properties: inUrl ? requested(plan) : [plan.object.modifiedProperty], archived: false },
    });
    const raw = res.body?.results ?? [];
    for (const r of raw) progress.note(String(r.id), modifiedOf(plan, r) ?? 0);
    after = res.body?.paging?.next?.after || undefined;
    append(pending, inUrl ? raw : inOrder(raw, await readRawByIds(plan, raw.map((r) => String(r.id)))));
    if (pending.length >= batchTarget(plan) || !after) {
      yield { records: await toRecords(plan, pending), cursor: after ? null : progress.cursor() };
      pending = [];
    }
  } while (after);
}

/**
 * Changes since the cursor: every record whose last-modified value is at or
 * after the cursor less the overlap, paged by record id (keyset: sort
 * `hs_object_id` ascending, each page a new query `hs_object_id GT` the last
 * id seen). Ids are unique, so every page brings `searchPageSize` new
 * records however many share one millisecond (a bulk write), offsets never
 * reach search's 10,000 cap, and search's one sort rule (§3.3) is enough.
 * Records already delivered at the same time are skipped. Only the last
 * batch carries the cursor: pages come in id order, not time order.
 */
export async function* changesSince(plan: ReadPlan, cursor: string): AsyncGenerator<ReadBatch> {
  const start = parseCursor(cursor);
  const progress = new Progress(start, plan.tuning.overlapMs);
  const { searchPageSize: limit } = plan.tuning;
  const prop = plan.object.modifiedProperty;
  const watermark = Math.max(0, start.t - plan.tuning.overlapMs);
  let lastId: string | undefined;
  // Search bodies stop at 3,000 characters (§3.4): with many fields, search
  // for ids only and fetch the properties by batch read (one call a page).
  const inBody = JSON.stringify(requested(plan)).length <= SEARCH_PROPERTIES_MAX;
  let pending: RawRecord[] = [];
  // HubSpot's clock when the first page answered (its Date header), for the cursor at the end.
  let answeredAt: number | undefined;
  for (;;) {
    const filters = [{ propertyName: prop, operator: 'GTE', value: String(watermark) }];
    if (lastId !== undefined) filters.push({ propertyName: ID_PROPERTY, operator: 'GT', value: lastId });
    const res = await plan.http.post<Page>(`${V3}/${plan.object.name}/search`, {
      class: 'search',
      json: {
        filterGroups: [{ filters }],
        sorts: [{ propertyName: ID_PROPERTY, direction: 'ASCENDING' }],
        properties: inBody ? requested(plan) : [prop],
        limit,
      },
    });
    answeredAt ??= httpDate(res.headers['date']);
    const raw = res.body?.results ?? [];
    const fresh: RawRecord[] = [];
    for (const r of raw) {
      const m = modifiedOf(plan, r) ?? watermark;
      if (lastId === undefined || Number(r.id) > Number(lastId)) lastId = String(r.id);
      // Passed over or not, the record was in search's answer at this time.
      progress.passed(m);
      if (progress.delivered(String(r.id), m)) continue;
      progress.note(String(r.id), m);
      fresh.push(r);
    }
    const more = !!res.body?.paging?.next?.after && raw.length > 0;
    append(pending, inBody ? fresh : inOrder(fresh, await readRawByIds(plan, fresh.map((r) => String(r.id)))));
    // Paged through: search had shown every change older than its lag when it first answered, so the cursor may
    // move up to then (less a margin for the Date's whole seconds and the answer's own time), not only to the newest
    // record seen. Without it, an idle portal re-pages its last bulk write on every pass, however long ago.
    // A Date far ahead of this machine's clock (a proxy's, a wrong clock) is not taken further than DATE_AHEAD_MAX_MS.
    if (!more && answeredAt !== undefined) progress.passed(Math.min(answeredAt, Date.now() + DATE_AHEAD_MAX_MS) - DATE_MARGIN_MS);
    if (pending.length >= batchTarget(plan) || !more) {
      yield { records: await toRecords(plan, pending), cursor: more ? null : progress.cursor() };
      pending = [];
    }
    if (!more) return;
  }
}

/**
 * Records by id with batch read, 100 per call (properties go in the body, so
 * no URL length limit), their associations 1,000 per call. Ids HubSpot does
 * not return (archived, deleted) are left out; a 207 lists them as
 * OBJECT_NOT_FOUND. A merged-away id answers its survivor, whose id differs
 * and whose `merged` lists the id asked: it is kept (once), so the engine can
 * re-point the link.
 */
export async function readByIds(plan: ReadPlan, ids: string[]): Promise<SourceRecord[]> {
  const raw = await readRawByIds(plan, ids);
  const out: SourceRecord[] = [];
  for (let i = 0; i < raw.length; i += ASSOCIATION_READ_LIMIT) append(out, await toRecords(plan, raw.slice(i, i + ASSOCIATION_READ_LIMIT)));
  return out;
}

async function readRawByIds(plan: ReadPlan, ids: string[]): Promise<RawRecord[]> {
  const out: RawRecord[] = [];
  const seen = new Set<string>();
  const unique = [...new Set(ids)];
  for (let i = 0; i < unique.length; i += plan.tuning.listPageSize) {
    const inputs = unique.slice(i, i + plan.tuning.listPageSize).map((id) => ({ id }));
    // Only an answer of the documented shape says which ids are gone (a deletion check rests on it):
    // `{}`, an HTML page or a 404 that is not HubSpot's own is an app error (answers.ts).
    const raw = await expectAnswer(plan.http, 'POST', `${V3}/${plan.object.name}/batch/read`, {
      class: 'read', query: { archived: false }, json: { inputs, properties: requested(plan) },
    }, hasResults, (body) => body.results as Array<RawRecord & { archived?: boolean }>,
    // Every id unknown: HubSpot may answer its OBJECT_NOT_FOUND 404 rather than 207.
    () => []);
    const fresh = raw.filter((r) => r.archived !== true && !seen.has(String(r.id)));
    for (const r of fresh) seen.add(String(r.id));
    append(out, fresh);
  }
  return out;
}

/** Batch read answers in any order; keep the listing's order. */
function inOrder(raw: RawRecord[], records: RawRecord[]): RawRecord[] {
  const byId = new Map(records.map((r) => [String(r.id), r]));
  return raw.map((r) => byId.get(String(r.id))).filter((r): r is RawRecord => r !== undefined);
}
