/**
 * A record's fingerprint: a hash of what the sync reads of it (its mapped
 * fields, match keys, filter fields and associations): an equal fingerprint
 * means the same merge, the same keys and the same filter verdict. A record read with the fingerprint stored on its
 * link when it was last in sync has not changed, and skips the merge (most
 * records of an incremental run over a source without a change cursor).
 */
import { createHash } from 'node:crypto';
import type { SourceRecord } from '../connector.js';
import type { Side } from '../state/store.js';
import { fieldsToRead } from './scan.js';
import type { SyncContext } from './types.js';

const cache = new WeakMap<SourceRecord, string>();

export function fingerprint(ctx: SyncContext, side: Side, rec: SourceRecord): string {
  let fp = cache.get(rec);
  if (fp === undefined) {
    const fields = fieldsToRead(ctx, side).map((f) => rec.fields[f] ?? null);
    const assoc = (ctx.associations?.names(side) ?? []).map((n) => rec.associations?.[n] ?? []);
    fp = createHash('sha1').update(JSON.stringify([fields, assoc])).digest('base64url');
    cache.set(rec, fp);
  }
  return fp;
}
