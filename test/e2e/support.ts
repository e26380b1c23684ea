/**
 * End-to-end support: a temp folder per test holding a sync.yaml, real SQLite
 * and CSV files, and the BUILT `datasync` binary run in it with execa. No
 * module of ours is imported or mocked: what a test sees is what a user sees
 * (files, exit codes, stdout, stderr, `--json`).
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { parse as parseCsv } from 'csv-parse/sync';
import { execa } from 'execa';
import { afterEach, beforeAll } from 'vitest';
import { stringify as toYaml } from 'yaml';

export const REPO = fileURLToPath(new URL('../..', import.meta.url));
export const BIN = join(REPO, 'bin', 'datasync.js');
const BUILT = join(REPO, 'dist', 'src', 'cli', 'main.js');

/** A fixed change time for seeded rows, long before any run. */
export const OLD = '2024-01-01T00:00:00.000Z';
/** A change time later than every earlier one (for edits made between runs). */
export const now = () => new Date().toISOString();

export interface CliResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** A CLI result for an assertion message: the exit code and the start of both streams. */
export const explain = (r: CliResult) => `exit ${r.exitCode}\n--- stdout:\n${r.stdout.slice(0, 3000)}\n--- stderr:\n${r.stderr.slice(0, 3000)}`;

/** The `--json` shape of `run` (README "JSON output"). */
export interface SideJson {
  connection: string;
  read: number;
  created: number;
  updated: number;
  unchanged: number;
  failed: number;
  excluded: number;
  deleted: number;
}
export interface MappingJson { a: string; b: string; types: string; direction: string; origin: string; note?: string }
export interface SyncJson {
  name: string;
  object: string;
  outcome: string;
  linked: number;
  conflicts: number;
  sides: [SideJson, SideJson];
  mappings: MappingJson[];
  error?: { code: string; message: string; hint?: string };
  plan?: Array<Record<string, unknown>>;
}
export interface RunJson {
  version: number;
  runId: number | null;
  dryRun: boolean;
  exitCode: number;
  syncs: SyncJson[];
}

/** Fails the suite up front, with the fix, when the binary has not been built. */
export function requireBuild(): void {
  if (!existsSync(BUILT)) {
    throw new Error(`the e2e tests drive the built CLI, and ${BUILT} is missing: run \`npx tsc -p .\` (or \`npm test\`, which builds first)`);
  }
}

/** A SQLite file of the test: every call opens and closes it, so nothing is held while datasync runs. */
export class SqliteFile {
  constructor(readonly file: string) {}

  private with<T>(fn: (db: Database.Database) => T): T {
    const db = new Database(this.file);
    try {
      return fn(db);
    } finally {
      db.close();
    }
  }

  exec(sql: string): void {
    this.with((db) => db.exec(sql));
  }

  run(sql: string, ...params: unknown[]): void {
    this.with((db) => db.prepare(sql).run(...params));
  }

  all<T = Record<string, unknown>>(sql: string, ...params: unknown[]): T[] {
    return this.with((db) => db.prepare(sql).all(...params) as T[]);
  }

  one<T = Record<string, unknown>>(sql: string, ...params: unknown[]): T | undefined {
    return this.with((db) => db.prepare(sql).get(...params) as T | undefined);
  }

  count(table: string): number {
    return this.one<{ n: number }>(`SELECT count(*) AS n FROM "${table}"`)!.n;
  }

  /** Inserts rows (objects with the same keys); returns nothing, ids are in the rows or assigned. */
  insert(table: string, rows: Record<string, unknown>[]): void {
    this.with((db) => {
      for (const row of rows) {
        const cols = Object.keys(row);
        db.prepare(`INSERT INTO "${table}" (${cols.map((c) => `"${c}"`).join(', ')}) VALUES (${cols.map(() => '?').join(', ')})`)
          .run(...Object.values(row));
      }
    });
  }
}

export class Workspace {
  private constructor(readonly dir: string) {}

  static create(): Workspace {
    return new Workspace(mkdtempSync(join(tmpdir(), 'datasync-e2e-')));
  }

  path(...parts: string[]): string {
    return join(this.dir, ...parts);
  }

  exists(rel: string): boolean {
    return existsSync(this.path(rel));
  }

