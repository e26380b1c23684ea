/**
 * Writing records in batches of 100 (reference §2.6, §2.7) with an answer per
 * op. Batch create results come back in no promised order: each input carries
 * its index as `objectWriteTraceId`, and results and 207 errors are matched by
 * it (or by the record ids for updates). A batch HubSpot refuses as a whole
 * (400, or a 409 on one duplicate email) is split in halves until only the bad
 * inputs fail.
 *
 * A contact create refused because the email exists (409 `Existing ID: <id>`)
 * answers `{ ok: false, reason, existingId }`: the connector does not decide to
 * overwrite that record; the engine links it (SPEC §4: no duplicates) and
 * merges the fields on its next pass.
 *
 * Creates are the one write that is not safe to send twice. Each carries an
 * `hs_unique_creation_key` (HubSpot's default unique property "used for
 * idempotent creates"): the engine's key for it (the same after a crash, so
 * a create sent again by the next run is refused and names the record the
 * first attempt made), else a fresh one. It is sent as a non-idempotent request: when its
 * answer is lost (reset, timeout, 5xx after HubSpot did the work) the client
 * does not resend it; `recoverLost` reads the keys back by batch read with
 * `idProperty` (reads by a unique value are consistent, unlike search) and
 * sends again only the inputs HubSpot does not hold. A resend that races a
 * create still in flight is refused on the key, and the refusal names the
 * record that holds it. Without the key (a portal lacking the property),
 * contacts are looked up by email; other records whose answer was lost fail
 * with that reason rather than risk a second record.
 *
 * A create carries its associations in its input (reference §2.6): no
 * association call for new records. A create HubSpot refuses while carrying
 * them is sent once more without, and its associations then go the separate
 * way (associations.ts), so a bad association fails as it did before rather
 * than the record. Batch answers carry each record's new modified time:
 * `log` hears it for every write whose answer shows what was sent, so the
 * connector can pass over its own writes on the next read
 * (cursorAfterWrites).
 */
import type { Fields, FieldType, WriteOp, WriteResult } from '../../src/connector.js';
import type { HttpClient } from '../../src/http/client.js';
import { randomUUID } from 'node:crypto';
import { AnswerLostError, HttpError } from '../../src/http/errors.js';
import { writeAssociations, type AssocChange } from './associations.js';
import type { HubSpotObject } from './properties.js';
import { V3 } from './read.js';
import { fromHubSpot, timestampMs, toHubSpot } from './values.js';

const BATCH = 100;
export const CREATION_KEY = 'hs_unique_creation_key';
/**
 * Lost answers in a row for the same creates before the run stops (each time,
 * what HubSpot holds is read first): an outage, not a record's fault, so the
 * creates stay journalled and the next run sends them with the same keys.
 */
const MAX_LOST = 6;

export interface WritePlan {
  http: HttpClient;
  object: HubSpotObject;
  types: Map<string, FieldType>;
  /** The portal has `hs_unique_creation_key` on this object. */
  creationKey?: boolean;
  /**
   * Hears each written record: its id and the modified time its answer gave,
   * or null when the answer does not show the record as written (recovered
   * after a lost answer, a value HubSpot changed, no time).
   */
  log?: (id: string, modified: number | null) => void;
}

/** `modified`: the record's modified time as the answer gave it, when the answer shows the record as written. */
type Outcome = { ok: true; id: string; modified?: number } | { ok: false; reason: string; existingId?: string; changed?: true };
interface CreateAssociation { to: { id: string }; types: Array<{ associationCategory: string; associationTypeId: number }> }
/** `associations`: a create's, sent in its input (§2.6). */
interface Input { op: WriteOp; properties: Record<string, string>; associations?: CreateAssociation[]; lost?: number }
interface BatchError { message?: string; category?: string; errors?: Array<{ message?: string }>; context?: Record<string, unknown> }
interface BatchResult { id: string; properties?: Record<string, string | null>; objectWriteTraceId?: string; updatedAt?: string }
interface BatchBody { results?: BatchResult[]; errors?: BatchError[] }

