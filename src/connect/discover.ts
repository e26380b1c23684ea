/**
 * The objects of a SQLite file or a folder of CSV files, for
 * `connect sqlite|csv --path`: each table (or `NAME.csv`) becomes an object
 * of the same name unless `--object NAME=TABLE` says otherwise.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { configError } from '../errors.js';
import { affinityOf, foreignKeys } from '../../connectors/sqlite/schema.js';
import { installTriggers as installTriggers_ } from '../../connectors/sqlite/triggers.js';

type Block = Record<string, unknown>;

/** `contacts=people` → ['contacts', 'people']; `contacts` → ['contacts', 'contacts']. */
function parseObjectFlag(flag: string): [string, string] {
  const [name, target] = flag.split('=', 2).map((s) => s.trim());
  if (!name) throw configError('BAD_OBJECT', `--object ${flag}: expected NAME or NAME=TABLE`, { hint: 'e.g. --object contacts=people' });
  return [name, target || name];
}

export async function discoverObjects(app: 'sqlite' | 'csv', abs: string, flags: string[], installTriggers = false): Promise<Block> {
  return app === 'sqlite' ? sqliteObjects(abs, flags, installTriggers) : csvObjects(abs, flags);
}

async function sqliteObjects(file: string, flags: string[], installTriggers: boolean): Promise<Block> {
  if (!existsSync(file)) {
    throw configError('NO_DATABASE', `no SQLite database at ${file}`, { hint: 'give the database file with --path' });
  }
  const { default: Database } = await import('better-sqlite3');
  let db;
  try {
    db = new Database(file, { readonly: !installTriggers, fileMustExist: true });
  } catch (err) {
    throw configError('NO_DATABASE', `${file} cannot be opened as a SQLite database: ${(err as Error).message}`);
  }
  try {
    const tables = (db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name`).all() as { name: string }[]).map((t) => t.name);
    const wanted = flags.length > 0 ? flags.map(parseObjectFlag) : tables.map((t): [string, string] => [t, t]);
    const objects: Record<string, Block> = {};
    for (const [name, table] of wanted) {
      if (!tables.includes(table)) {
        throw configError('NO_TABLE', `${file} has no table "${table}" (object ${name})`, { hint: `tables there: ${tables.join(', ') || 'none'}` });
      }
      const cols = db.prepare(`SELECT name, pk, type FROM pragma_table_info(?)`).all(table) as { name: string; pk: number; type: string }[];
      const types = new Map(cols.map((c) => [c.name, c.type]));
      const pks = cols.filter((c) => c.pk > 0);
      const block: Block = { table };
      if (pks.length === 1 && pks[0]!.name !== 'id') block.id = pks[0]!.name;
      const changed = cols.find((c) => /^(updated_at|modified_at|updated|modified|last_modified)$/i.test(c.name));
      if (changed) block.updated_at = changed.name;
      // With consent only: the triggers change the user's database.
      if (changed && installTriggers) {
        const col = (c: string) => ({ name: c, declared: '', affinity: affinityOf(types.get(c) ?? ''), notNull: false, hasDefault: false });
        installTriggers_(db, table, col(changed.name), pks.length === 1 ? pks[0]!.name : undefined);
      }
      objects[name] = block;
    }
    if (Object.keys(objects).length === 0) throw configError('NO_TABLE', `${file} has no tables`, { hint: 'create a table per object first' });
    offerAssociations(db, wanted, objects);
    return { path: file, objects };
  } finally {
    db.close();
  }
}

/**
 * Declared foreign keys to the table of another object become associations
 * (`company_id` → `associations: { company: { field: company_id, object: companies } }`):
 * links kept through the links of that object's sync, never a plain field of ids.
 */
function offerAssociations(db: import('better-sqlite3').Database, wanted: [string, string][], objects: Record<string, Block>): void {
  const objectOf = new Map(wanted.map(([name, table]) => [table, name]));
  for (const [name, table] of wanted) {
    const associations: Record<string, Block> = {};
    for (const fk of foreignKeys(db, table)) {
      const target = objectOf.get(fk.table);
      if (!target || target === name) continue; // not an object of this connection, or a record of its own kind
      const assoc = fk.from.replace(/_?id$/i, '') || target;
      associations[assoc] = { field: fk.from, object: target };
    }
    if (Object.keys(associations).length > 0) objects[name]!.associations = associations;
  }
}

function csvObjects(target: string, flags: string[]): Block {
  const isFile = existsSync(target) && statSync(target).isFile();
  const dir = isFile ? path.dirname(target) : target;
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw configError('NO_FOLDER', `no folder at ${dir}`, { hint: 'give the folder of the CSV files (or one CSV file) with --path' });
  }
  const files = readdirSync(dir).filter((f) => f.toLowerCase().endsWith('.csv')).sort();
  const wanted = flags.length > 0
    ? flags.map((f) => { const [n, t] = parseObjectFlag(f); return [n, t === n ? `${n}.csv` : t] as [string, string]; })
    : (isFile ? [path.basename(target)] : files).map((f): [string, string] => [f.replace(/\.csv$/i, ''), f]);
  const objects: Record<string, Block> = {};
  for (const [name, file] of wanted) {
    if (!files.includes(file)) throw configError('NO_FILE', `${dir} has no file "${file}" (object ${name})`, { hint: `CSV files there: ${files.join(', ') || 'none'}` });
    objects[name] = { file };
  }
  if (Object.keys(objects).length === 0) throw configError('NO_FILE', `${dir} has no CSV files`, { hint: 'write one NAME.csv per object, with a header row' });
  return { dir, objects };
}
