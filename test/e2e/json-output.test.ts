/**
 * Issue 13 point 19: the `--json` output of each command has a JSON Schema
 * (schema/json/COMMAND.schema.json, written by `npm run schema` from
 * src/cli/json-schemas.ts). Here the BUILT binary runs each command with
 * `--json`, on success and on an error, and every printed object is parsed
 * with the same (strict) schema: a renamed, dropped or undeclared field fails.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { jsonOutputs, outputJsonSchema, type JsonCommand } from '../../src/cli/json-schemas.js';
import { OLD, useWorkspaces, type CliResult, type Workspace } from './support.js';

const workspace = useWorkspaces();

/** The JSON on stdout, checked against the command's schema; the parsed value. */
function conforming(command: JsonCommand, r: CliResult): Record<string, unknown> {
  let json: unknown;
  try {
    json = JSON.parse(r.stdout);
  } catch {
    throw new Error(`${command} --json printed no JSON (exit ${r.exitCode})\n${r.stdout}\n${r.stderr}`);
  }
  const checked = jsonOutputs[command].safeParse(json);
  if (!checked.success) throw new Error(`${command} --json does not match schema/json/${command}.schema.json:\n${JSON.stringify(checked.error.issues, null, 2)}\n${r.stdout.slice(0, 4000)}`);
  expect((json as { exitCode?: number }).exitCode ?? 0).toBe(r.exitCode);
  return json as Record<string, unknown>;
}

function setup(w: Workspace) {
  const crm = w.sqlite('crm.db', 'CREATE TABLE people (id INTEGER PRIMARY KEY, email TEXT, first_name TEXT, modified_at TEXT)');
  crm.insert('people', [
    { id: 1, email: 'a@example.com', first_name: 'A', modified_at: OLD },
    { id: 2, email: 'dup@example.com', first_name: 'B', modified_at: OLD },
    { id: 3, email: 'dup@example.com', first_name: 'C', modified_at: OLD },
    { id: 4, email: null, first_name: 'D', modified_at: OLD },
  ]);
  w.writeCsv('contacts.csv', ['id', 'email', 'firstname'], [{ id: 9, email: 'z@example.com', firstname: 'Z' }]);
  w.writeConfig({
    connections: {
      crm: { app: 'sqlite', path: './crm.db', objects: { contacts: { table: 'people', updated_at: 'modified_at' } } },
      exp: { app: 'csv', objects: { contacts: { file: 'contacts.csv' } } },
    },
    syncs: [{ name: 'contacts', object: 'contacts', between: ['crm', 'exp'], direction: 'two-way' }],
  });
  return crm;
}

describe('the --json output of each command matches its JSON Schema (issue 13.19)', () => {
  it('schema/json/*.schema.json are up to date (regenerate: npm run schema)', () => {
    for (const command of Object.keys(jsonOutputs) as JsonCommand[]) {
      const committed = readFileSync(new URL(`../../schema/json/${command}.schema.json`, import.meta.url), 'utf8');
      expect(committed, command).toBe(`${JSON.stringify(outputJsonSchema(command), null, 2)}\n`);
    }
    // Closed shapes: an unknown field is refused by the JSON Schema as well as by zod.
    const run = outputJsonSchema('run') as { anyOf: Array<{ additionalProperties?: unknown }> };
    expect(run.anyOf.map((s) => s.additionalProperties)).toEqual([false, false]);
  });

  it('run, health, validate and doctor, on success', async () => {
    const w = workspace();
    const crm = setup(w);
    const dry = conforming('run', await w.run('run', '--dry-run', '--json'));
    const plan = (dry.syncs as Array<{ plan: Array<{ kind: string }> }>)[0]!.plan.map((p) => p.kind);
    expect(plan).toEqual(expect.arrayContaining(['create', 'fail', 'exclude']));
    const first = conforming('run', await w.run('run', '--json'));
    expect(first.exitCode).toBe(1); // the duplicate fails
    crm.exec(`UPDATE people SET first_name = 'Aa', modified_at = '${new Date().toISOString()}' WHERE id = 1`);
    const update = conforming('run', await w.run('run', '--dry-run', '--json'));
    expect((update.syncs as Array<{ plan: Array<{ kind: string }> }>)[0]!.plan.map((p) => p.kind)).toContain('update');
    const health = conforming('health', await w.run('health', '--failed', '--excluded', '--json'));
    const sync = (health.syncs as Array<Record<string, unknown>>)[0]!;
    expect(sync.failed).toHaveLength(1);
    expect(sync.excluded).toHaveLength(1);
    expect(sync.lastRun).not.toBeNull();
    const valid = conforming('validate', await w.run('validate', '--json'));
    expect(valid.valid).toBe(true);
    const doctor = conforming('doctor', await w.run('doctor', '--json'));
    expect((doctor.findings as unknown[]).length).toBeGreaterThan(0);
  });

  it('connect, connect --list and connect --remove, on success', async () => {
    const w = workspace();
    setup(w);
    const c = conforming('connect', await w.run('connect', 'sqlite', '--name', 'crm2', '--path', './crm.db', '--json'));
    expect((c.connection as { objects: Array<{ changes?: string }> }).objects[0]!.changes).toBeTruthy();
    const list = conforming('connect', await w.run('connect', '--list', '--json'));
    expect(list.connections).toHaveLength(1);
    const removed = conforming('connect', await w.run('connect', '--remove', 'crm2', '--json'));
    expect(removed.removed).toBe('crm2');
  });

  it('every command prints the error shape on a failure, with its exit code', async () => {
    const w = workspace();
    w.writeText('sync.yaml', 'version: 1\nsyncs: [\n');
    for (const command of ['run', 'health', 'validate'] as const) {
      const r = await w.run(command, '--json');
      expect(r.exitCode, command).toBe(2);
      expect(conforming(command, r).error).toMatchObject({ kind: 'config' });
    }
    // doctor reports a config error as its findings, with exit 2.
    const d = await w.run('doctor', '--json');
    expect(d.exitCode).toBe(2);
    expect(conforming('doctor', d).findings).toEqual([expect.objectContaining({ level: 'problem', check: 'config' })]);
    const c = await w.run('connect', 'sqlite', '--path', './missing-folder/none.db', '--json');
    expect(c.exitCode).not.toBe(0);
    expect(conforming('connect', c).error).toBeDefined();
    const u = await w.run('run', '--json', '--bogus');
    expect(u.exitCode).toBe(2);
    expect(conforming('error', u).error).toMatchObject({ kind: 'config' });
  });
});