export async function writeRecords(plan: WritePlan, ops: WriteOp[]): Promise<WriteResult[]> {
  const outcomes = new Map<string, Outcome>();
  const keyed = plan.creationKey ?? plan.types.has(CREATION_KEY);
  const toInput = (op: WriteOp): Input => {
    const properties = serialize(plan, op.fields, op.kind === 'create');
    if (op.kind !== 'create') return { op, properties };
    if (keyed) properties[CREATION_KEY] = op.key ?? `datasync-${randomUUID()}`;
    const associations = createAssociations(plan, op);
    return associations.length > 0 ? { op, properties, associations } : { op, properties };
  };
  const creates = ops.filter((o) => o.kind === 'create').map(toInput);
  const updates = ops.filter((o) => o.kind === 'update').map(toInput);

  for (const chunk of chunks(creates, BATCH)) await settle(plan, 'create', chunk, outcomes);
  // Refused while carrying associations: once more without them; they then go the separate way.
  const refused = creates.filter((c) => c.associations && isRefusal(outcomes.get(c.op.ref)));
  for (const chunk of chunks(refused.map(({ associations: _, ...c }) => c), BATCH)) await settle(plan, 'create', chunk, outcomes);
  const carried = new Set(creates.filter((c) => c.associations && !refused.includes(c) && outcomes.get(c.op.ref)?.ok).map((c) => c.op.ref));
  // Updates with no properties (only associations changed) need no call.
  for (const u of updates) if (Object.keys(u.properties).length === 0) outcomes.set(u.op.ref, { ok: true, id: (u.op as { id: string }).id });
  await checkExpected(plan, updates.filter((u) => !outcomes.has(u.op.ref)), outcomes);
  for (const chunk of uniqueIdChunks(updates.filter((u) => !outcomes.has(u.op.ref)))) await settle(plan, 'update', chunk, outcomes);

  await applyAssociations(plan, ops.filter((op) => !carried.has(op.ref)), outcomes);
  if (plan.log) {
    for (const op of ops) {
      const o = outcomes.get(op.ref);
      if (o?.ok) plan.log(o.id, o.modified ?? null);
    }
  }
  return ops.map((op): WriteResult => {
    const o = outcomes.get(op.ref) ?? { ok: false, reason: 'HubSpot gave no answer for this record' };
    return o.ok ? { ref: op.ref, ok: true, id: o.id }
      : { ref: op.ref, ok: false, reason: o.reason, ...(o.existingId ? { existingId: o.existingId } : {}), ...(o.changed ? { changed: true as const } : {}) };
  });
}

/** A create's associations as its input carries them: the types a separate write would set (associations.ts). */
function createAssociations(plan: WritePlan, op: WriteOp): CreateAssociation[] {
  const out: CreateAssociation[] = [];
  for (const assoc of plan.object.associations) {
    const toIds = op.associations?.[assoc.name];
    if (!toIds) continue;
    const wanted = assoc.single ? toIds.slice(0, 1) : [...new Set(toIds)];
    const types = assoc.typeIds.map((associationTypeId) => ({ associationCategory: assoc.category ?? 'HUBSPOT_DEFINED', associationTypeId }));
    for (const id of wanted) out.push({ to: { id }, types });
  }
  return out;
}

/** Refused by HubSpot, and not because the record exists (then it is linked, not created). */
function isRefusal(o: Outcome | undefined): boolean {
  return o !== undefined && !o.ok && o.existingId === undefined;
}

function serialize(plan: WritePlan, fields: Fields, isCreate: boolean): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(fields)) {
    // A create has nothing to clear; '' would only add noise.
    if (isCreate && (value === null || (Array.isArray(value) && value.length === 0))) continue;
    out[name] = toHubSpot(value, plan.types.get(name));
  }
  return out;
}

