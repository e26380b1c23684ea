/**
 * Cross-field rules and normalisation: what one node's schema cannot tell
 * (a sync naming connections that exist, a direction in the sync's own
 * connection names, unique sync names, …), and the resolved `Config`.
 * Every rule runs on whatever parts of the file are well-formed, so one
 * pass reports every problem.
 */
import path from 'node:path';
import type { ConnectionConfig } from '../connector.js';
import { z } from 'zod';
import { CONNECTOR_OPTIONS } from './connector-options.js';
import { parseDuration } from './duration.js';
import { DEFAULT_MESSAGE, closest, formatPath, issueProblems } from './issues.js';
import { fileSchema, mappingFieldSchema, syncSchema } from './schema.js';
import type { SyncInput } from './schema.js';
import type { ConfigSource, Path } from './source.js';
import type { Config, CustomMapping, Direction, FilterCondition, SyncConfig } from './types.js';
import { append } from '../lists.js';

type Raw = Record<string, unknown>;
const isRecord = (v: unknown): v is Raw => typeof v === 'object' && v !== null && !Array.isArray(v);

const RESERVED_CONNECTION_KEYS = ['name', 'baseDir'];
const MAPPING_OPTION_KEYS = ['values', 'direction'];

/** 'two-way' | 'A -> B' (spaces optional) in the two names → side form; null when neither. */
export function parseDirection(text: string, [a, b]: readonly [string, string]): Direction | null {
  const t = text.trim();
  if (t === 'two-way') return 'two-way';
  const m = /^(.+?)\s*->\s*(.+)$/.exec(t);
  const from = m?.[1]?.trim();
  const to = m?.[2]?.trim();
  if (from === a && to === b) return 'a-to-b';
  if (from === b && to === a) return 'b-to-a';
  return null;
}

const directionChoices = ([a, b]: readonly [string, string]) => `two-way, '${a} -> ${b}' or '${b} -> ${a}'`;

class Checker {
  readonly problems: string[] = [];
  constructor(readonly src: ConfigSource) {}
  /** A problem at the node of `at` (or at its key when `onKey`). */
  add(at: Path, message: string, onKey = false): void {
    this.problems.push(`${onKey ? this.src.keyAt(at) : this.src.at(at)}: ${message}`);
  }
}

/** Validates the plain value of the file; a Config when there is no problem at all. */
export function buildConfig(raw: unknown, src: ConfigSource, file: string): { config?: Config; problems: string[] } {
  const check = new Checker(src);
  const parsed = fileSchema.safeParse(raw, { error: () => DEFAULT_MESSAGE });
  if (!parsed.success) {
    for (const issue of parsed.error.issues) append(check.problems, issueProblems(issue, fileSchema, raw, src));
  }

  const top = isRecord(raw) ? raw : {};
  const connectionNames = isRecord(top.connections) ? Object.keys(top.connections) : [];
  checkReservedKeys(top.connections, check);
  checkConnectionOptions(top.connections, raw, check);
  const rawSyncs = Array.isArray(top.syncs) ? top.syncs : [];
  checkUniqueNames(rawSyncs, check);
  checkOneSyncPerPair(rawSyncs, check);
  const syncs = rawSyncs.map((s, i) => (isRecord(s) ? checkSync(s, ['syncs', i], connectionNames, check) : undefined));

  if (check.problems.length > 0 || !parsed.success) return { problems: check.problems };
  const data = parsed.data;
  const baseDir = path.dirname(file);
  const connections: Record<string, ConnectionConfig> = {};
  for (const [name, conn] of Object.entries(data.connections)) connections[name] = { ...conn, name, baseDir };
  return {
    problems: [],
    config: {
      file,
      baseDir,
      version: 1,
      state: path.resolve(baseDir, data.state),
      interval: parseDuration(data.interval) ?? 300_000,
      connections,
      syncs: syncs.filter((s): s is SyncConfig => s !== undefined),
    },
  };
}

