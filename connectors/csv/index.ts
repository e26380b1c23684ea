/**
 * The csv connector: one CSV file per object.
 *
 *   export:
 *     app: csv
 *     dir: ./export             # optional folder for the files (relative to the sync file)
 *     delimiter: ","            # optional
 *     batch_size: 1000          # records per read page (optional)
 *     objects:
 *       contacts: { file: contacts.csv, id: id, create: false,
 *                   fields: { score: { type: number } },
 *                   associations: { company: { field: company_id, object: companies } } }
 *
 * Changes are found by content hash: the cursor is `sha256:<hex>` of the file,
 * a read from the current hash yields nothing. A read from another version
 * whose row hashes are kept (row-hashes.ts, in the cache beside the state)
 * lists the rows that differ from it and reports the ids gone as deleted;
 * without them, the read lists the whole file (the engine compares each
 * record with its base). After a run's writes, `cursorAfterWrites` answers
 * the hash of the file as this connector saved it, so the next run does not
 * read the engine's own writes back.
 *
 * The file is never held whole: a read streams it page by page, an index
 * (id → where the row is) serves `get`, `missing` and writes. Writes are
 * deferred (Connector.flush): a pass's write batches are kept as cells
 * changed and rows created (those in a temp file, not in memory), and
 * `flush` streams the file through to a temp file with them applied, once
 * for all of them; the engine records them after that
 * (docs/finding-changes.md).
 */
import { randomUUID } from 'node:crypto';
import { resolve } from 'node:path';
import type {
  ConnectionConfig, Connector, ConnectorContext, ConnectorFactory, KnownCursors, ObjectSpec, ReadBatch, ReadOptions, SourceRecord, WriteOp, WriteResult,
} from '../../src/connector.js';
import { appError, configError } from '../../src/errors.js';
import { ConfigReader, type ObjectConfigBase } from '../shared/object-config.js';
import {
  applyCells, checkCsv, csvHash, emptyOverlay, fileStamp, indexCsv, rowsAt, saveCsv, scanRows, StaleIndex, writeFailed,
  type CsvIndex, type CsvObjectConfig, type Overlay,
} from './file.js';
import type { CsvShape } from './parse.js';
import { applyOps, csvFields, csvObjectSpec, recordReader, type CsvColumns } from './records.js';
import { loadRowHashes, pruneRowHashes, saveRowHashes, type Cache, type RowHashes } from './row-hashes.js';
import { removeStaleTempsOf } from './temp.js';

interface CsvObject { base: ObjectConfigBase; file: CsvObjectConfig }

/** A version of the file against an earlier one: row numbers (now) of rows new or with other bytes, and the ids gone. */
interface Changes { idx: CsvIndex; rows: number[]; gone: string[] }

/**
 * Rewrites of a file that another program changed meanwhile, each started
 * again from its new version, before the write gives up (exit 3, nothing
 * lost): a program appending rows keeps the file busy only for a while.
 */
const MAX_SAVE_ATTEMPTS = 50;

