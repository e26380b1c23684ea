/**
 * Hostile input (issue 7): each folder of fixtures/hostile/ is a case — a
 * sync.yaml and the apps' files — with `expected.json`:
 *
 *   { "args": ["run"],              // default: ["run"]
 *     "env": { "NAME": "value" },   // added to the environment
 *     "setup": "lock-sqlite" | "truncate-state" | "huge-cell",   // a step files cannot express
 *     "exit": 2,
 *     "stderr": ["substring", …], "stdout": ["substring", …],
 *     "after": { "sqlite": { "file", "sql", "rows" }, "csv": { "file", "rows" },     // cases that must work
 *                "text": { "file", "matches" } },
 *     "note": "why the case is here" }
 *
 * `NAME.db.sql` becomes the SQLite file `NAME.db` (fixtures stay text). The
 * case runs through the built CLI; for every failing case the test hashes the
 * folder before and after: the apps, the YAML and the state must be byte for
 * byte as they were. No case may end in a stack trace (exit 70).
 */
import { spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, readdirSync, readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { createRequire } from 'node:module';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { cli, csvRows, hashTree, show, useTempDirs, waitFor } from './support.js';

const require = createRequire(import.meta.url);

const CORPUS = new URL('../../fixtures/hostile/', import.meta.url).pathname;
const tempDir = useTempDirs();

interface Expected {
  args?: string[];
  env?: Record<string, string>;
  setup?: 'lock-sqlite' | 'truncate-state' | 'huge-cell';
  exit: number;
  stderr?: string[];
  stdout?: string[];
  after?: {
    sqlite?: { file: string; sql: string; rows: Record<string, unknown>[] };
    csv?: { file: string; rows: Record<string, string>[] };
    /** The file's text matches this regular expression (e.g. a BOM and CRLF line ends kept). */
    text?: { file: string; matches: string };
  };
  note?: string;
}

/** Copies a case into a temp folder, building `*.db` from `*.db.sql`. */
function materialise(name: string): string {
  const dir = tempDir();
  const src = join(CORPUS, name);
  const walk = (d: string) => {
    for (const entry of readdirSync(d)) {
      const from = join(d, entry);
      if (statSync(from).isDirectory()) { walk(from); continue; }
      const rel = relative(src, from);
      if (rel === 'expected.json') continue;
      const to = join(dir, rel);
      mkdirSync(dirname(to), { recursive: true, mode: 0o700 });
      if (rel.endsWith('.db.sql')) {
        const db = new Database(to.slice(0, -'.sql'.length));
        db.exec(readFileSync(from, 'utf8'));
        db.close();
      } else {
        copyFileSync(from, to);
      }
    }
  };
  walk(src);
  return dir;
}

/** Steps a fixture file cannot express; returns a cleanup. */
async function prepare(dir: string, setup: Expected['setup']): Promise<() => void> {
  switch (setup) {
    case undefined:
      return () => undefined;
    case 'lock-sqlite': {
      // Another program holds an exclusive lock on the CRM database for the whole run. It must be
      // another process: this one reads the file to hash it, and closing any descriptor of a file
      // drops the POSIX locks a process holds on it.
      const holder = spawn(process.execPath, ['-e', `const D = require(${JSON.stringify(require.resolve('better-sqlite3'))});
        new D(process.argv[1]).exec('BEGIN EXCLUSIVE'); console.log('locked'); setInterval(() => {}, 1000);`, join(dir, 'crm.db')]);
      let out = '';
      holder.stdout.on('data', (d: Buffer) => { out += d; });
      await waitFor('the lock holder', () => out.includes('locked'));
      return () => holder.kill('SIGKILL');
    }
    case 'truncate-state': {
      // A real state, cut short (a disk that filled up, a bad copy).
      const r = await cli(dir, ['run']);
      expect(r.exitCode, show(r)).toBe(0);
      const state = join(dir, '.datasync', 'state.db');
      truncateSync(state, Math.floor(statSync(state).size * 0.4));
      return () => undefined;
    }
    case 'huge-cell': {
      // A 1 MB text cell (valid UTF-8 of 1- to 4-byte characters) in the CSV.
      const unit = 'a€𝄞é ';
      const big = unit.repeat(Math.ceil(1_048_576 / Buffer.byteLength(unit)));
      const csv = readFileSync(join(dir, 'contacts.csv'), 'utf8').replace('HUGE', big);
      writeFileSync(join(dir, 'contacts.csv'), csv);
      writeFileSync(join(dir, 'huge.txt'), big);
      return () => undefined;
    }
  }
}

const cases = readdirSync(CORPUS).filter((n) => statSync(join(CORPUS, n)).isDirectory()).sort();

describe.concurrent('hostile input corpus (fixtures/hostile)', () => {
  it('has cases', () => {
    expect(cases.length).toBeGreaterThan(30);
  });

  for (const name of cases) {
    const expected = JSON.parse(readFileSync(join(CORPUS, name, 'expected.json'), 'utf8')) as Expected;
    it(`${name}: exit ${expected.exit}${expected.exit >= 2 ? ', apps and state untouched' : ''}`, async () => {
      const dir = materialise(name);
      const cleanup = await prepare(dir, expected.setup);
      try {
        const before = hashTree(dir);
        const r = await cli(dir, expected.args ?? ['run'], { env: expected.env, timeoutMs: 60_000 });
        if (process.env.HOSTILE_SHOW) console.log(`=== ${name}\n${show(r)}`);
        expect(r.exitCode, show(r)).toBe(expected.exit);
        expect(r.stderr, 'a stack trace').not.toMatch(/\n\s+at .+:\d+:\d+\)?\n/);
        for (const s of expected.stderr ?? []) expect(r.stderr, show(r)).toContain(s);
        for (const s of expected.stdout ?? []) expect(r.stdout, show(r)).toContain(s);
        if (expected.exit >= 2) {
          expect(hashTree(dir), `${name} changed files although it failed`).toEqual(before);
        }
        if (expected.after?.sqlite) {
          const { file, sql, rows } = expected.after.sqlite;
          const db = new Database(join(dir, file), { readonly: true });
          try {
            const fromFile = (v: unknown) => (typeof v === 'string' && v.startsWith('@file:') ? readFileSync(join(dir, v.slice(6)), 'utf8') : v);
            const want = rows.map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, fromFile(v)])));
            expect(db.prepare(sql).all()).toEqual(want);
          } finally {
            db.close();
          }
        }
        if (expected.after?.csv) expect(csvRows(join(dir, expected.after.csv.file))).toEqual(expected.after.csv.rows);
        if (expected.after?.text) {
          expect(readFileSync(join(dir, expected.after.text.file), 'utf8')).toMatch(new RegExp(expected.after.text.matches, 'u'));
        }
        if (expected.exit <= 1) {
          // What was written reads back the same: the next run changes nothing.
          const again = await cli(dir, ['run', '--json']);
          const sides = (JSON.parse(again.stdout) as { syncs: { sides: { created: number; updated: number }[] }[] }).syncs.flatMap((s) => s.sides);
          expect(sides.map((s) => s.created + s.updated), show(again)).toEqual(sides.map(() => 0));
        }
      } finally {
        cleanup();
      }
    }, 90_000);
  }
});
