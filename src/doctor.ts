/**
 * `datasync validate` and `datasync doctor` (SPEC §6) as data. validate: the
 * YAML (already loaded), each connection's credential, objects and fields
 * (`check` and `describe`), and the mappings and filters — nothing read or
 * written beyond that. doctor: validate, then what a person should know
 * before trusting a schedule: the state file, tables without a change
 * cursor, default mappings over reference columns, missing scopes — each
 * finding with what to do. Duplicate syncs are refused by the config rules
 * (src/config/rules.ts): doctor shows them, as every config problem, from
 * the config error (see `configFindings`).
 */
import { statSync } from 'node:fs';
import type { Config } from './config/types.js';
import type { ObjectSpec } from './connector.js';
import { prepare, syncOrder, type PreparedSync } from './engine/prepare.js';
import { storedFacts } from './engine/run.js';
import { DatasyncError, exitCodeFor, EXIT } from './errors.js';
import { describeHolder, isAlive, readLock } from './state/lock.js';
import { openState } from './state/open.js';
import { SCHEMA_VERSION } from './state/schema.js';
import { append } from './lists.js';
import { isReference } from './mapping/references.js';

export type Level = 'ok' | 'warning' | 'problem';

export interface Finding {
  level: Level;
  /** A short stable name: config, connection, state, change-cursor, reference-mapping, duplicate-sync, scopes. */
  check: string;
  message: string;
  /** What to do about it (absent for `ok`). */
  fix?: string;
}

export interface DoctorReport {
  version: 1;
  config: string;
  findings: Finding[];
  /** 0 nothing to fix; else the exit code of the worst problem (2 configuration or state, 3 an app). */
  exitCode: number;
}

/** Connections, objects, fields, mappings and filters of every sync: throws the first error, as `run` would. */
export async function validateConfig(config: Config): Promise<{ syncs: PreparedSync[]; described: Map<string, ObjectSpec[]> }> {
  const syncs = syncOrder(config.syncs);
  const stored = storedFacts(config, syncs);
  const prepared = await prepare(config, syncs, {}, (name) => stored.credentials.get(name), (name) => stored.cursors.get(name));
  try {
    const described = new Map<string, ObjectSpec[]>();
    for (const p of prepared.syncs) {
      for (const [i, side] of (['a', 'b'] as const).entries()) {
        const conn = p.sync.between[i]!;
        described.set(conn, [...(described.get(conn) ?? []).filter((o) => o.name !== p.specs[side].name), p.specs[side]]);
      }
    }
    return { syncs: prepared.syncs, described };
  } finally {
    await prepared.close();
  }
}

export async function doctor(config: Config): Promise<DoctorReport> {
  const findings: Finding[] = [];
  const worst = { code: 0 };
  const problem = (err: DatasyncError | Error, check: string) => {
    const e = err instanceof DatasyncError ? err : null;
    const scopes = e?.code === 'MISSING_SCOPES';
    findings.push({
      level: 'problem', check: scopes ? 'scopes' : check,
      message: [err.message, ...(e?.problems ?? [])].join('\n  '),
      fix: e?.hint ?? (scopes ? 'give the private app the scopes named above (HubSpot: Settings › Integrations › Private apps)' : undefined),
    });
    worst.code = Math.max(worst.code, exitCodeFor(err));
  };
  append(findings, stateFindings(config));
  if (findings.some((f) => f.level === 'problem')) worst.code = EXIT.config;
  try {
    const { syncs } = await validateConfig(config);
    findings.push({ level: 'ok', check: 'connection', message: `every connection answered; objects, fields and mappings of ${syncs.length} sync${syncs.length === 1 ? '' : 's'} check out` });
    append(findings, [...cursorFindings(syncs), ...referenceMappings(syncs)]);
  } catch (err) {
    problem(err as Error, err instanceof DatasyncError && err.kind === 'app' ? 'connection' : 'config');
  }
  return { version: 1, config: config.file, findings, exitCode: worst.code };
}

