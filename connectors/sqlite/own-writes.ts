/**
 * This connector's own writes to tables with a change column, so the cursor
 * saved at the end of a pass can pass over them (Connector.cursorAfterWrites)
 * instead of the next run reading them all back.
 *
 * The log keeps, per object, the id of each row written, the change time
 * written into it (as `changeTimeSql` lists it), and what the row was before
 * the first of those writes (time and content hash, as the listing compares
 * them). A listed row is ours only while its time is still ours, and only if
 * what it was before is something a read from the cursor would have passed
 * over: an update hides the change time of whatever another program did to
 * the row since that read, and that change must still be read. Whoever
 * changes the row after us gives it another time. A time that a writer with
 * a coarser clock could also produce (whole seconds, as SQLite's
 * CURRENT_TIMESTAMP; tenths; hundredths) is never taken for ours: ChangeClock
 * never hands one out, but an epoch seconds column stores nothing finer.
 *
 * Not caught: another program that changes a row between two of our writes,
 * or after our last one, without changing its time (as for a read, such an
 * edit is seen only within the cursor's window, and not at all for rows the
 * cursor sums up in `own` groups, see read.ts).
 */
import type { Db } from './database.js';
import { changeBatches, changeTimeSql, isChangeCursor, type Ours, type RowState } from './read.js';
import type { TableSchema } from './schema.js';

/** What a write batch did to one row: its id as a read lists it, and the row before (null: created). */
export interface RowWrite { id: string; before: RowState | null }

/** Our last change time of a row and the row before our first write; null when we cannot vouch for the row. */
type OwnWrite = { ts: string; before: RowState | null } | null;

/** Row id → our write. */
export type Written = Map<string, OwnWrite>;

/** Sharp enough that no coarser writer produces it: the last millisecond digit is not 0. */
const isOwnTime = (ts: string) => /\.\d\d[1-9]Z$/.test(ts);

export class WriteLog {
  private readonly objects = new Map<string, Written>();

  /** After a write batch commits: the rows it gave its change time, and that time as stored. */
  add(db: Db, schema: TableSchema, rows: RowWrite[], stored: string | number): void {
    if (!schema.updatedAt || rows.length === 0) return;
    // The listing's own expression over the stored value, so the two compare exactly.
    const ts = (db.prepare(`SELECT ${changeTimeSql('v')} AS ts FROM (SELECT ? AS v)`).get(stored) as { ts: string }).ts;
    const written = this.written(schema);
    for (const { id, before } of rows) {
      const earlier = written.get(id);
      if (!isOwnTime(ts) || earlier === null) written.set(id, null);
      else if (earlier === undefined) written.set(id, { ts, before });
      // Written before in this pass: the row must be as we left it (or made anew after a delete).
      else if (before === null || before.ts === earlier.ts) written.set(id, { ts, before: earlier.before });
      else written.set(id, null);
    }
  }

  /** The writes logged for the object of `schema`, forgetting them. */
  take(schema: TableSchema): Written {
    const written = this.objects.get(schema.object) ?? new Map<string, OwnWrite>();
    this.objects.delete(schema.object);
    return written;
  }

  /**
   * Per object, not per table: the engine counts writes as its own per sync,
   * and a sync of another object over the same table has not recorded ours.
   */
  private written(schema: TableSchema): Written {
    let written = this.objects.get(schema.object);
    if (!written) this.objects.set(schema.object, (written = new Map()));
    return written;
  }
}

/**
 * `since`, or the cursor a read from `since` would end with when every row it
 * would yield is one of `written`, left as written over a row it would not
 * have yielded. Any other change (a row created, changed or changed back by
 * someone else) keeps `since`, so the next read yields it.
 */
export function cursorPastOwnWrites(db: Db, schema: TableSchema, since: string, written: Written, batchSize: number): string {
  if (written.size === 0 || !isChangeCursor(since)) return since;
  // A row we cannot vouch for was changed after `since` (unless deleted since): no need to list.
  for (const w of written.values()) if (w === null) return since;
  const ours: Ours = (id, ts) => {
    const w = written.get(id);
    return w && w.ts === ts ? w : undefined;
  };
  // One snapshot: the listing and the rows hashed for the cursor's window must
  // agree, or a row changed between them would be hashed as changed yet never read.
  return db.transaction(() => {
    let end = since;
    for (const batch of changeBatches(db, schema, { since, fields: [] }, batchSize, ours)) {
      if (batch.records.length > 0) return since;
      end = batch.cursor ?? end;
    }
    return end;
  })();
}