/** Sends one batch; a batch refused as a whole, or left unanswered in part, is halved. */
async function settle(plan: WritePlan, kind: 'create' | 'update', chunk: Input[], outcomes: Map<string, Outcome>): Promise<void> {
  if (chunk.length === 0) return;
  let answers: Array<Outcome | undefined>;
  try {
    const inputs = chunk.map((c, i) => (kind === 'create'
      ? { properties: c.properties, ...(c.associations ? { associations: c.associations } : {}), objectWriteTraceId: String(i) }
      : { id: (c.op as { id: string }).id, properties: c.properties, objectWriteTraceId: String(i) }));
    const res = await plan.http.post<BatchBody>(`${V3}/${plan.object.name}/batch/${kind}`, { class: 'write', json: { inputs }, idempotent: kind !== 'create' });
    answers = matchAnswers(plan, kind, chunk, res.body ?? {});
  } catch (err) {
    if (err instanceof AnswerLostError) return recoverLost(plan, chunk, outcomes, err);
    if (!(err instanceof HttpError) || err.status >= 500 || err.status === 429) throw err;
    if (chunk.length === 1) {
      outcomes.set(chunk[0]!.op.ref, failure(kind, err.body, err.appMessage ?? err.message));
      return;
    }
    answers = chunk.map(() => undefined);
  }
  const unanswered = chunk.filter((_, i) => answers[i] === undefined);
  chunk.forEach((c, i) => { if (answers[i]) outcomes.set(c.op.ref, answers[i]!); });
  if (unanswered.length === 0) return;
  if (unanswered.length === 1 && chunk.length === 1) {
    outcomes.set(unanswered[0]!.op.ref, { ok: false, reason: 'HubSpot gave no answer for this record' });
    return;
  }
  const parts = unanswered.length === chunk.length ? halves(unanswered) : [unanswered];
  for (const part of parts) await settle(plan, kind, part, outcomes);
}

/**
 * HubSpot has no conditional update, so the condition is checked by a read by
 * id (consistent, unlike search) just before the write: an update whose
 * record no longer holds what the engine read (`expect`) is not sent and is
 * answered `changed` (the next pass reads it again). A person's edit in the
 * moment between this read and the write can still be overwritten; one made
 * since the pass read the record, or not yet visible to search, cannot.
 */
async function checkExpected(plan: WritePlan, updates: Input[], outcomes: Map<string, Outcome>): Promise<void> {
  const withExpect = updates.filter((u) => u.op.kind === 'update' && u.op.expect && Object.keys(u.op.expect).length > 0);
  for (const chunk of chunks(withExpect, BATCH)) {
    const ids = [...new Set(chunk.map((u) => (u.op as { id: string }).id))];
    const props = [...new Set(chunk.flatMap((u) => Object.keys((u.op as { expect: Fields }).expect)))];
    let results: NonNullable<BatchBody['results']> = [];
    try {
      const res = await plan.http.post<BatchBody>(`${V3}/${plan.object.name}/batch/read`, {
        class: 'read', query: { archived: false }, json: { inputs: ids.map((id) => ({ id })), properties: props },
      });
      results = res.body?.results ?? [];
    } catch (err) {
      if (!(err instanceof HttpError && err.status === 404)) throw err;
    }
    // A merged-away id reads as its survivor: not the record the engine read.
    const now = new Map(results.filter((r) => ids.includes(String(r.id))).map((r) => [String(r.id), r.properties ?? {}]));
    for (const u of chunk) {
      const op = u.op as Extract<WriteOp, { kind: 'update' }>;
      const current = now.get(op.id);
      const same = current && Object.entries(op.expect!).every(([f, v]) => JSON.stringify(fromHubSpot(current[f], plan.types.get(f))) === JSON.stringify(v));
      if (!same) outcomes.set(op.ref, { ok: false, reason: current ? 'changed in HubSpot since it was read' : 'no longer in HubSpot (merged or archived)', changed: true });
    }
  }
}

/**
 * A batch create whose answer was lost: the inputs HubSpot holds (by creation
 * key, or by email) succeeded; the others were not written and are sent again.
 */
async function recoverLost(plan: WritePlan, chunk: Input[], outcomes: Map<string, Outcome>, err: AnswerLostError): Promise<void> {
  const by = chunk.every((c) => c.properties[CREATION_KEY]) ? CREATION_KEY
    : plan.object.name === 'contacts' && chunk.every((c) => c.properties['email']) ? 'email' : undefined;
  if (!by) {
    for (const c of chunk) outcomes.set(c.op.ref, { ok: false, reason: `${err.message}; HubSpot has no ${CREATION_KEY} on ${plan.object.name} to look it up by` });
    return;
  }
  const held = await heldBy(plan, by, chunk.map((c) => c.properties[by]!));
  const rest: Input[] = [];
  for (const c of chunk) {
    const id = held.get(c.properties[by]!.toLowerCase());
    if (id) outcomes.set(c.op.ref, { ok: true, id });
    else rest.push({ ...c, lost: (c.lost ?? 0) + 1 });
  }
  if (rest.length === 0) return;
  const lost = rest[0]!.lost ?? 0;
  if (lost >= MAX_LOST) throw err;
  await plan.http.backoff(lost, 'answer lost');
  await settle(plan, 'create', rest, outcomes);
}

