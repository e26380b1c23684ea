/**
 * Opening the user's SQLite file and turning SQLite's failures into errors a
 * person can act on. The user's journal mode is left alone; concurrent writers
 * are waited for (busy_timeout) before the database counts as locked.
 */
import { existsSync } from 'node:fs';
import Database from 'better-sqlite3';
import { appError, DatasyncError } from '../../src/errors.js';

export type Db = Database.Database;

export const quoteIdent = (name: string) => `"${name.replace(/"/g, '""')}"`;

/** Prepared statements per database and SQL text: a write batch reuses them op after op. */
const statements = new WeakMap<Db, Map<string, Database.Statement>>();
export function prepared(db: Db, sql: string): Database.Statement {
  let byText = statements.get(db);
  if (!byText) statements.set(db, (byText = new Map()));
  let stmt = byText.get(sql);
  if (!stmt) byText.set(sql, (stmt = db.prepare(sql)));
  return stmt;
}

const sqliteCode = (err: unknown): string | undefined =>
  err instanceof Database.SqliteError ? err.code : undefined;

/** An SQLite failure that is not about one record: the file, its lock, the disk. */
export function databaseError(err: unknown, file: string, connection: string): Error {
  if (err instanceof DatasyncError) return err;
  const code = sqliteCode(err);
  if (!code) return err instanceof Error ? err : new Error(String(err));
  const where = `connection ${connection}: SQLite database ${file}`;
  const msg = (err as Error).message;
  if (code === 'SQLITE_NOTADB') {
    return appError('SQLITE_NOT_A_DATABASE', `${where} is not a SQLite database (${msg})`, {
      hint: `check \`path\` of connection ${connection}: it must name a SQLite database file`, cause: err,
    });
  }
  if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) {
    return appError('SQLITE_LOCKED', `${where} is locked by another program (${msg})`, {
      hint: 'close the program holding a write transaction on it, or raise `busy_timeout` (ms) of the connection', transient: true, cause: err,
    });
  }
  if (code.startsWith('SQLITE_CANTOPEN') || code.startsWith('SQLITE_READONLY') || code.startsWith('SQLITE_PERM')) {
    return appError('SQLITE_CANNOT_OPEN', `${where} cannot be opened for writing (${msg})`, {
      hint: 'check that the file and its folder are readable and writable by this user', cause: err,
    });
  }
  if (code.startsWith('SQLITE_CORRUPT')) {
    return appError('SQLITE_CORRUPT', `${where} is damaged (${msg})`, { hint: 'restore it from a backup or repair it with the sqlite3 `.recover` command', cause: err });
  }
  return appError('SQLITE_ERROR', `${where}: ${msg}`, { cause: err, transient: code.startsWith('SQLITE_IOERR') || code === 'SQLITE_FULL' });
}

export function openDatabase(file: string, connection: string, busyTimeoutMs: number): Db {
  if (!existsSync(file)) {
    throw appError('SQLITE_NOT_FOUND', `connection ${connection}: SQLite database ${file} does not exist`, {
      hint: `check \`path\` of connection ${connection} (relative paths are relative to the sync file)`,
    });
  }
  let db: Db | undefined;
  try {
    db = new Database(file, { fileMustExist: true, timeout: busyTimeoutMs });
    // Opening is lazy in SQLite: read the schema now so a wrong file fails here.
    db.prepare('SELECT count(*) FROM sqlite_master').get();
    // The TEMP schema holds the change listing (read.ts), written and read back in order: a small cache
    // does. SQLite's default (16 MB here) would stay allocated for the rest of the run once a listing of
    // a million rows (~40 MB) had filled it.
    db.pragma('temp.cache_size = -4096');
    return db;
  } catch (err) {
    db?.close();
    throw databaseError(err, file, connection);
  }
}

/** SQLite failures that concern one record only (constraints, types); others stop the batch. */
export function isRowLevelSqliteError(err: unknown): err is Error {
  const code = sqliteCode(err);
  if (!code) return false;
  if (code.startsWith('SQLITE_CONSTRAINT') || code === 'SQLITE_MISMATCH' || code === 'SQLITE_TOOBIG') return true;
  return code === 'SQLITE_ERROR' && /no column named|no such column|cannot store/.test((err as Error).message);
}
