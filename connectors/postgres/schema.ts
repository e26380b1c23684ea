/**
 * Resolves each configured object against its table in the catalog: the id
 * column, the change column, association columns, and field specs from the
 * column types (enum types as `select` with their labels, arrays of text as
 * `checkboxes`, generated and identity columns read-only), with the
 * `fields:` block on top. Anything named in the config that the table lacks
 * is a config error. Every identifier that reaches SQL is quoted.
 */
import type { FieldSpec, FieldType, ObjectSpec } from '../../src/connector.js';
import { configError } from '../../src/errors.js';
import { assignRoles, columnFieldSpec, type AssociationConfig } from '../shared/object-config.js';
import { labelFor } from '../shared/roles.js';
import type { PgObjectConfig } from './config.js';
import { changesText } from './discover.js';
import { qualified, quoteIdent, type Queryable } from './database.js';

/** How a column's values are read and written. */
export type Kind = 'text' | 'number' | 'money' | 'boolean' | 'date' | 'timestamp' | 'timestamptz' | 'enum' | 'textArray' | 'enumArray' | 'other';

export interface PgColumn {
  name: string;
  /** format_type(): the type as SQL spells it, quoted and qualified by the server. */
  declared: string;
  kind: Kind;
  hasDefault: boolean;
  readOnly: boolean;
  labels?: string[];
}

export type Mode = 'triggers' | 'updated_at' | 'scan';

export interface TableSchema {
  object: string;
  schema: string;
  table: string;
  /** "schema"."table" */
  qname: string;
  id: PgColumn;
  updatedAt?: PgColumn;
  mode: Mode;
  fields: FieldSpec[];
  fieldsByName: Map<string, FieldSpec>;
  columns: Map<string, PgColumn>;
  associations: AssociationConfig[];
  /** `expr AS "column"` for the id, association and field columns, giving canonical-ready values. */
  selectList: string;
}

interface CatalogColumn {
  name: string; declared: string; typname: string; typtype: string; elem: string | null; elemtype: string | null;
  hasdef: boolean; identity: string; generated: string; labels: string[] | null;
}

const COLUMNS_SQL = `
  SELECT a.attname AS name, format_type(a.atttypid, a.atttypmod) AS declared,
    coalesce(bt.typname, t.typname) AS typname, coalesce(bt.typtype, t.typtype) AS typtype,
    et.typname AS elem, et.typtype AS elemtype, a.atthasdef AS hasdef, a.attidentity::text AS identity, a.attgenerated::text AS generated,
    (SELECT array_agg(e.enumlabel::text ORDER BY e.enumsortorder) FROM pg_enum e WHERE e.enumtypid = coalesce(et.oid, bt.oid, t.oid)) AS labels
  FROM pg_attribute a
  JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
  JOIN pg_type t ON t.oid = a.atttypid
  LEFT JOIN pg_type bt ON t.typtype = 'd' AND bt.oid = t.typbasetype
  LEFT JOIN pg_type et ON et.oid = coalesce(bt.typelem, t.typelem) AND coalesce(bt.typcategory, t.typcategory) = 'A'
  WHERE n.nspname = $1 AND c.relname = $2 AND c.relkind IN ('r', 'p', 'v', 'f', 'm') AND a.attnum > 0 AND NOT a.attisdropped
  ORDER BY a.attnum`;

const UNIQUE_SQL = `
  SELECT a.attname AS name FROM pg_index i
  JOIN pg_class c ON c.oid = i.indrelid JOIN pg_namespace n ON n.oid = c.relnamespace
  JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = i.indkey[0]
  WHERE n.nspname = $1 AND c.relname = $2 AND i.indisunique AND i.indnatts = 1`;

function kindOf(c: CatalogColumn): Kind {
  if (c.typtype === 'e') return 'enum';
  if (c.elem) {
    if (c.elemtype === 'e') return 'enumArray';
    return ['text', 'varchar', 'bpchar', 'citext', 'name'].includes(c.elem) ? 'textArray' : 'other';
  }
  switch (c.typname) {
    case 'text': case 'varchar': case 'bpchar': case 'citext': case 'name': case 'uuid': return 'text';
    case 'int2': case 'int4': case 'int8': case 'numeric': case 'float4': case 'float8': case 'oid': return 'number';
    case 'money': return 'money';
    case 'bool': return 'boolean';
    case 'date': return 'date';
    case 'timestamp': return 'timestamp';
    case 'timestamptz': return 'timestamptz';
    default: return 'other';
  }
}

const FIELD_TYPE: Record<Kind, FieldType> = {
  text: 'text', number: 'number', money: 'number', boolean: 'boolean', date: 'date', timestamp: 'datetime', timestamptz: 'datetime',
  enum: 'select', textArray: 'checkboxes', enumArray: 'checkboxes', other: 'text',
};