/** value (lower-case) → id of the record holding it in the unique property `by`. */
async function heldBy(plan: WritePlan, by: string, values: string[]): Promise<Map<string, string>> {
  let results: NonNullable<BatchBody['results']> = [];
  try {
    const res = await plan.http.post<BatchBody>(`${V3}/${plan.object.name}/batch/read`, {
      class: 'read', query: { archived: false }, json: { idProperty: by, inputs: values.map((id) => ({ id })), properties: [by] },
    });
    results = res.body?.results ?? [];
  } catch (err) {
    // None of them exists: some servers answer 404 rather than 207.
    if (!(err instanceof HttpError && err.status === 404)) throw err;
  }
  const out = new Map<string, string>();
  for (const r of results) {
    const v = r.properties?.[by];
    if (v) out.set(v.toLowerCase(), String(r.id));
  }
  return out;
}

/** Per input: an outcome, or undefined when the answer does not say. */
function matchAnswers(plan: WritePlan, kind: 'create' | 'update', chunk: Input[], body: BatchBody): Array<Outcome | undefined> {
  const answers: Array<Outcome | undefined> = chunk.map(() => undefined);
  const byId = new Map(chunk.map((c, i) => [c.op.kind === 'update' ? c.op.id : `#${i}`, i]));
  const results = body.results ?? [];
  const unmatched: typeof results = [];
  for (const r of results) {
    const i = r.objectWriteTraceId !== undefined ? Number(r.objectWriteTraceId) : kind === 'update' ? byId.get(String(r.id)) : undefined;
    if (i !== undefined && Number.isInteger(i) && i >= 0 && i < chunk.length && !answers[i]) answers[i] = written(plan, chunk[i]!, r);
    else unmatched.push(r);
  }
  const unmappedErrors: BatchError[] = [];
  for (const e of body.errors ?? []) {
    const traces = listOf(e.context?.objectWriteTraceId).map(Number);
    const ids = listOf(e.context?.ids).map((id) => byId.get(id)).filter((i): i is number => i !== undefined);
    const targets = [...traces, ...ids].filter((i) => Number.isInteger(i) && i >= 0 && i < chunk.length);
    if (targets.length === 0) unmappedErrors.push(e);
    for (const i of targets) answers[i] ??= failure(kind, e, e.message ?? 'refused by HubSpot');
  }
  // Results without trace ids (not every server echoes them): match by the values sent.
  for (const r of unmatched) {
    const i = chunk.findIndex((c, j) => !answers[j] && sameValues(c.properties, r.properties ?? {}));
    if (i >= 0) answers[i] = written(plan, chunk[i]!, r);
  }
  const open = answers.map((a, i) => (a ? -1 : i)).filter((i) => i >= 0);
  const leftover = unmatched.filter((r) => !answers.some((a) => a?.ok && a.id === String(r.id)));
  // Created records nobody claimed: the rest in order, rather than create them twice.
  if (kind === 'create' && unmappedErrors.length === 0 && leftover.length === open.length) {
    open.forEach((i, k) => { answers[i] = { ok: true, id: String(leftover[k]!.id) }; });
    return answers;
  }
  if (open.length === 1 && unmappedErrors.length === 1) answers[open[0]!] = failure(kind, unmappedErrors[0], unmappedErrors[0]!.message ?? 'refused by HubSpot');
  return answers;
}

/**
 * A written record's outcome; with its modified time when the answer shows
 * every value sent as HubSpot now holds it (the same canonical value), so a
 * read of it would find what the engine recorded.
 */
