/**
 * Writing a batch of ops to a table: one transaction per batch and a SAVEPOINT
 * per op, so an op SQLite refuses (NOT NULL, UNIQUE, CHECK, a value of the
 * wrong type) fails alone while the others are applied.
 */
import { randomUUID } from 'node:crypto';
import type { FieldSpec, Value, WriteOp, WriteResult } from '../../src/connector.js';
import { checkCanonical, listToText, parseDatetime, RowRejection } from '../shared/values.js';
import { isRowLevelSqliteError, quoteIdent, type Db } from './database.js';
import { changeTimeSql } from './read.js';
import { bindId, type Column, type TableSchema } from './schema.js';

type Stored = string | number | null;

/**
 * Change times written by this connector: ms precision and strictly after both
 * the last one it wrote and the newest one in the table, so a saved cursor
 * never sits after a later write.
 */
export class ChangeClock {
  private last = 0;
  next(newestInTable: number): number {
    this.last = Math.max(Date.now(), this.last + 1, newestInTable + 1);
    return this.last;
  }
}

const isNumericStorage = (c: Column) => c.affinity === 'integer' || c.affinity === 'real';

export class TableWriter {
  private epochSeconds = new Map<string, boolean>();
  /** Newest change time in the table when the batch began (ms), read once per batch. */
  private newest: number | undefined;

  constructor(private readonly db: Db, private readonly schema: TableSchema, private readonly clock: ChangeClock) {}

  write(ops: WriteOp[]): WriteResult[] {
    this.epochSeconds.clear();
    this.newest = undefined;
    const one = this.db.transaction((op: WriteOp) => this.apply(op));
    const all = this.db.transaction((list: WriteOp[]) => list.map((op): WriteResult => {
      try {
        return { ref: op.ref, ok: true, id: one(op) };
      } catch (err) {
        if (err instanceof RowRejection || isRowLevelSqliteError(err)) return { ref: op.ref, ok: false, reason: err.message };
        throw err;
      }
    }));
    return all.immediate(ops);
  }

  private apply(op: WriteOp): string {
    const values = this.rowValues(op);
    return op.kind === 'create' ? this.insert(values) : this.update(op.id, values);
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
    const info = this.db.prepare(sql).run(...values.values());
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
      changes = this.db.prepare(`SELECT 1 FROM ${quoteIdent(s.table)} WHERE ${where}`).get(bound) ? 1 : 0;
    } else {
      const sets = [...values.keys()].map((c) => `${quoteIdent(c)} = ?`).join(', ');
      changes = this.db.prepare(`UPDATE ${quoteIdent(s.table)} SET ${sets} WHERE ${where}`).run(...values.values(), bound).changes;
    }
    if (changes === 0) throw new RowRejection('record not found');
    return id;
  }

  private nextIntegerId(): number {
    const s = this.schema;
    const row = this.db.prepare(`SELECT coalesce(max(${quoteIdent(s.id.name)}), 0) + 1 AS id FROM ${quoteIdent(s.table)}`).get() as { id: number };
    return row.id;
  }

  private changeTime(): Stored {
    const s = this.schema;
    const col = s.updatedAt!;
    if (this.newest === undefined) {
      const row = this.db.prepare(`SELECT max(${changeTimeSql(col.name)}) AS ts FROM ${quoteIdent(s.table)}`).get() as { ts: string | null };
      this.newest = row.ts ? parseDatetime(row.ts) ?? 0 : 0;
    }
    const ms = this.clock.next(this.newest);
    return this.datetimeStored(ms, col);
  }

  private datetimeStored(ms: number, column: Column): Stored {
    if (!isNumericStorage(column)) return new Date(ms).toISOString();
    if (!this.usesEpochSeconds(column)) return ms;
    return column.affinity === 'integer' ? Math.floor(ms / 1000) : ms / 1000;
  }

  /** A numeric date column keeps the unit its values already use; an empty one gets milliseconds. */
  private usesEpochSeconds(column: Column): boolean {
    let seconds = this.epochSeconds.get(column.name);
    if (seconds === undefined) {
      const c = quoteIdent(column.name);
      const row = this.db.prepare(`SELECT max(abs(${c})) AS m FROM ${quoteIdent(this.schema.table)} WHERE typeof(${c}) IN ('integer','real')`).get() as { m: number | null };
      seconds = row.m !== null && row.m < 100_000_000_000;
      this.epochSeconds.set(column.name, seconds);
    }
    return seconds;
  }

  /** A checked canonical value in the column's storage. */
  private toStored(field: FieldSpec, value: Value, column: Column): Stored {
    if (value === null) return null;
    if (Array.isArray(value)) return listToText(value);
    if (typeof value === 'boolean') return column.affinity === 'text' ? String(value) : value ? 1 : 0;
    if (field.type === 'datetime' && isNumericStorage(column)) return this.datetimeStored(Date.parse(value as string), column);
    if (field.type === 'date' && isNumericStorage(column)) return this.datetimeStored(Date.parse(`${value as string}T00:00:00Z`), column);
    return value;
  }
}
