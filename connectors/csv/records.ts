/**
 * Rows of a CSV file as canonical records and back: field specs from the
 * header (text unless the `fields:` block says otherwise), and ops applied to
 * the rows in memory, each checked in full before it changes anything so a
 * refused op leaves no trace.
 */
import { randomUUID } from 'node:crypto';
import type { Fields, FieldSpec, ObjectSpec, ReadOptions, SourceRecord, Value, WriteOp, WriteResult } from '../../src/connector.js';
import { assignRoles, fieldSpec, type ObjectConfigBase } from '../shared/object-config.js';
import { labelFor } from '../shared/roles.js';
import { canonicalToText, checkCanonical, RowRejection, toCanonical } from '../shared/values.js';
import type { CsvFile } from './file.js';

/** Header columns (minus id and association columns), then configured fields the file lacks so far. */
export function csvFields(cfg: ObjectConfigBase, header: string[]): FieldSpec[] {
  const notFields = new Set([cfg.id, ...cfg.associations.map((a) => a.field)]);
  const names = [...header, ...Object.keys(cfg.fields).filter((f) => !header.includes(f))].filter((n) => !notFields.has(n));
  return assignRoles(cfg.name, names.map((n) => fieldSpec(n, 'text', cfg.fields[n])));
}

export function csvObjectSpec(cfg: ObjectConfigBase, header: string[]): ObjectSpec {
  return {
    name: cfg.name,
    label: labelFor(cfg.name),
    fields: csvFields(cfg, header),
    associations: cfg.associations.map((a) => ({ name: a.name, object: a.object, single: true })),
    capabilities: { create: true, update: true, changeCursor: false, conditionalUpdate: true },
  };
}

/** A converter from rows of this file to records with the wanted fields and associations. */
export function recordReader(cfg: ObjectConfigBase, csv: CsvFile, fields: FieldSpec[], opts: Omit<ReadOptions, 'since'>):
  (row: string[]) => SourceRecord {
  const wanted = (opts.fields.length > 0 ? fields.filter((f) => opts.fields.includes(f.name)) : fields)
    .map((f) => ({ name: f.name, type: f.type, col: csv.header.indexOf(f.name) }));
  const assocs = cfg.associations.filter((a) => !opts.associations || opts.associations.includes(a.name))
    .map((a) => ({ name: a.name, col: csv.header.indexOf(a.field) }));
  return (row) => {
    const out: Record<string, Value> = {};
    for (const f of wanted) out[f.name] = f.col < 0 ? null : toCanonical(row[f.col], f.type);
    const record: SourceRecord = { id: row[csv.idColumn]!.trim(), fields: out };
    if (assocs.length > 0) {
      record.associations = {};
      for (const a of assocs) {
        const v = a.col < 0 ? '' : row[a.col]!.trim();
        record.associations[a.name] = v ? [v] : [];
      }
    }
    return record;
  };
}

/**
 * Numeric ids continue after the largest one; any other id means UUIDs. The
 * scan over every id is done once per parsed file (`csv.maxId`), not once per
 * write batch: a run writes a large file batch after batch.
 */
function nextId(csv: CsvFile): () => string {
  if (csv.maxId === undefined) {
    let max: number | null = 0;
    for (const id of csv.index.keys()) {
      if (!/^\d{1,15}$/.test(id)) {
        max = null;
        break;
      }
      max = Math.max(max, Number(id));
    }
    csv.maxId = max;
  }
  if (csv.maxId === null) return () => randomUUID();
  return () => String((csv.maxId = (csv.maxId as number) + 1));
}

/** The first field of `expect` the row no longer holds (canonical values, compared exactly), if any. */
function changedField(csv: CsvFile, fields: Map<string, FieldSpec>, row: string[], expect: Fields): string | undefined {
  return Object.keys(expect).find((name) => {
    const spec = fields.get(name);
    const col = csv.header.indexOf(name);
    if (!spec || col < 0) return false;
    return JSON.stringify(toCanonical(row[col], spec.type) ?? null) !== JSON.stringify(expect[name] ?? null);
  });
}

/**
 * A write as applied to the rows, so that it can be applied again to another
 * version of the file (`replayOps`): an update's cells with the text each
 * held before, a create's id and cells.
 */
export type Applied =
  | { kind: 'update'; id: string; cells: [column: string, before: string, after: string][] }
  | { kind: 'create'; id: string; cells: [column: string, text: string][] };

/** The index of a column, added (empty in every row) when the file lacks it. */
function columnOf(csv: CsvFile, name: string): number {
  let i = csv.header.indexOf(name);
  if (i < 0) {
    i = csv.header.push(name) - 1;
    for (const row of csv.rows) row.push('');
    if (csv.rowBytes) csv.rowBytes.length = 0; // every row has a new cell
  }
  return i;
}