/** SQL reading a column as the canonical form's raw material (toCanonical finishes it). */
export function readExpr(c: PgColumn, alias = 't'): string {
  const col = `${alias}.${quoteIdent(c.name)}`;
  switch (c.kind) {
    case 'number': case 'money': return `(${col})::numeric::float8`;
    case 'boolean': case 'textArray': return col;
    case 'enumArray': return `(${col})::text[]`;
    case 'date': return `to_char(${col}, 'YYYY-MM-DD')`;
    case 'timestamp': return `to_char(${col}, 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;
    case 'timestamptz': return `to_char(${col} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;
    default: return `(${col})::text`;
  }
}

/** A parameter cast to the column's type (money goes through numeric: it has no cast from float). */
export function paramExpr(c: PgColumn, n: number): string {
  return c.kind === 'money' ? `($${n}::numeric)::money` : `$${n}::${c.declared}`;
}

export async function resolveTable(db: Queryable, connection: string, cfg: PgObjectConfig, triggerOn: boolean): Promise<TableSchema> {
  const where = `connection ${connection}, object ${cfg.name}`;
  const rows = (await db.query<CatalogColumn>(COLUMNS_SQL, [cfg.schema, cfg.table])).rows;
  if (rows.length === 0) {
    const tables = (await db.query<{ t: string }>(
      `SELECT table_schema || '.' || table_name AS t FROM information_schema.tables WHERE table_schema NOT IN ('pg_catalog', 'information_schema') ORDER BY 1`)).rows.map((r) => r.t);
    throw configError('PG_TABLE_MISSING', `${where}: table ${cfg.schema}.${cfg.table} does not exist (or this user may not see it)`, {
      hint: `set \`objects.${cfg.name}.table\` to one of: ${tables.join(', ') || '(the database has no tables)'}`,
    });
  }
  const columns = new Map<string, PgColumn>(rows.map((c) => [c.name, {
    name: c.name, declared: c.declared, kind: kindOf(c), hasDefault: c.hasdef || c.identity !== '' || c.generated !== '',
    readOnly: c.identity !== '' || c.generated !== '', ...(c.labels ? { labels: c.labels } : {}),
  }]));
  const need = (name: string, key: string): PgColumn => {
    const col = columns.get(name);
    if (!col) {
      throw configError('PG_COLUMN_MISSING', `${where}: table ${cfg.schema}.${cfg.table} has no column ${name}`, {
        hint: `check \`objects.${cfg.name}.${key}\`; the columns are: ${[...columns.keys()].join(', ')}`,
      });
    }
    return col;
  };
  const id = need(cfg.id, 'id');
  const updatedAt = cfg.updatedAt === undefined ? undefined : need(cfg.updatedAt, 'updated_at');
  if (updatedAt && updatedAt.kind !== 'timestamp' && updatedAt.kind !== 'timestamptz') {
    throw configError('PG_UPDATED_AT_TYPE', `${where}: column ${updatedAt.name} is ${updatedAt.declared}, not a timestamp`, {
      hint: `\`objects.${cfg.name}.updated_at\` must name a timestamp or timestamptz column`,
    });
  }
  for (const a of cfg.associations) need(a.field, `associations.${a.name}.field`);
  for (const f of Object.keys(cfg.fields)) need(f, `fields.${f}`);
  if (cfg.changes === 'triggers' && !triggerOn) {
    throw configError('PG_NO_TRIGGERS', `${where}: \`changes: triggers\` but the change-log trigger is not on ${cfg.schema}.${cfg.table}`, {
      hint: 'run `datasync postgres install-triggers` (or `datasync connect postgres --install-triggers`) first',
    });
  }
  const mode: Mode = cfg.changes === 'scan' ? 'scan' : cfg.changes === 'updated_at' ? 'updated_at'
    : triggerOn ? 'triggers' : updatedAt ? 'updated_at' : 'scan';

  const unique = new Set((await db.query<{ name: string }>(UNIQUE_SQL, [cfg.schema, cfg.table])).rows.map((r) => r.name));
  const notFields = new Set([cfg.id, ...cfg.associations.map((a) => a.field)]);
  const fields = assignRoles(cfg.name, [...columns.values()].filter((c) => !notFields.has(c.name)).map((c) => {
    const spec = columnFieldSpec(cfg, c.name, FIELD_TYPE[c.kind], { readOnly: c.readOnly, unique: unique.has(c.name) });
    if (c.labels && !spec.options && (spec.type === 'select' || spec.type === 'checkboxes')) spec.options = c.labels.map((value) => ({ value }));
    return spec;
  }));
  const listed = [id, ...cfg.associations.map((a) => columns.get(a.field)!), ...fields.map((f) => columns.get(f.name)!)];
  const unique2 = [...new Map(listed.map((c) => [c.name, c])).values()];
  const asText = new Set([id.name, ...cfg.associations.map((a) => a.field)]);
  return {
    object: cfg.name, schema: cfg.schema, table: cfg.table, qname: qualified(cfg.schema, cfg.table), id, updatedAt, mode, fields,
    fieldsByName: new Map(fields.map((f) => [f.name, f])), columns, associations: cfg.associations,
    selectList: unique2.map((c) => `${asText.has(c.name) ? `(t.${quoteIdent(c.name)})::text` : readExpr(c)} AS ${quoteIdent(c.name)}`).join(', '),
  };
}

export function objectSpec(schema: TableSchema): ObjectSpec {
  return {
    name: schema.object,
    label: labelFor(schema.object),
    fields: schema.fields,
    associations: schema.associations.map((a) => ({ name: a.name, object: a.object, single: true })),
    changes: changesText(schema.mode, schema.updatedAt?.name),
    capabilities: { create: true, update: true, changeCursor: schema.mode !== 'scan', cursorMisses: schema.mode === 'updated_at', conditionalUpdate: true, ...(schema.mode === 'triggers' ? { reportsDeletions: true } : {}) },
  };
}
