/**
 * Resolves each configured object against its table: which column is the id,
 * which one the change cursor, which ones hold associations, and the field
 * specs (column types with the `fields:` block on top). Anything named in the
 * config that the table lacks is a config error.
 */
import type { FieldSpec, FieldType, ObjectSpec } from '../../src/connector.js';
import { configError } from '../../src/errors.js';
import { assignRoles, columnFieldSpec, type AssociationConfig, type ObjectConfigBase } from '../shared/object-config.js';
import { labelFor } from '../shared/roles.js';
import { quoteIdent, type Db } from './database.js';
import { hasTriggers } from './triggers.js';

export type Affinity = 'integer' | 'text' | 'blob' | 'real' | 'numeric';

export interface Column {
  name: string;
  declared: string;
  affinity: Affinity;
  notNull: boolean;
  hasDefault: boolean;
}

export interface TableSchema {
  object: string;
  table: string;
  id: Column;
  /** The id is the rowid: SQLite assigns it on insert. */
  idIsRowid: boolean;
  /** The table has a rowid (not WITHOUT ROWID), so an inserted row can be found again. */
  hasRowid: boolean;
  updatedAt?: Column;
  /** datasync's triggers keep `updatedAt` current (triggers.ts): the change cursor misses nothing. */
  touched: boolean;
  fields: FieldSpec[];
  fieldsByName: Map<string, FieldSpec>;
  columns: Map<string, Column>;
  associations: AssociationConfig[];
}

export interface SqliteObjectConfig extends ObjectConfigBase {
  table: string;
  updatedAt?: string;
}

/** Ids arrive as strings; an integer id column gets a number so comparisons and inserts keep their type. */
export function bindId(id: string, column: Column): number | string | bigint {
  if (column.affinity !== 'integer') return id;
  if (/^-?\d{1,15}$/.test(id)) return Number(id);
  // Above 2^53 a double would round it: bound as a 64-bit integer, digit for digit.
  return /^-?\d{16,19}$/.test(id) && BigInt(id) >= -(2n ** 63n) && BigInt(id) < 2n ** 63n ? BigInt(id) : id;
}

/** SQLite's column affinity rules (https://sqlite.org/datatype3.html §3.1). */
export function affinityOf(declared: string): Affinity {
  const t = declared.toUpperCase();
  if (t.includes('INT')) return 'integer';
  if (/CHAR|CLOB|TEXT/.test(t)) return 'text';
  if (t === '' || t.includes('BLOB')) return 'blob';
  if (/REAL|FLOA|DOUB/.test(t)) return 'real';
  return 'numeric';
}

/** The field type a column's declared type suggests. */
export function fieldTypeOf(declared: string): FieldType {
  const t = declared.toUpperCase();
  if (/\b(BOOLEAN|BOOL|BIT)\b/.test(t)) return 'boolean';
  if (/DATETIME|TIMESTAMP/.test(t)) return 'datetime';
  if (/\bDATE\b/.test(t)) return 'date';
  if (/INT|REAL|FLOA|DOUB|NUMERIC|DECIMAL|NUMBER|MONEY/.test(t)) return 'number';
  return 'text';
}

interface XInfoRow { name: string; type: string; notnull: number; dflt_value: unknown; pk: number; hidden: number }

function uniqueColumns(db: Db, table: string): Set<string> {
  const out = new Set<string>();
  const indexes = db.prepare(`PRAGMA index_list(${quoteIdent(table)})`).all() as { name: string; unique: number }[];
  for (const idx of indexes) {
    if (!idx.unique) continue;
    const cols = db.prepare(`PRAGMA index_info(${quoteIdent(idx.name)})`).all() as { name: string | null }[];
    if (cols.length === 1 && cols[0]!.name) out.add(cols[0]!.name);
  }
  return out;
}

/** The single-column foreign keys of a table: column → referenced table. */
export function foreignKeys(db: Db, table: string): { from: string; table: string }[] {
  const rows = db.prepare(`SELECT id, "from", "table" FROM pragma_foreign_key_list(?)`).all(table) as { id: number; from: string; table: string }[];
  const columns = new Map<number, number>();
  for (const r of rows) columns.set(r.id, (columns.get(r.id) ?? 0) + 1);
  return rows.filter((r) => columns.get(r.id) === 1).map((r) => ({ from: r.from, table: r.table }));
}

