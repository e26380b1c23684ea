/**
 * One object's CSV file, never whole in memory: read piece by piece (1 MB
 * at a time, cut at record ends) into an index (id → where its row is),
 * rows read back by id from there, and saved by streaming the file's rows
 * through to a temp file with the writes applied, then renamed over it, so
 * a reader never sees half a file and a crash never leaves one.
 */
import { createHash } from 'node:crypto';
import { existsSync, type BigIntStats } from 'node:fs';
import { chmod, chown, mkdir, open, rename, stat, unlink, type FileHandle } from 'node:fs/promises';
import { basename } from 'node:path';
import { appError, configError, dataError, DatasyncError } from '../../src/errors.js';
import { checkHeader, csvHeader, recordIds, records, rowSerializer, serializeCsv, unreadable, type CsvShape } from './parse.js';
import { countColumn, hashColumn, offsetColumn, RowIndex } from './row-index.js';
import { rowHash } from './row-hashes.js';
import { CreatedRows } from './spill.js';
import { removeStaleTemps, tempBeside, writeWhole } from './temp.js';

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

/** One version of the file, indexed: its shape, hash and where each row is. */
export interface CsvIndex extends CsvShape {
  /** `sha256:<hex>` of the file's bytes. */
  hash: string;
  idColumn: number;
  /** id → row number (flat: see row-index.ts). */
  index: RowIndex;
  /** Per row number: the byte its row starts at (past 2^32 in a large file), its length in bytes (line end included), the line it starts on. */
  offsets: Float64Array;
  lengths: Uint32Array;
  lines: Uint32Array;
  /**
   * Per row number: a hash of the row's bytes (`rowHash`), which tells a
   * row changed since another version without parsing it (row-hashes.ts).
   * Empty in the index of a version streamed to a save (`positions` false).
   */
  hashes: Float64Array;
  /** The version's stamp; null when the file changed while it was read (then the index is not kept). */
  stamp: string | null;
  /** The largest numeric id, null when some id is not numeric; computed on the first create. */
  maxId?: number | null;
}

/** A parsed row with where it is in the file. */
export interface ScannedRow { row: string[]; line: number; offset: number; length: number }

/**
 * Identity of the file's current version (device, inode, size, change and
 * modification times in ns): equal stamps mean an index still holds.
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

function unreadableFile(cfg: CsvObjectConfig, err: unknown) {
  const code = (err as NodeJS.ErrnoException).code;
  const why = code === 'ENOENT' ? 'does not exist'
    : code === 'EACCES' || code === 'EPERM' ? 'cannot be read (permission denied)'
      : code === 'EISDIR' ? 'is a folder, not a file' : `cannot be read (${(err as Error).message})`;
  return appError('CSV_FILE_UNREADABLE', `CSV file ${cfg.file} for ${cfg.object} ${why}`, {
    hint: code === 'ENOENT'
      ? `check \`objects.${cfg.object}.file\`, or set \`create: true\` on the object to start from an empty file`
      : 'check the file and its permissions',
    cause: err,
  });
}

const CHUNK = 1 << 20;
/** Bytes between two rows read by id below which both are read in one call. */
const SPAN_GAP = 64 << 10;

/**
 * The file's bytes, 1 MB at a time. A missing file with `create: true` reads
 * as the header from the config, and is written only with the first record:
 * a run that goes no further (a config error, an app down, a dry run)
 * leaves no file behind.
 */
async function* chunks(cfg: CsvObjectConfig, reuse = false): AsyncGenerator<Buffer> {
  let handle;
  try {
    handle = await open(cfg.file, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' && cfg.create) {
      yield Buffer.from(serializeCsv({ header: cfg.initialHeader, rows: [], bom: false, eol: '\n' }, cfg.delimiter));
      return;
    }
    throw unreadableFile(cfg, err);
  }
  try {
    // `reuse`: each piece is gone once the next is asked for (hashing keeps none of them).
    const one = reuse ? Buffer.allocUnsafe(CHUNK) : undefined;
    for (;;) {
      const piece = one ?? Buffer.allocUnsafe(CHUNK);
      let bytesRead: number;
      try {
        ({ bytesRead } = await handle.read(piece, 0, CHUNK, null));
      } catch (err) {
        throw unreadableFile(cfg, err);
      }
      if (bytesRead === 0) return;
      yield piece.subarray(0, bytesRead);
    }
  } finally {
    await handle.close();
  }
}

