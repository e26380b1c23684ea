/**
 * Writing a batch of ops to a table: one transaction per batch and a SAVEPOINT
 * per op, so an op SQLite refuses (NOT NULL, UNIQUE, CHECK, a value of the
 * wrong type) fails alone while the others are applied.
 */
import { randomUUID } from 'node:crypto';
import type { FieldSpec, Fields, Value, WriteOp, WriteResult } from '../../src/connector.js';
import { checkCanonical, isBigInteger, listToText, parseDatetime, RowRejection } from '../shared/values.js';
import { isRowLevelSqliteError, prepared, quoteIdent, type Db } from './database.js';
import type { RowWrite, WriteLog } from './own-writes.js';
import { rowToRecord } from '../shared/rows.js';
import { changeTimeSql, fetchRows, futureHorizon, rowState } from './read.js';
import { bindId, type Column, type TableSchema } from './schema.js';

type Stored = string | number | bigint | null;

/** An update not made: the row changed after the engine read it (WriteResult.changed). */
class ChangedSinceRead extends Error {}

/**
 * Change times written by this connector: ms precision, one per write batch,
 * strictly after both the last one it wrote and the newest one in the table,
 * so a saved cursor never sits after a later write, and never more than a
 * few ms ahead of the clock. Never a whole hundredth of a second, so a time a
 * coarser writer gives a row (SQLite's whole-second CURRENT_TIMESTAMP) is
 * never taken for ours (own-writes.ts).
 */
export class ChangeClock {
  private last = 0;
  private readonly facts = new Map<string, number | boolean>();
  next(newestInTable: number): number {
    this.last = Math.max(Date.now(), this.last + 1, newestInTable + 1);
    if (this.last % 10 === 0) this.last += 1;
    return this.last;
  }
  /**
   * A fact about a table that costs a full scan (its newest change time, the
   * unit of a numeric date column), read once per connector, i.e. per run,
   * instead of once per write batch, which made an initial sync quadratic in
   * the table size. Once is enough: the cursor a run saves comes from its
   * scan, before any of its writes, and `last` keeps our own writes in order.
   */
  fact<T extends number | boolean>(key: string, compute: () => T): T {
    let v = this.facts.get(key) as T | undefined;
    if (v === undefined) {
      v = compute();
      this.facts.set(key, v);
    }
    return v;
  }
  /** A fact learnt by other means (a listing that went through every row), unless known already. */
  learn(key: string, value: number | boolean): void {
    if (!this.facts.has(key)) this.facts.set(key, value);
  }
}

/** The ChangeClock fact of a table's newest believed change time (ms; 0: none), which a full listing also gives. */
export const newestFact = (table: string) => `newest:${table}`;

const isNumericStorage = (c: Column) => c.affinity === 'integer' || c.affinity === 'real';

export class TableWriter {
  constructor(private readonly db: Db, private readonly schema: TableSchema, private readonly clock: ChangeClock,
    private readonly log: WriteLog) {}

  /** One change time per write batch (see changeTime), and as stored. */
  private stamp: number | undefined;
  private stored: Stored = null;

  write(ops: WriteOp[]): WriteResult[] {
    this.stamp = undefined;
    /** The rows given the batch's change time, once their op succeeded. */
    const stamped: RowWrite[] = [];
    const one = this.db.transaction((op: WriteOp) => this.apply(op));
    const all = this.db.transaction((list: WriteOp[]) => list.map((op): WriteResult => {
      try {
        const { id, stampedRow } = one(op);
        if (stampedRow) stamped.push(stampedRow);
        return { ref: op.ref, ok: true, id };
      } catch (err) {
        if (err instanceof ChangedSinceRead) return { ref: op.ref, ok: false, reason: err.message, changed: true };
        if (err instanceof RowRejection || isRowLevelSqliteError(err)) return { ref: op.ref, ok: false, reason: err.message };
        throw err;
      }
    }));
    const results = all.immediate(ops);
    // Only now: a batch that failed as a whole was rolled back and wrote nothing.
    if (this.stamp !== undefined) this.log.add(this.db, this.schema, stamped, this.stored as string | number);
    return results;
  }

