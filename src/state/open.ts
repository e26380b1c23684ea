/**
 * Opens (or creates) the state file: 0600 in a 0700 folder, WAL, migrated
 * forward. A file that is not a datasync state, is damaged, or comes from a
 * newer datasync is refused and never overwritten.
 */
import Database from 'better-sqlite3';
import { chmodSync, closeSync, existsSync, linkSync, mkdirSync, openSync, readFileSync, readSync, rmSync, statSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import { DatasyncError } from '../errors.js';
import { MIGRATIONS, SCHEMA_VERSION } from './schema.js';
import { refuseFolder, stateTrouble } from './trouble.js';

export type StateDb = Database.Database;

const APP_ID = 0x44534e43; // 'DSNC' in PRAGMA application_id

const stateError = (code: string, message: string, hint: string) =>
  new DatasyncError('state', code, message, { hint });

function looksLikeSqlite(path: string): boolean {
  const fd = openSync(path, 'r');
  try {
    const header = Buffer.alloc(16);
    const n = readSync(fd, header, 0, 16, 0);
    return n === 0 || header.toString('latin1') === 'SQLite format 3\0';
  } finally {
    closeSync(fd);
  }
}

/** An empty state in memory: what `run --dry-run` plans against before the first run. */
export function openMemoryState(): StateDb {
  const db = new Database(':memory:');
  migrate(db);
  return db;
}

/**
 * `untouched` (with `readonly`): for `health` and `doctor`, which must leave
 * the state's files exactly as they are (see `readUntouched`).
 */
export function openState(path: string, opts: { readonly?: boolean; untouched?: boolean } = {}): StateDb {
  try {
    return openStateAt(path, opts);
  } catch (err) {
    throw stateTrouble(err, path) ?? err;
  }
}

function openStateAt(path: string, opts: { readonly?: boolean; untouched?: boolean }): StateDb {
  refuseFolder(path, 'the state');
  const fresh = !existsSync(path);
  if (fresh && opts.readonly) {
    throw stateError('STATE_MISSING', `no state file at ${path}`, 'run `datasync run` first to create it');
  }
  if (fresh) {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    tightenFolder(dirname(path));
    createState(path);
  } else if (!looksLikeSqlite(path)) {
    throw stateError('STATE_NOT_DATASYNC', `${path} is not a datasync state file (not a SQLite database)`,
      'point `state:` in the YAML at another file; this one was left untouched');
  }
  // Damage that the file's size shows is refused before SQLite opens it: a
  // writable open would switch it to WAL and make -wal/-shm beside it.
  if (!fresh && cutShort(path)) throw cutShortError(path);
  let db: StateDb;
  try {
    db = (opts.readonly && opts.untouched ? readUntouched(path) : null) ?? new Database(path, { readonly: opts.readonly ?? false, fileMustExist: true });
    if (opts.readonly && isBlank(db)) {
      // An empty SQLite file (e.g. left by a datasync older than createState) is an empty state.
      db.close();
      return openMemoryState();
    }
    if (!opts.readonly) db.pragma('journal_mode = WAL');
    db.pragma('busy_timeout = 5000');
    db.pragma('synchronous = NORMAL');
    // 8 MB of pages. 32 MB (the setting before) was a fifth of the peak RSS of an initial sync of
    // 100,000 contacts, for ~2.5% less CPU time at 1,000,000 (W1 side by side: 423 vs 434 s CPU, 323 vs 289 MB).
    db.pragma('cache_size = -8192');
    db.pragma('wal_autocheckpoint = 16384');
    db.pragma('foreign_keys = OFF');
    check(db, path);
    if (!opts.readonly) {
      tightenFolder(dirname(path));
      migrate(db);
    }
  } catch (err) {
    if (err instanceof DatasyncError) throw err;
    const trouble = stateTrouble(err, path);
    if (trouble) throw trouble;
    throw stateError('STATE_DAMAGED', `the state file ${path} cannot be read: ${(err as Error).message}`, DAMAGED_HINT);
  }
  return db;
}

/**
 * A new state is built in a private temp file and linked into place, so the
 * state file never exists half-made: a run killed while creating it leaves
 * either no state or a complete empty one (never a file without tables, on
 * which every later run would fail).
 */
function createState(path: string): void {
  const tmp = `${path}.${process.pid}.new`;
  rmSync(tmp, { force: true });
  rmSync(`${tmp}-journal`, { force: true });
  try {
    const db = new Database(tmp);
    try {
      chmodSync(tmp, 0o600);
      migrate(db);
    } finally {
      db.close();
    }
    try {
      linkSync(tmp, path);
    } catch (err) {
      // Another process created it meanwhile: use theirs.
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  } catch (err) {
    const trouble = stateTrouble(err, path);
    if (trouble) throw trouble;
    throw stateError('STATE_CREATE_FAILED', `cannot create the state file ${path}: ${(err as Error).message}`,
      'check that its folder is writable, or point `state:` in the YAML at another file');
  } finally {
    rmSync(tmp, { force: true });
  }
}

/**
 * The state's own folder (`.datasync`, also through a symlink) is 0700: a
 * folder that existed already with a looser mode (a checkout, an `mkdir`
 * with the default umask) is tightened, as the state holds credentials. A
 * folder of another name may be the project's own and is left alone.
 */
function tightenFolder(dir: string): void {
  if (basename(dir) !== '.datasync') return;
  try {
    const st = statSync(dir);
    if ((st.mode & 0o077) !== 0 && st.uid === process.getuid?.()) chmodSync(dir, st.mode & 0o700);
  } catch {
    // not ours to change: SPEC §8 is kept for the file itself (0600)
  }
}

const DAMAGED_HINT = 'restore it from a backup, or point `state:` at a new file (links will be rebuilt by matching)';

/**
 * Damage SQLite met while a run used the state (connectors report their own
 * databases' errors as app errors, so a raw SQLite error here is the state's),
 * as the error a person can act on; null for any other error.
 */
export function stateDamage(err: unknown, path: string): DatasyncError | null {
  if (!(err instanceof Database.SqliteError) || !/^SQLITE_(CORRUPT|NOTADB)/.test(err.code)) return null;
  return stateError('STATE_DAMAGED', `the state file ${path} cannot be read: ${err.message}`, DAMAGED_HINT);
}

function isBlank(db: StateDb): boolean {
  const version = db.pragma('user_version', { simple: true }) as number;
  const tables = db.prepare(`SELECT count(*) AS n FROM sqlite_master`).get() as { n: number };
  return version === 0 && tables.n === 0;
}

function check(db: StateDb, path: string): void {
  const appId = db.pragma('application_id', { simple: true }) as number;
  const version = db.pragma('user_version', { simple: true }) as number;
  const tables = db.prepare(`SELECT count(*) AS n FROM sqlite_master`).get() as { n: number };
  if (appId !== APP_ID && !(appId === 0 && tables.n === 0)) {
    throw stateError('STATE_NOT_DATASYNC', `${path} is a SQLite database but not a datasync state file`,
      'point `state:` in the YAML at another file; this one was left untouched');
  }
  if (version > SCHEMA_VERSION) {
    throw stateError('STATE_TOO_NEW',
      `${path} was written by a newer datasync (state version ${version}; this one knows up to ${SCHEMA_VERSION})`,
      'upgrade datasync; the file was left untouched');
  }
}

const cutShortError = (path: string) => stateError('STATE_DAMAGED',
  `the state file ${path} cannot be read: database disk image is malformed (the file is shorter than its header says)`, DAMAGED_HINT);

/**
 * `health` and `doctor`, on a state no run has open, must leave its files as
 * they are: opening the file itself, even read-only, makes its -wal and -shm
 * files (SQLite's WAL index). With no -wal beside it every page is in the
 * main file, so the file is opened read-only under a second name, a hard link
 * beside it: SQLite makes that name's -wal and -shm, and all three names are
 * removed as soon as the first read has opened them (SQLite keeps them open;
 * the state file itself still has its own name). Nothing is copied: a state
 * of 1,000,000 links is read in place, not into memory (issue 14.10).
 *
 * Where no hard link can be made (a read-only folder, a file system without
 * them) the file is read into memory as before. Null when a -wal exists:
 * then the file is opened read-only as usual.
 */
function readUntouched(path: string): StateDb | null {
  const wal = `${path}-wal`;
  if (existsSync(wal)) return null;
  const alias = `${path}.reading-${process.pid}-${Date.now()}`;
  try {
    linkSync(path, alias);
  } catch {
    return readCopy(path);
  }
  let db: StateDb | undefined;
  try {
    db = new Database(alias, { readonly: true, fileMustExist: true });
    // The first read opens the alias's WAL index (alias-wal, alias-shm) in WAL mode, or nothing in rollback mode.
    db.prepare('SELECT count(*) FROM sqlite_master').get();
  } catch (err) {
    db?.close();
    throw err;
  } finally {
    for (const f of [alias, `${alias}-wal`, `${alias}-shm`, `${alias}-journal`]) rmSync(f, { force: true });
  }
  return db;
}

/** The state read into memory (no hard link possible): every page, so memory grows with the file. */
function readCopy(path: string): StateDb | null {
  const wal = `${path}-wal`;
  const bytes = readFileSync(path);
  if (existsSync(wal)) return null;
  // The header's read/write versions say WAL (2); an in-memory copy is read as rollback (1).
  if (bytes.length >= 20 && bytes[18] === 2 && bytes[19] === 2) bytes.fill(1, 18, 20);
  return new Database(bytes, { readonly: true });
}

/**
 * A state file cut short (a partial copy, a full disk): its header counts
 * more pages than the file holds. A full integrity scan (PRAGMA quick_check)
 * would find this too, but costs ~0.3 s per run on a state of 100,000 links;
 * other damage SQLite reports when it meets it (see `isStateDamage`). With a
 * write-ahead log present the header may be ahead of the file until the log
 * is checkpointed, so nothing is concluded then.
 */
function cutShort(path: string): boolean {
  const wal = `${path}-wal`;
  if (existsSync(wal) && statSync(wal).size > 0) return false;
  const size = statSync(path).size;
  if (size === 0) return false;
  const header = Buffer.alloc(100);
  const fd = openSync(path, 'r');
  try {
    if (readSync(fd, header, 0, 100, 0) < 100) return true;
  } finally {
    closeSync(fd);
  }
  const raw = header.readUInt16BE(16);
  const pageSize = raw === 1 ? 65536 : raw;
  const pages = header.readUInt32BE(28);
  // The page count is valid only when the change counter matches "version-valid-for" (sqlite.org/fileformat2.html).
  const valid = pages > 0 && header.readUInt32BE(24) === header.readUInt32BE(92);
  return valid && size < pageSize * pages;
}

function migrate(db: StateDb): void {
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version === SCHEMA_VERSION) return;
  db.transaction(() => {
    for (let v = version; v < SCHEMA_VERSION; v++) db.exec(MIGRATIONS[v]!);
    db.pragma(`application_id = ${APP_ID}`);
    db.pragma(`user_version = ${SCHEMA_VERSION}`);
  })();
}
