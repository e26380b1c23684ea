/**
 * Reference columns: fields that hold the id of another record (a declared
 * SQLite foreign key, `company_id`, `accountId`, `owner_ref`). Their values
 * are ids of one app's id space: written into the other app they point at the
 * wrong records, so they are never default-mapped as plain fields; links
 * between records travel as associations (SPEC §4), translated through links.
 */
import type { FieldSpec } from '../connector.js';

/** A name that reads as an id of another record (not the record's own `id`). */
export const looksLikeReference = (name: string): boolean =>
  (/(^|_)id$/i.test(name) && name.toLowerCase() !== 'id') || /[a-z]Id$/.test(name) || /_ref$/i.test(name);

/** Whether a field refers to another record: declared by its app (`reference`) or named like one. */
export const isReference = (f: FieldSpec): boolean => f.reference !== undefined || looksLikeReference(f.name);
