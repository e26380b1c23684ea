/**
 * One run at a time per state file: a lock file beside it, created with
 * O_EXCL. A lock whose process is gone is taken over.
 */
import { hostname } from 'node:os';
import { linkSync, mkdirSync, readFileSync, renameSync, rmdirSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { DatasyncError } from '../errors.js';
import { refuseFolder, stateTrouble } from './trouble.js';

export interface LockInfo {
  pid: number;
  host: string;
  command: string;
  startedAt: string;
  /** A watcher accepts "sync now" requests instead of refusing a run. */
  watch?: boolean;
}

export interface Lock {
  info: LockInfo;
  release(): void;
}

export const lockPath = (statePath: string) => `${statePath}.lock`;

export function readLock(statePath: string): LockInfo | null {
  try {
    return JSON.parse(readFileSync(lockPath(statePath), 'utf8')) as LockInfo;
  } catch {
    return null;
  }
}

export function isAlive(info: LockInfo): boolean {
  if (info.host !== hostname()) return true; // cannot tell: assume it runs
  try {
    process.kill(info.pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function describeHolder(info: LockInfo): string {
  return `process ${info.pid} on ${info.host} (\`${info.command}\`, started ${info.startedAt})`;
}

export function acquireLock(statePath: string, command: string, opts: { watch?: boolean } = {}): Lock {
  try {
    return acquire(statePath, command, opts);
  } catch (err) {
    throw stateTrouble(err, lockPath(statePath)) ?? err;
  }
}

function acquire(statePath: string, command: string, opts: { watch?: boolean }): Lock {
  const path = lockPath(statePath);
  refuseFolder(path, 'the lock file');
  // The first folder made for the lock, if any: released with the lock while still empty, so a run
  // that never got to open the state (an app down, a config error) leaves nothing behind.
  const made = mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const info: LockInfo = {
    pid: process.pid, host: hostname(), command, startedAt: new Date().toISOString(), watch: opts.watch,
  };
  const text = JSON.stringify(info);
  for (let attempt = 0; attempt < 3; attempt++) {
    if (tryCreate(path, text)) {
      return {
        info,
        release: () => {
          releaseIfOurs(path, text);
          if (made) removeEmptyFolders(dirname(path), made);
        },
      };
    }
    const holder = readLock(statePath);
    if (holder && isAlive(holder)) {
      throw new DatasyncError('lock', 'LOCKED',
        `another datasync run holds the lock on ${statePath}: ${describeHolder(holder)}`,
        { hint: `wait for it to finish, or stop it (kill ${holder.pid}); a lock left by a dead process is taken over automatically` });
    }
    takeOver(path, holder);
  }
  throw new DatasyncError('lock', 'LOCKED', `could not take the lock on ${statePath}`,
    { hint: 'another process keeps taking it; try again' });
}

function tryCreate(path: string, text: string): boolean {
  // Write a private temp file, then hard-link it into place: link() fails if
  // the lock exists, so the lock is never seen half-written.
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, text, { mode: 0o600 });
  try {
    linkSync(tmp, path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  } finally {
    unlinkSync(tmp);
  }
}

function takeOver(path: string, stale: LockInfo | null): void {
  // Move the stale lock aside atomically; if another process replaced it
  // meanwhile, put theirs back.
  const aside = `${path}.stale.${process.pid}`;
  try {
    renameSync(path, aside);
  } catch {
    return; // someone else moved it first
  }
  const moved = readFileSync(aside, 'utf8');
  if (stale && moved !== JSON.stringify(stale)) {
    try { linkSync(aside, path); } catch { /* theirs was replaced again */ }
  }
  unlinkSync(aside);
}

/** Removes `from` and its parents up to `top` while they are empty (the state file in one keeps it). */
function removeEmptyFolders(from: string, top: string): void {
  for (let dir = from; ; dir = dirname(dir)) {
    try {
      rmdirSync(dir);
    } catch {
      return; // not empty (or gone): keep it and everything above
    }
    if (dir === top || dirname(dir) === dir) return;
  }
}

function releaseIfOurs(path: string, text: string): void {
  try {
    if (readFileSync(path, 'utf8') === text) unlinkSync(path);
  } catch {
    /* already gone */
  }
}