/**
 * The file's hash without parsing it (cheap check for "unchanged"), with its first piece (for the header).
 * Through one buffer: a fresh megabyte per piece left ~30 MB of garbage at a time on a 128 MB file (the
 * peak memory of a pass that reads nothing).
 */
async function hashOnly(cfg: CsvObjectConfig): Promise<{ hash: string; first: Buffer }> {
  const hash = createHash('sha256');
  let first: Buffer | undefined;
  for await (const piece of chunks(cfg, true)) {
    first ??= Buffer.from(piece);
    hash.update(piece);
  }
  return { hash: `sha256:${hash.digest('hex')}`, first: first ?? Buffer.alloc(0) };
}

export async function csvHash(cfg: CsvObjectConfig): Promise<string> {
  return (await hashOnly(cfg)).hash;
}

/** Keeps a BOM in the text (the parser notes it, so a write keeps it too). */
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * A piece of the file as text (`line`: the line it starts on). Bytes that
 * are not UTF-8 (a Latin-1 export, say) are an error naming the line:
 * replacing them with U+FFFD would write mangled names into the other app.
 */
function decode(bytes: Buffer, cfg: CsvObjectConfig, firstLine = 1): string {
  try {
    return utf8.decode(bytes);
  } catch {
    let line = firstLine;
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
 * The end of the last whole record in `buf` (after a line feed outside
 * quotes, counting quotes from the start), or -1. A quote inside an unquoted
 * value (which the parser takes as text) can mislead the count: a piece cut
 * there does not parse, and is read on with the next one (`scanRows`).
 */
function lastRecordEnd(buf: Buffer): number {
  for (let lf = buf.lastIndexOf(0x0a); lf >= 0; lf = lf > 0 ? buf.lastIndexOf(0x0a, lf - 1) : -1) {
    let quotes = 0;
    for (let q = buf.indexOf(0x22); q >= 0 && q < lf; q = buf.indexOf(0x22, q + 1)) quotes++;
    if (quotes % 2 === 0) return lf + 1;
  }
  return -1;
}

/**
 * Reads the whole file piece by piece, checking all of it (UTF-8,
 * structure, header, the id column, an id on every row and no id twice),
 * and yields the rows after the header, a piece's worth at a time. Once the
 * rows are all yielded, `out.index` is the file's index (`out.shape` is
 * set once the header is read); with `positions` false, its ids and lines
 * only (for a save, which makes the positions of the file it writes). With
 * `cells` false it yields no rows and parses only the ids (`recordIds`):
 * an index, with the same checks.
 */
export async function* scanRows(cfg: CsvObjectConfig, out: { index?: CsvIndex; shape?: CsvShape & { idColumn: number } }, positions = true,
  cells = true): AsyncGenerator<ScannedRow[]> {
  const before = await versionStamp(cfg);
  const hash = createHash('sha256');
  const index = new RowIndex();
  const offsets = offsetColumn();
  const lengths = countColumn();
  const lines = countColumn();
  const hashes = hashColumn();
  let shape: CsvShape | undefined;
  let idColumn = -1;
  let line = 1;
  let at = 0;
  let carry: Buffer = Buffer.alloc(0);
  /** The rows of a piece; undefined when a piece but the last one does not parse (cut inside a quoted value, see `lastRecordEnd`). */
  const block = (bytes: Buffer, last: boolean): ScannedRow[] | undefined => {
    const first = shape === undefined;
    const text = decode(bytes, cfg, line);
    const ascii = text.length === bytes.length;
    // A row's cells (null: only its id and how many values it has, `cells` false).
    const found: { row: string[] | null; id: string; values: number; line: number; char: number }[] = [];
    const whole = (row: string[], l: number, char: number) => { found.push({ row, id: '', values: row.length, line: l, char }); };
    try {
      if (cells) line = records(text, cfg.delimiter, cfg.file, whole, { line, bom: first });
      else {
        let from = { line, at: 0 };
        if (first) {
          // The header whole, then the rows by their ids.
          let next: { line: number; at: number } | undefined;
          const after = records(text, cfg.delimiter, cfg.file, (row, l, char) => {
            if (found.length === 0) return whole(row, l, char);
            next = { line: l, at: char };
            return false;
          }, { line, bom: true });
          from = next ?? { line: after, at: text.length };
        }
        const idAt = shape ? idColumn : found.length > 0 ? found[0]!.row!.map((name) => name.trim()).indexOf(cfg.id) : -1;
        line = recordIds(text, cfg.delimiter, cfg.file, idAt, (id, values, l, char, end) => {
          if (id.trim() !== '') return void found.push({ row: null, id, values, line: l, char });
          // No id: read as `records` reads it (a blank row is skipped; the checks below name what else is wrong).
          records(text.slice(char, end), cfg.delimiter, cfg.file, (row) => { whole(row, l, char); return false; }, { line: l, bom: false });
        }, from);
      }
    } catch (err) {
      if (last) throw err;
      return undefined;
    }
    // Byte offsets: the same as the text's indexes for ASCII, else counted.
    let bytePos = at;
    let charPos = 0;
    const offset = (char: number) => {
      if (ascii) return at + char;
      bytePos += Buffer.byteLength(text.slice(charPos, char));
      charPos = char;
      return bytePos;
    };
    const rows: ScannedRow[] = [];
    for (let k = 0; k < found.length; k++) {
      const { row, line: l, char, values } = found[k]!;
      if (!shape) {
        const header = checkHeader(row!, cfg.file);
        shape = { header, bom: text.charCodeAt(0) === 0xfeff, eol: /^[^\n]*\r\n/.test(text) ? '\r\n' : '\n' };
        idColumn = header.indexOf(cfg.id);
        if (idColumn < 0) {
          throw configError('CSV_ID_COLUMN_MISSING', `${cfg.file}:1: no id column "${cfg.id}" in the header (${header.join(', ')})`, {
            hint: `set \`objects.${cfg.object}.id\` to the column that identifies a row`,
          });
        }
        out.shape = { ...shape, idColumn };
        continue;
      }
      if (values !== shape.header.length) {
        throw unreadable(cfg.file, l, `row has ${values} values but the header has ${shape.header.length} columns`);
      }
      const id = (row ? row[idColumn]! : found[k]!.id).trim();
      const seen = id === '' ? undefined : index.get(id);
      const problem = id === '' ? 'row has no id'
        : seen !== undefined ? `duplicate id "${id}" (also on line ${lines.at(seen)})` : undefined;
      if (problem) throw dataError('CSV_BAD_ID', `${cfg.file}:${l}: ${problem}`, { hint: `every row needs its own value in column "${cfg.id}"` });
      const start = offset(char);
      const end = k + 1 < found.length ? offset(found[k + 1]!.char) : at + bytes.length;
      // Copied into the index's own bytes: no slice of the decoded piece is kept.
      index.add(id);
      if (positions) {
        offsets.push(start);
        lengths.push(end - start);
        hashes.push(rowHash(bytes, start - at, end - at));
      }
      lines.push(l);
      if (row && cells) rows.push({ row, line: l, offset: start, length: end - start });
      if (k + 1 < found.length && !ascii) { bytePos = end; charPos = found[k + 1]!.char; }
    }
    at += bytes.length;
    return rows;
  };
  for await (const piece of chunks(cfg)) {
    hash.update(piece);
    const buf = carry.length > 0 ? Buffer.concat([carry, piece]) : piece;
    const end = lastRecordEnd(buf);
    const rows = end < 0 ? undefined : block(buf.subarray(0, end), false);
    if (rows === undefined) {
      // No record end found for sure (a stray quote in an unquoted value misleads the count): read on.
      carry = buf;
      continue;
    }
    carry = buf.subarray(end);
    if (rows.length > 0) yield rows;
  }
  if (carry.length > 0) {
    const rows = block(carry, true)!;
    if (rows.length > 0) yield rows;
  }
  if (!shape) {
    throw configError('CSV_NO_HEADER', `${cfg.file}:1: the file has no header row`, { hint: 'the first row must name the columns, e.g. id,email,firstname' });
  }
  const after = await versionStamp(cfg);
  if (positions) index.trim();
  out.index = {
    ...shape, hash: `sha256:${hash.digest('hex')}`, idColumn, index, offsets: offsets.done(), lengths: lengths.done(), lines: lines.done(),
    hashes: hashes.done(), stamp: after !== null && after === before ? after : null,
  };
}

/** Reads and checks the whole file into its index (no row kept). */
export async function indexCsv(cfg: CsvObjectConfig): Promise<CsvIndex> {
  const out: { index?: CsvIndex } = {};
  for await (const _ of scanRows(cfg, out, true, false)) { /* indexing */ }
  return out.index!;
}

/** A file's header and hash, not checked again (see `checkCsv`). */
export interface KnownCsv { header: string[]; hash: string; stamp: string | null }

/**
 * Checks the file: a version whose hash is in `known` (read whole, or
 * written by this connector, before) only for its header; any other whole,
 * answering its index (a read of it follows).
 */
export async function checkCsv(cfg: CsvObjectConfig, known: readonly string[] = []): Promise<KnownCsv | CsvIndex> {
  if (known.length > 0) {
    const before = await versionStamp(cfg);
    const { hash, first } = await hashOnly(cfg);
    const after = await versionStamp(cfg);
    if (known.includes(hash)) {
      const end = first.indexOf(0x0a);
      const header = csvHeader(decode(end < 0 ? first : first.subarray(0, end + 1), cfg), cfg.file, cfg.delimiter);
      if (header) return { header, hash, stamp: after !== null && after === before ? after : null };
    }
  }
  return indexCsv(cfg);
}

/**
 * The rows at these row numbers of the version `idx` indexes, read from the
 * file by position. Throws `StaleIndex` when the file is not that version.
 */
export async function rowsAt(cfg: CsvObjectConfig, idx: CsvIndex, rowNumbers: number[]): Promise<string[][]> {
  if (rowNumbers.length === 0) return [];
  const handle = await open(cfg.file, 'r').catch(() => null);
  if (!handle) throw new StaleIndex();
  try {
    if (stampOf(await handle.stat({ bigint: true })) !== idx.stamp) throw new StaleIndex();
    const out: string[][] = new Array(rowNumbers.length);
    // In file order, rows close to each other read in one call (a write batch names thousands).
    const order = rowNumbers.map((r, k) => k).sort((x, y) => idx.offsets[rowNumbers[x]!]! - idx.offsets[rowNumbers[y]!]!);
    for (let k = 0; k < order.length;) {
      const from = idx.offsets[rowNumbers[order[k]!]!]!;
      let to = from + idx.lengths[rowNumbers[order[k]!]!]!;
      let end = k + 1;
      for (; end < order.length; end++) {
        const r = rowNumbers[order[end]!]!;
        if (idx.offsets[r]! - to > SPAN_GAP || idx.offsets[r]! + idx.lengths[r]! - from > CHUNK) break;
        to = Math.max(to, idx.offsets[r]! + idx.lengths[r]!);
      }
      const span = Buffer.allocUnsafe(to - from);
      const { bytesRead } = await handle.read(span, 0, span.length, from);
      if (bytesRead !== span.length) throw new StaleIndex();
      for (; k < end; k++) {
        const r = rowNumbers[order[k]!]!;
        const bytes = span.subarray(idx.offsets[r]! - from, idx.offsets[r]! - from + idx.lengths[r]!);
        let row: string[] | undefined;
        records(decode(bytes, cfg, idx.lines[r]), cfg.delimiter, cfg.file, (found) => { row = found; return false; }, { line: idx.lines[r]!, bom: false });
        if (!row) throw new StaleIndex();
        out[order[k]!] = row;
      }
    }
    return out;
  } finally {
    await handle.close();
  }
}

/** The file is no longer the version an index was made of: index it again. */
export class StaleIndex extends Error {
  constructor() {
    super('the CSV file changed since it was indexed');
  }
}

/**
 * Writes not saved yet, by column name: an update's cells with the text each
 * held before and the text written, the rows created (in a temp file, see
 * `CreatedRows`), the columns added.
 */
export interface Overlay {
  added: string[];
  /**
   * id → the cells updated, as one string: JSON of `[name, before, after, …]`
   * (`updatedCells`). One flat string per row is a tenth of a Map of cells,
   * and keeps no text read from the file, which would hold on to the whole
   * piece of the file it was cut from.
   */
  updates: Map<string, string>;
  created: CreatedRows;
}

export const emptyOverlay = (file: string): Overlay => ({ added: [], updates: new Map(), created: new CreatedRows(file) });

/** An update's cells, flat: name, text before the pass's first write of it, text written; and so on. */
export const updatedCells = (cells: string | undefined): string[] => (cells === undefined ? [] : JSON.parse(cells) as string[]);

/**
 * An update's cell applies where the row still holds the text it held before
 * (another program's value stays otherwise; the next pass reads it as that
 * program's change).
 */
export function applyCells(header: string[], row: string[], cells: string | undefined): void {
  const flat = updatedCells(cells);
  for (let k = 0; k < flat.length; k += 3) {
    const col = header.indexOf(flat[k]!);
    if (col >= 0 && (row[col] ?? '') === flat[k + 1]) row[col] = flat[k + 2]!;
  }
}

export interface SavedCsv {
  /** `sha256:<hex>` of the bytes written. */
  hash: string;
  /** The stamp of the file as written; null when another program had already replaced or changed it after the rename. */
  stamp: string | null;
  /** The hash of the version the writes were applied to. */
  from: string;
  /** The index of the file as written (its stamp: `stamp`). */
  index: CsvIndex;
}

/**
 * Saves the file with the writes of `overlay`: its rows streamed from the
 * file as it is now to a temp file (created with the file's mode), the
 * writes applied (`applyCells`), the rows created appended, synced, then
 * renamed over it. With `from`, the index of the file as it is now (its
 * stamp still the file's), the rows no write touches are copied as they are,
 * byte for byte, and only the rows written are parsed and written again
 * (`writeCopied`). Answers null, leaving the file alone, when another
 * program changed the file while it was streamed (a row appended): the
 * caller tries again from its new version, so no row is lost. The stamp is
 * checked right before the rename; a write landing in the few microseconds
 * between the two is the one window left. Throws CSV_KEEPS_CHANGING when
 * another program's row holds the id of a row created.
 */
export async function saveCsv(cfg: CsvObjectConfig, overlay: Overlay, from?: CsvIndex): Promise<SavedCsv | null> {
  // A symlinked file is written through to its target: the rename replaces the target, and the link stays a link.
  const { target, dir, tmp } = await tempBeside(cfg.file);
  let saved: SavedCsv;
  try {
    if (!existsSync(dir)) await mkdir(dir, { recursive: true });
    const before = existsSync(target) ? await stat(target) : undefined;
    const mode = before ? before.mode & 0o777 : undefined;
    const streamed = from && canCopy(from, overlay) ? await writeCopied(cfg, tmp, overlay, from, mode) : await writeStreamed(cfg, tmp, overlay, mode);
    if (mode !== undefined) await chmod(tmp, mode); // the umask may have taken bits off
    // The file keeps its owner when datasync runs as another user who may give it away (root).
    if (before && (before.uid !== process.getuid?.() || before.gid !== process.getgid?.())) {
      await chown(tmp, before.uid, before.gid).catch(() => undefined);
    }
    if (streamed.fromStamp === null || (await versionStamp(cfg)) !== streamed.fromStamp) {
      await unlink(tmp).catch(() => undefined);
      return null;
    }
    await rename(tmp, target);
    // The rows created are in the file now: their temp file goes at once (not after the bookkeeping), as a
    // run after a kill may have nothing to write to this file, and so no save to remove it.
    await overlay.created.discard();
    const stamp = await stampIfAsWritten(cfg.file, streamed.written);
    saved = { hash: streamed.index.hash, stamp, from: streamed.from, index: { ...streamed.index, stamp } };
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    // What the file holds now (another program's broken row, a taken id): that error as it is.
    if (err instanceof DatasyncError) throw err;
    throw writeFailed(cfg, err);
  }
  await removeStaleTemps(dir, basename(target));
  return saved;
}

/** A temp file of the CSV file that could not be written (a full disk, a folder not writable). */
export function writeFailed(cfg: CsvObjectConfig, err: unknown): DatasyncError {
  if (err instanceof DatasyncError) return err;
  const why = (err as NodeJS.ErrnoException).code === 'ENOSPC' ? 'no space left on the disk (ENOSPC)' : (err as Error).message;
  return appError('CSV_WRITE_FAILED', `could not write CSV file ${cfg.file}: ${why}; the file and the state are as before the write`, {
    hint: 'check that the folder is writable and the disk is not full', cause: err, transient: true,
  });
}

/** Line breaks inside a row's values (a row's lines in the file, less one). */
function breaksIn(row: string[]): number {
  let n = 0;
  for (const v of row) if (v.includes('\n') || v.includes('\r')) n += v.split(/\r\n|\n|\r/).length - 1;
  return n;
}

/**
 * Streams the file's rows to `path` with the writes applied, hashing the
 * bytes on the way (no read of the written file), in 1 MB pieces, each
 * written whole (a write may take fewer bytes than given: a disk filling
 * up), then syncs it. Answers the index of what it wrote, with the hash and
 * stamp of the version streamed (`fromStamp` null: it changed meanwhile).
 */
/**
 * Where a save writes: bytes taken in 1 MB pieces, each written whole (a
 * write may take fewer bytes than given: a disk filling up) and hashed on
 * the way (no read of the written file). `at`: the bytes taken so far.
 */
function output(handle: FileHandle) {
  const hash = createHash('sha256');
  let total = 0;
  let parts: Buffer[] = [];
  let size = 0;
  const put = async () => {
    const piece = parts.length === 1 ? parts[0]! : Buffer.concat(parts, size);
    parts = [];
    size = 0;
    hash.update(piece);
    await writeWhole(handle, piece, total);
    total += piece.length;
  };
  return {
    get at() { return total + size; },
    async push(bytes: Buffer) {
      parts.push(bytes);
      size += bytes.length;
      if (size >= CHUNK) await put();
    },
    /** Writes `bytes` at once, after what was pushed: the caller may reuse them as soon as this answers. */
    async pass(bytes: Buffer) {
      if (size > 0) await put();
      parts = [bytes];
      size = bytes.length;
      await put();
    },
    /** Writes what is left, syncs, and checks the disk holds what was written. */
    async end(): Promise<{ hash: string; written: BigIntStats }> {
      await put();
      await handle.sync();
      const written = await handle.stat({ bigint: true });
      // What is on the disk after the sync is what was meant, or the old file stays.
      if (written.size !== BigInt(total)) throw new Error(`${written.size} bytes on disk after writing ${total}`);
      return { hash: `sha256:${hash.digest('hex')}`, written };
    },
  };
}

/** The per-row columns of the index of a file being written (`CsvIndex`), sized for `expect` rows when known. */
function writtenRows(expect?: number) {
  const offsets = offsetColumn(expect);
  const lengths = countColumn(expect);
  const lines = countColumn(expect);
  const hashes = hashColumn(expect);
  const add = (offset: number, length: number, line: number, hash: number) => {
    offsets.push(offset);
    lengths.push(length);
    lines.push(line);
    hashes.push(hash);
  };
  return {
    /** A row copied as it was: its length and hash are those of the version copied. */
    add,
    /** A row written from its bytes. */
    written: (offset: number, bytes: Buffer, line: number) => add(offset, bytes.length, line, rowHash(bytes, 0, bytes.length)),
    done: () => ({ offsets: offsets.done(), lengths: lengths.done(), lines: lines.done(), hashes: hashes.done() }),
  };
}

/** The header a save writes: the version's, then the columns the writes need that it lacks, as when they were added. */
function headerFor(from: CsvShape, overlay: Overlay): string[] {
  const header = [...from.header];
  const need = (name: string, text: string) => { if (text !== '' && !header.includes(name)) header.push(name); };
  for (const name of overlay.added) need(name, 'x');
  for (const cells of overlay.updates.values()) {
    const flat = updatedCells(cells);
    for (let k = 0; k < flat.length; k += 3) need(flat[k]!, flat[k + 2]!);
  }
  for (const name of overlay.created.filled) need(name, 'x');
  return header;
}

async function writeStreamed(cfg: CsvObjectConfig, path: string, overlay: Overlay, mode = 0o666):
  Promise<{ index: CsvIndex; from: string; fromStamp: string | null; written: BigIntStats }> {
  const line = rowSerializer(cfg.delimiter);
  // Created with the file's own mode: a 0600 file's rows are never readable by others, not even in the temp file.
  const handle = await open(path, 'wx', mode);
  const out = output(handle);
  const rows = writtenRows();
  let shape: CsvShape | undefined;
  let idColumn = -1;
  let lineNo = 1;
  const push = async (bytes: Buffer, lineCount: number) => {
    lineNo += lineCount;
    await out.push(bytes);
  };
  const begin = async (from: CsvShape & { idColumn: number }) => {
    const header = headerFor(from, overlay);
    shape = { header, bom: from.bom, eol: from.eol };
    idColumn = from.idColumn;
    await push(Buffer.from(`${from.bom ? '\ufeff' : ''}${line(header)}${from.eol}`), 1 + breaksIn(header));
  };
  const add = async (row: string[]) => {
    const bytes = Buffer.from(line(row) + shape!.eol);
    rows.written(out.at, bytes, lineNo);
    await push(bytes, 1 + breaksIn(row));
  };
  try {
    const from: { index?: CsvIndex; shape?: CsvShape & { idColumn: number } } = {};
    for await (const piece of scanRows(cfg, from, false)) {
      if (!shape) await begin(from.shape!);
      for (const { row } of piece) {
        while (row.length < shape!.header.length) row.push('');
        applyCells(shape!.header, row, overlay.updates.get(row[idColumn]!.trim()));
        await add(row);
      }
    }
    const streamed = from.index!;
    if (!shape) await begin(streamed);
    // The rows written are the rows streamed, in their order: that version's id → row number holds for
    // the file written (one map of a million ids, not a second one), and the created rows come after.
    const index = streamed.index;
    await addCreated(cfg, overlay, shape!.header, idColumn, index, add);
    const { hash, written } = await out.end();
    index.trim(); // held for the rest of the pass
    return {
      index: { ...shape!, hash, idColumn, index, ...rows.done(), stamp: null },
      from: streamed.hash, fromStamp: streamed.stamp, written,
    };
  } finally {
    await handle.close();
  }
}

/** Appends the rows created, each added to the index (its row number: the next), refusing an id another program took meanwhile. */
async function addCreated(cfg: CsvObjectConfig, overlay: Overlay, header: string[], idColumn: number, index: RowIndex,
  add: (row: string[]) => Promise<void>): Promise<void> {
  for await (const [id, row] of overlay.created.all(header, idColumn)) {
    if (index.has(id)) {
      throw appError('CSV_KEEPS_CHANGING', `CSV file ${cfg.file} changed while datasync wrote it: another program added a row with id ${id}, the id of a row datasync created; nothing was written`, {
        hint: 'another program is writing the file; the next run tries again', transient: true,
      });
    }
    index.add(id);
    await add(row);
  }
}

/**
 * Whether a save can copy the rows of the version `idx` indexes: it knows
 * where every row is and its hash, the writes add no column (every row
 * would need one more value), and the file ends with a line break (a row
 * created must not run on from the last).
 */
function canCopy(idx: CsvIndex, overlay: Overlay): boolean {
  const n = idx.index.size;
  return idx.stamp !== null && n > 0 && idx.offsets.length === n && idx.hashes.length === n
    && headerFor(idx, overlay).length === idx.header.length;
}

/**
 * The save of `writeStreamed` from the index of the version on disk: the
 * bytes before the first row (BOM, header) and every run of rows no write
 * touches are copied as they are (no parse, no new quoting: another
 * program's bytes stay its own, and their row hashes hold), the rows
 * updated are read by position, parsed, written with the cells applied,
 * and the rows created come last. The file must still be that version when
 * the copy is done (`fromStamp`, checked again before the rename).
 */
async function writeCopied(cfg: CsvObjectConfig, path: string, overlay: Overlay, idx: CsvIndex, mode = 0o666):
  Promise<{ index: CsvIndex; from: string; fromStamp: string | null; written: BigIntStats }> {
  const line = rowSerializer(cfg.delimiter);
  const n = idx.index.size;
  const touched = new Uint8Array(n);
  for (const id of overlay.updates.keys()) {
    const r = idx.index.get(id);
    if (r !== undefined) touched[r] = 1;
  }
  const src = await open(cfg.file, 'r');
  const handle = await open(path, 'wx', mode);
  try {
    let stale = stampOf(await src.stat({ bigint: true })) !== idx.stamp;
    const read = async (from: number, length: number, into = Buffer.allocUnsafe(length)) => {
      const { bytesRead } = await src.read(into, 0, length, from);
      if (bytesRead !== length) stale = true;
      return into.subarray(0, bytesRead);
    };
    const last = n - 1;
    const lastBytes = await read(idx.offsets[last]!, idx.lengths[last]!);
    const endsLine = lastBytes.length > 0 && (lastBytes[lastBytes.length - 1] === 0x0a || lastBytes[lastBytes.length - 1] === 0x0d);
    if (!endsLine) touched[last] = 1;
    const out = output(handle);
    // Sized for the rows it will hold: not grown by doubling, then cut (a copy of each at the end).
    const rows = writtenRows(n + overlay.created.count);
    // Through one buffer, written as soon as read: a fresh megabyte per piece (twice, with the concatenation)
    // was garbage outside the heap that the collector let pile up (+54 MB at the peak of W1 at 1,000,000).
    const piece = Buffer.allocUnsafe(CHUNK);
    const copy = async (from: number, to: number) => {
      for (let at = from; at < to && !stale; at += CHUNK) await out.pass(await read(at, Math.min(CHUNK, to - at), piece));
    };
    await copy(0, idx.offsets[0]!);
    /** Lines moved down (or up) by the rows written again, whose line breaks may differ from the old ones'. */
    let shift = 0;
    let lineNo = 1;
    for (let r = 0; r < n && !stale;) {
      if (touched[r] === 0) {
        let e = r;
        while (e + 1 < n && touched[e + 1] === 0) e++;
        const base = out.at - idx.offsets[r]!;
        for (let k = r; k <= e; k++) rows.add(base + idx.offsets[k]!, idx.lengths[k]!, idx.lines[k]! + shift, idx.hashes[k]!);
        await copy(idx.offsets[r]!, idx.offsets[e]! + idx.lengths[e]!);
        lineNo = e < last ? idx.lines[e + 1]! + shift : idx.lines[e]! + shift + breaksIn([decode(lastBytes, cfg, idx.lines[e])]);
        r = e + 1;
        continue;
      }
      const bytes = r === last ? lastBytes : await read(idx.offsets[r]!, idx.lengths[r]!);
      let row: string[] | undefined;
      records(decode(bytes, cfg, idx.lines[r]), cfg.delimiter, cfg.file, (found) => { row = found; return false; }, { line: idx.lines[r]!, bom: false });
      if (!row) {
        stale = true;
        break;
      }
      while (row.length < idx.header.length) row.push('');
      applyCells(idx.header, row, overlay.updates.get(idx.index.idAt(r)));
      const written = Buffer.from(line(row) + idx.eol);
      rows.written(out.at, written, idx.lines[r]! + shift);
      await out.push(written);
      lineNo = idx.lines[r]! + shift + 1 + breaksIn(row);
      if (r < last) shift = lineNo - idx.lines[r + 1]!;
      r++;
    }
    const add = async (row: string[]) => {
      const bytes = Buffer.from(line(row) + idx.eol);
      rows.written(out.at, bytes, lineNo);
      lineNo += 1 + breaksIn(row);
      await out.push(bytes);
    };
    const index = idx.index;
    if (!stale) await addCreated(cfg, overlay, idx.header, idx.idColumn, index, add);
    const { hash, written } = await out.end();
    if (!stale) stale = stampOf(await src.stat({ bigint: true })) !== idx.stamp;
    index.trim();
    return {
      index: {
        header: idx.header, bom: idx.bom, eol: idx.eol, hash, idColumn: idx.idColumn, index, ...rows.done(), stamp: null,
      },
      from: idx.hash, fromStamp: stale ? null : idx.stamp, written,
    };
  } finally {
    await Promise.all([src.close(), handle.close()]);
  }
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