  /** The record's id and, when the op set the row's change time, what the write log needs to know of it. */
  private apply(op: WriteOp): { id: string; stampedRow?: RowWrite } {
    const s = this.schema;
    const values = this.rowValues(op);
    if (op.kind === 'create') {
      const id = this.insert(values);
      return { id, stampedRow: s.updatedAt ? { id, before: null } : undefined };
    }
    const bound = bindId(op.id, s.id);
    if (op.expect) this.checkUnchanged(bound, op.expect);
    // The row as it was: a change another program made to it since the last
    // read is hidden by our change time, and must not pass for our own.
    const before = s.updatedAt && values.has(s.updatedAt.name) ? rowState(this.db, s, bound) : undefined;
    const id = this.update(op.id, values);
    return { id, stampedRow: before ? { id: String(bound), before } : undefined };
  }

  /**
   * Throws ChangedSinceRead when the row no longer holds what the engine read
   * (canonical values, compared exactly: a person's case fix is an edit).
   * Runs inside the batch's IMMEDIATE transaction, so no writer can come
   * between this check and the UPDATE.
   */
  private checkUnchanged(id: ReturnType<typeof bindId>, expect: Fields): void {
    const s = this.schema;
    // Read as a listing reads it (exact integers), so an unchanged row compares equal.
    const row = fetchRows(this.db, s, [id]).values().next().value;
    if (!row) return; // the update answers "record not found"
    const names = Object.keys(expect).filter((n) => s.fieldsByName.has(n));
    const now = rowToRecord(row, s, { fields: names }).fields;
    const moved = names.find((n) => JSON.stringify(now[n] ?? null) !== JSON.stringify(expect[n] ?? null));
    if (moved !== undefined) throw new ChangedSinceRead(`changed since it was read (${moved}); read again next pass`);
  }

  private rowValues(op: WriteOp): Map<string, Stored> {
    const s = this.schema;
    const values = new Map<string, Stored>();
    for (const [name, value] of Object.entries(op.fields)) {
      const field = s.fieldsByName.get(name);
      if (!field) {
        const why = s.columns.has(name) ? `${name} is not a writable field` : `table ${s.table} has no column named ${name}`;
        throw new RowRejection(why);
      }
      if (field.readOnly) throw new RowRejection(`${name} is read-only`);
      values.set(name, this.toStored(field, checkCanonical(field, value), s.columns.get(name)!));
    }
    for (const [name, ids] of Object.entries(op.associations ?? {})) {
      const assoc = s.associations.find((a) => a.name === name);
      if (!assoc) throw new RowRejection(`${s.object} has no association ${name}`);
      values.set(assoc.field, ids.length === 0 ? null : bindId(ids[0]!, s.columns.get(assoc.field)!));
    }
    if (s.updatedAt && values.size > 0) values.set(s.updatedAt.name, this.changeTime());
    return values;
  }

  private insert(values: Map<string, Stored>): string {
    const s = this.schema;
    let id: Stored | undefined;
    const generate = !s.idIsRowid && !(s.id.hasDefault && s.hasRowid);
    if (generate) {
      id = s.id.affinity === 'integer' ? this.nextIntegerId() : randomUUID();
      values.set(s.id.name, id);
    }
    if (s.updatedAt && !values.has(s.updatedAt.name)) values.set(s.updatedAt.name, this.changeTime());
    const cols = [...values.keys()];
    const sql = cols.length === 0
      ? `INSERT INTO ${quoteIdent(s.table)} DEFAULT VALUES`
      : `INSERT INTO ${quoteIdent(s.table)} (${cols.map(quoteIdent).join(', ')}) VALUES (${cols.map(() => '?').join(', ')})`;
    const info = prepared(this.db, sql).run(...values.values());
    if (id !== undefined) return String(id);
    if (s.idIsRowid) return String(info.lastInsertRowid);
    const row = this.db.prepare(`SELECT ${quoteIdent(s.id.name)} AS id FROM ${quoteIdent(s.table)} WHERE rowid = ?`).get(info.lastInsertRowid) as { id: unknown };
    return String(row.id);
  }

