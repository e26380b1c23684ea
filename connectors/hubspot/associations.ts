/**
 * Associations through the v4 API (reference §6): batch read for a page of
 * records, labeled batch create for the primary company (contact → company 1,
 * deal → company 5) and deal → contact (3), batch archive to remove.
 */
import type { HttpClient } from '../../src/http/client.js';
import { HttpError } from '../../src/http/errors.js';
import type { HubSpotObject } from './properties.js';

export const V4 = '/crm/v4/associations';
/** Inputs per v4 batch read (reference §0, §6.1). */
export const ASSOCIATION_READ_LIMIT = 1000;
const CREATE_LIMIT = 2000;

type Assoc = HubSpotObject['associations'][number];

interface BatchReadResult {
  from?: { id?: string };
  to?: Array<{ toObjectId: string | number; associationTypes?: Array<{ typeId?: number; category?: string }> }>;
  paging?: { next?: { after?: string } };
}

/**
 * For each id, the associated ids: for a single association only the primary
 * one (an empty list when none is primary), for others all of them.
 */
export async function readAssociations(http: HttpClient, from: string, assoc: Assoc, ids: string[]): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>(ids.map((id) => [id, []]));
  let pending: Array<{ id: string; after?: string }> = ids.map((id) => ({ id }));
  while (pending.length > 0) {
    const next: typeof pending = [];
    for (let i = 0; i < pending.length; i += ASSOCIATION_READ_LIMIT) {
      const inputs = pending.slice(i, i + ASSOCIATION_READ_LIMIT);
      let results: BatchReadResult[] = [];
      try {
        const res = await http.post<{ results?: BatchReadResult[] }>(`${V4}/${from}/${assoc.object}/batch/read`, { class: 'associations', json: { inputs } });
        results = res.body?.results ?? [];
      } catch (err) {
        // Every input unknown (e.g. just archived): no associations to report.
        if (err instanceof HttpError && err.status === 404) continue;
        throw err;
      }
      for (const r of results) {
        const id = r.from?.id === undefined ? undefined : String(r.from.id);
        if (id === undefined || !out.has(id)) continue;
        const list = out.get(id)!;
        for (const to of r.to ?? []) {
          const types = to.associationTypes ?? [];
          const wanted = assoc.primaryTypeId === undefined || types.some((t) => t.typeId === assoc.primaryTypeId);
          const toId = String(to.toObjectId);
          if (wanted && !list.includes(toId)) list.push(toId);
        }
        if (r.paging?.next?.after) next.push({ id, after: r.paging.next.after });
      }
    }
    pending = next;
  }
  if (assoc.single) for (const [id, list] of out) out.set(id, list.slice(0, 1));
  return out;
}

/** One association change to make, tagged with the op it belongs to. */
export interface AssocChange { ref: string; fromId: string; toIds: string[] }

/**
 * Makes each record's associations equal to `toIds` (single: the primary one).
 * Returns a failure reason per ref for the changes HubSpot refused.
 */
export async function writeAssociations(http: HttpClient, from: string, assoc: Assoc, changes: AssocChange[]): Promise<Map<string, string>> {
  const failures = new Map<string, string>();
  if (changes.length === 0) return failures;
  const adds: Array<{ ref: string; from: string; to: string }> = [];
  const removes: Array<{ ref: string; from: string; to: string }> = [];

  // Setting a primary needs no read: HubSpot moves the primary label. Only
  // clearing it, and keeping a many-association equal to a list, need one.
  // A single association without a primary label (a custom object's company) is replaced by hand.
  const needCurrent = changes.filter((c) => !assoc.single || assoc.primaryTypeId === undefined || c.toIds.length === 0);
  const current = needCurrent.length > 0 ? await readAssociations(http, from, assoc, needCurrent.map((c) => c.fromId)) : new Map<string, string[]>();
  for (const c of changes) {
    const wanted = assoc.single ? c.toIds.slice(0, 1) : [...new Set(c.toIds)];
    const now = current.get(c.fromId);
    for (const to of wanted) if (!now || !now.includes(to)) adds.push({ ref: c.ref, from: c.fromId, to });
    for (const to of now ?? []) if (!wanted.includes(to)) removes.push({ ref: c.ref, from: c.fromId, to });
  }

  const types = assoc.typeIds.map((associationTypeId) => ({ associationCategory: assoc.category ?? 'HUBSPOT_DEFINED', associationTypeId }));
  await sendPairs(http, `${V4}/${from}/${assoc.object}/batch/create`, adds, CREATE_LIMIT, failures,
    (p) => ({ from: { id: p.from }, to: { id: p.to }, types }));
  await sendPairs(http, `${V4}/${from}/${assoc.object}/batch/archive`, removes, CREATE_LIMIT, failures,
    (p) => ({ from: { id: p.from }, to: [{ id: p.to }] }));
  return failures;
}

type Pair = { ref: string; from: string; to: string };

/** Sends pairs in batches; a refused batch is split until the bad pairs are found. */
async function sendPairs(http: HttpClient, path: string, pairs: Pair[], limit: number, failures: Map<string, string>, input: (p: Pair) => unknown): Promise<void> {
  for (let i = 0; i < pairs.length; i += limit) await settle(pairs.slice(i, i + limit));

  async function settle(chunk: Pair[]): Promise<void> {
    if (chunk.length === 0) return;
    try {
      const res = await http.post<{ errors?: Array<{ message?: string; context?: Record<string, unknown> }> }>(path, { class: 'associations', json: { inputs: chunk.map(input) } });
      const errors = res.status === 207 ? res.body?.errors ?? [] : [];
      if (errors.length === 0) return;
      if (chunk.length > 1) return halves(chunk);
      failures.set(chunk[0]!.ref, `association: ${errors[0]?.message ?? 'refused by HubSpot'}`);
    } catch (err) {
      if (!(err instanceof HttpError) || err.status >= 500 || err.status === 429) throw err;
      if (chunk.length > 1) return halves(chunk);
      failures.set(chunk[0]!.ref, `association: ${err.appMessage ?? err.message}`);
    }
  }
  async function halves(chunk: Pair[]): Promise<void> {
    const mid = Math.ceil(chunk.length / 2);
    await settle(chunk.slice(0, mid));
    await settle(chunk.slice(mid));
  }
}