/** Forgets the bytes of a changed row (only rows already serialized: a store far past the end would make the array sparse and slow). */
function touched(csv: CsvFile, rowIndex: number): void {
  if (csv.rowBytes && rowIndex < csv.rowBytes.length) csv.rowBytes[rowIndex] = undefined;
}

/**
 * Applies writes again to a version of the file another program changed
 * since they were first applied (before it was saved): an update's cell is
 * set only where that cell still holds the text it held before (else the
 * other program's value stays, and the next pass reads it as its change);
 * an update of a row no longer there is dropped (the next pass finds it
 * gone). Answers the id of a create another program's row holds now, if any:
 * then the writes cannot be saved as answered.
 */
export function replayOps(csv: CsvFile, applied: Applied[]): string | undefined {
  for (const a of applied) {
    if (a.kind === 'create') {
      if (csv.index.has(a.id)) return a.id;
      const rowIndex = csv.rows.push(csv.header.map(() => '')) - 1;
      csv.rows[rowIndex]![csv.idColumn] = a.id;
      csv.index.set(a.id, rowIndex);
      for (const [name, text] of a.cells) {
        if (text !== '' || csv.header.includes(name)) csv.rows[rowIndex]![columnOf(csv, name)] = text;
      }
      continue;
    }
    const rowIndex = csv.index.get(a.id);
    if (rowIndex === undefined) continue;
    for (const [name, before, after] of a.cells) {
      const col = csv.header.indexOf(name);
      if ((col < 0 ? '' : csv.rows[rowIndex]![col]) !== before || (col < 0 && after === '')) continue;
      csv.rows[rowIndex]![columnOf(csv, name)] = after;
      touched(csv, rowIndex);
    }
  }
  csv.maxId = undefined; // computed again from the ids now held
  return undefined;
}

/**
 * Applies ops to the rows in memory; the caller saves the file when
 * something changed. Each op that changed a row is added to `applied`.
 */
export function applyOps(cfg: ObjectConfigBase, csv: CsvFile, ops: WriteOp[], applied: Applied[] = []): { results: WriteResult[]; changed: boolean } {
  const fields = new Map(csvFields(cfg, csv.header).map((f) => [f.name, f]));
  const newId = nextId(csv);
  const column = (name: string) => columnOf(csv, name);
  let changed = false;
  const results = ops.map((op): WriteResult => {
    try {
      const cells = new Map<string, string>();
      for (const [name, value] of Object.entries(op.fields)) {
        if (name === cfg.id || cfg.associations.some((a) => a.field === name)) throw new RowRejection(`${name} is not a writable field`);
        const spec = fields.get(name) ?? fieldSpec(name, 'text', undefined);
        if (spec.readOnly) throw new RowRejection(`${name} is read-only`);
        cells.set(name, canonicalToText(checkCanonical(spec, value)));
      }
      for (const [name, ids] of Object.entries(op.associations ?? {})) {
        const assoc = cfg.associations.find((a) => a.name === name);
        if (!assoc) throw new RowRejection(`${cfg.name} has no association ${name}`);
        cells.set(assoc.field, ids[0] ?? '');
      }
      let rowIndex: number;
      let id: string;
      if (op.kind === 'update') {
        const found = csv.index.get(op.id);
        if (found === undefined) throw new RowRejection('record not found');
        const moved = op.expect && changedField(csv, fields, csv.rows[found]!, op.expect);
        if (moved) return { ref: op.ref, ok: false, reason: `changed since it was read (${moved}); read again next pass`, changed: true };
        rowIndex = found;
        id = op.id;
      } else {
        id = newId();
        rowIndex = csv.rows.push(csv.header.map(() => '')) - 1;
        csv.rows[rowIndex]![csv.idColumn] = id;
        csv.index.set(id, rowIndex);
      }
      const done: [string, string, string][] = [];
      for (const [name, text] of cells) {
        if (text === '' && !csv.header.includes(name)) continue; // no column needed for an empty value
        const col = column(name);
        done.push([name, csv.rows[rowIndex]![col]!, text]);
        csv.rows[rowIndex]![col] = text;
      }
      touched(csv, rowIndex);
      if (op.kind === 'create') applied.push({ kind: 'create', id, cells: done.map(([name, , text]) => [name, text]) });
      else if (done.length > 0) applied.push({ kind: 'update', id, cells: done });
      changed ||= op.kind === 'create' || cells.size > 0;
      return { ref: op.ref, ok: true, id };
    } catch (err) {
      if (err instanceof RowRejection) return { ref: op.ref, ok: false, reason: err.message };
      throw err;
    }
  });
  return { results, changed };
}
