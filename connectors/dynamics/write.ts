/**
 * Writes through `$batch` with `Prefer: odata.continue-on-error`: one part
 * per record, so one refused record fails alone and every record gets an
 * answer. Creates are upserts to a new id chosen here with
 * `If-None-Match: *`: if the answer is lost and the batch is sent again, the
 * row made the first time answers 412 and counts as created, instead of
 * being made twice. Updates carry `If-Match: *`, so a row deleted meanwhile
 * answers 404 instead of being re-created by the upsert PATCH.
 */
import { randomUUID } from 'node:crypto';
import type { FieldType, WriteOp, WriteResult } from '../../src/connector.js';
import type { HttpClient } from '../../src/http/client.js';
import { HttpError } from '../../src/http/errors.js';
import { batchBody, parseBatchAnswer, type BatchOperation, type PartAnswer } from './batch.js';
import type { DynamicsObject } from './objects.js';
import { API, isGuid, ODATA_HEADERS } from './read.js';
import { toDataverse } from './values.js';

export interface WritePlan {
  http: HttpClient;
  obj: DynamicsObject;
  types: Map<string, FieldType>;
  /** datasync object → entity set, for `@odata.bind`. */
  entitySetOf: (object: string) => string;
  batchSize: number;
  /** The ETag a row had when this connector last read it, if it did. */
  etagOf?: (id: string) => string | undefined;
  /** A row this connector wrote: the ETag it read is stale now. */
  forget?: (id: string) => void;
}

function payload(plan: WritePlan, op: WriteOp): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(op.fields)) body[name] = toDataverse(value, plan.types.get(name));
  for (const [name, ids] of Object.entries(op.associations ?? {})) {
    const lookup = plan.obj.lookups.find((l) => l.name === name);
    if (!lookup) continue;
    const target = ids[0];
    body[`${lookup.navigation}@odata.bind`] = target === undefined ? null : `/${plan.entitySetOf(lookup.object)}(${target})`;
  }
  return body;
}

function reasonOf(a: PartAnswer): string {
  const err = (a.body as { error?: { code?: string; message?: string } } | undefined)?.error;
  const text = err?.message ? `${err.message}${err.code ? ` (${err.code})` : ''}` : `status ${a.status}`;
  return a.status === 404 ? `not found: ${text}` : `Dynamics refused the record: ${text}`;
}

export async function writeRecords(plan: WritePlan, ops: WriteOp[]): Promise<WriteResult[]> {
  const results: WriteResult[] = [];
  const sendable: Array<{ op: WriteOp; id: string; conditional: boolean; part: BatchOperation }> = [];
  for (const op of ops) {
    if (op.kind === 'update' && !isGuid(op.id)) {
      results.push({ ref: op.ref, ok: false, reason: `not found: ${op.id} is not a ${plan.obj.logicalName} id` });
      continue;
    }
    const id = op.kind === 'create' ? randomUUID() : op.id;
    const etag = op.kind === 'update' && op.expect ? plan.etagOf?.(id) : undefined;
    const condition: Record<string, string> = op.kind === 'create' ? { 'If-None-Match': '*' } : { 'If-Match': etag ?? '*' };
    sendable.push({ op, id, conditional: etag !== undefined, part: { method: 'PATCH', path: `/${plan.obj.entitySet}(${id})`, headers: condition, body: payload(plan, op) } });
  }
  for (let i = 0; i < sendable.length; i += plan.batchSize) {
    const chunk = sendable.slice(i, i + plan.batchSize);
    const answers = await sendBatch(plan, chunk.map((c) => c.part));
    chunk.forEach((c, j) => {
      const a = answers[j];
      if (typeof a === 'string') results.push({ ref: c.op.ref, ok: false, reason: a });
      else if (!a) results.push({ ref: c.op.ref, ok: false, reason: 'Dynamics gave no answer for this record in the batch' });
      else if (a.status < 300 || (c.op.kind === 'create' && a.status === 412)) {
        plan.forget?.(c.id);
        results.push({ ref: c.op.ref, ok: true, id: c.id });
      } else if (c.conditional && a.status === 412) {
        results.push({ ref: c.op.ref, ok: false, changed: true, reason: 'changed in Dynamics since it was read' });
      } else results.push({ ref: c.op.ref, ok: false, reason: reasonOf(a) });
    });
  }
  return results;
}

/** One answer per part, or the reason the whole batch was refused (a string per part). */
async function sendBatch(plan: WritePlan, parts: BatchOperation[]): Promise<Array<PartAnswer | string>> {
  const raw = batchBody(API, parts);
  try {
    const res = await plan.http.post<string>('/$batch', {
      class: 'write', raw, headers: { ...ODATA_HEADERS, Prefer: 'odata.continue-on-error' },
    });
    const ct = res.headers['content-type'];
    return parseBatchAnswer(Array.isArray(ct) ? ct[0] : ct, typeof res.body === 'string' ? res.body : '');
  } catch (err) {
    if (err instanceof HttpError && err.status < 500 && err.status !== 429) {
      return parts.map(() => `Dynamics refused the batch: ${err.appMessage ?? err.message}`);
    }
    throw err;
  }
}
