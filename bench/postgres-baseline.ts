/**
 * The SQLite ↔ PostgreSQL baseline: what a hand-written script would do for
 * W1. Read both sides whole, load every SQLite row into Postgres with COPY
 * (psql's \copy FROM STDIN, CSV), and insert every Postgres row into SQLite
 * in one transaction with one prepared statement. No matching, no state.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { postgresBinDir } from '../fixtures/postgres/cluster.js';
import { CSV_COLUMNS, csvLine, SQLITE_COLUMNS } from './contacts.js';

export async function postgresBaseline(dir: string, url: string): Promise<{ read: number; written: number }> {
  const db = new Database(join(dir, 'crm.db'));
  const people = db.prepare(`SELECT ${SQLITE_COLUMNS.slice(1, -1).join(', ')} FROM people`).raw().all() as (string | null)[][];
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const pgCols = CSV_COLUMNS.slice(1);
  const theirs = (await client.query({ text: `SELECT ${pgCols.join(', ')} FROM people`, rowMode: 'array' })).rows as (string | null)[][];
  await client.end();

  const copy = spawn(join(postgresBinDir()!, 'psql'), [url, '-q', '-v', 'ON_ERROR_STOP=1', '-c', `\\copy people (${pgCols.join(', ')}) FROM STDIN WITH (FORMAT csv)`],
    { stdio: ['pipe', 'ignore', 'pipe'] });
  let err = '';
  copy.stderr.on('data', (d: Buffer) => { err += d.toString(); });
  const done = new Promise<void>((resolve, reject) => copy.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`psql \\copy: ${err}`)))));
  let chunk = '';
  for (const row of people) {
    chunk += csvLine(row.map((v) => v ?? ''));
    if (chunk.length > 1 << 20) { copy.stdin.write(chunk); chunk = ''; }
  }
  copy.stdin.end(chunk);
  await done;

  const cols = SQLITE_COLUMNS.slice(1);
  const insert = db.prepare(`INSERT INTO people (${cols.join(', ')}) VALUES (${cols.map(() => '?').join(', ')})`);
  const at = new Date().toISOString();
  db.transaction(() => { for (const r of theirs) insert.run(...r, at); })();
  db.close();
  return { read: people.length + theirs.length, written: people.length + theirs.length };
}
