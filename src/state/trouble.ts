/**
 * Trouble with the place the state lives (issue 14.9): a folder where the
 * file should be, a read-only folder, a full disk. Each is a state error
 * (exit 2) with a sentence saying what to fix, never a stack: the state on
 * disk is left as it was before the write that failed, so the next run after
 * the fix goes on from there.
 */
import { accessSync, constants, statfsSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { DatasyncError } from '../errors.js';

const trouble = (code: string, message: string, hint: string) => new DatasyncError('state', code, message, { hint });

/** `path` (the state, or its lock) is a folder: refused before anything reads or writes it. */
export function refuseFolder(path: string, what: string): void {
  let folder = false;
  try {
    folder = statSync(path).isDirectory();
  } catch {
    return; // missing: made later
  }
  if (folder) {
    throw trouble('STATE_IS_FOLDER', `${what} ${path} is a folder, not a file`,
      what === 'the lock file'
        ? 'remove that folder (datasync makes the lock file itself, next to the state)'
        : 'point `state:` in the YAML at a file, e.g. `state: .datasync/state.db`');
  }
}

function diskFull(dir: string): boolean {
  try {
    const s = statfsSync(dir);
    return s.bavail * s.bsize < 64 * 1024;
  } catch {
    return false;
  }
}

function writable(dir: string): boolean {
  try {
    accessSync(dir, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/** The error a person can act on for a failure to open or write the state at `path`; null when it is not about its place. */
export function stateTrouble(err: unknown, path: string): DatasyncError | null {
  if (err instanceof DatasyncError) return null;
  const code = String((err as { code?: unknown } | null)?.code ?? '');
  const dir = dirname(path);
  // SQLite's codes do not tell a full or read-only disk from other trouble (a read-only
  // connection meeting a WAL that needs recovery also says SQLITE_READONLY_*): the disk tells.
  const maybe = /^SQLITE_(IOERR|CANTOPEN|READONLY)/.test(code);
  if (code === 'ENOSPC' || code === 'SQLITE_FULL' || (maybe && diskFull(dir))) {
    return trouble('STATE_DISK_FULL', `no space left on the disk that holds the state ${path}`,
      'free some space there (or point `state:` at another disk) and run again: the state was left as it was before the write that failed');
  }
  if (code === 'EROFS' || code === 'EACCES' || code === 'EPERM' || (maybe && !writable(dir))) {
    return trouble('STATE_READ_ONLY', `the state ${path} cannot be written: its folder ${dir} is read-only (or not writable by this user)`,
      'make that folder writable by this user, or point `state:` in the YAML at a writable folder');
  }
  return null;
}