/** A file that does not load: each problem a finding (duplicate syncs among them), exit 2. */
export function configFindings(file: string, err: DatasyncError): DoctorReport {
  const findings = (err.problems?.length ? err.problems : [err.message]).map((p): Finding => ({
    level: 'problem',
    check: /two syncs would write the same records/.test(p) ? 'duplicate-sync' : 'config',
    message: p,
    fix: /two syncs would write the same records/.test(p)
      ? 'keep one sync per object and pair of connections: merge their mappings and filters into one, delete the other'
      : err.hint ?? 'fix the file at the line and column shown',
  }));
  return { version: 1, config: file, findings, exitCode: exitCodeFor(err) };
}

function stateFindings(config: Config): Finding[] {
  const out: Finding[] = [];
  const holder = readLock(config.state);
  if (holder && !isAlive(holder)) {
    out.push({ level: 'warning', check: 'state', message: `a lock left by a process that is gone: ${describeHolder(holder)}`, fix: 'nothing: the next run takes it over' });
  }
  let mode: number;
  try {
    mode = statSync(config.state).mode & 0o777;
  } catch {
    out.push({ level: 'ok', check: 'state', message: `no state file yet at ${config.state} (the first run creates it, mode 0600)` });
    return out;
  }
  try {
    const db = openState(config.state, { readonly: true, untouched: true });
    try {
      const version = (db.pragma('user_version', { simple: true }) as number) || SCHEMA_VERSION;
      const integrity = db.pragma('quick_check', { simple: true }) as string;
      if (integrity !== 'ok') {
        out.push({ level: 'problem', check: 'state', message: `the state file ${config.state} fails SQLite's integrity check: ${integrity}`, fix: 'restore it from a backup, or move it away (the next run makes a new one and re-matches every record)' });
      } else {
        out.push({ level: 'ok', check: 'state', message: `state file ${config.state} is readable and intact (schema ${version}${version < SCHEMA_VERSION ? `, migrated to ${SCHEMA_VERSION} by the next run` : ''})` });
      }
    } finally {
      db.close();
    }
  } catch (err) {
    out.push({ level: 'problem', check: 'state', message: (err as Error).message, fix: (err as DatasyncError).hint });
  }
  if ((mode & 0o077) !== 0) {
    out.push({ level: 'warning', check: 'state', message: `the state file is readable by others (mode ${mode.toString(8)}); it holds credentials`, fix: `chmod 600 ${config.state}` });
  }
  return out;
}

/** Objects read without a change cursor: every run lists every record. */
function cursorFindings(syncs: PreparedSync[]): Finding[] {
  const seen = new Set<string>();
  const out: Finding[] = [];
  for (const p of syncs) {
    for (const [i, side] of (['a', 'b'] as const).entries()) {
      const conn = p.sync.between[i]!;
      const spec = p.specs[side];
      if (spec.capabilities.changeCursor || seen.has(`${conn}.${spec.name}`)) continue;
      seen.add(`${conn}.${spec.name}`);
      out.push({
        level: 'warning', check: 'change-cursor',
        message: `${conn}.${spec.name} has no change cursor: every run reads all of it and compares each record`,
        fix: `for a table, name a column holding each row's change time (objects.${spec.name}.updated_at under connections.${conn}); a CSV file is compared by content hash (docs/connectors.md)`,
      });
    }
  }
  return out;
}

/**
 * A column holding the id of a record of another object (`company_id`), or
 * an association's field: default-mapping it as a plain field copies ids of
 * one app's id space into the other. (A thin check: when the mapping
 * defaults learn to leave reference columns out, this finds nothing.)
 */

function referenceMappings(syncs: PreparedSync[]): Finding[] {
  return syncs.flatMap((p) => p.mappings
    .filter((m) => isReference(m.a) || isReference(m.b))
    .map((m): Finding => ({
      level: 'warning', check: 'reference-mapping',
      message: `sync ${p.sync.name}: the ${m.origin} mapping ${p.sync.between[0]}.${m.a.name} ↔ ${p.sync.between[1]}.${m.b.name} looks like a reference to another record (an id of one app written into the other)`,
      fix: `map it as an association (objects.${p.sync.object}.associations) or turn the defaults off for it (mappings.defaults: false and list the fields)`,
    })));
}