function parseConfig(config: ConnectionConfig) {
  const reader = new ConfigReader(config);
  const dir = resolve(config.baseDir, config.dir === undefined ? '.' : reader.string(config.dir, '', 'dir'));
  const delimiter = config.delimiter === undefined ? ',' : reader.string(config.delimiter, '', 'delimiter');
  if (delimiter.length !== 1 || /["\r\n]/.test(delimiter)) reader.fail('', '`delimiter` must be one character (not a quote or line break)', 'delimiter');
  const objects = new Map<string, CsvObject>();
  for (const [name, base] of reader.objects()) {
    const where = `object ${name}`;
    const file = base.raw.file === undefined ? `${name}.csv` : reader.string(base.raw.file, where, `objects.${name}.file`);
    const create = base.raw.create ?? false;
    if (typeof create !== 'boolean') return reader.fail(where, '`create` must be true or false', `objects.${name}.create`);
    const initialHeader = [...new Set([base.id, ...Object.keys(base.fields), ...base.associations.map((a) => a.field)])];
    objects.set(name, { base, file: { object: name, file: resolve(dir, file), id: base.id, delimiter, create, initialHeader } });
  }
  return { objects, batchSize: reader.positiveInt('batch_size', 1000) };
}

/**
 * Numeric ids continue after the largest one (of the file and of the rows
 * created since); any other id means UUIDs. The scan over every id of the
 * file is done once per version indexed, not once per write batch.
 */
function nextId(idx: CsvIndex, overlay: Overlay): () => string {
  if (idx.maxId === undefined) {
    let max: number | null = 0;
    for (const id of idx.index.keys()) {
      if (!/^\d{1,15}$/.test(id)) {
        max = null;
        break;
      }
      max = Math.max(max, Number(id));
    }
    idx.maxId = max;
  }
  const made = overlay.created.maxId;
  const last = idx.maxId === null || made === null ? null : Math.max(idx.maxId, made);
  if (last === null) return () => randomUUID();
  let next = last;
  return () => String(++next);
}

class CsvConnector implements Connector {
  readonly app = 'csv';
  private readonly cfg: ReturnType<typeof parseConfig>;
  /**
   * The index of each object's file (id → where its row is; no row is held)
   * with the stamp of the version it indexes: a run reads, then writes batch
   * after batch, and reads rows back by id. A file changed by anyone else has
   * another stamp and is indexed again.
   */
  private readonly indexed = new Map<string, CsvIndex>();
  /**
   * Per object, what the file is since the last read: `since` is the hash that
   * read gave, `hash` the file's hash after this connector's writes since (or
   * `since` itself), `stamp` the file's stamp after the last save. A write
   * made to any other version than `hash` ends the chain: another program
   * changed the file in between, and only a full read from `since` shows it.
   */
  private readonly chains = new Map<string, { since: string; hash: string; stamp: string | null }>();
  /**
   * Per object, the header and hash of a file `check` did not parse (a
   * version a saved cursor names), with the stamp of that version: `describe`
   * and `read` take them while the file keeps that stamp, so a run over an
   * unchanged file parses none of it.
   */
  private readonly checked = new Map<string, { stamp: string; header: string[]; hash: string }>();
  /** Per object, the writes answered since the file was last saved (`flush` saves them). */
  private readonly unsaved = new Map<string, Overlay>();
  /** Per object, why writes answered were dropped unsaved: the next `flush` throws it. */
  private readonly failed = new Map<string, Error>();

  private readonly cache: Cache | undefined;
  /** The cursors saved for each object, as `check` was given them: the versions whose row hashes a read keeps. */
  private known: KnownCursors = new Map();

  constructor(private readonly config: ConnectionConfig, ctx: ConnectorContext = {}) {
    this.cfg = parseConfig(config);
    this.cache = ctx.cache;
  }

  /** Checks every file whole (its index kept for the read), but a version a saved cursor names (see `checked`, `checkCsv`). */
  async check(known?: KnownCursors): Promise<void> {
    if (known) this.known = known;
    for (const { file } of this.cfg.objects.values()) {
      if (await this.current(file)) continue;
      const found = await checkCsv(file, known?.get(file.object));
      if (found.stamp === null) continue;
      if ('index' in found) this.indexed.set(file.object, found);
      else this.checked.set(file.object, { stamp: found.stamp, header: found.header, hash: found.hash });
    }
  }

  async describe(): Promise<ObjectSpec[]> {
    const out: ObjectSpec[] = [];
    for (const { base, file } of this.cfg.objects.values()) {
      const header = (await this.checkedNow(file))?.header ?? this.columns(file, await this.hold(file)).header;
      out.push(csvObjectSpec(base, header));
    }
    return out;
  }

  /**
   * The rows changed since the cursor's version (see row-hashes.ts), or, with
   * no row hashes of it, the whole file page by page (`batch_size` records),
   * never holding it whole.
   */
  async *read(object: string, opts: ReadOptions): AsyncIterable<ReadBatch> {
    const { base, file } = this.object(object);
    await this.flush(object);
    await removeStaleTempsOf(file.file);
    const now = await this.current(file);
    const hash = now?.hash ?? (await this.checkedNow(file))?.hash ?? (await csvHash(file));
    if (opts.since !== null && opts.since === hash) {
      this.chains.set(file.object, { since: hash, hash, stamp: null });
      return;
    }
    await this.prune(file, opts.since);
    const before = opts.since !== null && this.cache ? await loadRowHashes(this.cache, this.config.name, object, opts.since) : null;
    if (before) {
      const changes = await this.changesSince(file, before);
      if (changes) {
        yield* this.readChanges(base, file, before, changes, opts);
        return;
      }
    }
    // Listed whole although a cursor was given: the engine takes a linked record not listed as gone.
    const relisted = opts.since !== null ? { relisted: true } : {};
    const out: { index?: CsvIndex; shape?: CsvShape & { idColumn: number } } = {};
    const size = this.cfg.batchSize;
    let toRecord: ((row: string[]) => SourceRecord) | undefined;
    let page: SourceRecord[] = [];
    // A full page is held back until the next row: the last page carries the cursor, known once the whole file is read.
    let full: SourceRecord[] | undefined;
    for await (const rows of scanRows(file, out)) {
      toRecord ??= recordReader(base, out.shape!, csvFields(base, out.shape!.header), opts);
      for (const { row } of rows) {
        if (full) {
          yield { records: full, cursor: null, ...relisted };
          full = undefined;
        }
        page.push(toRecord(row));
        if (page.length === size) {
          full = page;
          page = [];
        }
      }
    }
    const index = out.index!;
    if (index.stamp !== null) this.indexed.set(file.object, index);
    this.chains.set(file.object, { since: index.hash, hash: index.hash, stamp: null });
    await this.keepRowHashes(file, index);
    yield { records: full ?? page, cursor: index.hash, ...relisted };
  }

  /** The file as it is now against the row hashes of an earlier version; null when the header differs (listed whole then). */
  private async changesSince(file: CsvObjectConfig, before: RowHashes): Promise<Changes | null> {
    const idx = await this.hold(file);
    if (idx.header.length !== before.header.length || idx.header.some((name, k) => name !== before.header[k])) return null;
    const rows: number[] = [];
    const seen = new Uint8Array(before.index.size);
    for (let r = 0; r < idx.index.size; r++) {
      const was = before.index.rowOf(idx.index, r);
      if (was >= 0) seen[was] = 1;
      if (was < 0 || before.hashes[was] !== idx.hashes[r]) rows.push(r);
    }
    const gone: string[] = [];
    for (let was = 0; was < seen.length; was++) if (seen[was] === 0) gone.push(before.index.idAt(was));
    return { idx, rows, gone };
  }

  /**
   * Reads the rows changed by position, `batch_size` at a time; the last
   * batch carries the cursor and the ids gone. The file changing under the
   * read: compared again from its new version while nothing was handed on,
   * else the pass stops (transient, nothing lost: the next one reads it).
   */
  private async *readChanges(base: ObjectConfigBase, file: CsvObjectConfig, before: RowHashes, first: Changes, opts: ReadOptions):
    AsyncIterable<ReadBatch> {
    const size = this.cfg.batchSize;
    let changes = first;
    const toRecord = recordReader(base, changes.idx, csvFields(base, changes.idx.header), opts);
    for (let k = 0, attempt = 1; k === 0 || k < changes.rows.length; k += size) {
      let rows: string[][];
      try {
        rows = await rowsAt(file, changes.idx, changes.rows.slice(k, k + size));
      } catch (err) {
        if (!(err instanceof StaleIndex)) throw err;
        this.indexed.delete(file.object);
        const again = k === 0 && attempt++ < MAX_SAVE_ATTEMPTS ? await this.changesSince(file, before) : null;
        if (again === null) {
          throw appError('CSV_CHANGED_WHILE_READ', `CSV file ${file.file} changed while datasync read it`, {
            hint: 'another program is writing the file; the next run reads it again', transient: true, cause: err,
          });
        }
        changes = again;
        k -= size;
        continue;
      }
      if (k === 0) {
        await this.keepRowHashes(file, changes.idx);
        this.chains.set(file.object, { since: changes.idx.hash, hash: changes.idx.hash, stamp: null });
      }
      const records = rows.map(toRecord);
      yield k + size >= changes.rows.length ? { records, cursor: changes.idx.hash, deleted: changes.gone } : { records, cursor: null };
    }
  }

  /**
   * Removes the row hashes of versions no saved cursor names, nor `since`:
   * in a read, so under the run's lock (a run refused by it changes nothing),
   * and not while no cursor is known (a sync reset: they may be needed again).
   */
  private async prune(file: CsvObjectConfig, since: string | null): Promise<void> {
    const keep = [...this.known.get(file.object) ?? [], ...since === null ? [] : [since]];
    if (this.cache && keep.length > 0) await pruneRowHashes(this.cache, this.config.name, file.object, keep);
  }

  /** Keeps the row hashes of a version read or written whole (a cache: failing to keep them costs the next pass a whole read, no more). */
  private async keepRowHashes(file: CsvObjectConfig, idx: CsvIndex): Promise<void> {
    if (!this.cache || idx.hashes.length !== idx.index.size) return;
    await saveRowHashes(this.cache, this.config.name, file.object, { hash: idx.hash, header: idx.header, index: idx.index, hashes: idx.hashes })
      .catch(() => undefined);
  }

  async get(object: string, ids: string[], opts: Omit<ReadOptions, 'since'>): Promise<SourceRecord[]> {
    const { base, file } = this.object(object);
    const { columns, rows } = await this.rowsOf(file, ids);
    const toRecord = recordReader(base, columns, csvFields(base, columns.header), opts);
    return ids.flatMap((id) => {
      const row = rows.get(id);
      return row ? [toRecord(row)] : [];
    });
  }

  async missing(object: string, ids: string[]): Promise<string[]> {
    const { file } = this.object(object);
    const idx = await this.hold(file);
    const created = this.unsaved.get(file.object)?.created;
    return ids.filter((id) => !idx.index.has(id) && !created?.has(id));
  }

  /**
   * Applies the ops to the rows they name (read by id, with the writes not
   * saved yet) and remembers them; `flush` saves the file once for all of
   * them. The answers are not durable before `flush` (Connector.flush).
   */
  async write(object: string, ops: WriteOp[]): Promise<WriteResult[]> {
    if (ops.length === 0) return [];
    const { base, file } = this.object(object);
    const ids = ops.flatMap((op) => (op.kind === 'update' ? [op.id] : []));
    const { columns, rows, idx } = await this.rowsOf(file, ids);
    this.keepChain(file, idx);
    const earlier = this.unsaved.get(file.object);
    const overlay = earlier ?? emptyOverlay(file.file);
    const view = { header: columns.header, idColumn: columns.idColumn, rows, newId: nextId(idx, overlay) };
    const { results, changed } = applyOps(base, view, overlay, ops);
    if (changed) this.unsaved.set(file.object, overlay);
    try {
      await overlay.created.save();
    } catch (err) {
      // The rows created cannot all be kept: none of the writes since the last save is. The next flush
      // says so, and the engine records none of the batches answered before this one.
      const failed = writeFailed(file, err);
      await this.drop(file);
      if (earlier) this.failed.set(file.object, failed);
      throw failed;
    }
    return results;
  }

  /**
   * Saves the file once with every write not saved yet, streaming its rows
   * through to a temp file (synced, renamed over it, only while the file is
   * still the version streamed). Another program's change meanwhile (a row
   * appended): streamed again from its new version, the writes applied to it
   * cell by cell (`applyCells`). A failure leaves the file as it was and
   * drops the writes: this flush throws, so the engine records none of them.
   */
  async flush(object: string): Promise<void> {
    const { file } = this.object(object);
    const failed = this.failed.get(file.object);
    if (failed) {
      this.failed.delete(file.object);
      throw failed;
    }
    const overlay = this.unsaved.get(file.object);
    if (!overlay) return;
    // The index in hand is of the version before the save, which makes its own: not two held at once. While
    // the file is still that version, the save copies the rows no write touches from where it says they are.
    const from = await this.current(file);
    this.indexed.delete(file.object);
    try {
      for (let attempt = 1; ; attempt++) {
        const saved = await saveCsv(file, overlay, attempt === 1 ? from : undefined);
        if (saved === null) {
          if (attempt < MAX_SAVE_ATTEMPTS) continue;
          throw appError('CSV_KEEPS_CHANGING', `CSV file ${file.file} kept changing while datasync wrote it (${attempt} attempts): nothing was written`, {
            hint: 'another program is writing the file; the next run tries again', transient: true,
          });
        }
        const chain = this.chains.get(file.object);
        this.unsaved.delete(file.object);
        await overlay.created.discard();
        if (saved.stamp === null) {
          this.indexed.delete(file.object);
          this.chains.delete(file.object);
        } else {
          this.indexed.set(file.object, saved.index);
          await this.keepRowHashes(file, saved.index);
          if (chain && chain.hash === saved.from) this.chains.set(file.object, { since: chain.since, hash: saved.hash, stamp: saved.stamp });
          else this.chains.delete(file.object);
        }
        return;
      }
    } catch (err) {
      await this.drop(file);
      throw err;
    }
  }

  /** Forgets the writes not saved (and the index and chain they were made on). */
  private async drop(file: CsvObjectConfig): Promise<void> {
    const overlay = this.unsaved.get(file.object);
    this.unsaved.delete(file.object);
    await overlay?.created.discard();
    this.indexed.delete(file.object);
    this.chains.delete(file.object);
  }

  /**
   * Ends the chain (see `chains`) when the rows in hand come from another
   * version than the one it ends with: another program changed the file.
   */
  private keepChain(file: CsvObjectConfig, idx: CsvIndex): void {
    const chain = this.chains.get(file.object);
    if (chain && idx.hash !== chain.hash) this.chains.delete(file.object);
  }

  /**
   * The hash of the file as this connector's writes since the last read left
   * it, when nothing else changed the file in between or since; otherwise
   * `since` (also when nothing was written, or `since` is not what the last
   * read gave).
   */
  async cursorAfterWrites(object: string, since: string | null): Promise<string | null> {
    const { file } = this.object(object);
    await this.flush(object);
    const chain = this.chains.get(file.object);
    if (since === null || chain === undefined || chain.since !== since || chain.hash === since || chain.stamp === null) return since;
    // Another stamp: someone changed the file after the last save.
    return (await fileStamp(file.file)) === chain.stamp ? chain.hash : since;
  }

  /** What `check` found of the file, while it is still that version. */
  private async checkedNow(file: CsvObjectConfig): Promise<{ header: string[]; hash: string } | undefined> {
    const known = this.checked.get(file.object);
    return known && known.stamp === (await fileStamp(file.file)) ? known : undefined;
  }

  /** The index in hand while the file is still the version it indexes. */
  private async current(file: CsvObjectConfig): Promise<CsvIndex | undefined> {
    const idx = this.indexed.get(file.object);
    return idx && idx.stamp === (await fileStamp(file.file)) ? idx : undefined;
  }

  /** The file's index: the one in hand while the file is that version, else the file indexed again (kept unless it changed meanwhile). */
  private async hold(file: CsvObjectConfig): Promise<CsvIndex> {
    const now = await this.current(file);
    if (now) return now;
    this.indexed.delete(file.object);
    const idx = await indexCsv(file);
    if (idx.stamp !== null) this.indexed.set(file.object, idx);
    return idx;
  }

  /** The header as the writes not saved yet leave it, and the id column. */
  private columns(file: CsvObjectConfig, idx: CsvIndex): CsvColumns {
    const added = this.unsaved.get(file.object)?.added ?? [];
    return { header: [...idx.header, ...added.filter((c) => !idx.header.includes(c))], idColumn: idx.idColumn };
  }

  /**
   * The rows of these ids as the file will hold them once saved: read from
   * the file by position, with the writes not saved yet applied; rows
   * created and not saved yet. Ids not in the file are left out.
   */
  private async rowsOf(file: CsvObjectConfig, ids: string[]): Promise<{ columns: CsvColumns; rows: Map<string, string[]>; idx: CsvIndex }> {
    for (let attempt = 1; ; attempt++) {
      const idx = await this.hold(file);
      const columns = this.columns(file, idx);
      const overlay = this.unsaved.get(file.object);
      const rows = new Map<string, string[]>();
      const fromFile: string[] = [];
      const made = overlay && overlay.created.count > 0 ? await overlay.created.get(ids) : undefined;
      for (const id of new Set(ids)) {
        const cells = made?.get(id);
        if (cells !== undefined) {
          const row = columns.header.map((name) => cells.get(name) ?? '');
          row[columns.idColumn] = id;
          rows.set(id, row);
        } else if (idx.index.has(id)) fromFile.push(id);
      }
      try {
        const found = await rowsAt(file, idx, fromFile.map((id) => idx.index.get(id)!));
        fromFile.forEach((id, k) => {
          const row = found[k]!;
          while (row.length < columns.header.length) row.push('');
          applyCells(columns.header, row, overlay?.updates.get(id));
          rows.set(id, row);
        });
        return { columns, rows, idx };
      } catch (err) {
        // The file changed between its stamp check and the read: index it again.
        if (!(err instanceof StaleIndex) || attempt >= MAX_SAVE_ATTEMPTS) throw err;
        this.indexed.delete(file.object);
      }
    }
  }

  /** Writes never flushed are dropped: the engine recorded none of them (Connector.flush). */
  async close(): Promise<void> {
    for (const { file } of this.cfg.objects.values()) await this.drop(file);
  }

  private object(object: string): CsvObject {
    const found = this.cfg.objects.get(object);
    if (!found) {
      throw configError('UNKNOWN_OBJECT', `connection ${this.config.name} has no object ${object}`, {
        hint: `add \`objects.${object}\` to connection ${this.config.name} (it has: ${[...this.cfg.objects.keys()].join(', ')})`,
      });
    }
    return found;
  }
}

export const factory: ConnectorFactory = {
  app: 'csv',
  create: (config, ctx) => new CsvConnector(config, ctx),
};