function written(plan: WritePlan, c: Input, r: BatchResult): Outcome {
  const props = r.properties ?? {};
  const modified = timestampMs(props[plan.object.modifiedProperty] ?? undefined) ?? timestampMs(r.updatedAt);
  const faithful = Object.entries(c.properties).every(([name, sent]) => name in props
    && JSON.stringify(fromHubSpot(props[name], plan.types.get(name))) === JSON.stringify(fromHubSpot(sent, plan.types.get(name))));
  return modified !== undefined && faithful ? { ok: true, id: String(r.id), modified } : { ok: true, id: String(r.id) };
}

function sameValues(sent: Record<string, string>, got: Record<string, string | null>): boolean {
  return Object.entries(sent).every(([k, v]) => {
    if (!(k in got) || v === '') return true;
    const g = got[k] ?? '';
    return g.toLowerCase() === v.toLowerCase() || (v.trim() !== '' && Number(g) === Number(v));
  });
}

/** A refused op; for a create whose unique value exists already, the existing record's id. */
function failure(kind: 'create' | 'update', body: unknown, fallback: string): Outcome {
  const reason = readableReason(body) ?? fallback;
  const message = (body as { message?: string } | undefined)?.message ?? fallback;
  const existing = /Existing ID:\s*(\d+)/i.exec(message)?.[1] ?? /(\d+) already has that value/i.exec(message)?.[1];
  if (kind === 'create' && existing) return { ok: false, reason, existingId: existing };
  // An update of a record that is gone (merged away: batch update does not take a merged id, §2.7; or
  // archived) changed since it was read: the next pass reads it again, and by then sees why.
  const category = (body as BatchError | undefined)?.category;
  if (kind === 'update' && (category === 'OBJECT_NOT_FOUND' || /does not exist or is archived/i.test(message))) return { ok: false, reason, changed: true };
  return { ok: false, reason };
}

/** HubSpot's message; a `Property values were not valid: [json]` is unpacked to its messages. */
export function readableReason(body: unknown): string | undefined {
  const b = body as BatchError | undefined;
  if (!b || typeof b.message !== 'string') return undefined;
  const m = /^Property values were not valid: (\[.*\])$/s.exec(b.message);
  if (m) {
    try {
      const list = JSON.parse(m[1]!) as Array<{ message?: string; localizedErrorMessage?: string }>;
      const msgs = list.map((x) => x.localizedErrorMessage ?? x.message).filter((x): x is string => !!x);
      if (msgs.length > 0) return `Property values were not valid: ${msgs.join('; ')}`;
    } catch { /* keep the raw message */ }
  }
  return b.message;
}

async function applyAssociations(plan: WritePlan, ops: WriteOp[], outcomes: Map<string, Outcome>): Promise<void> {
  for (const assoc of plan.object.associations) {
    const changes: AssocChange[] = [];
    for (const op of ops) {
      const toIds = op.associations?.[assoc.name];
      const o = outcomes.get(op.ref);
      if (toIds && o?.ok) changes.push({ ref: op.ref, fromId: o.id, toIds });
    }
    const failed = await writeAssociations(plan.http, plan.object.name, assoc, changes);
    for (const [ref, reason] of failed) {
      const o = outcomes.get(ref);
      if (!o?.ok) continue;
      // The record exists: a create hands its id back so the engine links
      // it instead of creating it again.
      const op = ops.find((x) => x.ref === ref)!;
      outcomes.set(ref, op.kind === 'create' ? { ok: false, reason, existingId: o.id } : { ok: false, reason });
    }
  }
}

function listOf(v: unknown): string[] {
  return Array.isArray(v) ? v.map(String) : typeof v === 'string' ? [v] : [];
}

function chunks<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

function halves<T>(items: T[]): T[][] {
  const mid = Math.ceil(items.length / 2);
  return [items.slice(0, mid), items.slice(mid)];
}

/** Batch update refuses the same id twice in one request. */
function uniqueIdChunks(updates: Input[]): Input[][] {
  const out: Array<{ ids: Set<string>; items: Input[] }> = [];
  for (const u of updates) {
    const id = (u.op as { id: string }).id;
    let c = out.find((x) => x.items.length < BATCH && !x.ids.has(id));
    if (!c) out.push((c = { ids: new Set(), items: [] }));
    c.ids.add(id);
    c.items.push(u);
  }
  return out.map((c) => c.items);
}
