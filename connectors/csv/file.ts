/**
 * One object's CSV file in memory: load (with its content hash), look rows up
 * by id, and save atomically (temp file in the same folder, then rename), so a
 * reader never sees half a file and a crash never leaves one.
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, type BigIntStats } from 'node:fs';
import { chmod, chown, mkdir, open, readdir, readFile, realpath, rename, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { appError, dataError, configError } from '../../src/errors.js';
import { csvHeader, rowSerializer, scanCsv, serializeCsv, type CsvText } from './parse.js';

export interface CsvObjectConfig {
  object: string;
  file: string;
  id: string;
  delimiter: string;
  /** Create the file (header only) when it does not exist. */
  create: boolean;
  /** Header of a created file. */
  initialHeader: string[];
}

export interface CsvFile extends CsvText {
  /** `sha256:<hex>` of the file's bytes (as read, or as this connector last saved them). */
  hash: string;
  idColumn: number;
  /** id → row index. */
  index: Map<string, number>;
  /**
   * Each row's bytes as written last (with its line end), or undefined when
   * it is new or changed since: a save encodes only those (see `saveCsv`).
   */
  rowBytes?: (Buffer | undefined)[];
  /** The largest numeric id, null when some id is not numeric; computed on the first create. */
  maxId?: number | null;
}

/**
 * Identity of the file's current version (device, inode, size, change and
 * modification times in ns): equal stamps mean a cached parse still holds.
 * null when the file does not exist.
 */
export async function fileStamp(file: string): Promise<string | null> {
  const s = await stat(file, { bigint: true }).catch(() => null);
  return s === null ? null : stampOf(s);
}

/**
 * The stamp of a file that does not exist yet and is read as empty (`create: true`): a write
 * made from that reading goes ahead only while the file is still absent.
 */
const ABSENT = 'absent';
const versionStamp = async (cfg: CsvObjectConfig) => (await fileStamp(cfg.file)) ?? (cfg.create ? ABSENT : null);

const stampOf = (s: BigIntStats) => `${s.dev}:${s.ino}:${s.size}:${s.mtimeNs}:${s.ctimeNs}`;

const contentHash = (bytes: Buffer | string) => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

