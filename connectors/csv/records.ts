/**
 * Rows of a CSV file as canonical records and back: field specs from the
 * header (text unless the `fields:` block says otherwise), and ops applied to
 * the rows they name, recorded as writes not saved yet (file.ts `Overlay`).
 */
import type { Fields, FieldSpec, ObjectSpec, ReadOptions, SourceRecord, Value, WriteOp, WriteResult } from '../../src/connector.js';
import { assignRoles, fieldSpec, type ObjectConfigBase } from '../shared/object-config.js';
import { labelFor } from '../shared/roles.js';
import { canonicalToText, checkCanonical, RowRejection, toCanonical } from '../shared/values.js';
import { updatedCells, type Overlay } from './file.js';

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
    changes: 'each row against the last run\'s copy of it (a hash per row, kept beside the state): each run reads only the rows changed, added or removed',
    // A read from a cursor lists the rows changed since, and the rows gone as deleted, where the row hashes
    // of its version are kept (row-hashes.ts); else the whole file, `relisted`.
    capabilities: { create: true, update: true, changeCursor: true, reportsDeletions: true, deletionsFromListing: true, conditionalUpdate: true },
  };
}

/** The columns of the file as a write leaves them, and where the id is. */
export interface CsvColumns { header: string[]; idColumn: number }

/** A converter from rows of this file to records with the wanted fields and associations. */
export function recordReader(cfg: ObjectConfigBase, csv: CsvColumns, fields: FieldSpec[], opts: Omit<ReadOptions, 'since'>):
  (row: string[]) => SourceRecord {
  const wanted = (opts.fields.length > 0 ? fields.filter((f) => opts.fields.includes(f.name)) : fields)
    .map((f) => ({ name: f.name, type: f.type, col: csv.header.indexOf(f.name) }));
  const assocs = cfg.associations.filter((a) => !opts.associations || opts.associations.includes(a.name))
    .map((a) => ({ name: a.name, col: csv.header.indexOf(a.field) }));
  return (row) => {
    const out: Record<string, Value> = {};
    for (const f of wanted) out[f.name] = f.col < 0 ? null : toCanonical(row[f.col] ?? '', f.type);
    const record: SourceRecord = { id: row[csv.idColumn]!.trim(), fields: out };
    if (assocs.length > 0) {
      record.associations = {};
      for (const a of assocs) {
        const v = a.col < 0 ? '' : (row[a.col] ?? '').trim();
        record.associations[a.name] = v ? [v] : [];
      }
    }
    return record;
  };
}

/**
 * The rows a batch of writes works on, as the file will hold them once
 * saved: `rows` the rows of the records the ops name (fetched by id), the
 * header with the columns added so far.
 */
export interface WriteView extends CsvColumns {
  rows: Map<string, string[]>;
  /** The next id for a created row. */
  newId(): string;
}

/** The first field of `expect` the row no longer holds (canonical values, compared exactly), if any. */
function changedField(header: string[], fields: Map<string, FieldSpec>, row: string[], expect: Fields): string | undefined {
  return Object.keys(expect).find((name) => {
    const spec = fields.get(name);
    const col = header.indexOf(name);
    if (!spec || col < 0) return false;
    return JSON.stringify(toCanonical(row[col] ?? '', spec.type) ?? null) !== JSON.stringify(expect[name] ?? null);
  });
}

/**
 * Applies ops to the rows in `view` and records them in `overlay` (each
 * updated cell with the text it held before); the file is saved later
 * (`saveCsv`). Each op is checked in full before it changes anything, so a
 * refused op leaves no trace. Answers whether something changed.
 */
export function applyOps(cfg: ObjectConfigBase, view: WriteView, overlay: Overlay, ops: WriteOp[]): { results: WriteResult[]; changed: boolean } {
  const fields = new Map(csvFields(cfg, view.header).map((f) => [f.name, f]));
  const column = (name: string) => {
    let i = view.header.indexOf(name);
    if (i < 0) {
      i = view.header.push(name) - 1;
      overlay.added.push(name);
    }
    return i;
  };
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
      if (op.kind === 'update') {
        const row = view.rows.get(op.id);
        if (row === undefined) throw new RowRejection('record not found');
        const moved = op.expect && changedField(view.header, fields, row, op.expect);
        if (moved) return { ref: op.ref, ok: false, reason: `changed since it was read (${moved}); read again next pass`, changed: true };
        // A row created in this pass is written as created; a row of the file keeps each cell's text before.
        const created = overlay.created.has(op.id);
        const done = created ? [] : updatedCells(overlay.updates.get(op.id));
        for (const [name, text] of cells) {
          if (text === '' && !view.header.includes(name)) continue; // no column needed for an empty value
          const col = column(name);
          if (created) overlay.created.edit(op.id, name, text);
          else {
            // The text before the pass's first write of the cell: what the saved file is checked against.
            let k = 0;
            while (k < done.length && done[k] !== name) k += 3;
            if (k < done.length) done[k + 2] = text;
            else done.push(name, row[col] ?? '', text);
          }
          row[col] = text;
        }
        if (!created && done.length > 0) overlay.updates.set(op.id, JSON.stringify(done));
        changed ||= cells.size > 0;
        return { ref: op.ref, ok: true, id: op.id };
      }
      const id = view.newId();
      const row = view.header.map(() => '');
      row[view.idColumn] = id;
      const made = new Map<string, string>();
      for (const [name, text] of cells) {
        if (text === '' && !view.header.includes(name)) continue;
        row[column(name)] = text;
        made.set(name, text);
      }
      overlay.created.add(id, made);
      view.rows.set(id, row);
      changed = true;
      return { ref: op.ref, ok: true, id };
    } catch (err) {
      if (err instanceof RowRejection) return { ref: op.ref, ok: false, reason: err.message };
      throw err;
    }
  });
  return { results, changed };
}