function checkReservedKeys(connections: unknown, check: Checker): void {
  if (!isRecord(connections)) return;
  for (const [name, conn] of Object.entries(connections)) {
    if (!isRecord(conn)) continue;
    for (const key of RESERVED_CONNECTION_KEYS) {
      if (key in conn) check.add(['connections', name, key], `'${key}' is set by datasync and cannot be given in a connection (the connection's name is its key, '${name}')`, true);
    }
  }
}

/**
 * Every key of every connection block against its app's declared options
 * (src/config/connector-options.ts): a typo (`updated_att`, `delimeter`,
 * `app: sqlit`) is a problem at its position, before any connector runs.
 */
function checkConnectionOptions(connections: unknown, raw: unknown, check: Checker): void {
  if (!isRecord(connections)) return;
  const apps = Object.keys(CONNECTOR_OPTIONS).sort();
  for (const [name, conn] of Object.entries(connections)) {
    if (!isRecord(conn) || typeof conn.app !== 'string' || conn.app === '') continue;
    const schema = CONNECTOR_OPTIONS[conn.app];
    if (!schema) {
      const guess = closest(conn.app, apps);
      check.add(['connections', name, 'app'], `connections.${name}.app: unknown app ${check.src.show(['connections', name, 'app'], conn.app)}:${guess ? ` did you mean '${guess}'?` : ''} expected one of ${apps.join(', ')}`);
      continue;
    }
    const root = z.object({ connections: z.record(z.string(), schema) });
    const parsed = schema.safeParse(conn, { error: () => DEFAULT_MESSAGE });
    if (parsed.success) continue;
    for (const issue of parsed.error.issues) {
      const keys = issue.code === 'unrecognized_keys' ? issue.keys.filter((k) => issue.path.length > 0 || !RESERVED_CONNECTION_KEYS.includes(k)) : [];
      if (issue.code === 'unrecognized_keys' && keys.length === 0) continue;
      const at = { ...issue, path: ['connections', name, ...issue.path], ...(issue.code === 'unrecognized_keys' ? { keys } : {}) } as typeof issue;
      append(check.problems, issueProblems(at, root, raw, check.src));
    }
  }
}

function checkUniqueNames(syncs: unknown[], check: Checker): void {
  const first = new Map<string, number>();
  syncs.forEach((s, i) => {
    if (!isRecord(s) || typeof s.name !== 'string') return;
    const earlier = first.get(s.name);
    if (earlier === undefined) first.set(s.name, i);
    else check.add(['syncs', i, 'name'], `sync name ${check.src.show(['syncs', i, 'name'], s.name)} is used twice (first at ${check.src.at(['syncs', earlier, 'name'])}): expected a unique name per sync`);
  });
}

/**
 * One sync per object and pair of connections (as HubSpot allows one): two
 * would read and write the same records, each undoing the other's merge.
 * Syncs of one name are reported by checkUniqueNames already.
 */
function checkOneSyncPerPair(syncs: unknown[], check: Checker): void {
  const first = new Map<string, { i: number; name: string }>();
  syncs.forEach((s, i) => {
    if (!isRecord(s) || typeof s.object !== 'string' || !Array.isArray(s.between) || s.between.length !== 2) return;
    const [a, b] = s.between as unknown[];
    if (typeof a !== 'string' || typeof b !== 'string') return;
    const key = JSON.stringify([s.object, ...[a, b].sort()]);
    const name = typeof s.name === 'string' ? s.name : `#${i + 1}`;
    const earlier = first.get(key);
    if (!earlier) return void first.set(key, { i, name });
    if (earlier.name === name) return;
    check.add(['syncs', i, 'between'], `sync "${name}" keeps ${s.object} between ${a} and ${b}, as sync "${earlier.name}" ` +
      `(${check.src.at(['syncs', earlier.i, 'between'])}) does: two syncs would write the same records; ` +
      'keep one sync per object and pair of connections (merge their mappings and filters into one)');
  });
}

/** The parsed value of one key of a sync, when that key alone is well-formed. */
function field<K extends keyof SyncInput>(raw: Raw, key: K): SyncInput[K] | undefined {
  const result = syncSchema.shape[key].safeParse(raw[key]);
  return result.success ? (result.data as SyncInput[K]) : undefined;
}