async function readBytes(cfg: CsvObjectConfig): Promise<Buffer> {
  try {
    return await readFile(cfg.file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    // Read as an empty file with the header, and written only with the first record: a run that
    // goes no further (a config error, an app down, a dry run) leaves no file behind.
    if (code === 'ENOENT' && cfg.create) return Buffer.from(serializeCsv({ header: cfg.initialHeader, rows: [], bom: false, eol: '\n' }, cfg.delimiter));
    const why = code === 'ENOENT' ? 'does not exist'
      : code === 'EACCES' || code === 'EPERM' ? 'cannot be read (permission denied)'
        : code === 'EISDIR' ? 'is a folder, not a file' : `cannot be read (${(err as Error).message})`;
    throw appError('CSV_FILE_UNREADABLE', `CSV file ${cfg.file} for ${cfg.object} ${why}`, {
      hint: code === 'ENOENT'
        ? `check \`objects.${cfg.object}.file\`, or set \`create: true\` on the object to start from an empty file`
        : 'check the file and its permissions',
      cause: err,
    });
  }
}

/** The file's hash without parsing it (cheap check for "unchanged"). */
export async function csvHash(cfg: CsvObjectConfig): Promise<string> {
  return contentHash(await readBytes(cfg));
}

/** Keeps a BOM in the text (the parser notes it, so a write keeps it too). */
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * The file's text. Bytes that are not UTF-8 (a Latin-1 export, say) are an
 * error naming the line: replacing them with U+FFFD would write mangled
 * names into the other app.
 */
function decode(bytes: Buffer, cfg: CsvObjectConfig): string {
  try {
    return utf8.decode(bytes);
  } catch {
    let line = 1;
    for (let start = 0, i = 0; i <= bytes.length; i++) {
      if (i < bytes.length && bytes[i] !== 0x0a) continue;
      try {
        utf8.decode(bytes.subarray(start, i));
      } catch {
        break;
      }
      line++;
      start = i + 1;
    }
    throw dataError('CSV_NOT_UTF8', `${cfg.file}:${line}: the file is not UTF-8 text (another encoding, such as Latin-1 or Windows-1252?)`, {
      hint: 'save or export the file as UTF-8 (in Excel: "CSV UTF-8"); datasync reads nothing from a file it cannot decode exactly',
    });
  }
}

/**
 * Checks the whole file: UTF-8, structure, header, the id column,
 * an id on every row and no id twice, handing each row to `keep`. Returns
 * the file's shape, hash, id column and id → row number.
 */
function scanFile(cfg: CsvObjectConfig, bytes: Buffer, keep: (row: string[]) => void) {
  const index = new Map<string, number>();
  const lines: number[] = [];
  let idColumn = -1;
  const shape = scanCsv(decode(bytes, cfg), cfg.file, cfg.delimiter, (header) => {
    idColumn = header.indexOf(cfg.id);
    if (idColumn < 0) {
      throw configError('CSV_ID_COLUMN_MISSING', `${cfg.file}:1: no id column "${cfg.id}" in the header (${header.join(', ')})`, {
        hint: `set \`objects.${cfg.object}.id\` to the column that identifies a row`,
      });
    }
    return (row, line) => {
      const id = row[idColumn]!.trim();
      const problem = id === '' ? 'row has no id'
        : index.has(id) ? `duplicate id "${id}" (also on line ${lines[index.get(id)!]})` : undefined;
      if (problem) {
        throw dataError('CSV_BAD_ID', `${cfg.file}:${line}: ${problem}`, {
          hint: `every row needs its own value in column "${cfg.id}"`,
        });
      }
      index.set(id, lines.length);
      lines.push(line);
      keep(row);
    };
  });
  return { shape, hash: contentHash(bytes), idColumn, index, lines };
}

export async function loadCsv(cfg: CsvObjectConfig): Promise<CsvFile> {
  return parsed(cfg, await readBytes(cfg));
}

/**
 * The parsed file with the stamp of the bytes parsed (null when another
 * program kept changing the file while it was read, three times). Only the
 * read is inside the two stats, not the parse, so a file appended to now and
 * then still gets a stamp a save can be checked against.
 */
export async function loadCsvAt(cfg: CsvObjectConfig): Promise<{ csv: CsvFile; stamp: string | null }> {
  for (let attempt = 1; ; attempt++) {
    const before = await versionStamp(cfg);
    const bytes = await readBytes(cfg);
    const after = await versionStamp(cfg);
    const stamp = after !== null && after === before ? after : null;
    if (stamp !== null || attempt === 3) return { csv: parsed(cfg, bytes), stamp };
  }
}

function parsed(cfg: CsvObjectConfig, bytes: Buffer): CsvFile {
  const rows: string[][] = [];
  const { shape, hash, idColumn, index } = scanFile(cfg, bytes, (row) => rows.push(row));
  return { ...shape, rows, hash, idColumn, index, rowBytes: [] };
}

/** A file's header and hash, not checked again (see `checkCsv`). */
export interface KnownCsv { header: string[]; hash: string }

/**
 * Checks the file: a version whose hash is in `known` (read whole, or
 * written by this connector, before) only for its header; any other whole,
 * as `loadCsv` does, keeping the parse (a read of it follows).
 */
export async function checkCsv(cfg: CsvObjectConfig, known: readonly string[] = []): Promise<KnownCsv | CsvFile> {
  const bytes = await readBytes(cfg);
  const hash = contentHash(bytes);
  if (known.includes(hash)) {
    const end = bytes.indexOf(0x0a);
    const header = csvHeader(decode(end < 0 ? bytes : bytes.subarray(0, end + 1), cfg), cfg.file, cfg.delimiter);
    if (header) return { header, hash };
  }
  return parsed(cfg, bytes);
}

/**
 * Writes the file in 1 MB pieces (no second copy of a large file in memory),
 * reusing `rowBytes`, then syncs it. Hashes the pieces on the way, so the
 * hash of what was written costs no read of the file.
 */
async function writeCsvText(path: string, csv: CsvText & { rowBytes?: (Buffer | undefined)[] }, delimiter: string, mode = 0o666):
  Promise<{ hash: string; written: BigIntStats }> {
  const line = rowSerializer(delimiter);
  const hash = createHash('sha256');
  // Created with the file's own mode: a 0600 file's rows are never readable by others, not even in the temp file.
  const handle = await open(path, 'wx', mode);
  let total = 0;
  // A write may take fewer bytes than given (a disk filling up): write the
  // rest until all of it is taken or the system says why not (ENOSPC).
  const put = async (parts: Buffer[], size: number) => {
    const piece = Buffer.concat(parts, size);
    hash.update(piece);
    for (let done = 0; done < piece.length;) {
      const { bytesWritten } = await handle.write(piece, done, piece.length - done);
      if (bytesWritten <= 0) throw new Error(`the disk took no more bytes after ${total + done} (is it full?)`);
      done += bytesWritten;
    }
    total += piece.length;
  };
  try {
    let parts: Buffer[] = [Buffer.from(`${csv.bom ? '\ufeff' : ''}${line(csv.header)}${csv.eol}`)];
    let size = parts[0]!.length;
    const cache = csv.rowBytes;
    for (let i = 0; i < csv.rows.length; i++) {
      let bytes = cache?.[i];
      if (bytes === undefined) {
        bytes = Buffer.from(line(csv.rows[i]!) + csv.eol);
        if (cache) cache[i] = bytes;
      }
      parts.push(bytes);
      size += bytes.length;
      if (size >= 1 << 20) {
        await put(parts, size);
        parts = [];
        size = 0;
      }
    }
    await put(parts, size);
    await handle.sync();
    const written = await handle.stat({ bigint: true });
    // What is on the disk after the sync is what was meant, or the old file stays.
    if (written.size !== BigInt(total)) throw new Error(`${written.size} bytes on disk after writing ${total}`);
    return { hash: `sha256:${hash.digest('hex')}`, written };
  } finally {
    await handle.close();
  }
}

export interface SavedCsv {
  /** `sha256:<hex>` of the bytes written. */
  hash: string;
  /** The stamp of the file as written; null when another program had already replaced or changed it after the rename. */
  stamp: string | null;
}

export async function saveCsv(cfg: CsvObjectConfig, csv: CsvText & { rowBytes?: (Buffer | undefined)[] }): Promise<SavedCsv> {
  return (await save(cfg, csv, undefined))!;
}

/**
 * Saves the file unless another program changed it since `loadedAt` (the
 * stamp of the version the rows were read from; a row appended while this
 * one was written): then answers null and leaves the file alone, and the
 * caller reads it again and re-applies its changes, so no row is lost. The
 * stamp is checked right before the rename; a write landing in the few
 * microseconds between the two is the one window left.
 */
export async function saveCsvIfUnchanged(cfg: CsvObjectConfig, csv: CsvText & { rowBytes?: (Buffer | undefined)[] }, loadedAt: string):
  Promise<SavedCsv | null> {
  return save(cfg, csv, loadedAt);
}

async function save(cfg: CsvObjectConfig, csv: CsvText & { rowBytes?: (Buffer | undefined)[] }, loadedAt: string | undefined): Promise<SavedCsv | null> {
  // A symlinked file is written through to its target: the rename replaces the target, and the link stays a link.
  const target = await realpath(cfg.file).catch(() => cfg.file);
  const dir = dirname(target);
  const tmp = join(dir, `.${basename(target)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  let saved: SavedCsv;
  try {
    if (!existsSync(dir)) await mkdir(dir, { recursive: true });
    const before = existsSync(target) ? await stat(target) : undefined;
    const mode = before ? before.mode & 0o777 : undefined;
    const { hash, written } = await writeCsvText(tmp, csv, cfg.delimiter, mode);
    if (mode !== undefined) await chmod(tmp, mode); // the umask may have taken bits off
    // The file keeps its owner when datasync runs as another user who may give it away (root).
    if (before && (before.uid !== process.getuid?.() || before.gid !== process.getgid?.())) {
      await chown(tmp, before.uid, before.gid).catch(() => undefined);
    }
    if (loadedAt !== undefined && (await versionStamp(cfg)) !== loadedAt) {
      await unlink(tmp).catch(() => undefined);
      return null;
    }
    await rename(tmp, target);
    saved = { hash, stamp: await stampIfAsWritten(cfg.file, written) };
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    const why = (err as NodeJS.ErrnoException).code === 'ENOSPC' ? 'no space left on the disk (ENOSPC)' : (err as Error).message;
    throw appError('CSV_WRITE_FAILED', `could not write CSV file ${cfg.file}: ${why}; the file and the state are as before the write`, {
      hint: 'check that the folder is writable and the disk is not full', cause: err, transient: true,
    });
  }
  await removeStaleTemps(dir, basename(target));
  return saved;
}

/**
 * The file's stamp when it is still the file just written, untouched: a stat
 * after the rename alone could return the stamp of another program's version
 * saved in between, and the connector would then take it for its own. (The
 * chmod and the rename change only the ctime.)
 */
async function stampIfAsWritten(file: string, written: BigIntStats): Promise<string | null> {
  const now = await stat(file, { bigint: true }).catch(() => null);
  const same = now !== null && now.dev === written.dev && now.ino === written.ino
    && now.size === written.size && now.mtimeNs === written.mtimeNs;
  return same ? stampOf(now) : null;
}

/** Temp files of this CSV file left by a process that was killed while writing it (their pid is gone). */
async function removeStaleTemps(dir: string, base: string): Promise<void> {
  const prefix = `.${base}.`;
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    const pid = name.startsWith(prefix) && name.endsWith('.tmp') ? Number(name.slice(prefix.length).split('.')[0]) : NaN;
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
