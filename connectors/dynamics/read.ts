/**
 * Reading through change tracking: a first read lists every row with
 * `Prefer: odata.track-changes` and ends with a delta link; later reads follow
 * that link's token and get the rows changed since, then `$deletedEntity`
 * entries for rows deleted since. The cursor is `delta:<token>` (the `$select`
 * is rebuilt each time, so a changed mapping reads its new columns). When
 * Dataverse says the token has expired, the read lists every row again and
 * says so (`relisted`), so the engine finds deletions by set difference.
 */
import type { FieldType, ReadBatch, SourceRecord } from '../../src/connector.js';
import type { HttpClient } from '../../src/http/client.js';
import { HttpError } from '../../src/http/errors.js';
import { append } from '../../src/lists.js';
import type { DynamicsObject, LookupSpec } from './objects.js';
import { fromDataverse } from './values.js';

export const API = '/api/data/v9.2';
export const ODATA_HEADERS = { 'OData-MaxVersion': '4.0', 'OData-Version': '4.0' };
const ANNOTATIONS = 'odata.include-annotations="Microsoft.Dynamics.CRM.lookuplogicalname"';
/** ExpiredVersionStamp: the delta token is older than the organisation keeps changes. */
export const EXPIRED_VERSION_STAMP = '0x80044352';
const CURSOR_PREFIX = 'delta:';

export interface ReadPlan {
  http: HttpClient;
  obj: DynamicsObject;
  fields: string[];
  types: Map<string, FieldType>;
  lookups: LookupSpec[];
  pageSize: number;
  /** Called with each row's `@odata.etag` as it is read (conditional updates use it). */
  onEtag?: (id: string, etag: string) => void;
}

interface Page { value?: Array<Record<string, unknown>>; '@odata.nextLink'?: string; '@odata.deltaLink'?: string }

const lookupProperty = (l: LookupSpec) => `_${l.column}_value`;

function selectOf(plan: ReadPlan): string {
  const cols = new Set([plan.obj.primaryId, ...plan.fields.filter((f) => plan.types.has(f)), ...plan.lookups.map(lookupProperty)]);
  return [...cols].join(',');
}

/** A next or delta link as a path under the client's base URL. */
function relative(plan: ReadPlan, link: string): string {
  const base = plan.http.baseUrl.replace(/\/+$/, '');
  if (!link.startsWith(base)) throw new Error(`Dataverse answered a link outside ${base}`);
  return link.slice(base.length);
}

function tokenOf(deltaLink: string): string {
  const token = new URL(deltaLink).searchParams.get('$deltatoken');
  if (!token) throw new Error('Dataverse answered a delta link without $deltatoken');
  return token;
}

export function toRecord(plan: ReadPlan, row: Record<string, unknown>): SourceRecord {
  const fields: SourceRecord['fields'] = {};
  for (const f of plan.fields) if (plan.types.has(f)) fields[f] = fromDataverse(row[f], plan.types.get(f));
  const record: SourceRecord = { id: String(row[plan.obj.primaryId]), fields };
  const etag = row['@odata.etag'];
  if (plan.onEtag && typeof etag === 'string') plan.onEtag(record.id, etag);
  if (plan.lookups.length > 0) {
    record.associations = {};
    for (const l of plan.lookups) {
      const id = row[lookupProperty(l)];
      const table = row[`${lookupProperty(l)}@Microsoft.Dynamics.CRM.lookuplogicalname`];
      record.associations[l.name] = typeof id === 'string' && (table === undefined || table === l.target) ? [id] : [];
    }
  }
  return record;
}

async function getPage(plan: ReadPlan, path: string, prefer: string): Promise<Page> {
  const res = await plan.http.get<Page>(path, { class: 'read', headers: { ...ODATA_HEADERS, Prefer: prefer } });
  return res.body ?? {};
}

/** Every row, page by page; the last page carries the delta link as cursor. */
export async function* fullScan(plan: ReadPlan, relisted = false): AsyncGenerator<ReadBatch> {
  const prefer = `odata.track-changes,odata.maxpagesize=${plan.pageSize},${ANNOTATIONS}`;
  let path = `/${plan.obj.entitySet}?$select=${selectOf(plan)}`;
  for (;;) {
    const page = await getPage(plan, path, prefer);
    const records = (page.value ?? []).map((row) => toRecord(plan, row));
    const next = page['@odata.nextLink'];
    const delta = page['@odata.deltaLink'];
    const batch: ReadBatch = { records, cursor: !next && delta ? CURSOR_PREFIX + tokenOf(delta) : null };
    if (relisted) batch.relisted = true;
    yield batch;
    if (!next) return;
    path = relative(plan, next);
  }
}

const isDeleted = (row: Record<string, unknown>) =>
  row.reason === 'deleted' || (typeof row['@odata.context'] === 'string' && row['@odata.context'].endsWith('/$deletedEntity'));

/** Rows changed and deleted since the cursor; an expired token falls back to a full listing. */
export async function* changesSince(plan: ReadPlan, cursor: string): AsyncGenerator<ReadBatch> {
  if (!cursor.startsWith(CURSOR_PREFIX)) {
    yield* fullScan(plan, true);
    return;
  }
  const prefer = `odata.maxpagesize=${plan.pageSize},${ANNOTATIONS}`;
  let path = `/${plan.obj.entitySet}?$select=${selectOf(plan)}&$deltatoken=${encodeURIComponent(cursor.slice(CURSOR_PREFIX.length))}`;
  let first = true;
  for (;;) {
    let page: Page;
    try {
      page = await getPage(plan, path, prefer);
    } catch (err) {
      if (first && err instanceof HttpError && err.category === EXPIRED_VERSION_STAMP) {
        yield* fullScan(plan, true);
        return;
      }
      throw err;
    }
    first = false;
    const rows = page.value ?? [];
    const next = page['@odata.nextLink'];
    const delta = page['@odata.deltaLink'];
    yield {
      records: rows.filter((r) => !isDeleted(r)).map((row) => toRecord(plan, row)),
      deleted: rows.filter(isDeleted).map((r) => String(r.id)),
      cursor: !next && delta ? CURSOR_PREFIX + tokenOf(delta) : null,
    };
    if (!next) return;
    path = relative(plan, next);
  }
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const isGuid = (id: string) => GUID.test(id);

/** Rows by id, 50 ids per request (`Microsoft.Dynamics.CRM.In`); ids that are gone are left out. */
export async function readByIds(plan: ReadPlan, ids: string[]): Promise<SourceRecord[]> {
  const want = [...new Set(ids)].filter(isGuid);
  const out: SourceRecord[] = [];
  for (let i = 0; i < want.length; i += 50) {
    const chunk = want.slice(i, i + 50);
    const filter = `Microsoft.Dynamics.CRM.In(PropertyName='${plan.obj.primaryId}',PropertyValues=[${chunk.map((id) => `'${id}'`).join(',')}])`;
    let path = `/${plan.obj.entitySet}?$select=${selectOf(plan)}&$filter=${encodeURIComponent(filter)}`;
    for (;;) {
      const page = await getPage(plan, path, `odata.maxpagesize=${plan.pageSize},${ANNOTATIONS}`);
      append(out, (page.value ?? []).map((row) => toRecord(plan, row)));
      const next = page['@odata.nextLink'];
      if (!next) break;
      path = relative(plan, next);
    }
  }
  return out;
}