function checkSync(raw: Raw, at: Path, connectionNames: string[], check: Checker): SyncConfig | undefined {
  const between = field(raw, 'between');
  if (!between) return undefined;
  const [a, b] = between;
  between.forEach((name, i) => {
    if (connectionNames.includes(name)) return;
    const guess = closest(name, connectionNames);
    const known = connectionNames.length ? `expected one of ${connectionNames.join(', ')}` : 'no connections are defined';
    check.add([...at, 'between', i], `connection ${check.src.show([...at, 'between', i], name)} is not defined under connections: ${guess ? `did you mean '${guess}'? ` : ''}${known}`);
  });
  if (a === b) check.add([...at, 'between'], `between names '${a}' twice: expected two different connections`);

  const directionText = field(raw, 'direction');
  const direction = directionText === undefined ? undefined : parseDirection(directionText, between);
  if (directionText !== undefined && direction === null) {
    check.add([...at, 'direction'], `direction is ${check.src.show([...at, 'direction'], directionText)}, expected ${directionChoices(between)}`);
  }

  const defaultApp = field(raw, 'default_app') ?? a;
  if (defaultApp !== a && defaultApp !== b) {
    check.add([...at, 'default_app'], `default_app is ${check.src.show([...at, 'default_app'], defaultApp)}, expected one of the sync's connections: ${a} or ${b}`);
  }

  const match = checkMatch(raw.match, [...at, 'match'], between, check);
  const fields = checkMappings(raw, at, between, direction ?? undefined, check);
  const filters = checkFilters(raw, at, between, check);

  const name = field(raw, 'name');
  const object = field(raw, 'object');
  const mappings = field(raw, 'mappings');
  const rules = field(raw, 'rules');
  const associations = field(raw, 'associations');
  const clears = field(raw, 'clears');
  const suspect = field(raw, 'suspect_deletions');
  if (raw.suspect_deletions !== undefined && suspect === undefined) {
    check.add([...at, 'suspect_deletions'], `suspect_deletions is ${check.src.show([...at, 'suspect_deletions'], String(raw.suspect_deletions))}, expected a percentage, like 10%`);
  }
  const enabled = field(raw, 'enabled');
  if (name === undefined || object === undefined || !direction || !match || !fields || !filters || !mappings
    || !rules || associations === undefined || !clears || enabled === undefined || suspect === undefined) return undefined;
  return {
    name,
    object,
    between: [a, b],
    direction,
    defaultApp,
    match,
    mappings: { defaults: mappings.defaults, custom: mappings.custom, fields },
    // The rule concerns contacts only (SPEC §4); elsewhere it is off whatever the file says.
    rules: { onlyWithEmail: object === 'contacts' && (rules.only_with_email ?? true) },
    filters,
    associations,
    clears,
    reconcileMs: parseDuration(field(raw, 'reconcile') ?? '1h') ?? 3_600_000,
    suspectDeletions: Number(suspect.slice(0, -1)) / 100,
    enabled,
    where: check.src.at(at),
  };
}

/** `'x' in … is not a connection of this sync: did you mean 'crm'? Expected hubspot or crm`. */
function notASide(key: string, at: Path, sides: readonly [string, string], extra: string[] = []): string {
  const allowed = [...sides, ...extra];
  const guess = closest(key, allowed);
  const list = `${allowed.slice(0, -1).join(', ')} or ${allowed[allowed.length - 1]}`;
  return `'${key}' in ${formatPath(at)} is not a connection of this sync:${guess ? ` did you mean '${guess}'?` : ''} expected ${list}`;
}

/** Keys of a `{ <connA>: …, <connB>: … }` mapping: both required, nothing else (but `extra`). */
function checkSideKeys(value: Raw, at: Path, sides: readonly [string, string], check: Checker, extra: string[] = []): boolean {
  let ok = true;
  for (const key of Object.keys(value)) {
    if (sides.includes(key) || extra.includes(key)) continue;
    check.add([...at, key], notASide(key, at, sides, extra), true);
    ok = false;
  }
  for (const side of sides) {
    if (side in value) continue;
    check.add(at, `${formatPath(at)} has no field for '${side}': expected { ${sides[0]}: FIELD, ${sides[1]}: FIELD }`);
    ok = false;
  }
  return ok;
}

