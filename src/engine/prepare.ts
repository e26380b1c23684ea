/**
 * Everything that can fail before the first write: connectors opened and
 * checked, objects described, mappings and filters validated. Problems of all
 * syncs are reported together as one configuration error.
 */
import type { Connector, ConnectorContext, KnownCursors, ObjectSpec } from '../connector.js';
import type { Config, SyncConfig } from '../config/types.js';
import { loadConnector } from '../connectors.js';
import { configError } from '../errors.js';
import { resolveMappings } from '../mapping/resolve.js';
import type { FieldMapping } from '../mapping/types.js';
import { validateFilters } from './filters.js';
import { append } from '../lists.js';

export interface PreparedSync {
  sync: SyncConfig;
  specs: { a: ObjectSpec; b: ObjectSpec };
  mappings: FieldMapping[];
}

export interface Prepared {
  connectors: Map<string, Connector>;
  syncs: PreparedSync[];
  close(): Promise<void>;
}

/** SPEC §4: companies, contacts, deals, then custom objects, so link targets are in step first. */
const ORDER = ['companies', 'contacts', 'deals'];
export function syncOrder(syncs: SyncConfig[]): SyncConfig[] {
  const rank = (s: SyncConfig) => (ORDER.includes(s.object) ? ORDER.indexOf(s.object) : ORDER.length);
  return syncs.map((s, i) => ({ s, i })).sort((x, y) => rank(x.s) - rank(y.s) || x.i - y.i).map((x) => x.s);
}

export function selectSyncs(config: Config, names: string[] | undefined): SyncConfig[] {
  if (!names || names.length === 0) return config.syncs;
  const unknown = names.filter((n) => !config.syncs.some((s) => s.name === n));
  if (unknown.length > 0) {
    throw configError('UNKNOWN_SYNC', `no sync named ${unknown.map((n) => `"${n}"`).join(', ')} in ${config.file}`,
      { hint: `syncs defined: ${config.syncs.map((s) => s.name).join(', ') || 'none'}` });
  }
  return config.syncs.filter((s) => names.includes(s.name));
}

export async function prepare(config: Config, syncs: SyncConfig[], ctx: ConnectorContext,
  credentials?: (name: string) => Record<string, unknown> | undefined, cursors?: (name: string) => KnownCursors | undefined): Promise<Prepared> {
  const connectors = new Map<string, Connector>();
  const close = async () => {
    await Promise.allSettled([...connectors.values()].map((c) => c.close()));
  };
  try {
    const used = [...new Set(syncs.flatMap((s) => s.between))];
    for (const name of used) {
      const conn = config.connections[name]!;
      const factory = await loadConnector(conn.app);
      connectors.set(name, factory.create({ ...credentials?.(name), ...conn }, ctx));
    }
    await Promise.all([...connectors].map(([name, c]) => c.check(cursors?.(name))));
    const described = new Map<string, ObjectSpec[]>();
    // Only the objects synced with each connection: reading the others may need permissions a run does not.
    const objectsOf = (name: string) => [...new Set(syncs.filter((s) => s.between.includes(name)).map((s) => s.object))];
    await Promise.all([...connectors].map(async ([name, c]) => described.set(name, await c.describe(objectsOf(name)))));

    const problems: string[] = [];
    const prepared: PreparedSync[] = [];
    for (const sync of syncs) {
      const spec = (conn: string) => {
        const found = described.get(conn)!.find((o) => o.name === sync.object);
        if (!found) {
          const have = described.get(conn)!.map((o) => o.name).join(', ') || 'none';
          problems.push(`${sync.where}: sync "${sync.name}": connection "${conn}" has no object "${sync.object}" (it has: ${have})`);
        }
        return found;
      };
      const a = spec(sync.between[0]);
      const b = spec(sync.between[1]);
      if (!a || !b) continue;
      const resolved = resolveMappings(sync, a, b);
      append(problems, resolved.problems);
      for (const [conn, objSpec] of [[sync.between[0], a], [sync.between[1], b]] as const) {
        append(problems, validateFilters(sync.filters[conn] ?? [], objSpec, conn));
      }
      append(problems, matchProblems(sync, { a, b }));
      if (resolved.mappings.length === 0) {
        problems.push(`${sync.where}: sync "${sync.name}" maps no field: the two apps share no standard or same-named field; add mappings.fields`);
      }
      prepared.push({ sync, specs: { a, b }, mappings: resolved.mappings });
    }
    if (problems.length > 0) {
      throw configError('CONFIG_INVALID', `${problems.length} problem${problems.length === 1 ? '' : 's'} in ${config.file}`, { problems });
    }
    return { connectors, syncs: prepared, close };
  } catch (err) {
    await close();
    throw err;
  }
}

/**
 * `match: {A: field, B: field}` must name a field of each app: an unknown one
 * would give every record an empty key, and every record would be created
 * again on the other side.
 */
function matchProblems(sync: SyncConfig, specs: { a: ObjectSpec; b: ObjectSpec }): string[] {
  if (typeof sync.match !== 'object') return [];
  const problems: string[] = [];
  for (const [side, conn] of [['a', sync.between[0]], ['b', sync.between[1]]] as const) {
    const field = sync.match[side];
    const spec = specs[side];
    if (!spec.fields.some((f) => f.name === field)) {
      problems.push(`${sync.where}: sync "${sync.name}": match field ${conn}.${field}: ${conn} has no field "${field}" on ${spec.name}; fields there: ${spec.fields.map((f) => f.name).join(', ')}`);
    }
  }
  return problems;
}
