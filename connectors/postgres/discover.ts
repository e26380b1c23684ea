/**
 * For `datasync connect postgres`: the tables of the database as objects
 * (single-column primary key as `id`, a timestamp column named like
 * `updated_at` as change column, declared foreign keys to other listed tables
 * as associations), how changes will be found in each, and, with the user's
 * consent, the change-log triggers (changelog.ts).
 */
import { configError } from '../../src/errors.js';
import { installSql, triggerInstalled } from './changelog.js';
import { splitTable } from './config.js';
import type { Queryable } from './database.js';

type Block = Record<string, unknown>;

export interface DiscoveredObject {
  name: string;
  schema: string;
  table: string;
  block: Block;
  /** How changes are found, in words (connect and health show it). */
  changes: string;
}

const UPDATED_AT = /^(updated_at|modified_at|updated|modified|last_modified|changed_at)$/i;

export function changesText(mode: 'triggers' | 'updated_at' | 'scan', column?: string): string {
  if (mode === 'triggers') return 'change log (trigger): every insert, update and delete, read in order; deletions listed';
  if (mode === 'updated_at') return `updated_at cursor on ${column}: edits that do not bump it are not seen`;
  return 'full scan with fingerprints each pass (no updated_at column, no change-log trigger: `datasync postgres install-triggers`)';
}

export async function listTables(db: Queryable): Promise<string[]> {
  const r = await db.query<{ t: string }>(`SELECT table_schema || '.' || table_name AS t FROM information_schema.tables
    WHERE table_schema NOT IN ('pg_catalog', 'information_schema') AND table_type IN ('BASE TABLE', 'VIEW') AND table_name <> 'datasync_changes' ORDER BY 1`);
  return r.rows.map((x) => x.t);
}

/** `contacts=crm.people` → ['contacts', 'crm.people']; `crm.people` → ['people', 'crm.people']. */
function parseObjectFlag(flag: string): [string, string] {
  const [name, target] = flag.split('=', 2).map((s) => s.trim());
  if (!name) throw configError('BAD_OBJECT', `--object ${flag}: expected NAME or NAME=SCHEMA.TABLE`, { hint: 'e.g. --object contacts=crm.people' });
  return target ? [name, target] : [name.includes('.') ? name.slice(name.indexOf('.') + 1) : name, name];
}

export async function discover(db: Queryable, flags: string[], opts: { installTriggers: boolean; defaultSchema?: string }): Promise<DiscoveredObject[]> {
  const tables = await listTables(db);
  const defaultSchema = opts.defaultSchema ?? 'public';
  const wanted = flags.length > 0 ? flags.map(parseObjectFlag)
    : tables.filter((t) => t.startsWith(`${defaultSchema}.`) || !tables.some((u) => u.startsWith(`${defaultSchema}.`)))
      .map((t): [string, string] => [t.slice(t.indexOf('.') + 1), t]);
  const byTable = new Map<string, string>();
  const out: DiscoveredObject[] = [];
  for (const [name, target] of wanted) {
    const [schema, table] = splitTable(target, defaultSchema);
    if (!tables.includes(`${schema}.${table}`)) {
      throw configError('NO_TABLE', `the database has no table ${schema}.${table} (object ${name})`, { hint: `tables there: ${tables.join(', ') || 'none'}` });
    }
    byTable.set(`${schema}.${table}`, name);
    out.push({ name, schema, table, block: { table: schema === defaultSchema ? table : `${schema}.${table}` }, changes: '' });
  }
  for (const o of out) {
    const cols = (await db.query<{ name: string; type: string; pk: boolean }>(`SELECT a.attname AS name, t.typname AS type,
        coalesce(a.attnum = ANY(i.indkey) AND i.indnatts = 1, false) AS pk
      FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
      JOIN pg_type t ON t.oid = a.atttypid LEFT JOIN pg_index i ON i.indrelid = c.oid AND i.indisprimary
      WHERE n.nspname = $1 AND c.relname = $2 AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum`, [o.schema, o.table])).rows;
    const pk = cols.filter((c) => c.pk);
    if (pk.length === 1 && pk[0]!.name !== 'id') o.block.id = pk[0]!.name;
    const changed = cols.find((c) => UPDATED_AT.test(c.name) && (c.type === 'timestamptz' || c.type === 'timestamp'));
    if (changed) o.block.updated_at = changed.name;
    const fks = (await db.query<{ col: string; ref: string }>(`SELECT a.attname AS col, rn.nspname || '.' || rc.relname AS ref
      FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
      JOIN pg_class rc ON rc.oid = k.confrelid JOIN pg_namespace rn ON rn.oid = rc.relnamespace
      JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.conkey[1]
      WHERE k.contype = 'f' AND array_length(k.conkey, 1) = 1 AND n.nspname = $1 AND c.relname = $2`, [o.schema, o.table])).rows;
    const assocs: Block = {};
    for (const fk of fks) {
      const other = byTable.get(fk.ref);
      if (other) assocs[fk.col.replace(/_id$/i, '') || fk.col] = { field: fk.col, object: other };
    }
    if (Object.keys(assocs).length > 0) o.block.associations = assocs;
    const idColumn = (o.block.id as string | undefined) ?? 'id';
    if (opts.installTriggers) for (const sql of installSql(o.schema, o.table, idColumn)) await db.query(sql);
    const triggers = await triggerInstalled(db, o.schema, o.table);
    o.changes = triggers ? changesText('triggers') : changed ? changesText('updated_at', changed.name) : changesText('scan');
  }
  if (out.length === 0) throw configError('NO_TABLE', 'the database has no tables', { hint: 'create a table per object first, or name them with --object NAME=SCHEMA.TABLE' });
  return out;
}
