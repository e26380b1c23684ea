/**
 * Temp files of a CSV file: the new version being streamed (`saveCsv`),
 * `.NAME.PID.RANDOM.tmp`, and the rows a pass created (`CreatedRows`),
 * `.NAME.PID.RANDOM.spill`, each beside the file's target, so a rename is
 * atomic and a killed process's leftovers are found by name and removed.
 */
import { randomBytes } from 'node:crypto';
import { readdir, realpath, unlink, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

const ENDINGS = ['.tmp', '.spill'];

/**
 * Writes all of `bytes` to a temp file at byte `at`: a write may take fewer
 * bytes than given (a disk filling up), and one that takes none is an error,
 * not a loop.
 */
export async function writeWhole(handle: FileHandle, bytes: Buffer, at: number): Promise<void> {
  for (let done = 0; done < bytes.length;) {
    const { bytesWritten } = await handle.write(bytes, done, bytes.length - done, at + done);
    if (bytesWritten <= 0) throw new Error(`the disk took no more bytes after ${at + done} (is it full?)`);
    done += bytesWritten;
  }
}

/** A new temp file's path beside the target of `file` (a symlinked file is written through to its target). */
export async function tempBeside(file: string, ending: '.tmp' | '.spill' = '.tmp'): Promise<{ target: string; dir: string; tmp: string }> {
  const target = await realpath(file).catch(() => file);
  const dir = dirname(target);
  return { target, dir, tmp: join(dir, `.${basename(target)}.${process.pid}.${randomBytes(4).toString('hex')}${ending}`) };
}

/**
 * Removes the temp files of a CSV file left by processes killed while
 * writing it, before a pass reads it: a save removes them too, but a pass
 * that writes nothing to the file (the run after a kill that came right
 * after a rename) would leave them, as large as the file, for good.
 */
export async function removeStaleTempsOf(file: string): Promise<void> {
  const target = await realpath(file).catch(() => file);
  await removeStaleTemps(dirname(target), basename(target));
}

/** Temp files of this CSV file left by a process that was killed while writing it (their pid is gone). */
export async function removeStaleTemps(dir: string, base: string): Promise<void> {
  const prefix = `.${base}.`;
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    const pid = name.startsWith(prefix) && ENDINGS.some((e) => name.endsWith(e)) ? Number(name.slice(prefix.length).split('.')[0]) : NaN;
    if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid || isRunning(pid)) continue;
    await unlink(join(dir, name)).catch(() => undefined);
  }
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