function checkMatch(raw: unknown, at: Path, between: [string, string], check: Checker): SyncConfig['match'] | undefined {
  const parsed = syncSchema.shape.match.safeParse(raw);
  if (!parsed.success) return undefined;
  const match = parsed.data;
  if (typeof match === 'string') return match;
  if (!checkSideKeys(match, at, between, check)) return undefined;
  return { a: match[between[0]]!, b: match[between[1]]! };
}

function checkMappings(raw: Raw, at: Path, between: [string, string], syncDirection: Direction | undefined, check: Checker): CustomMapping[] | undefined {
  const list = isRecord(raw.mappings) && Array.isArray(raw.mappings.fields) ? raw.mappings.fields : [];
  const result: CustomMapping[] = [];
  const seen = [new Map<string, string>(), new Map<string, string>()];
  let ok = true;
  list.forEach((item, i) => {
    const itemAt: Path = [...at, 'mappings', 'fields', i];
    if (!isRecord(item)) return void (ok = false);
    if (!checkSideKeys(item, itemAt, between, check, MAPPING_OPTION_KEYS)) return void (ok = false);
    const direction = checkMappingDirection(item.direction, [...itemAt, 'direction'], between, syncDirection, check);
    const fields: Record<string, string> = {};
    between.forEach((side, s) => {
      const name = item[side];
      if (typeof name !== 'string') return;
      fields[side] = name;
      const first = seen[s]!.get(name);
      if (first) check.add([...itemAt, side], `${side} field ${check.src.show([...itemAt, side], name)} is mapped twice (first at ${first}): expected each field in one mapping at most`);
      else seen[s]!.set(name, check.src.at([...itemAt, side]));
    });
    const parsed = mappingFieldSchema.safeParse(item);
    if (!parsed.success || direction === null) return void (ok = false);
    result.push({
      fields,
      ...(parsed.data.values ? { values: parsed.data.values } : {}),
      ...(direction ? { direction } : {}),
      where: check.src.at(itemAt),
    });
  });
  return ok ? result : undefined;
}

/** The mapping's own direction, written canonically; null when wrong, undefined when absent. */
function checkMappingDirection(raw: unknown, at: Path, between: [string, string], syncDirection: Direction | undefined, check: Checker): string | null | undefined {
  if (raw === undefined) return undefined;
  if (typeof raw !== 'string') return null; // the schema reports the type
  const direction = parseDirection(raw, between);
  if (direction === null) {
    check.add(at, `direction is ${check.src.show(at, raw)}, expected ${directionChoices(between)}`);
    return null;
  }
  const [a, b] = between;
  const text = direction === 'two-way' ? 'two-way' : direction === 'a-to-b' ? `${a} -> ${b}` : `${b} -> ${a}`;
  if (syncDirection && syncDirection !== 'two-way' && direction !== 'two-way' && direction !== syncDirection) {
    const syncText = syncDirection === 'a-to-b' ? `${a} -> ${b}` : `${b} -> ${a}`;
    check.add(at, `direction ${text} goes against the sync's direction ${syncText}: expected ${syncText} or no direction`);
    return null;
  }
  return text;
}

function checkFilters(raw: Raw, at: Path, between: [string, string], check: Checker): Record<string, FilterCondition[]> | undefined {
  if (isRecord(raw.filters)) {
    for (const key of Object.keys(raw.filters)) {
      if (between.includes(key)) continue;
      check.add([...at, 'filters', key], notASide(key, [...at, 'filters'], between), true);
    }
  }
  const filters = field(raw, 'filters');
  if (!filters || !Object.keys(filters).every((k) => between.includes(k))) return undefined;
  const result: Record<string, FilterCondition[]> = {};
  for (const [side, conditions] of Object.entries(filters)) {
    result[side] = conditions.map((c, i) => ({
      field: c.field,
      op: c.op,
      ...(c.value !== undefined ? { value: c.value } : {}),
      where: check.src.at([...at, 'filters', side, i]),
    }));
  }
  return result;
}
