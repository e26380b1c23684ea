/**
 * Issue 13 point 14: exit codes stay on the documented table and every
 * `--json` command prints JSON, errors included.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EXIT } from '../../src/errors.js';
import { type CliResult, explain, REPO, useWorkspaces, type Workspace } from './support.js';

const workspace = useWorkspaces();

function csvSetup(w: Workspace, csv: string) {
  w.sqlite('crm.db', 'CREATE TABLE people (id INTEGER PRIMARY KEY, email TEXT, modified_at TEXT)');
  w.writeText('contacts.csv', csv);
  w.writeConfig({
    connections: {
      crm: { app: 'sqlite', path: './crm.db', objects: { contacts: { table: 'people', updated_at: 'modified_at' } } },
      exp: { app: 'csv', objects: { contacts: { file: 'contacts.csv' } } },
    },
    syncs: [{ name: 'contacts', object: 'contacts', between: ['crm', 'exp'], direction: 'two-way' }],
  });
}

function parsed(r: CliResult): { version: number; exitCode: number; error?: { code: string; kind: string; message: string; problems?: string[] } } {
  try {
    return JSON.parse(r.stdout) as never;
  } catch {
    throw new Error(`no JSON on stdout\n${explain(r)}`);
  }
}

describe('exit codes (issue 13.14)', () => {
  it('a malformed CSV is exit 2 (fix the file), named with its line, not exit 3 "app unreachable"', async () => {
    const w = workspace();
    csvSetup(w, 'id,email\n1,"a@example.com\n2,b@example.com\n');
    const r = await w.run('run');
    expect(r.exitCode, explain(r)).toBe(2);
    expect(r.stderr).toMatch(/contacts\.csv:2: a quoted value is never closed/);
    const j = await w.run('run', '--json');
    expect(j.exitCode).toBe(2);
    expect(parsed(j)).toMatchObject({ exitCode: 2, error: { code: 'CSV_UNREADABLE' } });
  });

  it('health --json on a config error prints the error as JSON, with the exit code', async () => {
    const w = workspace();
    w.writeText('sync.yaml', 'version: 1\nsyncs: [\n');
    const r = await w.run('health', '--json');
    expect(r.exitCode).toBe(2);
    const json = parsed(r);
    expect(json).toMatchObject({ version: 1, exitCode: 2, error: { kind: 'config' } });
    expect(json.error?.problems?.[0]).toMatch(/^sync\.yaml:\d+:\d+: /);
  });

  it('connect --json and a mistyped option with --json print JSON too', async () => {
    const w = workspace();
    const c = await w.run('connect', 'sqlite', '--path', './missing-folder/none.db', '--json');
    expect(c.exitCode).not.toBe(0);
    expect(parsed(c)).toMatchObject({ version: 1, exitCode: c.exitCode });
    const u = await w.run('run', '--json', '--bogus');
    expect(u.exitCode).toBe(2);
    expect(parsed(u)).toMatchObject({ exitCode: 2, error: { kind: 'config' } });
    expect(u.stderr).toContain("unknown option '--bogus'");
  });

  it("every exit code datasync uses is in the README's table, 70 (a bug) included", () => {
    const readme = readFileSync(join(REPO, 'README.md'), 'utf8');
    const table = readme.slice(readme.indexOf('| exit code | meaning |'));
    const codes = [...table.split('\n\n')[0]!.matchAll(/^\| (\d+) \|/gm)].map((m) => Number(m[1]));
    expect(codes.sort((a, b) => a - b)).toEqual(Object.values(EXIT).sort((a, b) => a - b));
  });
});