  /** Writes `sync.yaml` (or `file`) from a plain object, with `version: 1` first. */
  writeConfig(config: Record<string, unknown>, file = 'sync.yaml'): void {
    this.writeText(file, toYaml({ version: 1, ...config }));
  }

  writeText(rel: string, text: string): void {
    mkdirSync(dirname(this.path(rel)), { recursive: true });
    writeFileSync(this.path(rel), text);
  }

  readText(rel: string): string {
    return readFileSync(this.path(rel), 'utf8');
  }

  bytes(rel: string): Buffer {
    return readFileSync(this.path(rel));
  }

  /** Permission bits of a file or folder, e.g. 0o600. */
  mode(rel: string): number {
    return statSync(this.path(rel)).mode & 0o777;
  }

  remove(rel: string): void {
    rmSync(this.path(rel), { recursive: true, force: true });
  }

  /** A SQLite database in the folder, created with `schema` when given. */
  sqlite(rel: string, schema?: string): SqliteFile {
    const db = new SqliteFile(this.path(rel));
    if (schema) db.exec(schema);
    return db;
  }

  /** Writes a CSV file: a header row, then one row per record (missing values empty). */
  writeCsv(rel: string, header: string[], rows: Record<string, string | number | null>[] = []): void {
    const cell = (v: string | number | null | undefined) => {
      const s = v === null || v === undefined ? '' : String(v);
      return /[",\r\n]|^\s|\s$/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
    };
    const lines = [header.map(cell).join(','), ...rows.map((r) => header.map((h) => cell(r[h])).join(','))];
    this.writeText(rel, `${lines.join('\n')}\n`);
  }

  /** Rows of a CSV file as objects keyed by the header. */
  readCsv(rel: string): Record<string, string>[] {
    return parseCsv(this.readText(rel), { columns: true, skip_empty_lines: true, bom: true }) as Record<string, string>[];
  }

  /** Runs `node bin/datasync.js ...args` in this folder; never throws on a non-zero exit. */
  async run(...args: string[]): Promise<CliResult> {
    const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
    delete env.DATASYNC_CONFIG;
    delete env.FORCE_COLOR;
    const r = await execa('node', [BIN, ...args], {
      cwd: this.dir,
      reject: false,
      env,
      extendEnv: false,
      stdin: 'ignore',
      timeout: 45_000,
    });
    return { exitCode: r.exitCode ?? -1, stdout: String(r.stdout), stderr: String(r.stderr) };
  }

  /** `run --json ...args`: the parsed JSON, with the exit code and stderr. */
  async runJson(...args: string[]): Promise<CliResult & { json: RunJson }> {
    const r = await this.run('run', '--json', ...args);
    let json: RunJson;
    try {
      json = JSON.parse(r.stdout) as RunJson;
    } catch {
      throw new Error(`datasync run --json printed no JSON (exit ${r.exitCode})\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`);
    }
    return { ...r, json };
  }

  /** Writes a lock file for the state as if process `pid` on this host held it. */
  writeLock(state: string, pid: number, command = 'datasync run (held by the test)'): void {
    this.writeText(`${state}.lock`, JSON.stringify({ pid, host: hostname(), command, startedAt: now() }));
  }

  dispose(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/**
 * Call once at the top of a scenario file: checks the build before any test
 * and removes each test's folder after it. Returns a factory of workspaces.
 */
export function useWorkspaces(): () => Workspace {
  const made: Workspace[] = [];
  beforeAll(requireBuild);
  afterEach(() => {
    for (const w of made.splice(0)) w.dispose();
  });
  return () => {
    const w = Workspace.create();
    made.push(w);
    return w;
  };
}

/** The side of a sync's `--json` summary for a connection. */
export function side(json: RunJson, sync: string, connection: string): SideJson {
  const s = json.syncs.find((x) => x.name === sync);
  if (!s) throw new Error(`no sync ${sync} in the JSON output: ${json.syncs.map((x) => x.name).join(', ')}`);
  const found = s.sides.find((x) => x.connection === connection);
  if (!found) throw new Error(`no connection ${connection} in sync ${sync}`);
  return found;
}

/** Sum of one count over every side of every sync. */
export function total(json: RunJson, key: 'created' | 'updated' | 'failed' | 'excluded' | 'deleted'): number {
  return json.syncs.reduce((n, s) => n + s.sides[0][key] + s.sides[1][key], 0);
}
