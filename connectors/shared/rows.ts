/** A database row as a SourceRecord: the sqlite and postgres connectors share it. */
import type { FieldSpec, ReadOptions, SourceRecord, Value } from '../../src/connector.js';
import type { AssociationConfig } from './object-config.js';
import { toCanonical } from './values.js';

/** What a table's schema tells about its rows (both connectors' TableSchema has it). */
export interface RowSchema {
  id: { name: string };
  fields: FieldSpec[];
  fieldsByName: Map<string, FieldSpec>;
  associations: AssociationConfig[];
}

/**
 * The record of a row: the id column as text, the wanted fields (every field
 * when `opts.fields` is empty) in canonical form, and each association column
 * as a list of at most one related id.
 */
export function rowToRecord(row: Record<string, unknown>, schema: RowSchema, opts: Pick<ReadOptions, 'fields' | 'associations'>): SourceRecord {
  const wanted = opts.fields.length > 0 ? opts.fields : schema.fields.map((f) => f.name);
  const fields: Record<string, Value> = {};
  for (const name of wanted) {
    const spec = schema.fieldsByName.get(name);
    if (spec) fields[name] = toCanonical(row[name], spec.type);
  }
  const record: SourceRecord = { id: String(row[schema.id.name]), fields };
  const assocs = schema.associations.filter((a) => !opts.associations || opts.associations.includes(a.name));
  if (assocs.length > 0) {
    record.associations = {};
    for (const a of assocs) {
      const v = row[a.field];
      record.associations[a.name] = v === null || v === undefined || v === '' ? [] : [String(v)];
    }
  }
  return record;
}