  private update(id: string, values: Map<string, Stored>): string {
    const s = this.schema;
    const where = `${quoteIdent(s.id.name)} = ?`;
    const bound = bindId(id, s.id);
    let changes: number;
    if (values.size === 0) {
      changes = prepared(this.db, `SELECT 1 FROM ${quoteIdent(s.table)} WHERE ${where}`).get(bound) ? 1 : 0;
    } else {
      const sets = [...values.keys()].map((c) => `${quoteIdent(c)} = ?`).join(', ');
      changes = prepared(this.db, `UPDATE ${quoteIdent(s.table)} SET ${sets} WHERE ${where}`).run(...values.values(), bound).changes;
    }
    if (changes === 0) throw new RowRejection('record not found');
    return id;
  }

  /**
   * One more than the largest integer id: text in the column (an INTEGER
   * column may hold 'abc') is passed over, as `max` would take it for the
   * largest and give every new row id 1. Read as a BigInt, so an id above
   * 2^53 is not rounded onto an id that exists.
   */
  private nextIntegerId(): number | bigint {
    const s = this.schema;
    const c = quoteIdent(s.id.name);
    const row = this.db.prepare(`SELECT coalesce(max(CASE WHEN typeof(${c}) = 'integer' THEN ${c} END), 0) + 1 AS id FROM ${quoteIdent(s.table)}`)
      .safeIntegers(true).get() as { id: bigint };
    return row.id <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(row.id) : row.id;
  }

  private changeTime(): Stored {
    const s = this.schema;
    const col = s.updatedAt!;
    const newest = this.clock.fact(newestFact(s.table), () => {
      // A time past the horizon (9999-12-31) is not believed (read.ts): writing after it would spread it.
      const row = this.db.prepare(`SELECT max(t) AS ts FROM (SELECT ${changeTimeSql(col.name)} AS t FROM ${quoteIdent(s.table)}) ` +
        'WHERE t <= ?').get(futureHorizon()) as { ts: string | null };
      return row.ts ? parseDatetime(row.ts) ?? 0 : 0;
    });
    // One time for the whole batch: a time per row, each 1 ms after the last,
    // ran ahead of the clock on bulk writes (20,000 rows → 20 s in the
    // future), and a cursor saved from such a row skipped edits other
    // programs made meanwhile. Rows sharing a time are told apart by the
    // cursor's id and content hash.
    if (this.stamp === undefined) {
      this.stamp = this.clock.next(newest);
      this.stored = this.datetimeStored(this.stamp, col);
    }
    return this.stored;
  }

  private datetimeStored(ms: number, column: Column): Stored {
    if (!isNumericStorage(column)) return new Date(ms).toISOString();
    if (!this.usesEpochSeconds(column)) return ms;
    return column.affinity === 'integer' ? Math.floor(ms / 1000) : ms / 1000;
  }

  /** A numeric date column keeps the unit its values already use; an empty one gets milliseconds. */
  private usesEpochSeconds(column: Column): boolean {
    return this.clock.fact(`epochSeconds:${this.schema.table}.${column.name}`, () => {
      const c = quoteIdent(column.name);
      const row = this.db.prepare(`SELECT max(abs(${c})) AS m FROM ${quoteIdent(this.schema.table)} WHERE typeof(${c}) IN ('integer','real')`).get() as { m: number | null };
      return row.m !== null && row.m < 100_000_000_000;
    });
  }

  /** A checked canonical value in the column's storage. */
  private toStored(field: FieldSpec, value: Value, column: Column): Stored {
    if (value === null) return null;
    if (Array.isArray(value)) return listToText(value);
    if (typeof value === 'boolean') return column.affinity === 'text' ? String(value) : value ? 1 : 0;
    // An integer above 2^53 comes as its decimal string: stored as a 64-bit integer, digit for digit.
    if (isBigInteger(value) && isNumericStorage(column) && BigInt(value) >= -(2n ** 63n) && BigInt(value) < 2n ** 63n) return BigInt(value);
    if (field.type === 'datetime' && isNumericStorage(column)) return this.datetimeStored(Date.parse(value as string), column);
    if (field.type === 'date' && isNumericStorage(column)) return this.datetimeStored(Date.parse(`${value as string}T00:00:00Z`), column);
    return value;
  }
}