export function resolveTable(db: Db, connection: string, file: string, cfg: SqliteObjectConfig): TableSchema {
  const where = `connection ${connection}, object ${cfg.name}`;
  const info = db.prepare(`PRAGMA table_xinfo(${quoteIdent(cfg.table)})`).all() as XInfoRow[];
  if (info.length === 0) {
    const tables = (db.prepare(`SELECT name FROM sqlite_master WHERE type IN ('table','view') AND name NOT LIKE 'sqlite_%' ORDER BY name`).all() as { name: string }[]).map((r) => r.name);
    throw configError('SQLITE_TABLE_MISSING', `${where}: table ${cfg.table} does not exist in ${file}`, {
      hint: `set \`objects.${cfg.name}.table\` to one of: ${tables.join(', ') || '(the database has no tables)'}`,
    });
  }
  const visible = info.filter((c) => c.hidden !== 1);
  const columns = new Map<string, Column>(visible.map((c) => [c.name, {
    name: c.name, declared: c.type, affinity: affinityOf(c.type), notNull: c.notnull === 1, hasDefault: c.dflt_value !== null,
  }]));
  const need = (name: string, key: string): Column => {
    const col = columns.get(name);
    if (!col) {
      throw configError('SQLITE_COLUMN_MISSING', `${where}: table ${cfg.table} has no column ${name}`, {
        hint: `check \`objects.${cfg.name}.${key}\`; the columns are: ${[...columns.keys()].join(', ')}`,
      });
    }
    return col;
  };
  const id = need(cfg.id, 'id');
  const updatedAt = cfg.updatedAt === undefined ? undefined : need(cfg.updatedAt, 'updated_at');
  for (const a of cfg.associations) need(a.field, `associations.${a.name}.field`);
  for (const f of Object.keys(cfg.fields)) need(f, `fields.${f}`);

  const ddl = (db.prepare(`SELECT sql FROM sqlite_master WHERE name = ?`).get(cfg.table) as { sql: string | null } | undefined)?.sql ?? '';
  const hasRowid = !/WITHOUT\s+ROWID/i.test(ddl);
  const pkCount = info.filter((c) => c.pk > 0).length;
  const idRow = info.find((c) => c.name === cfg.id)!;
  const idIsRowid = hasRowid && pkCount === 1 && idRow.pk === 1 && idRow.type.toUpperCase() === 'INTEGER';

  const generated = new Set(info.filter((c) => c.hidden === 2 || c.hidden === 3).map((c) => c.name));
  const unique = uniqueColumns(db, cfg.table);
  const notFields = new Set([cfg.id, ...cfg.associations.map((a) => a.field)]);
  const fields = assignRoles(cfg.name, visible.filter((c) => !notFields.has(c.name)).map((c) => {
    return columnFieldSpec(cfg, c.name, fieldTypeOf(c.type), { readOnly: generated.has(c.name), unique: unique.has(c.name) });
  }));
  // Declared foreign keys: ids of other records, never default-mapped (src/mapping/references.ts).
  for (const fk of foreignKeys(db, cfg.table)) {
    const f = fields.find((x) => x.name === fk.from);
    if (f) f.reference = fk.table;
  }
  return {
    object: cfg.name, table: cfg.table, id, idIsRowid, hasRowid, updatedAt, touched: updatedAt !== undefined && hasTriggers(db, cfg.table), fields,
    fieldsByName: new Map(fields.map((f) => [f.name, f])), columns, associations: cfg.associations,
  };
}

export function objectSpec(schema: TableSchema): ObjectSpec {
  return {
    name: schema.object,
    label: labelFor(schema.object),
    fields: schema.fields,
    associations: schema.associations.map((a) => ({ name: a.name, object: a.object, single: true })),
    capabilities: {
      create: true, update: true, changeCursor: schema.updatedAt !== undefined, conditionalUpdate: true,
      cursorMisses: schema.updatedAt !== undefined && !schema.touched,
    },
    changes: changesText(schema),
  };
}

/** How changes are found, for `connect` and `configure` (SPEC §7: say it for each table). */
export function changesText(schema: Pick<TableSchema, 'table' | 'updatedAt' | 'touched'>): string {
  if (!schema.updatedAt) return `comparing the whole table ${schema.table} with the last run, every run (no updated_at column)`;
  const col = schema.updatedAt.name;
  if (schema.touched) return `the ${col} column, kept current by datasync's triggers on ${schema.table}: every UPDATE and INSERT counts`;
  return `the ${col} column; an edit that leaves ${col} as it was is found by the full comparison ` +
    'every `reconcile` (1h by default), or at once after `datasync connect sqlite --install-triggers` installs triggers that keep it current';
}
